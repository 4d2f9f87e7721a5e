import Foundation

/// Elementwise ops with broadcasting, scalar ops, GELU, dropout and reductions, each with its backward.
extension Variable {
    // MARK: add, subtract, multiply (broadcasting)

    /// `a + b` with broadcasting. Backward: each input receives the output gradient summed over the axes it was
    /// broadcast along.
    public static func + (a: Variable, b: Variable) throws -> Variable {
        let out = try a.value + b.value
        guard let tape = try Variable.tape(a, b) else { return Variable(out) }
        let (ia, ib, sa, sb, so) = (a.id, b.id, a.shape, b.shape, out.shape)
        return tape.record(out) { g, tape in
            if ia >= 0 { tape.accumulate(ia, try sumToShape(g, from: so, to: sa)) }
            if ib >= 0 { tape.accumulate(ib, try sumToShape(g, from: so, to: sb)) }
        }
    }

    /// `a − b` with broadcasting. Backward: `+g` to `a`, `−g` to `b`, each summed to its shape.
    public static func - (a: Variable, b: Variable) throws -> Variable {
        let out = try a.value - b.value
        guard let tape = try Variable.tape(a, b) else { return Variable(out) }
        let (ia, ib, sa, sb, so) = (a.id, b.id, a.shape, b.shape, out.shape)
        return tape.record(out) { g, tape in
            if ia >= 0 { tape.accumulate(ia, try sumToShape(g, from: so, to: sa)) }
            if ib >= 0 { tape.accumulate(ib, try sumToShape(g, from: so, to: sb).map { -$0 }) }
        }
    }

    /// `a ⊙ b` with broadcasting. Backward: `g ⊙ b` to `a`, `g ⊙ a` to `b`, each summed to its shape.
    public static func * (a: Variable, b: Variable) throws -> Variable {
        let out = try a.value * b.value
        guard let tape = try Variable.tape(a, b) else { return Variable(out) }
        let (ia, ib, av, bv, so) = (a.id, b.id, a.value, b.value, out.shape)
        return tape.record(out) { g, tape in
            let gt = try Tensor(shape: so, scalars: g)
            if ia >= 0 { tape.accumulate(ia, try sumToShape((gt * bv).scalars, from: so, to: av.shape)) }
            if ib >= 0 { tape.accumulate(ib, try sumToShape((gt * av).scalars, from: so, to: bv.shape)) }
        }
    }

    // MARK: scalar ops

    /// `x · s`. Backward: `g · s`.
    public static func * (x: Variable, s: Float) -> Variable {
        let out = x.value * s
        guard let tape = x.tape else { return Variable(out) }
        let ix = x.id
        return tape.record(out) { g, tape in tape.accumulate(ix, g.map { $0 * s }) }
    }

    public static func * (s: Float, x: Variable) -> Variable { x * s }

    /// `x + s`. Backward: `g`.
    public static func + (x: Variable, s: Float) -> Variable {
        let out = x.value + s
        guard let tape = x.tape else { return Variable(out) }
        let ix = x.id
        return tape.record(out) { g, tape in tape.accumulate(ix, g) }
    }

    /// `−x`. Backward: `−g`.
    public static prefix func - (x: Variable) -> Variable { x * -1 }

    // MARK: activations

    /// GELU (exact erf form, or the tanh approximation). Backward, exact: `Φ(x) + x·φ(x)`;
    /// tanh form: `½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²)` with `t = tanh(c(x + 0.044715x³))`, `c = √(2/π)`.
    public func gelu(approximate: Bool = false) -> Variable {
        let out = value.gelu(approximate: approximate)
        guard let tape else { return Variable(out) }
        let (ix, x) = (id, value.scalars)
        return tape.record(out) { g, tape in
            var dx = [Float](repeating: 0, count: x.count)
            let c = (2 / Double.pi).squareRoot()
            for i in 0..<x.count {
                let v = Double(x[i])
                let d: Double
                if approximate {
                    let t = Foundation.tanh(c * (v + 0.044715 * v * v * v))
                    d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v)
                } else {
                    let cdf = 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot()))
                    let pdf = Foundation.exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
                    d = cdf + v * pdf
                }
                dx[i] = g[i] * Float(d)
            }
            tape.accumulate(ix, dx)
        }
    }

    /// ReLU. Backward: `g` where `x > 0`, else 0.
    public func relu() -> Variable {
        let out = value.relu()
        guard let tape else { return Variable(out) }
        let (ix, x) = (id, value.scalars)
        return tape.record(out) { g, tape in
            tape.accumulate(ix, zip(g, x).map { $1 > 0 ? $0 : 0 })
        }
    }

    /// Inverted dropout: each element is zeroed with probability `p`, the rest scaled by `1/(1−p)`, drawing from
    /// `rng` (the identity when `p == 0`). Backward: `g` times the same mask.
    public func dropout(_ p: Float, rng: inout SeededRNG) -> Variable {
        guard p > 0 else { return self }
        let keep = 1 - p
        var mask = [Float](repeating: 0, count: value.count)
        for i in 0..<mask.count { mask[i] = rng.nextUnit() < p ? 0 : 1 / keep }
        var out = value
        for i in 0..<mask.count { out.scalars[i] *= mask[i] }
        guard let tape else { return Variable(out) }
        let ix = id
        return tape.record(out) { g, tape in
            var dx = g
            for i in 0..<dx.count { dx[i] *= mask[i] }
            tape.accumulate(ix, dx)
        }
    }

    // MARK: reductions

    /// Sum of every element → shape `[]`. Backward: `g` broadcast to every element.
    public func sum() -> Variable {
        let out = Tensor(scalar: value.sum())
        guard let tape else { return Variable(out) }
        let (ix, n) = (id, value.count)
        return tape.record(out) { g, tape in tape.accumulate(ix, [Float](repeating: g[0], count: n)) }
    }

    /// Mean of every element → shape `[]`. Backward: `g / n` to every element.
    public func mean() -> Variable { sum() * (1 / Float(Swift.max(value.count, 1))) }

    /// Sum along `axis`. Backward: `g` repeated along the reduced axis.
    public func sum(axis: Int, keepDims: Bool = false) throws -> Variable {
        let ax = try value.axisIndex(axis, op: "sum")
        let out = try value.sum(axis: ax, keepDims: keepDims)
        guard let tape else { return Variable(out) }
        let ix = id
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        return tape.record(out) { g, tape in
            var dx = [Float](repeating: 0, count: outer * n * inner)
            for o in 0..<outer {
                for j in 0..<n {
                    for i in 0..<inner { dx[(o * n + j) * inner + i] = g[o * inner + i] }
                }
            }
            tape.accumulate(ix, dx)
        }
    }

    /// Mean along `axis`. Backward: `g / n` repeated along the reduced axis.
    public func mean(axis: Int, keepDims: Bool = false) throws -> Variable {
        let n = shape[try value.axisIndex(axis, op: "mean")]
        return try sum(axis: axis, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }
}

/// Sums a gradient of shape `from` (a broadcast of `to`) over the broadcast axes, giving shape `to`.
func sumToShape(_ g: [Float], from: [Int], to: [Int]) throws -> [Float] {
    if from == to { return g }
    let n = to.reduce(1, *)
    guard try Tensor.broadcastShape(to, from, op: "sumToShape") == from else {
        throw TensorError.incompatibleShapes(op: "sumToShape", from, to)
    }
    if n == 1 {
        var s = 0.0
        for x in g { s += Double(x) }
        return [Float(s)]
    }
    var out = [Float](repeating: 0, count: n)
    // Fast path: `to` is a suffix of `from` (a bias): sum the rows.
    if Array(from.suffix(to.count)) == to {
        g.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var i = 0
                while i < src.count {
                    for j in 0..<n { dst[j] += src[i + j] }
                    i += n
                }
            }
        }
        return out
    }
    // General case: walk `from` in order; each element lands at its index in `to` (stride 0 on broadcast axes).
    let pad = from.count - to.count
    var strides = [Int](repeating: 0, count: from.count)
    var acc = 1
    for i in stride(from: to.count - 1, through: 0, by: -1) {
        if to[i] != 1 { strides[i + pad] = acc }
        acc *= to[i]
    }
    var index = [Int](repeating: 0, count: from.count)
    var target = 0
    for x in g {
        out[target] += x
        var axis = from.count - 1
        while axis >= 0 {
            index[axis] += 1
            target += strides[axis]
            if index[axis] < from[axis] { break }
            target -= strides[axis] * index[axis]
            index[axis] = 0
            axis -= 1
        }
    }
    return out
}

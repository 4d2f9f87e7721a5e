import Foundation

/// Elementwise ops with NumPy/PyTorch broadcasting.
extension Tensor {
    /// The broadcast shape of two shapes (trailing axes aligned; 1 stretches).
    public static func broadcastShape(_ a: [Int], _ b: [Int], op: String = "broadcast") throws -> [Int] {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            guard da == db || da == 1 || db == 1 else { throw TensorError.incompatibleShapes(op: op, a, b) }
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// This tensor's values expanded to `target` (which must be a broadcast of this shape).
    public func broadcast(to target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let full = try Tensor.broadcastShape(shape, target, op: "broadcast")
        guard full == target else { throw TensorError.incompatibleShapes(op: "broadcast", shape, target) }
        return Tensor(uncheckedShape: target, scalars: broadcastScalars(to: target))
    }

    /// Values laid out for `target` (the caller has checked compatibility).
    func broadcastScalars(to target: [Int]) -> [Float] {
        let n = target.reduce(1, *)
        if shape == target { return scalars }
        if count == 1 { return [Float](repeating: scalars[0], count: n) }
        // Strides of self aligned to target, 0 on broadcast axes.
        let pad = target.count - rank
        let own = strides
        var s = [Int](repeating: 0, count: target.count)
        for i in 0..<rank where shape[i] != 1 { s[i + pad] = own[i] }
        return Tensor.gather(scalars, shape: target, strides: s)
    }

    /// The values of `src` read in row-major order of `shape`, element `index` taken from
    /// `src[Σ index[i]·strides[i]]` (a stride of 0 repeats, as broadcasting does). Permute and broadcast use it.
    static func gather(_ src: [Float], shape: [Int], strides s: [Int]) -> [Float] {
        let n = shape.reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        if n == 0 { return out }
        let inner = shape.last ?? 1
        let innerStride = s.last ?? 0
        let outerShape = Array(shape.dropLast())
        var index = [Int](repeating: 0, count: outerShape.count)
        src.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var o = 0
                for _ in 0..<(n / Swift.max(inner, 1)) {
                    var base = 0
                    for (i, v) in index.enumerated() { base += v * s[i] }
                    for j in 0..<inner { dst[o + j] = src[base + j * innerStride] }
                    o += inner
                    var axis = outerShape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        if index[axis] < outerShape[axis] { break }
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        return out
    }

    /// `f(a, b)` elementwise with broadcasting.
    public static func zip(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) throws -> Tensor {
        if a.shape == b.shape {
            var out = a.scalars
            out.withUnsafeMutableBufferPointer { o in
                b.scalars.withUnsafeBufferPointer { bp in
                    for i in 0..<o.count { o[i] = f(o[i], bp[i]) }
                }
            }
            return Tensor(uncheckedShape: a.shape, scalars: out)
        }
        let shape = try broadcastShape(a.shape, b.shape, op: op)
        // Common case: b is a suffix of a (bias add); avoid materialising b.
        if shape == a.shape, b.count > 0, Array(a.shape.suffix(b.rank)) == b.shape {
            var out = a.scalars
            let m = b.count
            out.withUnsafeMutableBufferPointer { o in
                b.scalars.withUnsafeBufferPointer { bp in
                    var i = 0
                    while i < o.count {
                        for j in 0..<m { o[i + j] = f(o[i + j], bp[j]) }
                        i += m
                    }
                }
            }
            return Tensor(uncheckedShape: shape, scalars: out)
        }
        var out = a.broadcastScalars(to: shape)
        let bs = b.broadcastScalars(to: shape)
        for i in 0..<out.count { out[i] = f(out[i], bs[i]) }
        return Tensor(uncheckedShape: shape, scalars: out)
    }

    /// `f(x)` for every element.
    public func map(_ f: (Float) -> Float) -> Tensor {
        var out = scalars
        out.withUnsafeMutableBufferPointer { o in for i in 0..<o.count { o[i] = f(o[i]) } }
        return Tensor(uncheckedShape: shape, scalars: out)
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try zip(a, b, op: "add", +) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try zip(a, b, op: "subtract", -) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try zip(a, b, op: "multiply", *) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try zip(a, b, op: "divide", /) }

    public static func + (a: Tensor, s: Float) -> Tensor { a.map { $0 + s } }
    public static func - (a: Tensor, s: Float) -> Tensor { a.map { $0 - s } }
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
    public static func / (a: Tensor, s: Float) -> Tensor { a.map { $0 / s } }
    public static func * (s: Float, a: Tensor) -> Tensor { a.map { s * $0 } }
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }

    public func exp() -> Tensor { map { Foundation.exp($0) } }
    public func log() -> Tensor { map { Foundation.log($0) } }
    public func sqrt() -> Tensor { map { $0.squareRoot() } }
    public func tanh() -> Tensor { map { Foundation.tanh($0) } }
    public func relu() -> Tensor { map { Swift.max($0, 0) } }
    public func squared() -> Tensor { map { $0 * $0 } }

    /// Largest absolute difference to another tensor of the same shape (for tests and reports).
    public func maxAbsDifference(_ other: Tensor) throws -> Float {
        guard shape == other.shape else { throw TensorError.incompatibleShapes(op: "maxAbsDifference", shape, other.shape) }
        var m: Float = 0
        for i in 0..<count { m = Swift.max(m, abs(scalars[i] - other.scalars[i])) }
        return m
    }
}

/// Reductions along one axis, accumulated in Double.
extension Tensor {
    func reduce(axis: Int, keepDims: Bool, op: String, _ body: (UnsafeBufferPointer<Float>, Int, Int) -> Float) throws -> Tensor {
        let ax = try axisIndex(axis, op: op)
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var out = [Float](repeating: 0, count: outer * inner)
        scalars.withUnsafeBufferPointer { src in
            for o in 0..<outer {
                for i in 0..<inner {
                    // Elements src[(o·n + j)·inner + i] for j in 0..<n: base and stride.
                    out[o * inner + i] = body(src, o * n * inner + i, inner)
                }
            }
        }
        var newShape = shape
        if keepDims { newShape[ax] = 1 } else { newShape.remove(at: ax) }
        _ = n
        return Tensor(uncheckedShape: newShape, scalars: out)
    }

    /// Sum along `axis`.
    public func sum(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let n = shape.isEmpty ? 1 : shape[try axisIndex(axis, op: "sum")]
        return try reduce(axis: axis, keepDims: keepDims, op: "sum") { p, base, stride in
            var acc = 0.0
            for j in 0..<n { acc += Double(p[base + j * stride]) }
            return Float(acc)
        }
    }

    /// Mean along `axis`.
    public func mean(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let n = shape[try axisIndex(axis, op: "mean")]
        return try sum(axis: axis, keepDims: keepDims) / Float(Swift.max(n, 1))
    }

    /// Maximum along `axis` (−∞ for an empty axis).
    public func max(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let n = shape[try axisIndex(axis, op: "max")]
        return try reduce(axis: axis, keepDims: keepDims, op: "max") { p, base, stride in
            var m = -Float.infinity
            for j in 0..<n { m = Swift.max(m, p[base + j * stride]) }
            return m
        }
    }

    /// Index of the maximum along `axis` (first on ties), as Float.
    public func argmax(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let n = shape[try axisIndex(axis, op: "argmax")]
        return try reduce(axis: axis, keepDims: keepDims, op: "argmax") { p, base, stride in
            var best = 0
            for j in 1..<Swift.max(n, 1) where p[base + j * stride] > p[base + best * stride] { best = j }
            return Float(best)
        }
    }

    /// Sum of every element.
    public func sum() -> Float {
        var acc = 0.0
        for x in scalars { acc += Double(x) }
        return Float(acc)
    }

    /// Mean of every element.
    public func mean() -> Float { count == 0 ? 0 : sum() / Float(count) }
}

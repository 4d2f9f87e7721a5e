/// Softmax, layer norm and GELU as tensor ops over the last axis, through the kernel dispatch point.
extension Tensor {
    /// Softmax along `axis` (default last): the row maximum is subtracted first, so huge scores
    /// never overflow; a row that is entirely −∞ gives zeros, never NaN.
    public func softmax(axis: Int = -1) throws -> Tensor {
        let ax = try axisIndex(axis, op: "softmax")
        if ax != rank - 1 {
            return try transposed(ax, -1).softmax(axis: -1).transposed(ax, -1)
        }
        var out = scalars
        let cols = shape.last ?? 1
        if cols == 0 || out.isEmpty { return self }
        out.withUnsafeMutableBufferPointer { p in
            Kernels.softmaxRows(p.baseAddress!, rows: p.count / cols, cols: cols)
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }

    /// Layer normalisation over the last axis: `(x − mean)/√(var + eps) · weight + bias`.
    /// `weight` and `bias`, when given, have shape `[features]`.
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        guard let cols = shape.last, cols > 0 else { throw TensorError.invalidArgument(op: "layerNorm", "needs a non-empty last axis, got \(shape)") }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t, t.shape != [cols] {
                throw TensorError.shapeMismatch(op: "layerNorm \(name)", expected: "[\(cols)]", actual: t.shape)
            }
        }
        if count == 0 { return self }
        var out = [Float](repeating: 0, count: count)
        let g = weight?.scalars ?? [], b = bias?.scalars ?? []
        scalars.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                g.withUnsafeBufferPointer { gp in
                    b.withUnsafeBufferPointer { bp in
                        Kernels.layerNormRows(x.baseAddress!, y.baseAddress!, rows: count / cols, cols: cols,
                                              gamma: weight == nil ? nil : gp.baseAddress,
                                              beta: bias == nil ? nil : bp.baseAddress, eps: eps)
                    }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }

    /// GELU: the exact erf form (BERT, PyTorch's default) or, with `approximate`, the tanh form (GPT-2).
    public func gelu(approximate: Bool = false) -> Tensor {
        var out = scalars
        if out.isEmpty { return self }
        out.withUnsafeMutableBufferPointer { p in Kernels.gelu(p.baseAddress!, count: p.count, approximate: approximate) }
        return Tensor(uncheckedShape: shape, scalars: out)
    }
}

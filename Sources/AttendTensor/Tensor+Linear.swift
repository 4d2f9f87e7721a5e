/// Fused ops of a transformer block: a linear layer with its bias and activation in one epilogue,
/// and a residual sum with its layer norm in one pass.
extension Tensor {
    /// `act(x · weightᵀ + bias)`: `x` `[..., in]`, `weight` `[out, in]` (PyTorch layout), `bias` `[out]` → `[..., out]`.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, activation: FusedActivation = .none) throws -> Tensor {
        guard weight.rank == 2, x.rank >= 1, x.shape.last == weight.shape[1] else {
            throw TensorError.shapeMismatch(op: "linear input", expected: "[..., \(weight.shape.last ?? 0)]", actual: x.shape)
        }
        let (out, inF) = (weight.shape[0], weight.shape[1])
        if let bias, bias.shape != [out] {
            throw TensorError.shapeMismatch(op: "linear bias", expected: "[\(out)]", actual: bias.shape)
        }
        let rows = x.count / Swift.max(inF, 1)
        var y = [Float](repeating: 0, count: rows * out)
        if rows > 0 && out > 0 {
            x.scalars.withUnsafeBufferPointer { xp in
                weight.scalars.withUnsafeBufferPointer { wp in
                    y.withUnsafeMutableBufferPointer { yp in
                        if inF > 0 {
                            Kernels.sgemm(transA: false, transB: true, m: rows, n: out, k: inF,
                                          a: xp.baseAddress!, lda: inF, b: wp.baseAddress!, ldb: inF, c: yp.baseAddress!, ldc: out)
                        }
                        (bias?.scalars ?? []).withUnsafeBufferPointer { bp in
                            Kernels.biasActivation(yp.baseAddress!, rows: rows, cols: out,
                                                   bias: bias == nil ? nil : bp.baseAddress, activation: activation)
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: Array(x.shape.dropLast()) + [out], scalars: y)
    }

    /// `LayerNorm(self + residual)` over the last axis, in one pass.
    public func addingLayerNorm(_ residual: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        guard residual.shape == shape else { throw TensorError.incompatibleShapes(op: "addingLayerNorm", shape, residual.shape) }
        guard let cols = shape.last, cols > 0 else { throw TensorError.invalidArgument(op: "addingLayerNorm", "needs a non-empty last axis, got \(shape)") }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t, t.shape != [cols] { throw TensorError.shapeMismatch(op: "addingLayerNorm \(name)", expected: "[\(cols)]", actual: t.shape) }
        }
        if count == 0 { return self }
        var out = [Float](repeating: 0, count: count)
        let g = weight?.scalars ?? [], b = bias?.scalars ?? []
        scalars.withUnsafeBufferPointer { x in
            residual.scalars.withUnsafeBufferPointer { r in
                out.withUnsafeMutableBufferPointer { y in
                    g.withUnsafeBufferPointer { gp in
                        b.withUnsafeBufferPointer { bp in
                            Kernels.addLayerNormRows(x.baseAddress!, r.baseAddress!, y.baseAddress!, rows: count / cols, cols: cols,
                                                     gamma: weight == nil ? nil : gp.baseAddress,
                                                     beta: bias == nil ? nil : bp.baseAddress, eps: eps)
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }
}

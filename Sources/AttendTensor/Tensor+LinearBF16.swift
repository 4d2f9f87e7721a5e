/// A linear layer on a bf16 weight: the `--precision bf16` twin of ``Tensor/linear(_:weight:bias:activation:)``.
extension Tensor {
    /// `act(x · Wᵀ + bias)` with W pre-packed in bfloat16: `x` `[..., k]`, `weight` `[n, k]`, `bias` `[n]` → `[..., n]`.
    /// `x` is rounded to bf16 per element and the products are accumulated in Float
    /// (see ``Kernels/gemmBF16(m:a:lda:weight:c:ldc:beta:)``); bias and activation run in Float.
    public static func linearBF16(_ x: Tensor, weight: BF16PackedWeight, bias: Tensor?,
                                  activation: FusedActivation = .none) throws -> Tensor {
        let (out, inF) = (weight.n, weight.k)
        let rows = try linearRows("linearBF16", x, out: out, in: inF, bias: bias)
        var y = [Float](repeating: 0, count: rows * out)
        if rows > 0 && out > 0 {
            x.scalars.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    if inF > 0 {
                        Kernels.gemmBF16(m: rows, a: xp.baseAddress!, lda: inF, weight: weight, c: yp.baseAddress!, ldc: out)
                    }
                    (bias?.scalars ?? []).withUnsafeBufferPointer { bp in
                        Kernels.biasActivation(yp.baseAddress!, rows: rows, cols: out,
                                               bias: bias == nil ? nil : bp.baseAddress, activation: activation)
                    }
                }
            }
        }
        return Tensor(uncheckedShape: Array(x.shape.dropLast()) + [out], scalars: y)
    }
}

extension Tensor {
    /// `act(x · Wᵀ + b)` on int8: W pre-quantized per output channel, each row of `x` quantized on the fly
    /// (``Kernels/gemmInt8(m:a:lda:weight:c:ldc:beta:)``), the bias and activation applied in float32 after.
    /// `x`: `[..., k]` → `[..., n]`.
    public static func linearInt8(_ x: Tensor, weight: Int8PackedWeight, bias: Tensor?,
                                  activation: FusedActivation = .none) throws -> Tensor {
        let (out, inF) = (weight.n, weight.k)
        let rows = try linearRows("linearInt8", x, out: out, in: inF, bias: bias)
        var y = [Float](repeating: 0, count: rows * out)                                  // [rows, n]
        if rows > 0 && out > 0 {
            x.scalars.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    guard let xBase = xp.baseAddress, let yBase = yp.baseAddress else { return }
                    if inF > 0 {
                        Kernels.gemmInt8(m: rows, a: xBase, lda: inF, weight: weight, c: yBase, ldc: out)
                    }
                    (bias?.scalars ?? []).withUnsafeBufferPointer { bp in
                        Kernels.biasActivation(yBase, rows: rows, cols: out,
                                               bias: bias == nil ? nil : bp.baseAddress, activation: activation)
                    }
                }
            }
        }
        return Tensor(uncheckedShape: Array(x.shape.dropLast()) + [out], scalars: y)                 // [..., n]
    }
}

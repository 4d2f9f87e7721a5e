extension Tensor {
    /// `act(x · Wᵀ + b)` on int8: W pre-quantized per output channel, each row of `x` quantized on the fly
    /// (``Kernels/gemmInt8(m:a:lda:weight:c:ldc:beta:)``), the bias and activation applied in float32 after.
    /// `x`: `[..., k]` → `[..., n]`.
    public static func linearInt8(_ x: Tensor, weight: Int8PackedWeight, bias: Tensor?,
                                  activation: FusedActivation = .none) throws -> Tensor {
        let (out, inF) = (weight.n, weight.k)
        let rows = try linearRows("linearInt8", x, out: out, in: inF, bias: bias)
        // Every element is written by the GEMM (beta = 0; its epilogue adds the bias and applies the activation on
        // each finished tile) or, with no inputs, zero-filled below.
        let y = [Float](unsafeUninitializedCapacity: rows * out) { yp, initialized in                 // [rows, n]
            initialized = rows * out
            guard rows > 0, out > 0, let yBase = yp.baseAddress else { return }
            x.scalars.withUnsafeBufferPointer { xp in
                (bias?.scalars ?? []).withUnsafeBufferPointer { bp in
                    let b = bias == nil ? nil : bp.baseAddress
                    guard inF > 0, let xBase = xp.baseAddress else {
                        yBase.update(repeating: 0, count: rows * out)
                        Kernels.biasActivation(yBase, rows: rows, cols: out, bias: b, activation: activation)
                        return
                    }
                    Kernels.gemmInt8(m: rows, a: xBase, lda: inF, weight: weight, c: yBase, ldc: out,
                                     bias: b, activation: activation)
                }
            }
        }
        return Tensor(uncheckedShape: Array(x.shape.dropLast()) + [out], scalars: y)                 // [..., n]
    }
}

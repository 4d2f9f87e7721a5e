import Foundation

/// The element-wise steps of Llama-style decoders (LlamaRMSNorm, rotate-half RoPE, SwiGLU, the residual sum) as
/// tensor ops over unsafe buffers: one pass each, no bounds checks, and no copy of an input the caller hands over
/// (`consuming`: a temporary such as a product's output is rewritten in place). Their plain twins are the scalar
/// loops of `DecoderOpsTests`, which they match within float32 rounding (RMSNorm's sum of squares is taken in 16
/// lanes, the others round exactly as the plain loops do).
extension Tensor {
    /// RMSNorm over the last axis (LlamaRMSNorm, float32): per row x of D values
    ///
    ///     y[j] = weight[j] · (x[j] · r),   r = 1 / √(Σ_j x[j]² / D + ε)
    ///
    /// with the sum of squares accumulated in 16 float32 lanes, then added across them.
    /// - Parameter weight: `[D]`, D the last axis of `self`.
    /// - Throws: ``TensorError/shapeMismatch(op:expected:actual:)`` when weight is not `[D]`.
    public func rmsNorm(weight: Tensor, eps: Float) throws -> Tensor {
        guard let width = shape.last, width > 0, weight.shape == [width] else {
            throw TensorError.shapeMismatch(op: "rmsNorm weight", expected: "[\(shape.last ?? 0)] (last axis of \(shape))",
                                            actual: weight.shape)
        }
        var out = [Float](repeating: 0, count: count)
        scalars.withUnsafeBufferPointer { xp in
            weight.scalars.withUnsafeBufferPointer { gp in
                out.withUnsafeMutableBufferPointer { yp in
                    guard let x0 = xp.baseAddress, let g = gp.baseAddress, let y0 = yp.baseAddress else { return }
                    let lanes = 16, body = width / lanes * lanes
                    for r in 0..<(count / width) {
                        let x = x0 + r * width, y = y0 + r * width
                        var acc = SIMD16<Float>()
                        var j = 0
                        while j < body {
                            let v = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self)
                            acc += v * v
                            j += lanes
                        }
                        var sum = acc.sum()
                        while j < width { sum += x[j] * x[j]; j += 1 }
                        let inv = 1 / (sum / Float(width) + eps).squareRoot()
                        for j in 0..<width { y[j] = g[j] * (x[j] * inv) }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }

    /// RoPE as transformers' apply_rotary_pos_emb, on `[..., T, heads·d]` rows (T the second-to-last axis, or 1 for
    /// a rank-1 tensor): row t, head h, feature i < d/2, with x₁ = x[i], x₂ = x[i + d/2] of that head,
    ///
    ///     y[i] = x₁·cos θ − x₂·sin θ,   y[i + d/2] = x₂·cos θ + x₁·sin θ,   θ = Float(start + t) · inverseFrequencies[i]
    ///
    /// (θ a float32 product, as torch; cos and sin in Double, rounded to float32). Rewrites `self` in place when the
    /// caller hands over the only reference.
    /// - Throws: ``TensorError/invalidArgument(op:_:)`` when the last axis is not heads·d, d is odd or
    ///   `inverseFrequencies` does not hold d/2 values.
    public consuming func rotatedHalf(heads: Int, headDim d: Int, start: Int, inverseFrequencies: [Float]) throws -> Tensor {
        let half = d / 2
        guard heads > 0, d > 0, d % 2 == 0, shape.last == heads * d, inverseFrequencies.count == half, start >= 0 else {
            throw TensorError.invalidArgument(op: "rotatedHalf",
                                              "\(shape) is not [..., \(heads)·\(d)] rows with \(inverseFrequencies.count) = d/2 frequencies")
        }
        var out = consume self
        let width = heads * d, rows = out.count / width
        let times = out.rank >= 2 ? out.shape[out.rank - 2] : 1
        var cos = [Float](repeating: 0, count: half), sin = cos
        out.scalars.withUnsafeMutableBufferPointer { xp in
            guard let x0 = xp.baseAddress else { return }
            for r in 0..<rows {
                let t = r % times
                for i in 0..<half {
                    let angle = Float(start + t) * inverseFrequencies[i]                                    // float32, as torch
                    cos[i] = Float(Foundation.cos(Double(angle)))
                    sin[i] = Float(Foundation.sin(Double(angle)))
                }
                cos.withUnsafeBufferPointer { cp in
                    sin.withUnsafeBufferPointer { sp in
                        guard let c = cp.baseAddress, let s = sp.baseAddress else { return }
                        for h in 0..<heads {
                            let x = x0 + r * width + h * d
                            for i in 0..<half {
                                let x1 = x[i], x2 = x[i + half]
                                x[i] = x1 * c[i] - x2 * s[i]
                                x[i + half] = x2 * c[i] + x1 * s[i]
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// LlamaMLP's activation: `y = silu(gate) · up`, `silu(z) = z / (1 + e^(−z))`, element by element in float32
    /// (`expf`). Rewrites `gate` in place when the caller hands over the only reference.
    /// - Throws: ``TensorError/shapeMismatch(op:expected:actual:)`` unless the shapes are equal.
    public static func swiglu(gate: consuming Tensor, up: Tensor) throws -> Tensor {
        guard gate.shape == up.shape else {
            throw TensorError.shapeMismatch(op: "swiglu", expected: "\(gate.shape) (the gate's shape)", actual: up.shape)
        }
        var out = consume gate
        out.scalars.withUnsafeMutableBufferPointer { gp in
            up.scalars.withUnsafeBufferPointer { upp in
                guard let g = gp.baseAddress, let u = upp.baseAddress else { return }
                for j in 0..<gp.count { let z = g[j]; g[j] = z / (1 + Foundation.exp(-z)) * u[j] }
            }
        }
        return out
    }

    /// The residual sum `self + other` (same shapes), element by element; rewrites `self` in place when the caller
    /// hands over the only reference.
    /// - Throws: ``TensorError/shapeMismatch(op:expected:actual:)`` unless the shapes are equal.
    public consuming func adding(_ other: Tensor) throws -> Tensor {
        guard shape == other.shape else {
            throw TensorError.shapeMismatch(op: "adding", expected: "\(shape)", actual: other.shape)
        }
        var out = consume self
        out.scalars.withUnsafeMutableBufferPointer { ap in
            other.scalars.withUnsafeBufferPointer { bp in
                guard let a = ap.baseAddress, let b = bp.baseAddress else { return }
                for j in 0..<ap.count { a[j] += b[j] }
            }
        }
        return out
    }
}

import Foundation

/// Ops the Llama-style decoders need on the tape (explanations differentiate SmolLM2 through them): RMSNorm,
/// SiLU and the repetition of key/value heads for grouped-query attention, each with its backward.
extension Variable {
    /// RMSNorm over the last axis (LlamaRMSNorm, in Float32 as it computes):
    ///
    ///     r = 1/√(mean(x²) + ε)        x̂ = x·r        y = γ ⊙ x̂
    ///
    /// Backward, per row (r and x̂ kept from the forward):
    ///
    ///     dγ += dy ⊙ x̂        dx̂ = dy ⊙ γ        dx = r · (dx̂ − x̂ · mean(dx̂ ⊙ x̂))
    /// - Parameter weight: γ, `[D]` (nil: no scale)
    public func rmsNorm(weight: Variable?, eps: Float) throws -> Variable {
        guard let cols = shape.last, cols > 0 else {
            throw TensorError.invalidArgument(op: "rmsNorm", "needs a non-empty last axis, got \(shape)")
        }
        if let weight, weight.shape != [cols] {
            throw TensorError.shapeMismatch(op: "rmsNorm weight", expected: "[\(cols)]", actual: weight.shape)
        }
        let rows = value.count / cols
        let x = value.scalars
        let gamma = weight?.value.scalars
        var y = [Float](repeating: 0, count: x.count)
        var rstds = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            let o = r * cols
            var sum: Float = 0
            for j in 0..<cols { sum += x[o + j] * x[o + j] }
            let inv = 1 / (sum / Float(cols) + eps).squareRoot()
            rstds[r] = inv
            for j in 0..<cols { y[o + j] = (gamma?[j] ?? 1) * (x[o + j] * inv) }
        }
        let out = try Tensor(shape: shape, scalars: y)
        guard let tape = try Variable.tape(self, weight ?? self) else { return Variable(out) }
        let (ix, iw) = (id, weight?.id ?? -1)
        return tape.record(out) { g, tape in
            var dx = [Float](repeating: 0, count: x.count), dgamma = [Float](repeating: 0, count: cols)
            var dxhat = [Float](repeating: 0, count: cols)
            for r in 0..<rows {
                let o = r * cols, inv = rstds[r]
                var meanDX: Float = 0
                for j in 0..<cols {
                    let xhat = x[o + j] * inv
                    dgamma[j] += g[o + j] * xhat
                    dxhat[j] = g[o + j] * (gamma?[j] ?? 1)
                    meanDX += dxhat[j] * xhat
                }
                meanDX /= Float(cols)
                for j in 0..<cols { dx[o + j] = inv * (dxhat[j] - x[o + j] * inv * meanDX) }
            }
            if ix >= 0 { tape.accumulate(ix, dx) }
            if iw >= 0 { tape.accumulate(iw, dgamma) }
        }
    }

    /// SiLU (swish): `y = z / (1 + e^(−z)) = z·σ(z)`. Backward: `dz = dy · σ(z)·(1 + z·(1 − σ(z)))`.
    public func silu() -> Variable {
        let z = value.scalars
        var out = value
        for j in z.indices { out.scalars[j] = z[j] / (1 + Foundation.exp(-z[j])) }
        guard let tape else { return Variable(out) }
        let ix = id
        return tape.record(out) { g, tape in
            var dz = [Float](repeating: 0, count: z.count)
            for j in z.indices {
                let s = 1 / (1 + Foundation.exp(-Double(z[j])))
                dz[j] = g[j] * Float(s * (1 + Double(z[j]) * (1 - s)))
            }
            tape.accumulate(ix, dz)
        }
    }

    /// Grouped-query attention's key/value sharing made explicit (transformers' `repeat_kv`):
    /// `[B, Hkv, T, d]` → `[B, Hkv·group, T, d]`, where output head `h` is input head `h / group`.
    /// Backward: each input head receives the sum of its `group` copies' gradients.
    public func repeatedHeads(_ group: Int) throws -> Variable {
        guard rank == 4, group > 0 else {
            throw TensorError.invalidArgument(op: "repeatedHeads", "expects [B, Hkv, T, d] and a group ≥ 1; got \(shape), \(group)")
        }
        if group == 1 { return self }
        let (b, hkv) = (shape[0], shape[1])
        let block = shape[2] * shape[3]
        let x = value.scalars
        var y = [Float](); y.reserveCapacity(x.count * group)
        for bi in 0..<b {
            for kv in 0..<hkv {
                let src = x[((bi * hkv + kv) * block)..<((bi * hkv + kv + 1) * block)]
                for _ in 0..<group { y += src }
            }
        }
        let out = try Tensor(shape: [b, hkv * group, shape[2], shape[3]], scalars: y)  // [B, H, T, d]
        guard let tape else { return Variable(out) }
        let ix = id
        return tape.record(out) { g, tape in
            var dx = [Float](repeating: 0, count: x.count)
            for bi in 0..<b {
                for kv in 0..<hkv {
                    let dst = (bi * hkv + kv) * block
                    for c in 0..<group {
                        let src = ((bi * hkv + kv) * group + c) * block
                        for j in 0..<block { dx[dst + j] += g[src + j] }
                    }
                }
            }
            tape.accumulate(ix, dx)
        }
    }
}

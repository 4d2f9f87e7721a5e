/// Softmax and layer norm over the last axis, with their backward passes.
extension Variable {
    /// Softmax over the last axis (row max subtracted; an all-−∞ row gives zeros).
    /// Backward, per row with `y = softmax(x)`: `dx = y ⊙ (dy − Σⱼ dyⱼ yⱼ)`.
    public func softmax() throws -> Variable {
        let out = try value.softmax(axis: -1)
        guard let tape else { return Variable(out) }
        let (ix, y) = (id, out.scalars)
        let cols = Swift.max(shape.last ?? 1, 1)
        return tape.record(out) { g, tape in
            var dx = [Float](repeating: 0, count: y.count)
            for r in 0..<(y.count / cols) {
                let o = r * cols
                var dot: Float = 0
                for j in 0..<cols { dot += g[o + j] * y[o + j] }
                for j in 0..<cols { dx[o + j] = y[o + j] * (g[o + j] - dot) }
            }
            tape.accumulate(ix, dx)
        }
    }

    /// Layer norm over the last axis: `y = (x − μ)·r·γ + β` with `r = 1/√(σ² + eps)`.
    ///
    /// Backward (llm.c's `layernorm_backward`), per row with `x̂ = (x − μ)·r` kept from the forward as μ and r:
    ///
    ///     dβ += dy            dγ += dy ⊙ x̂
    ///     dx̂ = dy ⊙ γ
    ///     dx = r · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂))
    public func layerNorm(weight: Variable?, bias: Variable?, eps: Float = 1e-5) throws -> Variable {
        guard let tape = try Variable.tape(self, weight ?? self, bias ?? self) else {
            return Variable(try value.layerNorm(weight: weight?.value, bias: bias?.value, eps: eps))
        }
        guard let cols = shape.last, cols > 0 else {
            throw TensorError.invalidArgument(op: "layerNorm", "needs a non-empty last axis, got \(shape)")
        }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t, t.shape != [cols] {
                throw TensorError.shapeMismatch(op: "layerNorm \(name)", expected: "[\(cols)]", actual: t.shape)
            }
        }
        let rows = value.count / cols
        let x = value.scalars
        let gamma = weight?.value.scalars, beta = bias?.value.scalars
        var y = [Float](repeating: 0, count: x.count)
        var means = [Float](repeating: 0, count: rows), rstds = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            let o = r * cols
            var s: Float = 0
            for j in 0..<cols { s += x[o + j] }
            let mean = s / Float(cols)
            var v: Float = 0
            for j in 0..<cols { let d = x[o + j] - mean; v += d * d }
            let rstd = 1 / (v / Float(cols) + eps).squareRoot()
            means[r] = mean
            rstds[r] = rstd
            for j in 0..<cols {
                var out = (x[o + j] - mean) * rstd
                if let gamma { out *= gamma[j] }
                if let beta { out += beta[j] }
                y[o + j] = out
            }
        }
        let out = try Tensor(shape: shape, scalars: y)
        let (ix, iw, ib) = (id, weight?.id ?? -1, bias?.id ?? -1)
        return tape.record(out) { g, tape in
            var dx = [Float](repeating: 0, count: x.count)
            var dgamma = [Float](repeating: 0, count: cols), dbeta = [Float](repeating: 0, count: cols)
            var dxhat = [Float](repeating: 0, count: cols)
            for r in 0..<rows {
                let o = r * cols, mean = means[r], rstd = rstds[r]
                var meanD: Float = 0, meanDX: Float = 0
                for j in 0..<cols {
                    let xhat = (x[o + j] - mean) * rstd
                    dbeta[j] += g[o + j]
                    dgamma[j] += g[o + j] * xhat
                    let d = g[o + j] * (gamma?[j] ?? 1)
                    dxhat[j] = d
                    meanD += d
                    meanDX += d * xhat
                }
                meanD /= Float(cols)
                meanDX /= Float(cols)
                for j in 0..<cols {
                    let xhat = (x[o + j] - mean) * rstd
                    dx[o + j] = rstd * (dxhat[j] - meanD - xhat * meanDX)
                }
            }
            if ix >= 0 { tape.accumulate(ix, dx) }
            if iw >= 0 { tape.accumulate(iw, dgamma) }
            if ib >= 0 { tape.accumulate(ib, dbeta) }
        }
    }
}

import Foundation

/// Plain twins of the row kernels, accumulated in Double.
extension ReferenceKernels {
    /// Each row of `x` (`rows × cols`) replaced by `softmax(row)`: `exp(x − max) / Σ exp(x − max)`.
    /// A row whose every entry is −∞ becomes all zeros.
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = x + r * cols
            var m = -Double.infinity
            for j in 0..<cols { m = Swift.max(m, Double(row[j])) }
            if m == -.infinity {
                for j in 0..<cols { row[j] = 0 }
                continue
            }
            var e = [Double](repeating: 0, count: cols)
            var s = 0.0
            for j in 0..<cols { e[j] = Foundation.exp(Double(row[j]) - m); s += e[j] }
            for j in 0..<cols { row[j] = Float(e[j] / s) }
        }
    }

    /// `y = (x − mean) / sqrt(var + eps) · gamma + beta` per row (biased variance, as PyTorch).
    public static func layerNormRows(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float
    ) {
        for r in 0..<rows {
            let xr = x + r * cols, yr = y + r * cols
            var mean = 0.0
            for j in 0..<cols { mean += Double(xr[j]) }
            mean /= Double(cols)
            var v = 0.0
            for j in 0..<cols { let d = Double(xr[j]) - mean; v += d * d }
            v /= Double(cols)
            let inv = 1 / (v + Double(eps)).squareRoot()
            for j in 0..<cols {
                var o = (Double(xr[j]) - mean) * inv
                if let g = gamma { o *= Double(g[j]) }
                if let b = beta { o += Double(b[j]) }
                yr[j] = Float(o)
            }
        }
    }

    /// GELU: exact `x · Φ(x) = x/2 · (1 + erf(x/√2))`, or the tanh form
    /// `x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))`.
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int, approximate: Bool) {
        for i in 0..<count {
            let v = Double(x[i])
            if approximate {
                x[i] = Float(0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
            } else {
                x[i] = Float(0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot())))
            }
        }
    }
}

extension ReferenceKernels {
    /// `y[r, j] = act(y[r, j] + bias[j])` for a `rows × cols` block (the GEMM epilogue of a linear layer).
    public static func biasActivation(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                      bias: UnsafePointer<Float>?, activation: FusedActivation) {
        for r in 0..<rows {
            for j in 0..<cols {
                let v = Double(y[r * cols + j]) + Double(bias?[j] ?? 0)
                switch activation {
                case .none: y[r * cols + j] = Float(v)
                case .relu: y[r * cols + j] = Float(Swift.max(v, 0))
                case .gelu: y[r * cols + j] = Float(0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot())))
                case .geluTanh:
                    y[r * cols + j] = Float(0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
                }
            }
        }
    }

    /// `y = LayerNorm(x + residual)` per row (the post-norm residual of a transformer block).
    public static func addLayerNormRows(
        _ x: UnsafePointer<Float>, _ residual: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float
    ) {
        var sum = [Float](repeating: 0, count: cols)
        for r in 0..<rows {
            for j in 0..<cols { sum[j] = x[r * cols + j] + residual[r * cols + j] }
            sum.withUnsafeBufferPointer { s in
                layerNormRows(s.baseAddress!, y + r * cols, rows: 1, cols: cols, gamma: gamma, beta: beta, eps: eps)
            }
        }
    }
}

import Foundation

/// Activations that can run fused into a linear layer's GEMM epilogue.
public enum FusedActivation: Sendable, Equatable {
    case none
    /// Exact GELU, `x·Φ(x)`, with a float-accurate rational `erf` (|error| < 5e-7).
    case gelu
    /// The tanh approximation of GELU.
    case geluTanh
    case relu
}

extension Kernels {
    /// `erf(x)` for Float as a rational minimax fit on [−4, 4] (the form Eigen and XLA use):
    /// `erf(x) ≈ x·P(x²)/Q(x²)`, clamped outside (erf(±4) rounds to ±1 in Float). |error| < 5e-7.
    @inline(__always)
    static func fastErf(_ a: Float) -> Float {
        let x = Swift.min(Swift.max(a, -4), 4)
        let x2 = x * x
        var p: Float = -2.72614225801306e-10
        p = p * x2 + 2.77068142495902e-08
        p = p * x2 - 2.10102402082508e-06
        p = p * x2 - 5.69250639462346e-05
        p = p * x2 - 7.34990630326855e-04
        p = p * x2 - 2.95459980854025e-03
        p = p * x2 - 1.60960333262415e-02
        var q: Float = -1.45660718464996e-05
        q = q * x2 - 2.13374055278905e-04
        q = q * x2 - 1.68282697438203e-03
        q = q * x2 - 7.37332916720468e-03
        q = q * x2 - 1.42647390514189e-02
        return x * p / q
    }

    /// `y[r, j] = act(y[r, j] + bias[j])`, rows split over the cores. Twin: ``ReferenceKernels/biasActivation``.
    public static func biasActivation(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                      bias: UnsafePointer<Float>?, activation: FusedActivation) {
        if useReference {
            return ReferenceKernels.biasActivation(y, rows: rows, cols: cols, bias: bias, activation: activation)
        }
        if bias == nil && activation == .none { return }
        let c = (2 / Float.pi).squareRoot()
        forEachRowBlock(rows: rows, cols: cols) { range in
            for r in range {
                let row = y + r * cols
                if let bias { for j in 0..<cols { row[j] += bias[j] } }
                switch activation {
                case .none: break
                case .relu: for j in 0..<cols { row[j] = Swift.max(row[j], 0) }
                case .gelu: for j in 0..<cols { let v = row[j]; row[j] = 0.5 * v * (1 + fastErf(v * 0.70710678118654752)) }
                case .geluTanh:
                    for j in 0..<cols { let v = row[j]; row[j] = 0.5 * v * (1 + Foundation.tanh(c * (v + 0.044715 * v * v * v))) }
                }
            }
        }
    }

    /// `y = LayerNorm(x + residual)` per row, rows split over the cores. Twin: ``ReferenceKernels/addLayerNormRows``.
    public static func addLayerNormRows(
        _ x: UnsafePointer<Float>, _ residual: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float
    ) {
        if useReference {
            return ReferenceKernels.addLayerNormRows(x, residual, y, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps)
        }
        forEachRowBlock(rows: rows, cols: cols) { range in
            for r in range {
                let xr = x + r * cols, rr = residual + r * cols, yr = y + r * cols
                var s: Float = 0
                for j in 0..<cols { let v = xr[j] + rr[j]; yr[j] = v; s += v }
                let mean = s / Float(cols)
                var v: Float = 0
                for j in 0..<cols { let d = yr[j] - mean; v += d * d }
                let inv = 1 / (v / Float(cols) + eps).squareRoot()
                for j in 0..<cols {
                    var o = (yr[j] - mean) * inv
                    if let g = gamma { o *= g[j] }
                    if let b = beta { o += b[j] }
                    yr[j] = o
                }
            }
        }
    }
}

import AttendKernelsC

/// Activations that can run fused into a linear layer's GEMM epilogue.
public enum FusedActivation: Sendable, Equatable {
    case none
    /// Exact GELU, `x·Φ(x)`, with a float-accurate rational `erf` (|error| < 5e-7).
    case gelu
    /// The tanh approximation of GELU.
    case geluTanh
    case relu

    /// The `act` argument of the C row kernels (`ATTEND_ACT_*` in attend_rowops.h).
    var cCode: Int32 {
        switch self {
        case .none: return Int32(ATTEND_ACT_NONE)
        case .gelu: return Int32(ATTEND_ACT_GELU)
        case .geluTanh: return Int32(ATTEND_ACT_GELU_TANH)
        case .relu: return Int32(ATTEND_ACT_RELU)
        }
    }
}

extension Kernels {
    /// `erf(x)` for Float as a rational minimax fit on [−4, 4] (the form Eigen and XLA use):
    /// `erf(x) ≈ x·P(x²)/Q(x²)`, clamped outside (erf(±4) rounds to ±1 in Float). |error| < 5e-7.
    /// The C row kernels vectorise the same fit (`erf512` and kin in `rowops_*.c`).
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

    /// `y[r, j] = act(y[r, j] + bias[j])` over a contiguous `rows × cols` block, rows split over the
    /// cores. `.gelu` is `v/2 · (1 + erf(v/√2))` with the fit of ``fastErf(_:)``; `.geluTanh` is
    /// `v/2 · (1 + tanh(√(2/π)(v + 0.044715 v³)))`, computed as `v / (1 + exp(−2u))`.
    /// Twin: ``ReferenceKernels/biasActivation(_:rows:cols:bias:activation:)``.
    public static func biasActivation(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                      bias: UnsafePointer<Float>?, activation: FusedActivation) {
        if useReference {
            return ReferenceKernels.biasActivation(y, rows: rows, cols: cols, bias: bias, activation: activation)
        }
        biasActivation(y, rows: rows, cols: cols, bias: bias, activation: activation,
                       isa: activeISA, threads: rowThreads(rows: rows, cols: cols))
    }

    static func biasActivation(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>?,
                               activation: FusedActivation, isa: KernelISA, threads: Int) {
        guard rows > 0, cols > 0, bias != nil || activation != .none else { return }
        let biasAct = rowOps(isa).bias_act
        let act = activation.cCode
        forEachRowBlock(rows: rows, threads: threads) { lo, hi in
            biasAct(y + lo * cols, hi - lo, cols, cols, bias, act)
        }
    }

    /// `y[r·ldy + j] = act(y[r·ldy + j] + bias[j])` over a `rows × cols` tile of a larger matrix
    /// (row stride `ldy` ≥ `cols`), on the calling thread: the epilogue a GEMM applies per output tile.
    /// Same maths as ``biasActivation(_:rows:cols:bias:activation:)``. It does not consult
    /// ``useReference`` (a task-local, unset on pool threads): callers inside the fast GEMM have
    /// already chosen the fast path.
    public static func biasActivationTile(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ldy: Int,
                                          bias: UnsafePointer<Float>?, activation: FusedActivation) {
        biasActivationTile(y, rows: rows, cols: cols, ldy: ldy, bias: bias, activation: activation, isa: activeISA)
    }

    static func biasActivationTile(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ldy: Int,
                                   bias: UnsafePointer<Float>?, activation: FusedActivation, isa: KernelISA) {
        guard rows > 0, cols > 0, bias != nil || activation != .none else { return }
        rowOps(isa).bias_act(y, rows, cols, ldy, bias, activation.cCode)
    }

    /// `y = LayerNorm(x + residual)` per row, rows split over the cores (two-pass mean and biased
    /// variance in Float). `y` may be `x` or `residual`. Twin: ``ReferenceKernels/addLayerNormRows``.
    public static func addLayerNormRows(
        _ x: UnsafePointer<Float>, _ residual: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float
    ) {
        if useReference {
            return ReferenceKernels.addLayerNormRows(x, residual, y, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps)
        }
        addLayerNormRows(x, residual, y, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps,
                         isa: activeISA, threads: rowThreads(rows: rows, cols: cols))
    }

    /// `y = LayerNorm(x + residual)` (or of `x` alone when `residual` is nil) over contiguous rows.
    static func addLayerNormRows(
        _ x: UnsafePointer<Float>, _ residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float, isa: KernelISA, threads: Int
    ) {
        guard rows > 0, cols > 0 else { return }
        let layerNorm = rowOps(isa).add_layernorm
        forEachRowBlock(rows: rows, threads: threads) { lo, hi in
            layerNorm(x + lo * cols, residual.map { $0 + lo * cols }, y + lo * cols, hi - lo, cols,
                      cols, cols, cols, gamma, beta, eps)
        }
    }

    /// Strided `y = LayerNorm(x + residual)` over a `rows × cols` tile, on the calling thread (for tests
    /// and callers that fuse it per tile). `residual` may be nil.
    static func addLayerNormTile(
        _ x: UnsafePointer<Float>, ldx: Int, _ residual: UnsafePointer<Float>?, ldr: Int,
        _ y: UnsafeMutablePointer<Float>, ldy: Int, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float, isa: KernelISA
    ) {
        guard rows > 0, cols > 0 else { return }
        rowOps(isa).add_layernorm(x, residual, y, rows, cols, ldx, ldr, ldy, gamma, beta, eps)
    }
}

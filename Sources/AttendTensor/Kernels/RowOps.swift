import AttendKernelsC

/// Fast row kernels (softmax, layer norm, GELU): the per-ISA C kernels of `attend_rowops.h`
/// (float32, vectorised exp and erf), chosen by ``Kernels/activeISA``; rows split across the cores
/// on GEMM's persistent thread pool when the work is large enough to pay for it.
/// Bias + activation and add + layer norm live in `Epilogues.swift`.
extension Kernels {
    /// Row blocks each thread claims, about: a thread slowed by other load holds up no one.
    static let rowBlocksPerThread = 4

    /// The row kernels for `isa` (the generic ones when the CPU lacks it).
    static func rowOps(_ isa: KernelISA) -> attend_rowops { attend_rowops_for(isa.cValue).pointee }

    /// Threads for `rows × cols` elements of row work: one below ``KernelSettings/rowParallelThreshold``,
    /// else up to ``KernelSettings/maxThreads`` (of the current ``settings``).
    static func rowThreads(rows: Int, cols: Int) -> Int {
        guard rows > 1, cols > 0 else { return 1 }
        let settings = Kernels.settings
        let (work, overflow) = rows.multipliedReportingOverflow(by: cols)
        if !overflow && work < settings.rowParallelThreshold { return 1 }
        return Swift.max(1, Swift.min(settings.maxThreads, rows))
    }

    /// Calls `body(lo, hi)` for consecutive blocks of rows covering `0..<rows`, on up to `threads`
    /// threads (the caller's included, the others from the C pool via ``GEMM/parallelFor(_:threads:_:)``).
    static func forEachRowBlock(rows: Int, threads: Int, _ body: (_ lo: Int, _ hi: Int) -> Void) {
        guard rows > 0 else { return }
        if threads <= 1 || rows < 2 {
            body(0, rows)
            return
        }
        let pieces = threads * rowBlocksPerThread
        let per = Swift.max(1, (rows + pieces - 1) / pieces)
        GEMM.parallelFor((rows + per - 1) / per, threads: threads) { item in
            let lo = item * per
            body(lo, Swift.min(rows, lo + per))
        }
    }

    /// In-place softmax of each row; a row of all −∞ becomes zeros (never NaN).
    /// Twin: ``ReferenceKernels/softmaxRows(_:rows:cols:)``.
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        if useReference { return ReferenceKernels.softmaxRows(x, rows: rows, cols: cols) }
        softmaxRows(x, rows: rows, cols: cols, isa: activeISA, threads: rowThreads(rows: rows, cols: cols))
    }

    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, isa: KernelISA, threads: Int) {
        guard rows > 0, cols > 0 else { return }
        let softmax = rowOps(isa).softmax_rows
        forEachRowBlock(rows: rows, threads: threads) { lo, hi in softmax(x + lo * cols, hi - lo, cols, cols) }
    }

    /// In-place softmax of each row of a `rows × cols` tile with row stride `ldx`, on the calling thread.
    static func softmaxTile(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ldx: Int, isa: KernelISA) {
        guard rows > 0, cols > 0 else { return }
        rowOps(isa).softmax_rows(x, rows, cols, ldx)
    }

    /// Layer norm of each row over its `cols` features; gamma and beta optional.
    /// Twin: ``ReferenceKernels/layerNormRows(_:_:rows:cols:gamma:beta:eps:)``.
    public static func layerNormRows(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float
    ) {
        if useReference {
            return ReferenceKernels.layerNormRows(x, y, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps)
        }
        addLayerNormRows(x, nil, y, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps,
                         isa: activeISA, threads: rowThreads(rows: rows, cols: cols))
    }

    /// In-place GELU (exact erf form, or the tanh approximation) of `count` contiguous floats.
    /// Twin: ``ReferenceKernels/gelu(_:count:approximate:)``.
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int, approximate: Bool) {
        if useReference { return ReferenceKernels.gelu(x, count: count, approximate: approximate) }
        let blocks = (count + geluBlock - 1) / geluBlock
        gelu(x, count: count, approximate: approximate, isa: activeISA,
             threads: rowThreads(rows: blocks, cols: geluBlock))
    }

    /// The run of elements one GELU work item covers.
    static let geluBlock = 4096

    static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int, approximate: Bool, isa: KernelISA, threads: Int) {
        guard count > 0 else { return }
        let biasAct = rowOps(isa).bias_act
        let act = (approximate ? FusedActivation.geluTanh : .gelu).cCode
        forEachRowBlock(rows: (count + geluBlock - 1) / geluBlock, threads: threads) { lo, hi in
            let start = lo * geluBlock, n = Swift.min(count, hi * geluBlock) - start
            biasAct(x + start, 1, n, n, nil, act)
        }
    }
}

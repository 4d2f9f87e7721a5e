import AttendKernelsC
import Dispatch

/// The fast single-precision GEMM driver: BLIS-style blocking, packing and threading around the
/// per-ISA C micro-kernels of `AttendKernelsC`.
///
/// Computes `C = alpha · op(A) · op(B) + beta · C` (row-major; see ``Kernels/sgemm``), the same
/// maths as its twin ``ReferenceKernels/sgemm`` but with Float accumulation.
///
/// Loops, outermost first (BLIS): `jc` over NC-column panels of B → `pc` over KC-deep slices of the
/// shared dimension → `ic` over MC-row blocks of A → `jr` over NR-column slivers → `ir` over
/// MR-row slivers, where the C micro-kernel computes one MR×NR tile of C. A block (MC×KC) is
/// packed into MR-row slivers once per `ic`; the B panel (KC×NC) into NR-column slivers once per
/// `pc`. transA/transB are absorbed by the packing. The first `pc` slice applies the caller's
/// `beta`; later slices accumulate with beta = 1.
///
/// Threading (both modes keep C's tiles disjoint between threads):
/// - split N: each thread runs the whole loop nest on its own columns (small M: no shared work,
///   B read or packed only by the thread that uses it; `!transB` and small M read B unpacked);
/// - A·Bᵀ with small M: the ISA's dot-product kernel reads both operands in place (no transpose);
/// - split M: per (jc, pc) the threads pack the B panel together, then each computes its rows.
@usableFromInline
enum GEMM {
    // Cache blocking (PERFORMANCE-NOTES: KC = 384, MC = 192, NC = 4096 for the 6×64 kernel).
    static let kc = 384
    static let mc = 192
    static let nc = 4096

    /// m·n·k at or below this runs the unblocked C loop: no packing, no threads.
    nonisolated(unsafe) static var tinyWork = 4 * 1024
    /// Multiply-adds per thread below which another thread does not pay for its wake-up.
    nonisolated(unsafe) static var workPerThread = 1 << 20
    /// With M at or below this (and enough columns), threads split N instead of M.
    nonisolated(unsafe) static var splitNMaxM = 384
    /// With `!transB` and M at or below this, the micro-kernel reads B in place instead of packing.
    nonisolated(unsafe) static var directBMaxM = 96
    /// With `transB`, `!transA` and M at or below this, the ISA's dot-product kernel (if any) reads
    /// both operands in place instead of transposing B into packed slivers.
    nonisolated(unsafe) static var dotMaxM = 256

    @usableFromInline
    static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k <= 0 || alpha == 0 {  // BLAS convention: op(A)·op(B) is not evaluated.
            scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
            return
        }
        let work = Double(m) * Double(n) * Double(k)
        if work <= Double(tinyWork) {
            attend_sgemm_small(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        let uk = attend_sgemm_ukernel_for(Kernels.activeISA.cValue).pointee
        let job = Job(uk: uk, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        let rowSlivers = (m + job.mr - 1) / job.mr
        let colSlivers = (n + job.nr - 1) / job.nr
        let byWork = Int(min(work / Double(workPerThread), Double(Int.max / 2)))
        let threads = max(1, min(Kernels.maxThreads, byWork, max(rowSlivers, colSlivers)))

        if transB && !transA && m <= dotMaxM, let dot = uk.dot {
            job.dotSplitN(dot, threads: threads)
        } else if threads == 1 {
            job.run(rows: 0..<m, cols: 0..<n)
        } else if (m <= splitNMaxM && colSlivers >= threads) || rowSlivers < threads {
            job.splitN(threads: threads, colSlivers: colSlivers)
        } else {
            job.splitM(threads: threads, rowSlivers: rowSlivers)
        }
    }

    /// C = beta · C over m×n (beta == 0 writes zeros without reading C).
    static func scale(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else if beta != 1 {
                for j in 0..<n { row[j] *= beta }
            }
        }
    }
}

/// One GEMM call's operands and micro-kernel set; shared read-only by the worker threads, which
/// write disjoint tiles of C.
private struct Job: @unchecked Sendable {
    let kernel: attend_sgemm_kernel_fn
    let packA: attend_sgemm_pack_a_fn
    let packB: attend_sgemm_pack_b_fn
    let mr: Int, nr: Int
    let transA: Bool, transB: Bool
    let m: Int, n: Int, k: Int
    let alpha: Float, beta: Float
    let a: UnsafePointer<Float>, lda: Int
    let b: UnsafePointer<Float>, ldb: Int
    let c: UnsafeMutablePointer<Float>, ldc: Int

    init(uk: attend_sgemm_ukernel, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        // The C table always fills every entry; the optionals come from C's nullable pointers.
        kernel = uk.kernel!
        packA = uk.pack_a!
        packB = uk.pack_b!
        mr = Int(uk.mr)
        nr = Int(uk.nr)
        self.transA = transA; self.transB = transB
        self.m = m; self.n = n; self.k = k
        self.alpha = alpha; self.beta = beta
        self.a = a; self.lda = lda; self.b = b; self.ldb = ldb; self.c = c; self.ldc = ldc
    }

    /// Pointer to op(A)[i, p].
    @inline(__always) func aAt(_ i: Int, _ p: Int) -> UnsafePointer<Float> {
        transA ? a + (p * lda + i) : a + (i * lda + p)
    }
    /// Pointer to op(B)[p, j].
    @inline(__always) func bAt(_ p: Int, _ j: Int) -> UnsafePointer<Float> {
        transB ? b + (j * ldb + p) : b + (p * ldb + j)
    }

    /// Floats in a packed A block (MC rows rounded up to MR, KC deep).
    var aBlockFloats: Int { ((min(GEMM.mc, m) + mr - 1) / mr) * mr * min(GEMM.kc, k) }
    /// Floats in a packed B panel of `cols` columns (rounded up to NR, KC deep).
    func bPanelFloats(cols: Int) -> Int { ((min(GEMM.nc, cols) + nr - 1) / nr) * nr * min(GEMM.kc, k) }

    /// The whole loop nest on C[rows, cols], single-threaded, with its own packing buffers.
    func run(rows: Range<Int>, cols: Range<Int>) {
        let directB = !transB && rows.count <= GEMM.directBMaxM
        GEMMBuffers.with(floats: aBlockFloats, bPanelFloats(cols: cols.count)) { aBuf, bBuf in
            for jc in stride(from: cols.lowerBound, to: cols.upperBound, by: GEMM.nc) {
                let ncur = min(GEMM.nc, cols.upperBound - jc)
                for pc in stride(from: 0, to: k, by: GEMM.kc) {
                    let kcur = min(GEMM.kc, k - pc)
                    let betaNow: Float = pc == 0 ? beta : 1
                    for ic in stride(from: rows.lowerBound, to: rows.upperBound, by: GEMM.mc) {
                        let mcur = min(GEMM.mc, rows.upperBound - ic)
                        packA(transA ? 1 : 0, aAt(ic, pc), lda, mcur, kcur, aBuf)
                        for jr in stride(from: 0, to: ncur, by: nr) {
                            let nrcur = min(nr, ncur - jr)
                            let bSliver: UnsafePointer<Float>
                            let bStride: Int
                            if directB && nrcur == nr {
                                bSliver = bAt(pc, jc + jr)
                                bStride = ldb
                            } else {
                                let dst = bBuf + (jr / nr) * kcur * nr
                                // Pack each sliver just before its first use, while it is hot.
                                if ic == rows.lowerBound {
                                    packB(transB ? 1 : 0, bAt(pc, jc + jr), ldb, kcur, nrcur, dst)
                                }
                                bSliver = UnsafePointer(dst)
                                bStride = nr
                            }
                            macroRow(aBuf: aBuf, mcur: mcur, kcur: kcur, bSliver: bSliver, bStride: bStride,
                                     c: c + (ic * ldc + jc + jr), nrcur: nrcur, beta: betaNow)
                        }
                    }
                }
            }
        }
    }

    /// All MR-row tiles of one column sliver: C[ic ..< ic+mcur, sliver] op= Apacked · Bsliver.
    @inline(__always)
    func macroRow(aBuf: UnsafeMutablePointer<Float>, mcur: Int, kcur: Int, bSliver: UnsafePointer<Float>,
                  bStride: Int, c: UnsafeMutablePointer<Float>, nrcur: Int, beta: Float) {
        var ir = 0
        while ir < mcur {
            kernel(kcur, aBuf + ir * kcur, bSliver, bStride, c + ir * ldc, ldc, alpha, beta,
                   min(mr, mcur - ir), nrcur)
            ir += mr
        }
    }

    /// A·Bᵀ read in place by the dot-product kernel; threads take contiguous runs of 4 columns.
    func dotSplitN(_ dot: attend_sgemm_dot_fn, threads: Int) {
        let quads = (n + 3) / 4
        let t = min(threads, quads)
        func part(_ i: Int) {
            let j0 = quads * i / t * 4, j1 = min(n, quads * (i + 1) / t * 4)
            if j1 > j0 { dot(m, j1 - j0, k, alpha, a, lda, b + j0 * ldb, ldb, beta, c + j0, ldc) }
        }
        if t == 1 { part(0) } else { DispatchQueue.concurrentPerform(iterations: t) { part($0) } }
    }

    /// Threads take contiguous runs of NR-column slivers and run the whole nest on them.
    func splitN(threads: Int, colSlivers: Int) {
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let s0 = colSlivers * t / threads, s1 = colSlivers * (t + 1) / threads
            let cols = (s0 * nr)..<min(n, s1 * nr)
            if !cols.isEmpty { run(rows: 0..<m, cols: cols) }
        }
    }

    /// Per (jc, pc): the threads pack the shared B panel, then each computes its own rows of C.
    func splitM(threads: Int, rowSlivers: Int) {
        GEMMBuffers.with(floats: bPanelFloats(cols: n)) { bBuf in
            for jc in stride(from: 0, to: n, by: GEMM.nc) {
                let ncur = min(GEMM.nc, n - jc)
                let slivers = (ncur + nr - 1) / nr
                for pc in stride(from: 0, to: k, by: GEMM.kc) {
                    let kcur = min(GEMM.kc, k - pc)
                    let betaNow: Float = pc == 0 ? beta : 1
                    DispatchQueue.concurrentPerform(iterations: threads) { t in
                        let s0 = slivers * t / threads, s1 = slivers * (t + 1) / threads
                        if s1 > s0 {
                            let j0 = s0 * nr, cols = min(ncur, s1 * nr) - j0
                            packB(transB ? 1 : 0, bAt(pc, jc + j0), ldb, kcur, cols, bBuf + s0 * kcur * nr)
                        }
                    }
                    DispatchQueue.concurrentPerform(iterations: threads) { t in
                        let r0 = rowSlivers * t / threads * mr, r1 = min(m, rowSlivers * (t + 1) / threads * mr)
                        guard r1 > r0 else { return }
                        GEMMBuffers.with(floats: aBlockFloats) { aBuf in
                            for ic in stride(from: r0, to: r1, by: GEMM.mc) {
                                let mcur = min(GEMM.mc, r1 - ic)
                                packA(transA ? 1 : 0, aAt(ic, pc), lda, mcur, kcur, aBuf)
                                for s in 0..<slivers {
                                    let jr = s * nr
                                    macroRow(aBuf: aBuf, mcur: mcur, kcur: kcur,
                                             bSliver: UnsafePointer(bBuf + s * kcur * nr), bStride: nr,
                                             c: c + (ic * ldc + jc + jr), nrcur: min(nr, ncur - jr), beta: betaNow)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

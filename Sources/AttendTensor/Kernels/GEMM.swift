import AttendKernelsC

/// The fast single-precision GEMM driver: BLIS-style blocking, packing and threading around the
/// per-ISA C micro-kernels of `AttendKernelsC`.
///
/// Computes `C = alpha · op(A) · op(B) + beta · C` (row-major; see ``Kernels/sgemm``), the same
/// maths as its twin ``ReferenceKernels/sgemm`` but with Float accumulation.
///
/// Paths, by shape (each keeps C's tiles disjoint between threads; threads claim work items,
/// about four per thread, from a shared counter, so a thread slowed by other load holds up no one):
/// - tiny (m·n·k ≤ ``GEMMTuning/tinyWork``): the unblocked C loop, no packing, no threads;
/// - A·Bᵀ with small M (≤ ``GEMMTuning/dotMaxM``, k ≥ ``GEMMTuning/dotMinK``): the ISA's dot-product kernel reads both operands in place
///   along k, so PyTorch-layout weights are never transposed; items are runs of columns;
/// - large M, BLIS loops `jc` (NC-column panels) → `pc` (k slices) → `ic` (row blocks of
///   ≤ MC) → `jr` (NR-column slivers) → `ir` (MR-row slivers): per (jc, pc) the threads pack the
///   B panel together, then claim row blocks, each packing its A block and sweeping the panel;
/// - small M (≤ ``GEMMTuning/splitNMaxM``): per `pc` the threads pack all of A together, then claim runs of
///   B slivers, each packed just before use (or read in place when `!transB`, M ≤ ``GEMMTuning/directBMaxM``).
///
/// The C micro-kernel computes one MR×NR tile of C from an MR-row sliver of packed A and an
/// NR-column sliver of B; transA/transB are absorbed by the packing. The first `pc` slice applies
/// the caller's `beta`; later slices accumulate with beta = 1.
@usableFromInline
enum GEMM {
    // Cache blocking (PERFORMANCE-NOTES: KC ≥ 384, MC = 192, NC = 4096 for the 6×64 kernel). The shape
    // thresholds (KC's bound, the tiny/dot/split/direct-B limits) live in ``GEMMTuning``, part of
    // ``Kernels/settings``, read once per call on the calling thread.
    static let mc = 192
    static let nc = 4096

    /// Depth of each packed k slice under the current settings: `k` cut into equal slices of at most `kcMax`.
    static func sliceDepth(_ k: Int) -> Int { Kernels.settings.gemm.sliceDepth(k) }

    /// Work on a finished tile of C: `(tile, rows, cols, firstColumn)`, the tile's rows `ldc` apart. Called
    /// once per tile, after its last k slice, by the thread that computed it (while the tile is in cache).
    @usableFromInline
    typealias Epilogue = (UnsafeMutablePointer<Float>, Int, Int, Int) -> Void

    @usableFromInline
    static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c, ldc: ldc, packedB: nil, epilogue: nil)
    }

    /// `sgemm` plus, optionally, `packedB` (op(B) = Wᵀ pre-packed, used when ``PackedWeights/isUsable``;
    /// `b` must still point at W `[n, k]` for the paths that read it in place) and a per-tile `epilogue`.
    @usableFromInline
    static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        packedB: PackedWeights?, epilogue: Epilogue?
    ) {
        guard m > 0, n > 0 else { return }
        if k <= 0 || alpha == 0 {  // BLAS convention: op(A)·op(B) is not evaluated.
            scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
            epilogue?(c, m, n, 0)
            return
        }
        let settings = Kernels.settings, tuning = settings.gemm
        let work = Double(m) * Double(n) * Double(k)
        if work <= Double(tuning.tinyWork) {
            attend_sgemm_small(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            epilogue?(c, m, n, 0)
            return
        }
        let uk = attend_sgemm_ukernel_for(settings.activeISA.cValue).pointee
        let kc = tuning.sliceDepth(k)
        var packed: PackedWeights? = nil
        if let packedB, transB, !transA, packedB.n == n, packedB.k == k, packedB.isUsable(with: uk, kc: kc) { packed = packedB }
        let job = Job(uk: uk, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, kc: kc, packed: packed, epilogue: epilogue,
                      directBMaxM: tuning.directBMaxM, directA: Kernels.gemmReadsAInPlace)
        let rowSlivers = (m + job.mr - 1) / job.mr
        let colSlivers = (n + job.nr - 1) / job.nr
        let byWork = Int(min(work / Double(Swift.max(tuning.workPerThread, 1)), Double(Int.max / 2)))
        let threads = max(1, min(settings.maxThreads, byWork, max(rowSlivers, colSlivers)))

        if transB && !transA && m <= tuning.dotMaxM && k >= tuning.dotMinK && packed == nil, let dot = uk.dot {
            job.dotSplitN(dot, threads: threads)
        } else if m <= tuning.splitNMaxM {
            job.splitN(threads: threads)
        } else {
            job.splitM(threads: threads)
        }
    }

    /// A chunk size (a multiple of `multiple`) that cuts `count` into about four pieces per thread,
    /// so that threads claiming pieces dynamically finish together even on a busy machine.
    static func chunk(_ count: Int, threads: Int, multiple: Int) -> Int {
        let pieces = max(1, threads * 4)
        let raw = (count + pieces - 1) / pieces
        return max(multiple, (raw + multiple - 1) / multiple * multiple)
    }

    /// Runs `body(item)` once for every item in `0..<count` on up to `threads` threads (the caller's
    /// included, the others from `AttendKernelsC`'s persistent pool), each thread claiming the next
    /// unclaimed item from a shared counter.
    static func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        parallelFor(count, threads: threads, scratch: 0) { item, _ in body(item) }
    }

    /// `parallelFor` with a per-thread scratch buffer of `scratch` floats (none when 0).
    static func parallelFor(_ count: Int, threads: Int, scratch: Int,
                            _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        func drain(_ claim: () -> Int) {
            func loop(_ buf: UnsafeMutablePointer<Float>) {
                while true {
                    let item = claim()
                    if item >= count { return }
                    body(item, buf)
                }
            }
            if scratch > 0 { GEMMBuffers.with(floats: scratch, loop) } else { loop(dummyScratch) }
        }
        let width = min(threads, count)
        if width <= 1 {
            var next = 0
            drain { defer { next += 1 }; return next }
            return
        }
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        counter.initialize(to: 0)
        defer { counter.deallocate() }
        // Every task drains the shared counter; a task that starts late simply finds nothing left.
        withoutActuallyEscaping({ (_: Int) in drain { attend_fetch_add(counter, 1) } }) { task in
            let box = TaskBox(task)
            withExtendedLifetime(box) {
                attend_parallel_run(width, { ctx, t in
                    Unmanaged<TaskBox>.fromOpaque(ctx!).takeUnretainedValue().run(t)
                }, Unmanaged.passUnretained(box).toOpaque())
            }
        }
    }

    /// Stand-in scratch pointer for loops that need none (never dereferenced).
    private static let dummyScratch = UnsafeMutablePointer<Float>.allocate(capacity: 1)

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

/// A parallel task body, passed to the C thread pool as an opaque context.
private final class TaskBox {
    let run: (Int) -> Void
    init(_ run: @escaping (Int) -> Void) { self.run = run }
}

/// One GEMM call's operands and micro-kernel set; shared read-only by the worker threads, which
/// write disjoint tiles of C.
private struct Job: @unchecked Sendable {
    let kernel: attend_sgemm_kernel_fn
    /// The micro-kernel reading A in place, when the ISA has one, `!transA` and the tuning allows it.
    let directA: attend_sgemm_direct_a_fn?
    let packA: attend_sgemm_pack_a_fn
    let packB: attend_sgemm_pack_b_fn
    let mr: Int, nr: Int
    let transA: Bool, transB: Bool
    let m: Int, n: Int, k: Int
    /// Depth of a packed slice: k cut into equal slices of at most ``GEMMTuning/kcMax``.
    let kc: Int
    /// B is read in place (not packed) when `!transB` and M is at most this (``GEMMTuning/directBMaxM``).
    let directBMaxM: Int
    let alpha: Float, beta: Float
    let a: UnsafePointer<Float>, lda: Int
    let b: UnsafePointer<Float>, ldb: Int
    let c: UnsafeMutablePointer<Float>, ldc: Int
    /// op(B) pre-packed (already checked usable), or nil to pack per call.
    let packed: PackedWeights?
    let epilogue: GEMM.Epilogue?

    init(uk: attend_sgemm_ukernel, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, kc: Int, packed: PackedWeights?, epilogue: GEMM.Epilogue?,
         directBMaxM: Int, directA: Bool) {
        // The C table always fills every entry; the optionals come from C's nullable pointers.
        kernel = uk.kernel!
        self.directA = directA && !transA ? uk.direct_a : nil
        packA = uk.pack_a!
        packB = uk.pack_b!
        mr = Int(uk.mr)
        nr = Int(uk.nr)
        self.transA = transA; self.transB = transB
        self.m = m; self.n = n; self.k = k
        self.kc = kc
        self.directBMaxM = directBMaxM
        self.alpha = alpha; self.beta = beta
        self.a = a; self.lda = lda; self.b = b; self.ldb = ldb; self.c = c; self.ldc = ldc
        self.packed = packed
        self.epilogue = epilogue
    }

    /// Pointer to op(A)[i, p].
    @inline(__always) func aAt(_ i: Int, _ p: Int) -> UnsafePointer<Float> {
        transA ? a + (p * lda + i) : a + (i * lda + p)
    }
    /// Pointer to op(B)[p, j].
    @inline(__always) func bAt(_ p: Int, _ j: Int) -> UnsafePointer<Float> {
        transB ? b + (j * ldb + p) : b + (p * ldb + j)
    }

    /// Floats in a packed B panel of `cols` columns (rounded up to NR, KC deep).
    func bPanelFloats(cols: Int) -> Int { ((min(GEMM.nc, cols) + nr - 1) / nr) * nr * kc }

    /// All MR-row tiles of one column sliver: C[ic ..< ic+mcur, sliver] op= op(A)[ic…, pc…] · Bsliver, with A
    /// read in place by ``directA`` when there is one, else from `aBuf`, the rows packed by ``packA``.
    @inline(__always)
    func macroRow(aBuf: UnsafeMutablePointer<Float>, ic: Int, pc: Int, mcur: Int, kcur: Int, bSliver: UnsafePointer<Float>,
                  bStride: Int, c: UnsafeMutablePointer<Float>, nrcur: Int, beta: Float) {
        var ir = 0
        while ir < mcur {
            if let directA {
                directA(kcur, aAt(ic + ir, pc), lda, bSliver, bStride, c + ir * ldc, ldc, alpha, beta, min(mr, mcur - ir), nrcur)
            } else {
                kernel(kcur, aBuf + ir * kcur, bSliver, bStride, c + ir * ldc, ldc, alpha, beta, min(mr, mcur - ir), nrcur)
            }
            ir += mr
        }
    }

    /// A·Bᵀ read in place by the dot-product kernel; threads claim chunks of columns.
    func dotSplitN(_ dot: attend_sgemm_dot_fn, threads: Int) {
        let chunk = GEMM.chunk(n, threads: threads, multiple: 4)
        GEMM.parallelFor((n + chunk - 1) / chunk, threads: threads) { item in
            let j0 = item * chunk, cols = min(chunk, n - j0)
            dot(m, cols, k, alpha, a, lda, b + j0 * ldb, ldb, beta, c + j0, ldc)
            epilogue?(c + j0, m, cols, j0)
        }
    }

    /// Small M (≤ ``GEMMTuning/splitNMaxM``): per pc the threads pack all of A together (it stays in
    /// L2), then claim runs of NR-column slivers; each B sliver is packed just before use into a
    /// per-thread buffer, or read in place when `!transB` and M ≤ ``directBMaxM``.
    func splitN(threads: Int) {
        let directB = !transB && m <= directBMaxM
        let rowSlivers = (m + mr - 1) / mr
        let sliverChunk = GEMM.chunk(rowSlivers, threads: threads, multiple: 1)
        let colChunk = GEMM.chunk(n, threads: threads, multiple: nr)
        // Packed A, all of it (none when A is read in place).
        GEMMBuffers.with(floats: directA == nil ? rowSlivers * mr * kc : 0) { aBuf in
            for pc in stride(from: 0, to: k, by: kc) {
                let kcur = min(kc, k - pc)
                let betaNow: Float = pc == 0 ? beta : 1
                let lastSlice = pc + kcur >= k
                if directA == nil {
                    GEMM.parallelFor((rowSlivers + sliverChunk - 1) / sliverChunk, threads: threads) { item in
                        let i0 = item * sliverChunk * mr
                        packA(transA ? 1 : 0, aAt(i0, pc), lda, min(sliverChunk * mr, m - i0), kcur, aBuf + i0 * kcur)
                    }
                }
                GEMM.parallelFor((n + colChunk - 1) / colChunk, threads: threads, scratch: packed == nil ? kc * nr : 0) { item, bBuf in
                    let j1 = min(n, (item + 1) * colChunk)
                    for j in stride(from: item * colChunk, to: j1, by: nr) {
                        let nrcur = min(nr, j1 - j)
                        var bSliver = UnsafePointer(bBuf), bStride = nr
                        if let packed {
                            bSliver = packed.sliver(pc: pc, j: j)
                        } else if directB && nrcur == nr {
                            bSliver = bAt(pc, j)
                            bStride = ldb
                        } else {
                            packB(transB ? 1 : 0, bAt(pc, j), ldb, kcur, nrcur, bBuf)
                        }
                        macroRow(aBuf: aBuf, ic: 0, pc: pc, mcur: m, kcur: kcur, bSliver: bSliver, bStride: bStride,
                                 c: c + j, nrcur: nrcur, beta: betaNow)
                        if lastSlice { epilogue?(c + j, m, nrcur, j) }
                    }
                }
            }
        }
    }

    /// Per (jc, pc): the threads pack the shared B panel, then claim blocks of rows of C.
    func splitM(threads: Int) {
        let rowBlock = min(GEMM.mc, GEMM.chunk(m, threads: threads, multiple: mr))
        let rowItems = (m + rowBlock - 1) / rowBlock
        GEMMBuffers.with(floats: packed == nil ? bPanelFloats(cols: n) : 0) { bBuf in
            for jc in stride(from: 0, to: n, by: GEMM.nc) {
                let ncur = min(GEMM.nc, n - jc)
                let slivers = (ncur + nr - 1) / nr
                let sliverChunk = GEMM.chunk(slivers, threads: threads, multiple: 1)
                for pc in stride(from: 0, to: k, by: kc) {
                    let kcur = min(kc, k - pc)
                    let betaNow: Float = pc == 0 ? beta : 1
                    let lastSlice = pc + kcur >= k
                    if packed == nil {
                        GEMM.parallelFor((slivers + sliverChunk - 1) / sliverChunk, threads: threads) { item in
                            let s0 = item * sliverChunk, j0 = s0 * nr
                            let cols = min(ncur, (s0 + sliverChunk) * nr) - j0
                            packB(transB ? 1 : 0, bAt(pc, jc + j0), ldb, kcur, cols, bBuf + s0 * kcur * nr)
                        }
                    }
                    GEMM.parallelFor(rowItems, threads: threads, scratch: directA == nil ? rowBlock * kcur : 0) { item, aBuf in
                        let ic = item * rowBlock, mcur = min(rowBlock, m - ic)
                        if directA == nil { packA(transA ? 1 : 0, aAt(ic, pc), lda, mcur, kcur, aBuf) }
                        for s in 0..<slivers {
                            let jr = s * nr
                            let bSliver = packed?.sliver(pc: pc, j: jc + jr) ?? UnsafePointer(bBuf + s * kcur * nr)
                            macroRow(aBuf: aBuf, ic: ic, pc: pc, mcur: mcur, kcur: kcur, bSliver: bSliver, bStride: nr,
                                     c: c + (ic * ldc + jc + jr), nrcur: min(nr, ncur - jr), beta: betaNow)
                        }
                        if lastSlice { epilogue?(c + (ic * ldc + jc), mcur, ncur, jc) }
                    }
                }
            }
        }
    }
}

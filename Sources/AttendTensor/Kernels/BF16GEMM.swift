import AttendKernelsC

/// A weight matrix W stored `[n, k]` (PyTorch Linear layout), rounded to bfloat16 (round to nearest,
/// ties to even) and pre-packed once for the BF16 micro-kernels.
///
/// Layout (see `attend_bf16.h`): slivers of 64 columns, each `⌈k/2⌉` rows of 64 words, a word holding
/// the k-pair `(w[j][2q], w[j][2q+1])` as two bf16 halves; padding is zero. One layout serves every
/// ISA, so a packed weight stays valid whichever kernel runs. Immutable, `Sendable`, safe to share
/// between threads.
public struct BF16PackedWeight: Sendable {
    /// Output features (rows of W).
    public let n: Int
    /// Input features (columns of W).
    public let k: Int
    let storage: Storage

    /// Columns per sliver.
    static let nr = Int(ATTEND_BF16_NR)
    /// k-pairs per sliver row: ⌈k/2⌉.
    var pairs: Int { (k + 1) / 2 }
    /// Number of 64-column slivers: ⌈n/64⌉.
    var slivers: Int { (n + Self.nr - 1) / Self.nr }

    /// Packs a rank-2 `[n, k]` weight; any other rank throws ``TensorError/shapeMismatch(op:expected:actual:)``.
    public init(weight: Tensor) throws {
        guard weight.rank == 2 else {
            throw TensorError.shapeMismatch(op: "BF16PackedWeight", expected: "[n, k]", actual: weight.shape)
        }
        let (n, k) = (weight.shape[0], weight.shape[1])
        self = weight.scalars.withUnsafeBufferPointer { BF16PackedWeight(weight: $0.baseAddress, n: n, k: k) }
    }

    /// Packs `n` rows of `k` floats stored contiguously at `weight`.
    init(weight: UnsafePointer<Float>, n: Int, k: Int) {
        self.init(weight: Optional(weight), n: n, k: k)
    }

    private init(weight: UnsafePointer<Float>?, n: Int, k: Int) {
        self.n = Swift.max(0, n)
        self.k = Swift.max(0, k)
        let words = ((self.n + Self.nr - 1) / Self.nr) * Self.nr * ((self.k + 1) / 2)
        storage = Storage(words: words)
        if words > 0, let weight {
            attend_bf16_pack_weight(weight, self.k, self.n, self.k, storage.words)
        }
    }

    /// Bytes held by the packed matrix (padding included).
    public var byteCount: Int { storage.count * MemoryLayout<UInt32>.stride }

    /// W[j, p] as stored: the bf16 value widened to Float (0 outside the matrix).
    func element(_ j: Int, _ p: Int) -> Float {
        guard j >= 0, j < n, p >= 0, p < k else { return 0 }
        let q = p / 2, s = j / Self.nr, col = j % Self.nr
        let word = storage.words[(s * pairs + q) * Self.nr + col]
        return attend_bf16_widen(UInt16(truncatingIfNeeded: p % 2 == 0 ? word : word >> 16))
    }

    /// The packed words: 64-byte aligned, freed with the last copy of the weight.
    final class Storage: @unchecked Sendable {
        let words: UnsafeMutablePointer<UInt32>
        let count: Int

        init(words count: Int) {
            self.count = count
            let raw = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(1, count) * 4, alignment: 64)
            words = raw.bindMemory(to: UInt32.self, capacity: Swift.max(1, count))
            words.initialize(repeating: 0, count: Swift.max(1, count))
        }

        deinit { words.deallocate() }
    }
}

/// float32 → bfloat16 rounding, shared by the fast path, its reference twin and the tests.
enum BF16 {
    /// `x` rounded to bfloat16 (RNE; NaN stays NaN, ±Inf stay ±Inf, float32 subnormals become ±0)
    /// and widened back to Float: exactly the value the BF16 kernels multiply.
    @inline(__always)
    static func round(_ x: Float) -> Float { attend_bf16_widen(attend_bf16_round(x)) }

    /// The bf16 bit pattern of `x` (same rounding as ``round(_:)``).
    static func bits(_ x: Float) -> UInt16 { attend_bf16_round(x) }
}

extension Kernels {
    /// `C[m, n] = A[m, k] · Wᵀ + beta · C` (beta == 0: C is not read), W a pre-packed bf16 weight
    /// `[n, k]`, A row-major with row stride `lda`, C with row stride `ldc`.
    ///
    /// Every element of A is rounded to bf16 (round to nearest even, as the weight was), every product is
    /// exact in Float and the products are accumulated in Float, a k-pair at a time:
    ///
    ///     acc = 0;  for q in 0..<⌈k/2⌉ { acc = (acc + a[2q+1]·w[2q+1]) + a[2q]·w[2q] }
    ///     C[i, j] = acc + beta · C[i, j]
    ///
    /// On AVX-512 BF16 CPUs this runs on `vdpbf16ps` (twice the float32 FMA rate); on other AVX-512F or
    /// AVX2 CPUs (or when ``Kernels/forcedISA`` is below `.avx512`) kernels that widen bf16 to float32
    /// in registers and use ordinary FMAs compute the same chain, bit for bit, as does the portable
    /// kernel everywhere else. Threads via the shared pool up to ``Kernels/maxThreads``; ``Kernels/useReference`` runs
    /// ``ReferenceKernels/gemmBF16(m:a:lda:weight:c:ldc:beta:)`` instead.
    public static func gemmBF16(m: Int, a: UnsafePointer<Float>, lda: Int, weight: BF16PackedWeight,
                                c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
        if m <= 0 || weight.n == 0 { return }
        if useReference {
            ReferenceKernels.gemmBF16(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, beta: beta)
        } else {
            let settings = Kernels.settings
            BF16GEMM.run(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, beta: beta,
                         isa: settings.activeISA, threads: settings.maxThreads)
        }
    }

    /// Whether ``gemmBF16(m:a:lda:weight:c:ldc:beta:)`` runs on native bf16 instructions right now
    /// (AVX-512 BF16 active), rather than a kernel that widens bf16 to float32 (AVX-512F, AVX2, portable).
    public static var bf16IsNative: Bool { BF16GEMM.isNative(activeISA) }

    /// The bf16 kernel set the active ISA selects on this CPU: "avx512bf16" (native, about twice the fp32 rate),
    /// "avx512f-widening" or "avx2-widening" (about the fp32 rate, half the weight memory), or "portable" (slow).
    public static var bf16KernelName: String { BF16GEMM.selected(activeISA).description }
}

/// The BF16 GEMM driver: packs A per call into bf16 MR-row slivers (pair words, or floats for the
/// widening kernels; per-thread scratch from ``GEMMBuffers``) and sweeps the pre-packed weight slivers with the C micro-kernel.
///
/// Paths (C's tiles stay disjoint between threads, which claim items from a shared counter):
/// - M ≤ `Tuning.splitNMaxM`: the threads pack all of A together, then claim items of
///   (a run of weight slivers × a run of A slivers); each weight sliver is swept over the item's A slivers;
/// - larger M: the threads claim blocks of ≤ `Tuning.mc` rows, pack that block of A into their own scratch
///   and sweep every weight sliver over it.
/// k is cut into slices of at most `Tuning.kcMaxPairs` pairs; the first slice applies `beta`, later ones add.
enum BF16GEMM {
    /// The driver's thresholds (tests pass their own to pin a path).
    struct Tuning {
        /// With M at or below this, A is packed whole and threads split the weight's columns.
        var splitNMaxM = 384
        /// The most k-pairs per slice (k cut into equal slices of at most this many pairs).
        var kcMaxPairs = 1 << 20
        /// Rows per block on the large-M path (rounded to a multiple of the kernel's MR).
        var mc = 192
        /// Multiply-adds per thread below which another thread does not pay for its wake-up.
        var workPerThread = 1 << 19
    }

    /// The kernel sets (all compute the same bits; see `attend_bf16.h`).
    enum Kernel: CaseIterable, CustomStringConvertible, Sendable {
        /// Portable C.
        case portable
        /// AVX2 + FMA, bf16 widened to float32 in registers.
        case avx2
        /// AVX-512F, bf16 widened to float32 in registers.
        case avx512f
        /// AVX-512 BF16 (`vdpbf16ps`).
        case native

        var cValue: attend_bf16_kernel_kind {
            switch self {
            case .portable: return ATTEND_BF16_KERNEL_PORTABLE
            case .avx2: return ATTEND_BF16_KERNEL_AVX2
            case .avx512f: return ATTEND_BF16_KERNEL_AVX512F
            case .native: return ATTEND_BF16_KERNEL_AVX512BF16
            }
        }

        /// The C set, or nil when this build or CPU cannot run it.
        var ukernel: UnsafePointer<attend_bf16_ukernel>? { attend_bf16_ukernel_kind(cValue) }

        /// The sets this CPU can run.
        static var available: [Kernel] { allCases.filter { $0.ukernel != nil } }

        var description: String {
            switch self {
            case .portable: return "portable"
            case .avx2: return "avx2-widening"
            case .avx512f: return "avx512f-widening"
            case .native: return "avx512bf16"
            }
        }
    }

    /// The kernel set `isa` selects on this CPU.
    static func selected(_ isa: KernelISA) -> Kernel {
        let u = attend_bf16_ukernel_for(isa.cValue)
        return Kernel.allCases.first { $0.ukernel == u } ?? .portable
    }

    /// Whether `isa` selects the native (AVX-512 BF16) kernel on this CPU.
    static func isNative(_ isa: KernelISA) -> Bool { attend_bf16_ukernel_for(isa.cValue).pointee.native != 0 }

    /// The driver with an explicit ISA, thread budget and tuning (tests use this to pin a path
    /// without touching the global switches).
    static func run(m: Int, a: UnsafePointer<Float>, lda: Int, weight: BF16PackedWeight,
                    c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float, isa: KernelISA, threads maxThreads: Int,
                    tuning: Tuning = Tuning()) {
        run(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, beta: beta,
            ukernel: attend_bf16_ukernel_for(isa.cValue), threads: maxThreads, tuning: tuning)
    }

    /// The driver with an explicit kernel set (tests and benchmarks force one this way); a set this
    /// CPU cannot run falls back to the portable one.
    static func run(m: Int, a: UnsafePointer<Float>, lda: Int, weight: BF16PackedWeight,
                    c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float, kernel: Kernel, threads maxThreads: Int,
                    tuning: Tuning = Tuning()) {
        run(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, beta: beta,
            ukernel: kernel.ukernel ?? attend_bf16_ukernel_kind(ATTEND_BF16_KERNEL_PORTABLE)!,
            threads: maxThreads, tuning: tuning)
    }

    private static func run(m: Int, a: UnsafePointer<Float>, lda: Int, weight: BF16PackedWeight,
                            c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float,
                            ukernel: UnsafePointer<attend_bf16_ukernel>, threads maxThreads: Int, tuning: Tuning) {
        let n = weight.n, k = weight.k
        guard m > 0, n > 0 else { return }
        if k == 0 {
            GEMM.scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
            return
        }
        let uk = ukernel.pointee
        guard let kernel = uk.kernel, let packA = uk.pack_a else { return }
        let mr = Int(uk.mr), nr = BF16PackedWeight.nr
        // Words per k-pair of a packed A sliver: one pair word per row, or two widened floats.
        let aPairWords = uk.a_widened != 0 ? 2 * mr : mr
        let kp = weight.pairs
        let slices = (kp + max(1, tuning.kcMaxPairs) - 1) / max(1, tuning.kcMaxPairs)
        let kcp = (kp + slices - 1) / slices  // pairs per slice
        let rowSlivers = (m + mr - 1) / mr, colSlivers = weight.slivers
        let work = Double(m) * Double(n) * Double(k)
        let byWork = Int(min(work / Double(max(1, tuning.workPerThread)), Double(Int.max / 2)))
        let threads = max(1, min(maxThreads, byWork, rowSlivers * colSlivers))
        let w = UnsafePointer(weight.storage.words)

        /// C[rows of A slivers r0..<r1, columns of weight sliver s] for pair slice [q0, q0 + qn).
        /// `aBlock` is the packed A (kp pairs per sliver) whose sliver 0 is row `row0` of C.
        @inline(__always)
        func sweep(aBlock: UnsafePointer<UInt32>, row0: Int, rowsInBlock: Int, slivers r0: Int, _ r1: Int, s: Int) {
            let j = s * nr, nrcur = min(nr, n - j)
            var q0 = 0
            while q0 < kp {
                let qn = min(kcp, kp - q0)
                let betaNow: Float = q0 == 0 ? beta : 1
                let wSliver = w + (s * kp + q0) * nr
                for r in r0..<r1 {
                    let i = r * mr
                    kernel(qn, aBlock + r * kp * aPairWords + q0 * aPairWords, wSliver, c + (row0 + i) * ldc + j, ldc, betaNow,
                           min(mr, rowsInBlock - i), nrcur)
                }
                q0 += qn
            }
        }

        if m <= tuning.splitNMaxM {
            let sliverChunk = GEMM.chunk(rowSlivers, threads: threads, multiple: 1)
            GEMMBuffers.with(floats: rowSlivers * aPairWords * kp) { buf in
                let aBuf = UnsafeMutableRawPointer(buf).assumingMemoryBound(to: UInt32.self)
                GEMM.parallelFor((rowSlivers + sliverChunk - 1) / sliverChunk, threads: threads) { item in
                    let i0 = item * sliverChunk * mr
                    packA(a + i0 * lda, lda, min(sliverChunk * mr, m - i0), k, aBuf + (i0 / mr) * aPairWords * kp)
                }
                // Items: runs of weight slivers, and of A slivers when the weight alone has too few.
                let colChunk = GEMM.chunk(colSlivers, threads: threads, multiple: 1)
                let colItems = (colSlivers + colChunk - 1) / colChunk
                let rowItemsWanted = threads > 1 ? max(1, (4 * threads + colItems - 1) / colItems) : 1
                let rowChunk = (rowSlivers + min(rowItemsWanted, rowSlivers) - 1) / min(rowItemsWanted, rowSlivers)
                let rowItems = (rowSlivers + rowChunk - 1) / rowChunk
                GEMM.parallelFor(colItems * rowItems, threads: threads) { item in
                    let ci = item / rowItems, ri = item % rowItems
                    let r0 = ri * rowChunk, r1 = min(rowSlivers, r0 + rowChunk)
                    for s in (ci * colChunk)..<min(colSlivers, (ci + 1) * colChunk) {
                        sweep(aBlock: aBuf, row0: 0, rowsInBlock: m, slivers: r0, r1, s: s)
                    }
                }
            }
        } else {
            let rowBlock = min(max(mr, tuning.mc / mr * mr), GEMM.chunk(m, threads: threads, multiple: mr))
            let blockSlivers = (rowBlock + mr - 1) / mr
            GEMM.parallelFor((m + rowBlock - 1) / rowBlock, threads: threads, scratch: blockSlivers * aPairWords * kp) { item, buf in
                let aBuf = UnsafeMutableRawPointer(buf).assumingMemoryBound(to: UInt32.self)
                let i0 = item * rowBlock, mcur = min(rowBlock, m - i0)
                packA(a + i0 * lda, lda, mcur, k, aBuf)
                let rs = (mcur + mr - 1) / mr
                for s in 0..<colSlivers {
                    sweep(aBlock: aBuf, row0: i0, rowsInBlock: mcur, slivers: 0, rs, s: s)
                }
            }
        }
    }
}

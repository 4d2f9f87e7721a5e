import AttendKernelsC
import Foundation

/// A weight matrix W stored `[n, k]` (PyTorch Linear layout), quantized to int8 per output channel
/// (`s_j = max_p |w[j][p]| / 127`, `wq = rne(w · 127 / max)`) and pre-packed once for the int8 micro-kernels.
///
/// Layout (see `attend_int8.h`): slivers of 64 columns, each `⌈k/4⌉` rows of 64 words, a word holding the k-quad
/// `wq[j][4q…4q+3]`; per column the scale, and per column and 64-element block the negated offset correction
/// `−128 · Σ_{p∈block} wq[j][p]`. One layout serves every ISA. Immutable, `Sendable`, safe to share between threads.
public struct Int8PackedWeight: Sendable {
    /// Output features (rows of W).
    public let n: Int
    /// Input features (columns of W).
    public let k: Int
    let storage: Storage

    /// Columns per sliver.
    static let nr = Int(ATTEND_INT8_NR)
    /// Elements of k per activation block (each block of a row gets its own scale).
    static let kb = Int(ATTEND_INT8_KB)
    /// k-quads per sliver row: ⌈k/4⌉.
    var quads: Int { (k + 3) / 4 }
    /// Activation blocks per row: ⌈k/64⌉.
    var blocks: Int { (k + Self.kb - 1) / Self.kb }
    /// Number of 64-column slivers: ⌈n/64⌉.
    var slivers: Int { (n + Self.nr - 1) / Self.nr }

    /// Quantizes and packs a rank-2 `[n, k]` weight; another rank throws.
    public init(weight: Tensor) throws {
        guard weight.rank == 2 else {
            throw TensorError.shapeMismatch(op: "Int8PackedWeight", expected: "[n, k]", actual: weight.shape)
        }
        let (n, k) = (weight.shape[0], weight.shape[1])
        self = weight.scalars.withUnsafeBufferPointer { Int8PackedWeight(weight: $0.baseAddress, n: n, k: k) }
    }

    private init(weight: UnsafePointer<Float>?, n: Int, k: Int) {
        self.n = Swift.max(0, n)
        self.k = Swift.max(0, k)
        let columns = ((self.n + Self.nr - 1) / Self.nr) * Self.nr
        storage = Storage(words: columns * ((self.k + 3) / 4), columns: columns,
                          offsets: columns * ((self.k + Self.kb - 1) / Self.kb))
        if columns > 0, let weight {
            attend_int8_pack_weight(weight, self.k, self.n, self.k, storage.words, storage.scales, storage.offsets)
        }
    }

    /// Bytes held by the packed matrix (padding, scales and corrections included).
    public var byteCount: Int { storage.count * 4 + storage.columns * 4 + storage.offsetCount * 4 }

    /// wq[j, p] as stored (0 outside the matrix).
    func quantized(_ j: Int, _ p: Int) -> Int8 {
        guard j >= 0, j < n, p >= 0, p < k else { return 0 }
        let q = p / 4, s = j / Self.nr, col = j % Self.nr
        let word = storage.words[(s * quads + q) * Self.nr + col]
        return Int8(truncatingIfNeeded: word >> (8 * UInt32(p % 4)))
    }

    /// s_j, the scale of output channel `j`.
    func scale(_ j: Int) -> Float { storage.scales[j] }

    /// The packed words, scales and corrections: 64-byte aligned, freed with the last copy of the weight.
    final class Storage: @unchecked Sendable {
        let words: UnsafeMutablePointer<UInt32>
        let scales: UnsafeMutablePointer<Float>
        let offsets: UnsafeMutablePointer<Int32>
        let count: Int
        let columns: Int
        let offsetCount: Int

        init(words count: Int, columns: Int, offsets offsetCount: Int) {
            self.count = count
            self.columns = columns
            self.offsetCount = offsetCount
            words = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(1, count) * 4, alignment: 64)
                .bindMemory(to: UInt32.self, capacity: Swift.max(1, count))
            words.initialize(repeating: 0, count: Swift.max(1, count))
            scales = .allocate(capacity: Swift.max(1, columns))
            scales.initialize(repeating: 0, count: Swift.max(1, columns))
            offsets = .allocate(capacity: Swift.max(1, offsetCount))
            offsets.initialize(repeating: 0, count: Swift.max(1, offsetCount))
        }

        deinit {
            words.deallocate()
            scales.deallocate()
            offsets.deallocate()
        }
    }
}

/// The quantization rule shared by the fast path, its reference twin and the tests.
enum Int8Quant {
    /// A row quantized block by block (64 elements each, the last one shorter): the values and each block's scale.
    static func quantizeBlocks(_ row: UnsafeBufferPointer<Float>) -> (values: [Int8], scales: [Float]) {
        var values: [Int8] = [], scales: [Float] = []
        var p0 = 0
        while p0 < row.count {
            let block = quantize(UnsafeBufferPointer(rebasing: row[p0..<min(row.count, p0 + Int8PackedWeight.kb)]))
            values += block.values
            scales.append(block.scale)
            p0 += Int8PackedWeight.kb
        }
        return (values, scales)
    }

    /// `(values, scale)` of one row: `scale = max|x| / 127`, `values[p] = rne(x[p] · (127 / max|x|))` in ±127.
    static func quantize(_ row: UnsafeBufferPointer<Float>) -> (values: [Int8], scale: Float) {
        var mx: Float = 0
        for x in row { let v = abs(x); mx = v > mx ? v : mx }
        guard mx > 0 else { return ([Int8](repeating: 0, count: row.count), 0) }
        let inv: Float = 127 / mx
        let values = row.map { x -> Int8 in
            let q = (x * inv).rounded(.toNearestOrEven)
            return Int8(Swift.min(127, Swift.max(-127, q)))
        }
        return (values, mx / 127)
    }
}

extension Kernels {
    /// `C[m, n] = A[m, k] · Wᵀ + beta · C` (beta == 0: C is not read) on int8: W a pre-quantized weight `[n, k]`,
    /// each row of A (row stride `lda`) quantized on the fly in blocks b of 64 elements, C with row stride `ldc`:
    ///
    ///     t_{i,b} = max_{p∈b} |a[i][p]| / 127,  aq[i][p] = rne(a[i][p] · 127 / max_{p∈b} |a[i][p]|)   (clamped to ±127)
    ///     sum(i, j, b) = Σ_{p∈b} aq[i][p] · wq[j][p]   (int32, exact)
    ///     acc = fma(Float(sum(i, j, b)), t_{i,b}, acc) over the blocks from 0;  C[i, j] = acc · s_j + beta · C[i, j]
    ///
    /// On AVX-512 VNNI CPUs the products run on `vpdpbusd` zmm (64 multiply-adds per instruction, four times the
    /// float32 FMA rate); at the AVX2 level (AVX2 CPUs, or ``Kernels/forcedISA`` at `.avx2`) on `vpdpbusd` ymm where
    /// the CPU has AVX-VNNI, else on `vpmaddubsw`/`vpmaddwd`; on Arm CPUs with the dot product (Armv8.2) on `sdot`;
    /// the portable kernel elsewhere. `ATTEND_INT8_KERNEL`
    /// pins one set (see ``Int8GEMM/Kernel/forced``). All produce the same bits. Threads via the shared pool up to
    /// ``Kernels/maxThreads``; ``Kernels/useReference`` runs ``ReferenceKernels/gemmInt8(m:a:lda:weight:c:ldc:beta:)``.
    public static func gemmInt8(m: Int, a: UnsafePointer<Float>, lda: Int, weight: Int8PackedWeight,
                                c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
        if m <= 0 || weight.n == 0 { return }
        if useReference {
            ReferenceKernels.gemmInt8(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, beta: beta)
        } else {
            let settings = Kernels.settings
            Int8GEMM.run(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, beta: beta,
                         kernel: Int8GEMM.active(settings.activeISA), threads: settings.maxThreads)
        }
    }

    /// `C = act(A · Wᵀ + bias)` on int8 (C overwritten): ``gemmInt8(m:a:lda:weight:c:ldc:beta:)`` with beta = 0 and
    /// the bias and activation of ``biasActivation(_:rows:cols:bias:activation:)`` applied to each output tile as
    /// the driver finishes it (same maths and bits as applying them afterwards, without a second pass over C).
    static func gemmInt8(m: Int, a: UnsafePointer<Float>, lda: Int, weight: Int8PackedWeight,
                         c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                         activation: FusedActivation) {
        if m <= 0 || weight.n == 0 { return }
        let n = weight.n
        if useReference {
            ReferenceKernels.gemmInt8(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, beta: 0)
            for i in 0..<m { biasActivation(c + i * ldc, rows: 1, cols: n, bias: bias, activation: activation) }
            return
        }
        let settings = Kernels.settings
        let isa = settings.activeISA   // read here: the epilogue runs on pool threads, outside this task
        let needsEpilogue = bias != nil || activation != .none
        Int8GEMM.run(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, beta: 0,
                     kernel: Int8GEMM.active(isa), threads: settings.maxThreads,
                     epilogue: needsEpilogue ? { tile, rows, cols, col0 in
                         biasActivationTile(tile, rows: rows, cols: cols, ldy: ldc, bias: bias.map { $0 + col0 },
                                            activation: activation, isa: isa)
                     } : nil)
    }

    /// The int8 kernel set the int8 GEMM runs now: "avx512vnni", "avxvnni", "avx2", "neondot" or "portable" (the active ISA's
    /// choice, or the set `ATTEND_INT8_KERNEL` pins).
    public static var int8KernelName: String { Int8GEMM.active(activeISA).description }
}

/// The int8 GEMM driver: quantizes and packs A per call into MR-row slivers (per-thread scratch from
/// ``GEMMBuffers``) and sweeps the pre-packed weight slivers with the C micro-kernel. k is never cut (the int32
/// sums stay whole, so the result does not depend on blocking or threads).
///
/// Paths (C's tiles stay disjoint between threads, which claim items from a shared counter):
/// - M ≤ `Tuning.splitNMaxM`: the threads pack all of A together, then claim items of (a run of weight slivers ×
///   a run of A slivers);
/// - larger M: the threads claim blocks of ≤ `Tuning.mc` rows, pack them into their own scratch and sweep every
///   weight sliver over them.
enum Int8GEMM {
    /// The driver's thresholds (tests pass their own to pin a path).
    struct Tuning {
        var splitNMaxM = 384
        var mc = 192
        /// Multiply-adds per thread below which another thread does not pay for its wake-up.
        var workPerThread = 1 << 20
    }

    /// The kernel sets (all compute the same bits; see `attend_int8.h`).
    enum Kernel: CaseIterable, CustomStringConvertible, Sendable {
        case portable, avx2, avxvnni, avx512vnni, neondot

        var cValue: attend_int8_kernel_kind {
            switch self {
            case .portable: return ATTEND_INT8_KERNEL_PORTABLE
            case .avx2: return ATTEND_INT8_KERNEL_AVX2
            case .avxvnni: return ATTEND_INT8_KERNEL_AVXVNNI
            case .avx512vnni: return ATTEND_INT8_KERNEL_AVX512VNNI
            case .neondot: return ATTEND_INT8_KERNEL_NEONDOT
            }
        }

        /// The C set, or nil when this build or CPU cannot run it.
        var ukernel: UnsafePointer<attend_int8_ukernel>? { attend_int8_ukernel_kind(cValue) }

        /// The sets this CPU can run.
        static var available: [Kernel] { allCases.filter { $0.ukernel != nil } }

        var description: String {
            switch self {
            case .portable: return "portable"
            case .avx2: return "avx2"
            case .avxvnni: return "avxvnni"
            case .avx512vnni: return "avx512vnni"
            case .neondot: return "neondot"
            }
        }

        /// The set named by `ATTEND_INT8_KERNEL` (`portable`, `avx2`, `avxvnni`, `avx512vnni` or `neondot`; read once, at first
        /// use), which the int8 GEMM then runs whatever the ISA level: for benchmarking one set, e.g. the AVX2
        /// `vpmaddubsw` set on a CPU that has AVX-VNNI. An unknown name or a set this CPU cannot run is reported on
        /// stderr once and ignored.
        static let forced: Kernel? = {
            switch parseEnvironment(ProcessInfo.processInfo.environment["ATTEND_INT8_KERNEL"]) {
            case .success(let kernel): return kernel
            case .failure(let message):
                FileHandle.standardError.write(Data("attend: \(message)\n".utf8))
                return nil
            }
        }()

        /// `ATTEND_INT8_KERNEL`'s value as a set: nil when unset or empty; a message naming this CPU's sets when the
        /// name is unknown or names a set this CPU cannot run.
        static func parseEnvironment(_ value: String?) -> Result<Kernel?, KernelISA.EnvironmentError> {
            guard let value, !value.isEmpty else { return .success(nil) }
            guard let kernel = allCases.first(where: { $0.description == value.lowercased() }), kernel.ukernel != nil else {
                return .failure(KernelISA.EnvironmentError(description: "ATTEND_INT8_KERNEL=\(value) is not one of this "
                    + "CPU's int8 kernel sets (\(available.map(\.description).joined(separator: ", "))); ignored"))
            }
            return .success(kernel)
        }
    }

    /// The kernel set `isa` selects on this CPU.
    static func selected(_ isa: KernelISA) -> Kernel {
        let u = attend_int8_ukernel_for(isa.cValue)
        return Kernel.allCases.first { $0.ukernel == u } ?? .portable
    }

    /// The set the int8 GEMM runs at `isa`: ``Kernel/forced`` if set, else ``selected(_:)``.
    static func active(_ isa: KernelISA) -> Kernel { Kernel.forced ?? selected(isa) }

    /// The driver with an explicit kernel set (a set this CPU cannot run falls back to the portable one), thread
    /// budget and tuning: tests pin a path this way without touching the global switches.
    static func run(m: Int, a: UnsafePointer<Float>, lda: Int, weight: Int8PackedWeight,
                    c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float, kernel: Kernel, threads maxThreads: Int,
                    tuning: Tuning = Tuning(), epilogue: GEMM.Epilogue? = nil) {
        let n = weight.n, k = weight.k
        guard m > 0, n > 0 else { return }
        if k == 0 {
            GEMM.scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
            epilogue?(c, m, n, 0)
            return
        }
        guard let u = kernel.ukernel ?? attend_int8_ukernel_kind(ATTEND_INT8_KERNEL_PORTABLE),
              let micro = u.pointee.kernel, let packA = u.pointee.pack_a else { return }
        let mr = Int(u.pointee.mr), nr = Int8PackedWeight.nr, kq = weight.quads, nb = weight.blocks
        let rowSlivers = (m + mr - 1) / mr, colSlivers = weight.slivers
        let work = Double(m) * Double(n) * Double(k)
        let byWork = Int(min(work / Double(max(1, tuning.workPerThread)), Double(Int.max / 2)))
        let threads = max(1, min(maxThreads, byWork, rowSlivers * colSlivers))
        let w = UnsafePointer(weight.storage.words)
        let wScales = UnsafePointer(weight.storage.scales), wOffsets = UnsafePointer(weight.storage.offsets)
        // Scratch of one block of `slivers` A slivers: kq·MR words each, then nb·MR block scales each.
        func words(_ slivers: Int) -> Int { slivers * mr * (kq + nb) }

        /// C[rows of A slivers r0..<r1, columns of weight sliver s]; `aBlock` holds `blockSlivers` slivers whose
        /// sliver 0 is row `row0` of C, their block scales after them. The epilogue, if any, then runs on that
        /// finished tile while it is still in cache.
        @inline(__always)
        func sweep(_ aBlock: UnsafePointer<UInt32>, blockSlivers: Int, row0: Int, rowsInBlock: Int, slivers r0: Int, _ r1: Int, s: Int) {
            let j = s * nr, nrcur = min(nr, n - j)
            let aScales = UnsafeRawPointer(aBlock + blockSlivers * mr * kq).assumingMemoryBound(to: Float.self)
            let wSliver = w + s * kq * nr
            for r in r0..<r1 {
                let i = r * mr
                micro(kq, aBlock + r * kq * mr, aScales + r * nb * mr, wSliver, wScales + j, wOffsets + s * nb * nr,
                      c + (row0 + i) * ldc + j, ldc, beta, min(mr, rowsInBlock - i), nrcur)
            }
            if let epilogue, r1 > r0 {
                let first = r0 * mr
                epilogue(c + (row0 + first) * ldc + j, min(r1 * mr, rowsInBlock) - first, nrcur, j)
            }
        }

        if m <= tuning.splitNMaxM {
            let sliverChunk = GEMM.chunk(rowSlivers, threads: threads, multiple: 1)
            GEMMBuffers.with(floats: words(rowSlivers)) { buf in
                let aBuf = UnsafeMutableRawPointer(buf).assumingMemoryBound(to: UInt32.self)
                let scales = UnsafeMutableRawPointer(aBuf + rowSlivers * mr * kq).assumingMemoryBound(to: Float.self)
                GEMM.parallelFor((rowSlivers + sliverChunk - 1) / sliverChunk, threads: threads) { item in
                    let i0 = item * sliverChunk * mr
                    packA(a + i0 * lda, lda, min(sliverChunk * mr, m - i0), k, aBuf + i0 * kq, scales + i0 * nb)
                }
                let colChunk = GEMM.chunk(colSlivers, threads: threads, multiple: 1)
                let colItems = (colSlivers + colChunk - 1) / colChunk
                let rowItemsWanted = threads > 1 ? max(1, (4 * threads + colItems - 1) / colItems) : 1
                let rowChunk = (rowSlivers + min(rowItemsWanted, rowSlivers) - 1) / min(rowItemsWanted, rowSlivers)
                let rowItems = (rowSlivers + rowChunk - 1) / rowChunk
                GEMM.parallelFor(colItems * rowItems, threads: threads) { item in
                    let ci = item / rowItems, ri = item % rowItems
                    let r0 = ri * rowChunk, r1 = min(rowSlivers, r0 + rowChunk)
                    for s in (ci * colChunk)..<min(colSlivers, (ci + 1) * colChunk) {
                        sweep(aBuf, blockSlivers: rowSlivers, row0: 0, rowsInBlock: m, slivers: r0, r1, s: s)
                    }
                }
            }
        } else {
            let rowBlock = min(max(mr, tuning.mc / mr * mr), GEMM.chunk(m, threads: threads, multiple: mr))
            let blockSlivers = (rowBlock + mr - 1) / mr
            GEMM.parallelFor((m + rowBlock - 1) / rowBlock, threads: threads, scratch: words(blockSlivers)) { item, buf in
                let aBuf = UnsafeMutableRawPointer(buf).assumingMemoryBound(to: UInt32.self)
                let i0 = item * rowBlock, mcur = min(rowBlock, m - i0)
                let scales = UnsafeMutableRawPointer(aBuf + blockSlivers * mr * kq).assumingMemoryBound(to: Float.self)
                packA(a + i0 * lda, lda, mcur, k, aBuf, scales)
                let rs = (mcur + mr - 1) / mr
                for s in 0..<colSlivers {
                    sweep(aBuf, blockSlivers: blockSlivers, row0: i0, rowsInBlock: mcur, slivers: 0, rs, s: s)
                }
            }
        }
    }
}

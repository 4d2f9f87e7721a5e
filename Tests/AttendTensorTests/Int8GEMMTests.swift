import AttendTestSupport
import Testing
@testable import AttendTensor

// The int8 GEMM (`Kernels.gemmInt8` → `Int8GEMM.run` → the AVX-512 VNNI, AVX-VNNI, AVX2 or portable C kernels,
// every one this CPU can run) against its twin `ReferenceKernels.gemmInt8` (same quantization, Int sums): the int32 sums are
// exact and the scaling is the same IEEE operations, so every kernel, thread count and driver path must give the
// reference's bits (atol = rtol = 0). Then against the float32 GEMM within the error bound of the quantization.
//
// The sweeps call the driver with an explicit kernel set, thread count and tuning, so they neither set nor read
// the global kernel switches that other suites flip concurrently.

/// One problem: C[m, n] = A[m, k] · W[n, k]ᵀ, with padded row strides for A and C.
struct Int8Case: CustomTestStringConvertible, Sendable {
    var m: Int, n: Int, k: Int
    var padA = 0, padC = 0
    var testDescription: String { "m=\(m) n=\(n) k=\(k) pad=\(padA),\(padC)" }
}

/// m over 1, 2, 5, 6, 7, 13, 97, 384, 400 (rows per sliver: 6 for both VNNI sets, 4 AVX2 and portable, ±1), n over
/// 1, 15, 16, 17, 63, 64, 65, 130, 384 (the 64-column sliver and the 16- and 32-column tiles ±1), k over 1, 3, 4, 5, 31,
/// 33, 65, 127, 383, 384, 1536 (quads ±1, the 64-element blocks ±1, real widths), with m·n·k small enough for a debug build.
let int8Cases: [Int8Case] = [
    Int8Case(m: 1, n: 1, k: 1),
    Int8Case(m: 1, n: 384, k: 384, padA: 3),
    Int8Case(m: 2, n: 15, k: 3, padC: 1),
    Int8Case(m: 5, n: 17, k: 4),
    Int8Case(m: 6, n: 64, k: 5),
    Int8Case(m: 7, n: 65, k: 33, padA: 1, padC: 2),
    Int8Case(m: 13, n: 130, k: 31),
    Int8Case(m: 7, n: 17, k: 65, padC: 1),           // one 64-element block and one element
    Int8Case(m: 13, n: 64, k: 127, padA: 1),         // a partial second block ending in a partial quad
    Int8Case(m: 13, n: 63, k: 1536, padA: 2),
    Int8Case(m: 64, n: 16, k: 383, padC: 5),
    Int8Case(m: 97, n: 63, k: 1),
    Int8Case(m: 97, n: 130, k: 33, padA: 7, padC: 3),
    Int8Case(m: 384, n: 17, k: 384),
    Int8Case(m: 6, n: 1, k: 1536),
    Int8Case(m: 400, n: 65, k: 3),  // past splitNMaxM: the row-block path with default tuning
]

/// The depths k of the twin sweep (one test case each).
let int8TwinDepths = [4, 60, 64, 65, 127, 384, 1536]

/// A driver configuration: kernel set, threads and thresholds.
private struct Int8Path: CustomStringConvertible {
    var name: String
    var kernel: Int8GEMM.Kernel
    var threads: Int
    var tuning = Int8GEMM.Tuning()
    var description: String { "\(name) kernel=\(kernel) threads=\(threads)" }
}

private var int8Paths: [Int8Path] {
    var paths: [Int8Path] = []
    for kernel in Int8GEMM.Kernel.available.reversed() {
        paths.append(Int8Path(name: "default tuning", kernel: kernel, threads: 1))
        paths.append(Int8Path(name: "default tuning", kernel: kernel, threads: 2))
        paths.append(Int8Path(name: "split N, 2D items", kernel: kernel, threads: 2, tuning: .init(splitNMaxM: .max, workPerThread: 1)))
        paths.append(Int8Path(name: "row blocks", kernel: kernel, threads: 2, tuning: .init(splitNMaxM: 0, mc: 12, workPerThread: 1)))
    }
    return paths
}

@Suite
struct Int8GEMMTests {
    @Test("sweep: every int8 kernel and path gives the reference's bits", arguments: int8Cases)
    func sweep(_ c: Int8Case) {
        var rng = SeededRNG(seed: UInt64(c.m * 1_000_003 + c.n * 1009 + c.k))
        let lda = c.k + c.padA, ldc = c.n + c.padC
        // Rows of mixed magnitude, one all-zero row (scale 0) when there are several.
        let a = (0..<(c.m * lda)).map { i in i / lda == 1 ? 0 : rng.float() * Float(1 << (i / lda % 5)) }
        let w = (0..<(c.n * c.k)).map { _ in rng.float() * 0.1 }
        let weight = w.withUnsafeBufferPointer { Int8PackedWeightTestAccess.make($0, n: c.n, k: c.k) }
        let sentinel: Float = -12345
        for beta: Float in [0, 1, -0.5] {
            // beta = 0 must not read C, so it holds NaNs; the padding holds a sentinel that must survive.
            let c0: [Float] = (0..<(c.m * ldc)).map { idx in idx % ldc >= c.n ? sentinel : (beta == 0 ? .nan : rng.float()) }
            var expected = c0
            a.withUnsafeBufferPointer { ap in
                expected.withUnsafeMutableBufferPointer { cp in
                    ReferenceKernels.gemmInt8(m: c.m, a: ap.baseAddress!, lda: lda, weight: weight, c: cp.baseAddress!, ldc: ldc, beta: beta)
                }
            }
            for path in int8Paths {
                var got = c0
                run(path, m: c.m, a, lda: lda, weight, &got, ldc: ldc, beta: beta)
                let wrong = got.indices.filter { got[$0].bitPattern != expected[$0].bitPattern }
                #expect(wrong.isEmpty, "\(c.testDescription) β=\(beta) \(path): \(wrong.count) elements differ from the reference, first \(wrong.prefix(3).map { "[\($0 / ldc), \($0 % ldc)] got \(got[$0]) want \(expected[$0])" })")
            }
        }
    }

    @Test("epilogue: bias and activation applied per finished tile give the bits of a separate pass", arguments: int8Cases)
    func epilogue(_ c: Int8Case) {
        var rng = SeededRNG(seed: UInt64(c.m * 7919 + c.n * 31 + c.k))
        let lda = c.k + c.padA, ldc = c.n + c.padC
        let a = (0..<(c.m * lda)).map { _ in rng.float() * 2 }
        let w = (0..<(c.n * c.k)).map { _ in rng.float() * 0.1 }
        let bias = (0..<c.n).map { _ in rng.float() }
        let weight = w.withUnsafeBufferPointer { Int8PackedWeightTestAccess.make($0, n: c.n, k: c.k) }
        let sentinel: Float = -12345
        // The padding must survive, so every element of C outside the n columns starts as the sentinel.
        let c0: [Float] = (0..<(c.m * ldc)).map { idx in idx % ldc >= c.n ? sentinel : .nan }
        for path in int8Paths {
            let isa: KernelISA = path.kernel == .avx512vnni ? .avx512 : path.kernel == .portable ? .generic : .avx2
            // Expected: the same driver without an epilogue, then one pass of the same row op over each row.
            var expected = c0
            run(path, m: c.m, a, lda: lda, weight, &expected, ldc: ldc, beta: 0)
            expected.withUnsafeMutableBufferPointer { cp in
                bias.withUnsafeBufferPointer { bp in
                    Kernels.biasActivationTile(cp.baseAddress!, rows: c.m, cols: c.n, ldy: ldc, bias: bp.baseAddress,
                                               activation: .gelu, isa: isa)
                }
            }
            var got = c0
            a.withUnsafeBufferPointer { ap in
                got.withUnsafeMutableBufferPointer { cp in
                    bias.withUnsafeBufferPointer { bp in
                        let b = bp.baseAddress!
                        Int8GEMM.run(m: c.m, a: ap.baseAddress!, lda: lda, weight: weight, c: cp.baseAddress!, ldc: ldc,
                                     beta: 0, kernel: path.kernel, threads: path.threads, tuning: path.tuning,
                                     epilogue: { tile, rows, cols, col0 in
                                         Kernels.biasActivationTile(tile, rows: rows, cols: cols, ldy: ldc, bias: b + col0,
                                                                    activation: .gelu, isa: isa)
                                     })
                    }
                }
            }
            let wrong = got.indices.filter { got[$0].bitPattern != expected[$0].bitPattern }
            #expect(wrong.isEmpty, "\(c.testDescription) \(path): \(wrong.count) elements differ, first \(wrong.prefix(3).map { "[\($0 / ldc), \($0 % ldc)] got \(got[$0]) want \(expected[$0])" })")
        }
    }

    @Test("quantization: per-channel weights and per-row activations follow the stated rule")
    func quantizationRule() {
        // Ties and the clamp: a block whose max is 127 maps x to rne(x); 2.5 → 2, 3.5 → 4, −2.5 → −2.
        let row: [Float] = [127, 2.5, 3.5, -2.5, -127, 0.49, 0, -0.5]
        let (values, scale) = row.withUnsafeBufferPointer { Int8Quant.quantize($0) }
        #expect(values == [127, 2, 4, -2, -127, 0, 0, 0] && scale == 1, "\(values) \(scale)")
        let zeros = [Float](repeating: 0, count: 5).withUnsafeBufferPointer { Int8Quant.quantize($0) }
        #expect(zeros.scale == 0 && zeros.values.allSatisfy { $0 == 0 })
        // Activations are scaled per block of kb (64): an outlier (1000) spoils only its own block.
        let kb = Int8PackedWeight.kb
        let outlier = (0..<(2 * kb + 6)).map { $0 == kb + 8 ? Float(1000) : Float($0 % 7) - 3 }
        let blocks = outlier.withUnsafeBufferPointer { Int8Quant.quantizeBlocks($0) }
        let expectedScales: [Float] = [Float(3) / 127, Float(1000) / 127, Float(3) / 127]
        #expect(blocks.scales == expectedScales)
        let firstValues: [Int8] = [-127, -85, -42, 0, 42, 85, 127]
        #expect(Array(blocks.values[0..<7]) == firstValues)
        #expect(blocks.values[kb + 8] == 127 && blocks.values[kb + 7] == 0 && blocks.values.count == 2 * kb + 6)
        // The packed weight holds exactly the rule's values and scales, row by row.
        var rng = SeededRNG(seed: 9)
        let (n, k) = (70, 37)
        let w = (0..<(n * k)).map { i in rng.float() * Float(i % 7 + 1) }
        let weight = w.withUnsafeBufferPointer { Int8PackedWeightTestAccess.make($0, n: n, k: k) }
        for j in 0..<n {
            let (q, s) = w.withUnsafeBufferPointer { Int8Quant.quantize(UnsafeBufferPointer(rebasing: $0[(j * k)..<((j + 1) * k)])) }
            #expect(weight.scale(j) == s, "scale of row \(j)")
            #expect((0..<k).map { weight.quantized(j, $0) } == q, "values of row \(j)")
        }
        // Two slivers of ⌈37/4⌉ quads, 128 column scales, and corrections for 128 columns × ⌈37/kb⌉ blocks.
        #expect(weight.byteCount == 2 * 64 * 10 * 4 + 128 * 4 + 128 * ((37 + kb - 1) / kb) * 4)
        // Each kernel quantizes A by the same rule: with W = I, C[i, j] is row i's element j as quantized.
        let kk = 20, m = 11
        let a = (0..<(m * kk)).map { i in (rng.float() * 300).rounded() / 2 }  // many exact ties x.5 after scaling
        let eye: [Float] = (0..<(kk * kk)).map { $0 / kk == $0 % kk ? 1 : 0 }
        let identity = eye.withUnsafeBufferPointer { Int8PackedWeightTestAccess.make($0, n: kk, k: kk) }
        var want = [Float](repeating: 0, count: m * kk)
        a.withUnsafeBufferPointer { ap in
            want.withUnsafeMutableBufferPointer { cp in
                ReferenceKernels.gemmInt8(m: m, a: ap.baseAddress!, lda: kk, weight: identity, c: cp.baseAddress!, ldc: kk)
            }
        }
        for kernel in Int8GEMM.Kernel.available {
            var got = [Float](repeating: .nan, count: m * kk)
            run(Int8Path(name: "identity", kernel: kernel, threads: 1), m: m, a, lda: kk, identity, &got, ldc: kk, beta: 0)
            #expect(got == want, "kernel \(kernel)")
        }
    }

    @Test("int8 results stay within the quantization's error bound of the float32 GEMM", arguments: [
        (m: 64, n: 130, k: 384), (m: 7, n: 384, k: 1536), (m: 384, n: 64, k: 33),
    ])
    func againstFloat32(m: Int, n: Int, k: Int) {
        var rng = SeededRNG(seed: UInt64(m * n + k))
        let a = (0..<(m * k)).map { i in rng.float() * Float(1 << (i % 9)) / 16 }
        let w = (0..<(n * k)).map { _ in rng.float() }
        let weight = w.withUnsafeBufferPointer { Int8PackedWeightTestAccess.make($0, n: n, k: k) }
        var fp32 = [Float](repeating: 0, count: m * n), q8 = fp32
        a.withUnsafeBufferPointer { ap in
            w.withUnsafeBufferPointer { wp in
                fp32.withUnsafeMutableBufferPointer { cp in
                    Kernels.sgemm(transA: false, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k,
                                  b: wp.baseAddress!, ldb: k, c: cp.baseAddress!, ldc: n)
                }
            }
        }
        let rowMax = (0..<m).map { i in (0..<k).map { abs(Double(a[i * k + $0])) }.max() ?? 0 }
        let colMax = (0..<n).map { j in (0..<k).map { abs(Double(w[j * k + $0])) }.max() ?? 0 }
        for kernel in Int8GEMM.Kernel.available {
            run(Int8Path(name: "vs fp32", kernel: kernel, threads: 2), m: m, a, lda: k, weight, &q8, ldc: n, beta: 0)
            // |a' − a| ≤ ν_i/254 and |w' − w| ≤ μ_j/254 per element, so |a'w' − aw| ≤ |a|·μ_j/254 + |w'|·ν_i/254;
            // plus float32 rounding in both results.
            var failures: [String] = [], maxErr = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var bound = 0.0, absSum = 0.0
                    for p in 0..<k {
                        let av = abs(Double(a[i * k + p])), wv = abs(Double(w[j * k + p]))
                        bound += (av * colMax[j] + (wv + colMax[j] / 254) * rowMax[i]) / 254
                        absSum += av * wv
                    }
                    bound += absSum * 2 * Double(k) / Double(1 << 24) + 1e-30
                    let err = abs(Double(q8[i * n + j]) - Double(fp32[i * n + j]))
                    maxErr = max(maxErr, err)
                    if !(err <= bound) && failures.count < 5 { failures.append("[\(i), \(j)] int8 \(q8[i * n + j]) fp32 \(fp32[i * n + j]) bound \(bound)") }
                }
            }
            #expect(failures.isEmpty, "kernel=\(kernel) m=\(m) n=\(n) k=\(k): \(failures)")
            #expect(maxErr > 1e-4, "kernel=\(kernel): int8 result suspiciously equal to float32 (max |Δ| \(maxErr))")
        }
    }

    @Test("kernel selection: AVX-512 VNNI, else AVX-VNNI, else AVX2 at their levels, NEON dot product, portable otherwise")
    func selection() {
        #expect(Int8GEMM.Kernel.portable.ukernel != nil && Int8GEMM.selected(.generic) == .portable)
        for kernel in Int8GEMM.Kernel.available {
            guard let u = kernel.ukernel else { continue }
            #expect((u.pointee.a_offset != 0) == (kernel == .avx512vnni || kernel == .avxvnni), "\(kernel)")
            #expect(u.pointee.mr >= 1 && u.pointee.nr == Int32(Int8PackedWeight.nr), "\(kernel)")
        }
        let available = Int8GEMM.Kernel.available
        let atAVX2: Int8GEMM.Kernel = available.contains(.avxvnni) ? .avxvnni : .avx2
        if KernelISA.avx512.isSupported {
            #expect(Int8GEMM.selected(.avx512) == (available.contains(.avx512vnni) ? .avx512vnni : atAVX2))
        }
        if KernelISA.avx2.isSupported {
            #expect(Int8GEMM.selected(.avx2) == atAVX2)
            #expect(available.contains(.avx2))
        } else {
            #expect(!available.contains(.avx2) && !available.contains(.avxvnni) && !available.contains(.avx512vnni))
        }
        // The dot-product set exists only in Arm builds (Tests/neon runs it under qemu-aarch64 on x86 machines).
        #if arch(arm64)
        #expect(Int8GEMM.selected(.neon) == (available.contains(.neondot) ? .neondot : .portable))
        #else
        #expect(!available.contains(.neondot))
        #endif
    }

    @Test("ATTEND_INT8_KERNEL names a set this CPU runs; anything else is reported, not obeyed")
    func kernelEnvironment() throws {
        #expect(try Int8GEMM.Kernel.parseEnvironment(nil).get() == nil)
        #expect(try Int8GEMM.Kernel.parseEnvironment("").get() == nil)
        for kernel in Int8GEMM.Kernel.available {
            #expect(try Int8GEMM.Kernel.parseEnvironment(kernel.description.uppercased()).get() == kernel)
        }
        for name in ["avx1024", "vnni"] + Int8GEMM.Kernel.allCases.filter { $0.ukernel == nil }.map(\.description) {
            guard case .failure(let message) = Int8GEMM.Kernel.parseEnvironment(name) else {
                Issue.record("\(name) accepted")
                continue
            }
            #expect(message.description.contains(name) && message.description.contains("portable"), "\(message)")
        }
    }

    @Test("forced ISA: the public entry point at each level runs that level's set and gives the reference's bits",
          arguments: KernelISA.supported)
    func forcedISA(_ isa: KernelISA) {
        let (m, n, k) = (13, 130, 383)
        var rng = SeededRNG(seed: 41)
        let a = (0..<(m * k)).map { i in rng.float() * Float(1 << (i % 6)) }
        let w = (0..<(n * k)).map { _ in rng.float() * 0.1 }
        let weight = w.withUnsafeBufferPointer { Int8PackedWeightTestAccess.make($0, n: n, k: k) }
        var want = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in
            want.withUnsafeMutableBufferPointer { cp in
                ReferenceKernels.gemmInt8(m: m, a: ap.baseAddress!, lda: k, weight: weight, c: cp.baseAddress!, ldc: n)
            }
        }
        var got = [Float](repeating: .nan, count: m * n)
        let name = Kernels.withSettings({ $0.isa = isa; $0.maxThreads = 2 }) { () -> String in
            a.withUnsafeBufferPointer { ap in
                got.withUnsafeMutableBufferPointer { cp in
                    Kernels.gemmInt8(m: m, a: ap.baseAddress!, lda: k, weight: weight, c: cp.baseAddress!, ldc: n)
                }
            }
            return Kernels.int8KernelName
        }
        if Int8GEMM.Kernel.forced == nil {
            #expect(name == Int8GEMM.selected(isa).description, "\(isa): ran \(name)")
        }
        let wrong = got.indices.filter { got[$0].bitPattern != want[$0].bitPattern }
        #expect(wrong.isEmpty, "\(isa) (\(name)): \(wrong.count) elements differ from the reference")
    }

    @Test("twins: every kernel set gives the portable set's bits, swept over m × n × k", arguments: int8TwinDepths)
    func twins(_ k: Int) {
        // m: 1, primes, 4 and 6 (rows per sliver) ± 1; n: 1, 7–9 (one ymm of columns ± 1), 63–65 (the sliver ± 1),
        // 384; k (the argument): 4, 60, 64, 65, 127, 384, 1536 (quads, the 64-element block ± 1, real widths).
        let ms = [1, 3, 4, 5, 6, 7, 13], ns = [1, 7, 8, 9, 63, 64, 65, 384]
        let kernels = Int8GEMM.Kernel.available.filter { $0 != .portable }
        var rng = SeededRNG(seed: UInt64(k))
        for m in ms {
            for n in ns {
                let a = (0..<(m * k)).map { i in i / k == 1 ? 0 : rng.float() * Float(1 << (i % 7)) }
                let w = (0..<(n * k)).map { _ in rng.float() * 0.1 }
                let weight = w.withUnsafeBufferPointer { Int8PackedWeightTestAccess.make($0, n: n, k: k) }
                let beta: Float = (m + n) % 2 == 0 ? 0 : -0.5
                let c0: [Float] = (0..<(m * n)).map { _ in beta == 0 ? .nan : rng.float() }
                var want = c0
                run(Int8Path(name: "twin", kernel: .portable, threads: 1), m: m, a, lda: k, weight, &want, ldc: n, beta: beta)
                for kernel in kernels {
                    var got = c0
                    run(Int8Path(name: "twin", kernel: kernel, threads: 1), m: m, a, lda: k, weight, &got, ldc: n, beta: beta)
                    let wrong = got.indices.filter { got[$0].bitPattern != want[$0].bitPattern }
                    #expect(wrong.isEmpty, "\(kernel) m=\(m) n=\(n) k=\(k) β=\(beta): \(wrong.count) differ from portable, first \(wrong.prefix(3).map { "[\($0 / n), \($0 % n)] got \(got[$0]) want \(want[$0])" })")
                }
            }
        }
    }

    @Test("public entry point and linearInt8: reference switch, bias, activation, k = 0 and its errors")
    func publicEntry() throws {
        let (m, n, k) = (9, 70, 45)
        var rng = SeededRNG(seed: 3)
        let x = try Tensor(shape: [3, 3, k], scalars: (0..<(m * k)).map { _ in rng.float() })
        let wt = try Tensor(shape: [n, k], scalars: (0..<(n * k)).map { _ in rng.float() })
        let bias = try Tensor(shape: [n], scalars: (0..<n).map { _ in rng.float() })
        let weight = try Int8PackedWeight(weight: wt)
        #expect(weight.n == n && weight.k == k)
        let fast = try Tensor.linearInt8(x, weight: weight, bias: bias, activation: .gelu)
        let reference = try Kernels.$useReference.withValue(true) { try Tensor.linearInt8(x, weight: weight, bias: bias, activation: .gelu) }
        #expect(fast.shape == [3, 3, n])
        // The reference switch also swaps the GELU for its twin, so the two agree to float rounding, not bits.
        let apart = zip(fast.scalars, reference.scalars).filter { abs($0 - $1) > 1e-6 + 1e-5 * abs($1) }
        #expect(apart.isEmpty, "\(apart.count) outputs differ from the reference path, first \(apart.prefix(3))")
        // Close to the float32 layer (a loose bound: unit-scale random data, k = 45).
        let fp32 = try Tensor.linear(x, weight: wt, bias: bias, activation: .gelu)
        let worst = zip(fast.scalars, fp32.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 0.05 && worst > 0, "max |int8 − fp32| = \(worst)")
        // k = 0: only the bias.
        let empty = try Int8PackedWeight(weight: Tensor(shape: [3, 0], scalars: []))
        let y = try Tensor.linearInt8(Tensor(shape: [2, 0], scalars: []), weight: empty, bias: Tensor(shape: [3], scalars: [1, 2, 3]))
        #expect(y.shape == [2, 3] && y.scalars == [1, 2, 3, 1, 2, 3])
        // Errors: a rank-1 weight, an input of the wrong width.
        #expect(throws: TensorError.self) { try Int8PackedWeight(weight: Tensor(shape: [4], scalars: [1, 2, 3, 4])) }
        #expect(throws: TensorError.self) { try Tensor.linearInt8(Tensor(shape: [2, 44], scalars: [Float](repeating: 1, count: 88)), weight: weight, bias: nil) }
    }
}

/// Packs a weight from a buffer (the tests' shortcut around building a Tensor).
enum Int8PackedWeightTestAccess {
    static func make(_ w: UnsafeBufferPointer<Float>, n: Int, k: Int) -> Int8PackedWeight {
        // swiftlint:disable:next force_try
        try! Int8PackedWeight(weight: Tensor(shape: [n, k], scalars: Array(w)))
    }
}

private func run(_ path: Int8Path, m: Int, _ a: [Float], lda: Int, _ weight: Int8PackedWeight,
                 _ out: inout [Float], ldc: Int, beta: Float) {
    a.withUnsafeBufferPointer { ap in
        out.withUnsafeMutableBufferPointer { cp in
            Int8GEMM.run(m: m, a: ap.baseAddress!, lda: lda, weight: weight, c: cp.baseAddress!, ldc: ldc,
                         beta: beta, kernel: path.kernel, threads: path.threads, tuning: path.tuning)
        }
    }
}

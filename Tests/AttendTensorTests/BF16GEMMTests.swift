import AttendTestSupport
import Testing
@testable import AttendTensor

// The BF16-weights GEMM (`Kernels.gemmBF16` → `BF16GEMM.run` → the AVX-512 BF16, AVX-512F
// widening, AVX2 widening or portable C kernels, every one this CPU can run) against its twin `ReferenceKernels.gemmBF16` (same bf16 inputs, Double accumulation),
// with |got − ref| ≤ atol + rtol·|ref|; against the float32 `Kernels.sgemm` with a bound derived
// from bf16's precision; and the rounding rules themselves.
//
// The sweeps call the driver with an explicit ISA, thread count and tuning, so they neither set nor
// read the global kernel switches that other suites flip concurrently.

/// One problem: C[m, n] = A[m, k] · W[n, k]ᵀ, with padded row strides for A and C.
struct BF16Case: CustomTestStringConvertible, Sendable {
    var m: Int, n: Int, k: Int
    var padA = 0, padC = 0
    var testDescription: String { "m=\(m) n=\(n) k=\(k) pad=\(padA),\(padC)" }
}

/// Every m in 1, 2, 5, 6, 7, 13, 64, 97, 384, n in 1, 15, 16, 17, 63, 64, 65, 130, 384 and k in
/// 1, 2, 3, 31, 32, 33, 383, 384, 1536 appears at least once, with m·n·k kept ≤ ~2.5 M so that a
/// debug build (C at -O0, the reference in Double) runs the suite in seconds.
let bf16Cases: [BF16Case] = [
    BF16Case(m: 1, n: 1, k: 1),
    BF16Case(m: 1, n: 384, k: 384, padA: 3),
    BF16Case(m: 2, n: 15, k: 2, padC: 1),
    BF16Case(m: 5, n: 17, k: 3),
    BF16Case(m: 6, n: 64, k: 32),
    BF16Case(m: 7, n: 65, k: 33, padA: 1, padC: 2),
    BF16Case(m: 13, n: 130, k: 31),
    BF16Case(m: 13, n: 63, k: 1536, padA: 2),
    BF16Case(m: 64, n: 16, k: 383, padC: 5),
    BF16Case(m: 97, n: 63, k: 1),
    BF16Case(m: 97, n: 130, k: 33, padA: 7, padC: 3),
    BF16Case(m: 384, n: 17, k: 384),
    BF16Case(m: 384, n: 64, k: 31, padC: 1),
    BF16Case(m: 6, n: 1, k: 1536),
    BF16Case(m: 64, n: 384, k: 32, padA: 4),
    BF16Case(m: 400, n: 65, k: 3),  // past splitNMaxM: the row-block path with default tuning
]

/// A driver configuration: kernel set, threads and thresholds.
private struct BF16Path: CustomStringConvertible {
    var name: String
    var isa: BF16GEMM.Kernel
    var threads: Int
    var tuning = BF16GEMM.Tuning()
    var description: String { "\(name) kernel=\(isa) threads=\(threads)" }
}

/// The kernel sets to run: every one this CPU can (AVX-512 BF16, AVX-512F and AVX2 widening when
/// present, and always the portable one), native first.
private let bf16ISAs: [BF16GEMM.Kernel] = BF16GEMM.Kernel.available.reversed()

private var bf16Paths: [BF16Path] {
    var paths: [BF16Path] = []
    for isa in bf16ISAs {
        paths.append(BF16Path(name: "default tuning", isa: isa, threads: 1))
        paths.append(BF16Path(name: "default tuning", isa: isa, threads: 2))
        paths.append(BF16Path(name: "split N, 2D items", isa: isa, threads: 2,
                              tuning: .init(splitNMaxM: .max, workPerThread: 1)))
        paths.append(BF16Path(name: "row blocks", isa: isa, threads: 2, tuning: .init(splitNMaxM: 0, workPerThread: 1)))
        paths.append(BF16Path(name: "row blocks, k sliced by ≤ 5 pairs", isa: isa, threads: 1,
                              tuning: .init(splitNMaxM: 0, kcMaxPairs: 5)))
        paths.append(BF16Path(name: "split N, k sliced by ≤ 7 pairs", isa: isa, threads: 2,
                              tuning: .init(splitNMaxM: .max, kcMaxPairs: 7, workPerThread: 1)))
    }
    return paths
}

@Suite
struct BF16GEMMTests {
    @Test("sweep: fast BF16 GEMM matches the reference", arguments: bf16Cases)
    func sweep(_ c: BF16Case) {
        var rng = SeededRNG(seed: UInt64(c.m * 1_000_003 + c.n * 1009 + c.k))
        let lda = c.k + c.padA, ldc = c.n + c.padC
        let a = (0..<(c.m * lda)).map { _ in rng.float() }
        let w = (0..<(c.n * c.k)).map { _ in rng.float() }
        let weight = w.withUnsafeBufferPointer { BF16PackedWeight(weight: $0.baseAddress!, n: c.n, k: c.k) }
        let sentinel: Float = -12345
        for beta: Float in [0, 1] {
            // beta = 0 must not read C, so it holds NaNs; the padding holds a sentinel that must survive.
            let c0: [Float] = (0..<(c.m * ldc)).map { idx in
                idx % ldc >= c.n ? sentinel : (beta == 0 ? .nan : rng.float())
            }
            var expected = c0
            a.withUnsafeBufferPointer { ap in
                expected.withUnsafeMutableBufferPointer { cp in
                    ReferenceKernels.gemmBF16(m: c.m, a: ap.baseAddress!, lda: lda, weight: weight,
                                              c: cp.baseAddress!, ldc: ldc, beta: beta)
                }
            }
            // Float accumulation of k products of magnitude ≤ 1.
            let atol = 4e-7 * Float(c.k) + 1e-6, rtol: Float = 1e-5
            // Paths that slice k alike compute the same chain per element: they agree bit for bit,
            // whichever kernel set runs them (the first path is the native kernel when present).
            var firstBySlicing: [Int: (path: BF16Path, result: [Float])] = [:]
            for path in bf16Paths {
                var got = c0
                run(path, m: c.m, a, lda: lda, weight, &got, ldc: ldc, beta: beta)
                compare(got, expected, ldc: ldc, n: c.n, sentinel: sentinel, atol: atol, rtol: rtol,
                        label: "\(c.testDescription) β=\(beta) \(path)")
                if let first = firstBySlicing[path.tuning.kcMaxPairs] {
                    if let i = firstBitDifference(got, first.result) {
                        Issue.record("\(c.testDescription) β=\(beta): \(path) differs in bits from \(first.path) at [\(i / ldc), \(i % ldc)]: \(got[i]) vs \(first.result[i])")
                    }
                } else {
                    firstBySlicing[path.tuning.kcMaxPairs] = (path, got)
                }
            }
        }
    }

    @Test("rounding to bf16 is round-to-nearest-even, keeps Inf and NaN, flushes subnormals")
    func rounding() {
        let table: [(UInt32, UInt16)] = [
            (0x3F80_0000, 0x3F80),  // 1
            (0x3F80_7FFF, 0x3F80),  // just below the tie: down
            (0x3F80_8000, 0x3F80),  // 1 + 2⁻⁸, a tie: to even (down)
            (0x3F81_8000, 0x3F82),  // a tie with odd low bit: to even (up)
            (0x3F80_8001, 0x3F81),  // just above the tie: up
            (0xBF81_8000, 0xBF82),  // negative tie: to even, away from zero here
            (0x4049_0FDB, 0x4049),  // π
            (0x7F7F_FFFF, 0x7F80),  // Float.greatestFiniteMagnitude rounds to +Inf
            (0x7F7F_0000, 0x7F7F),  // the largest bf16 stays
            (0x7F80_0000, 0x7F80),  // +Inf
            (0xFF80_0000, 0xFF80),  // −Inf
            (0x0000_0000, 0x0000),  // +0
            (0x8000_0000, 0x8000),  // −0
            (0x0000_0001, 0x0000),  // subnormal → +0
            (0x807F_FFFF, 0x8000),  // subnormal → −0
            (0x0080_0000, 0x0080),  // the smallest normal stays
        ]
        for (input, expected) in table {
            let x = Float(bitPattern: input)
            #expect(BF16.bits(x) == expected, "bf16(0x\(String(input, radix: 16))) = 0x\(String(BF16.bits(x), radix: 16)), want 0x\(String(expected, radix: 16))")
        }
        for nan: UInt32 in [0x7FC0_0000, 0x7F80_0001, 0xFFC1_2345, 0x7FFF_FFFF] {
            let r = BF16.round(Float(bitPattern: nan))
            #expect(r.isNaN, "NaN 0x\(String(nan, radix: 16)) rounded to \(r)")
            #expect(r.sign == Float(bitPattern: nan).sign)
        }
        // Round-trip: every bf16 value is exact.
        var rng = SeededRNG(seed: 7)
        for _ in 0..<1000 {
            let x = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0xFFFF_0000 | 0x0080_0000)
            if x.isFinite { #expect(BF16.round(x) == x) }
        }
    }

    @Test("the kernels round A and W per element exactly as the twin does", arguments: BF16GEMM.Kernel.available)
    func kernelRounding(isa: BF16GEMM.Kernel) {
        // W = I (n = k = 70): C = bf16(A) exactly, each output being one product plus zeros.
        let k = 70, m = 13
        var rng = SeededRNG(seed: 11)
        var a: [Float] = (0..<(m * k)).map { _ in
            // Random 16-bit tails, many of them exact ties (low 16 bits 0x8000).
            let hi = UInt32(truncatingIfNeeded: rng.next()) & 0x3FFF_0000 | 0x3000_0000
            let lo: UInt32 = rng.next() % 3 == 0 ? 0x8000 : UInt32(truncatingIfNeeded: rng.next()) & 0xFFFF
            return Float(bitPattern: (rng.next() & 1 == 0 ? 0 : 0x8000_0000) | hi | lo)
        }
        a[0] = Float(bitPattern: 0x3F80_8000)  // a tie that must round down to 1
        let w: [Float] = (0..<(k * k)).map { $0 / k == $0 % k ? 1 : 0 }
        let weight = w.withUnsafeBufferPointer { BF16PackedWeight(weight: $0.baseAddress!, n: k, k: k) }
        for threads in [1, 2] {
            var got = [Float](repeating: .nan, count: m * k)
            run(BF16Path(name: "identity", isa: isa, threads: threads, tuning: .init(workPerThread: 1)),
                m: m, a, lda: k, weight, &got, ldc: k, beta: 0)
            let want = a.map { BF16.round($0) }
            #expect(got[0] == 1)
            let wrong = got.indices.filter { got[$0] != want[$0] }
            #expect(wrong.isEmpty, "isa=\(isa) threads=\(threads): \(wrong.count) wrong, first \(wrong.prefix(3).map { "[\($0)] got \(got[$0]) want \(want[$0]) from \(a[$0])" })")
        }
        // The packed weight holds the rounded values.
        let wv: [Float] = (0..<(3 * 5)).map { Float($0) * 1.001 + 0.0037 }
        let packed = wv.withUnsafeBufferPointer { BF16PackedWeight(weight: $0.baseAddress!, n: 3, k: 5) }
        for j in 0..<3 { for p in 0..<5 { #expect(packed.element(j, p) == BF16.round(wv[j * 5 + p])) } }
        #expect(packed.byteCount == 64 * 3 * 4)  // one 64-column sliver of ⌈5/2⌉ pairs
    }

    @Test("Inf and NaN pass through the kernels", arguments: BF16GEMM.Kernel.available)
    func specials(isa: BF16GEMM.Kernel) {
        let a: [Float] = [.infinity, -.infinity, .nan, .greatestFiniteMagnitude, 2, -0.5, Float(bitPattern: 0x0001_0000)]
        let weight = [Float(1)].withUnsafeBufferPointer { BF16PackedWeight(weight: $0.baseAddress!, n: 1, k: 1) }
        var got = [Float](repeating: 7, count: a.count)
        run(BF16Path(name: "k=1", isa: isa, threads: 1), m: a.count, a, lda: 1, weight, &got, ldc: 1, beta: 0)
        #expect(got[0] == .infinity && got[1] == -.infinity && got[2].isNaN && got[3] == .infinity, "\(got)")
        #expect(got[4] == 2 && got[5] == -0.5 && got[6] == 0, "\(got)")
    }

    @Test("bf16 results stay within bf16's error bound of the float32 GEMM", arguments: [
        (m: 64, n: 130, k: 384), (m: 7, n: 384, k: 1536), (m: 384, n: 64, k: 33),
    ])
    func againstFloat32(m: Int, n: Int, k: Int) {
        var rng = SeededRNG(seed: UInt64(m * n + k))
        // Mixed magnitudes (×2^±4) so that the bound is exercised beyond [-1, 1].
        let a = (0..<(m * k)).map { i in rng.float() * Float(1 << (i % 9)) / 16 }
        let w = (0..<(n * k)).map { _ in rng.float() }
        let weight = w.withUnsafeBufferPointer { BF16PackedWeight(weight: $0.baseAddress!, n: n, k: k) }
        var fp32 = [Float](repeating: 0, count: m * n), bf = fp32
        a.withUnsafeBufferPointer { ap in
            w.withUnsafeBufferPointer { wp in
                fp32.withUnsafeMutableBufferPointer { cp in
                    Kernels.sgemm(transA: false, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k,
                                  b: wp.baseAddress!, ldb: k, c: cp.baseAddress!, ldc: n)
                }
            }
        }
        for isa in bf16ISAs {
            run(BF16Path(name: "vs fp32", isa: isa, threads: 2), m: m, a, lda: k, weight, &bf, ldc: n, beta: 0)
            // Each bf16 operand is within 2⁻⁹ relative of the float, so each product within
            // (1 + 2⁻⁹)² − 1 < 2⁻⁸·1.002; both sums add Float rounding of ≤ k·2⁻²⁴·Σ|a·w| each.
            var worst = 0.0, maxErr = 0.0, failures: [String] = []
            for i in 0..<m {
                for j in 0..<n {
                    var absSum = 0.0
                    for p in 0..<k { absSum += abs(Double(a[i * k + p]) * Double(w[j * k + p])) }
                    let bound = absSum * (1.002 / 256 + 2 * Double(k) / Double(1 << 24)) + 1e-30
                    let err = abs(Double(bf[i * n + j]) - Double(fp32[i * n + j]))
                    maxErr = max(maxErr, err)
                    worst = max(worst, err / bound)
                    if !(err <= bound) && failures.count < 5 {
                        failures.append("[\(i), \(j)] bf16 \(bf[i * n + j]) fp32 \(fp32[i * n + j]) bound \(bound)")
                    }
                }
            }
            #expect(failures.isEmpty, "isa=\(isa) m=\(m) n=\(n) k=\(k): worst err/bound \(worst); \(failures)")
            // …and the operands really were rounded: the results differ from float32's.
            #expect(maxErr > 1e-4, "isa=\(isa): bf16 result suspiciously equal to float32 (max |Δ| \(maxErr))")
        }
    }

    @Test("kernel selection: native first, then AVX-512F widening, then AVX2 widening, then portable")
    func selection() {
        #expect(BF16GEMM.Kernel.portable.ukernel != nil && BF16GEMM.selected(.generic) == .portable)
        #expect(!BF16GEMM.isNative(.generic))
        for kernel in BF16GEMM.Kernel.allCases {
            guard let u = kernel.ukernel else { continue }
            #expect((u.pointee.native != 0) == (kernel == .native), "\(kernel)")
            #expect((u.pointee.a_widened != 0) == (kernel == .avx2 || kernel == .avx512f), "\(kernel)")
        }
        let available = BF16GEMM.Kernel.available
        if KernelISA.avx512.isSupported {
            // Native when the CPU has AVX512_BF16, else AVX-512F widening.
            #expect(BF16GEMM.selected(.avx512) == (available.contains(.native) ? .native : .avx512f))
            #expect(BF16GEMM.isNative(.avx512) == available.contains(.native))
        }
        if KernelISA.avx2.isSupported {
            #expect(BF16GEMM.selected(.avx2) == .avx2 && !BF16GEMM.isNative(.avx2))
        } else {
            #expect(!available.contains(.avx2))
        }
    }

    @Test("public entry point: fast, reference switch, k = 0 and beta")
    func publicEntry() throws {
        let (m, n, k) = (9, 70, 45)
        var rng = SeededRNG(seed: 3)
        let x = try Tensor(shape: [m, k], scalars: (0..<(m * k)).map { _ in rng.float() })
        let wt = try Tensor(shape: [n, k], scalars: (0..<(n * k)).map { _ in rng.float() })
        let weight = try BF16PackedWeight(weight: wt)
        #expect(weight.n == n && weight.k == k)
        func gemm(reference: Bool, beta: Float, c0: [Float]) -> [Float] {
            var c = c0
            Kernels.$useReference.withValue(reference) {
                x.scalars.withUnsafeBufferPointer { ap in
                    c.withUnsafeMutableBufferPointer { cp in
                        Kernels.gemmBF16(m: m, a: ap.baseAddress!, lda: k, weight: weight, c: cp.baseAddress!, ldc: n, beta: beta)
                    }
                }
            }
            return c
        }
        let c0 = (0..<(m * n)).map { _ in rng.float() }
        for beta: Float in [0, 1, -0.5] {
            compare(gemm(reference: false, beta: beta, c0: c0), gemm(reference: true, beta: beta, c0: c0),
                    ldc: n, n: n, sentinel: 0, atol: 1e-4, rtol: 1e-5, label: "public β=\(beta)")
        }
        // k = 0: C = beta · C.
        let empty = try BF16PackedWeight(weight: Tensor(shape: [3, 0], scalars: []))
        var c: [Float] = [1, 2, 3, 4, 5, 6]
        [Float(0)].withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                Kernels.gemmBF16(m: 2, a: ap.baseAddress!, lda: 0, weight: empty, c: cp.baseAddress!, ldc: 3, beta: 1)
            }
        }
        #expect(c == [1, 2, 3, 4, 5, 6])
        c.withUnsafeMutableBufferPointer { cp in
            [Float(0)].withUnsafeBufferPointer { ap in
                Kernels.gemmBF16(m: 2, a: ap.baseAddress!, lda: 0, weight: empty, c: cp.baseAddress!, ldc: 3)
            }
        }
        #expect(c == [0, 0, 0, 0, 0, 0])
    }

    @Test("linearBF16: shapes, bias, activation and its errors")
    func linear() throws {
        var rng = SeededRNG(seed: 5)
        let (n, k) = (17, 40)
        let wt = try Tensor(shape: [n, k], scalars: (0..<(n * k)).map { _ in rng.float() })
        let bias = Tensor((0..<n).map { Float($0) })
        let x = try Tensor(shape: [2, 3, k], scalars: (0..<(6 * k)).map { _ in rng.float() })
        let weight = try BF16PackedWeight(weight: wt)
        let y = try Tensor.linearBF16(x, weight: weight, bias: bias)
        #expect(y.shape == [2, 3, n])
        // Against the twin plus the bias.
        var ref = [Float](repeating: 0, count: 6 * n)
        x.scalars.withUnsafeBufferPointer { ap in
            ref.withUnsafeMutableBufferPointer { cp in
                ReferenceKernels.gemmBF16(m: 6, a: ap.baseAddress!, lda: k, weight: weight, c: cp.baseAddress!, ldc: n)
            }
        }
        for i in 0..<6 { for j in 0..<n { ref[i * n + j] += Float(j) } }
        compare(y.scalars, ref, ldc: n, n: n, sentinel: 0, atol: 1e-4, rtol: 1e-5, label: "linearBF16")
        let relu = try Tensor.linearBF16(x, weight: weight, bias: bias, activation: .relu)
        #expect(relu.scalars == y.scalars.map { max($0, 0) })
        #expect(try Tensor.linearBF16(x, weight: weight, bias: nil).shape == [2, 3, n])

        #expect(throws: TensorError.shapeMismatch(op: "linearBF16 input", expected: "[..., \(k)]", actual: [2, 3, k + 1])) {
            try Tensor.linearBF16(Tensor.zeros([2, 3, k + 1]), weight: weight, bias: bias)
        }
        #expect(throws: TensorError.shapeMismatch(op: "linearBF16 input", expected: "[..., \(k)]", actual: [])) {
            try Tensor.linearBF16(Tensor(scalar: 1), weight: weight, bias: bias)
        }
        #expect(throws: TensorError.shapeMismatch(op: "linearBF16 bias", expected: "[\(n)]", actual: [n + 1])) {
            try Tensor.linearBF16(x, weight: weight, bias: Tensor.zeros([n + 1]))
        }
        #expect(throws: TensorError.shapeMismatch(op: "BF16PackedWeight", expected: "[n, k]", actual: [k])) {
            try BF16PackedWeight(weight: Tensor.zeros([k]))
        }
        #expect(throws: TensorError.self) { try BF16PackedWeight(weight: Tensor.zeros([2, 3, 4])) }
    }
}

// MARK: - Running and checking

private func run(_ path: BF16Path, m: Int, _ a: [Float], lda: Int, _ weight: BF16PackedWeight,
                 _ out: inout [Float], ldc: Int, beta: Float) {
    a.withUnsafeBufferPointer { ap in
        out.withUnsafeMutableBufferPointer { cp in
            BF16GEMM.run(m: m, a: ap.baseAddress!, lda: lda, weight: weight, c: cp.baseAddress!, ldc: ldc,
                         beta: beta, kernel: path.isa, threads: path.threads, tuning: path.tuning)
        }
    }
}

/// The first index at which `x` and `y` differ in bits (nil when identical).
private func firstBitDifference(_ x: [Float], _ y: [Float]) -> Int? {
    x.indices.first { $0 >= y.count || x[$0].bitPattern != y[$0].bitPattern }
}

/// Fails with the worst element and the first few mismatches when any element of C is out of
/// tolerance or any padding element was written.
private func compare(_ got: [Float], _ ref: [Float], ldc: Int, n: Int, sentinel: Float,
                     atol: Float, rtol: Float, label: String) {
    var bad: [(index: Int, got: Float, ref: Float)] = []
    var worst: (index: Int, excess: Float)? = nil
    for idx in got.indices {
        let g = got[idx], r = ref[idx]
        if idx % ldc >= n {
            if g != sentinel { bad.append((idx, g, r)) }
            continue
        }
        let err = abs(g - r), allowed = atol + rtol * abs(r)
        if !(err <= allowed) {  // also catches NaN
            bad.append((idx, g, r))
            let excess = err.isNaN ? .infinity : err - allowed
            if worst == nil || excess > worst!.excess { worst = (idx, excess) }
        }
    }
    guard !bad.isEmpty else { return }
    func at(_ idx: Int) -> String { "[\(idx / ldc), \(idx % ldc)]" }
    let worstText = worst.map { "worst \(at($0.index)): got \(got[$0.index]) ref \(ref[$0.index])" }
        ?? "padding overwritten"
    let first = bad.prefix(5).map { "\(at($0.index)) got \($0.got) ref \($0.ref)" }.joined(separator: "; ")
    Issue.record("\(label): \(bad.count) mismatches (atol \(atol), rtol \(rtol)); \(worstText); first: \(first)")
}

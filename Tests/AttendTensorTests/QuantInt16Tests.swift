import AttendKernelsC
import AttendTestSupport
import Foundation
import Testing
@testable import AttendTensor

/// Every int16 kernel variant this CPU can run, forced in turn: the generic scalar one, AVX2 (`vpmaddwd` + `vpaddd`),
/// AVX2 with AVX-VNNI (`vpdpwssd` ymm), AVX-512BW (`vpmaddwd` zmm) and AVX-512 VNNI (`vpdpwssd` zmm).
private let int16Variants: [(name: String, isa: KernelISA, dot: attend_quant_dot_q16_fn)] = {
    var out: [(String, KernelISA, attend_quant_dot_q16_fn)] = []
    for isa in [KernelISA.generic, .avx2, .avx512] {
        for vnni in [Int32(0), 1] {
            guard let uk = attend_quant_ukernel_variant(isa.cValue, vnni), let dot = uk.pointee.dot_q16 else { continue }
            out.append(("\(isa)\(vnni == 1 ? "+vnni" : "")", isa, dot))
        }
    }
    return out
}()

/// Activations with an outlier per row (as real hidden states have), so some blocks are coarse and some fine.
private func activations(m: Int, k: Int, rng: inout SeededRNG) -> [Float] {
    var x = (0..<(m * k)).map { _ in rng.float() }
    for i in 0..<m { x[i * k + (7 * i) % k] = 40 }
    return x
}

/// The quantized activations of `x` as the C quantizer makes them.
private func quantize16(_ x: [Float], m: Int, k: Int) -> (q: [Int16], d: [Float], s: [Float]) {
    let nb = k / 32
    var q = [Int16](repeating: 0, count: m * k), d = [Float](repeating: .nan, count: m * nb), s = d
    attend_quant_activations_q16(m, nb, x, k, &q, &d, &s)
    return (q, d, s)
}

/// The int16-activation path, checked on every variant:
///
/// 1. against the plain C twin (`attend_quant_dot_q16_reference`, same quantized activations): the int32 block sums
///    are exact in both, so only the float32 accumulation order differs:
///    `|fast − twin| ≤ atol + rtol·S` with atol = 1e-6, rtol = 1e-6, `S = Σ_b (|d_w·d_x·Σ_t qw·qx| + |c_b|)` (the sum of
///    the absolute block terms, since cancellation makes |y| itself a poor scale);
/// 2. the C twin against the Double twin (``ReferenceKernels/gemmQuantizedInt16(m:a:lda:weight:c:ldc:)``) with the same
///    bound, and against the float32 twin (activations not quantized) within the rounding bound
///    `E = Σ_p |w_p|·d_x(p)/2` plus the same float32 allowance (E is about 1.5e-5 of the blocks' largest values).
@Suite struct QuantInt16Tests {
    @Test func variantsIncludeTheActiveISA() {
        #expect(int16Variants.contains { $0.isa == .generic })
        #expect(int16Variants.contains { $0.isa == Kernels.activeISA }, "no int16 kernel for the active ISA \(Kernels.activeISA)")
        print("QuantGEMM int16 variants on this CPU: \(int16Variants.map(\.name))")
    }

    /// The C activation quantizer equals the Swift twin bit for bit (zero block, ties, an outlier).
    @Test func activationQuantizerMatchesTheTwin() {
        var rng = SeededRNG(seed: 131)
        var x = (0..<(3 * 96)).map { _ in rng.float() * 4 }
        x.replaceSubrange(32..<64, with: [Float](repeating: 0, count: 32))   // a zero block: d = 0, q = 0
        x[70] = 0.5; x[71] = -0.5; x[100] = -1000                             // ties, an outlier
        let (q, d, s) = quantize16(x, m: 3, k: 96)
        for i in 0..<3 {
            let twin = x.withUnsafeBufferPointer {
                ReferenceKernels.Int16Activations(UnsafeBufferPointer(rebasing: $0[(96 * i)..<(96 * i + 96)]))
            }
            #expect(Array(q[(96 * i)..<(96 * i + 96)]) == twin.q, "row \(i) quants")
            #expect(Array(d[(3 * i)..<(3 * i + 3)]) == twin.d, "row \(i) scales")
            for b in 0..<3 { #expect(s[3 * i + b] == twin.d[b] * Float(twin.qsum[b]), "row \(i) block \(b) sum") }
        }
        #expect(q.contains(32767) || q.contains(-32767), "the block maximum maps to ±32767")
    }

    /// The bound scale S of (1) for output [i, j].
    private static func termScale(_ w: QuantizedMatrix, _ raw: UnsafeRawBufferPointer, j: Int, acts: ReferenceKernels.Int16Activations) -> Double {
        var s = 0.0
        for b in 0..<w.blocksPerRow {
            let blk = ReferenceKernels.WeightBlock(w.type, raw, offset: j * w.rowBytes + b * w.type.blockBytes)
            var qq = 0.0
            for t in 0..<32 { qq += Double(abs(blk.q[t] * Int(acts.q[32 * b + t]))) }
            s += abs(Double(blk.d) * Double(acts.d[b])) * qq + abs(blk.c * Double(acts.d[b]) * Double(acts.qsum[b]))
        }
        return s
    }

    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func everyVariantMatchesTheTwins(type: GGMLType) throws {
        let (atol, rtol) = (1e-6, 1e-6)
        var rng = SeededRNG(seed: 140 + UInt64(type.rawValue))
        var worst = 0.0, worstFloat = 0.0
        // k: 1 block, a prime number of blocks, SIMD-width neighbours (15, 16, 17 blocks), the model's 576 and 1536.
        for k in [32, 7 * 32, 15 * 32, 16 * 32, 17 * 32, 576, 1536] {
            for n in (k >= 576 ? [1, 17, 65] : [1, 2, 3, 15, 16, 17, 31, 33]) {
                let w = try randomMatrix(type, rows: n, columns: k, rng: &rng)
                let deq = w.dequantized().scalars
                for m in [1, 2, 3, 5, 16] {
                    let x = activations(m: m, k: k, rng: &rng)
                    let (q, d, s) = quantize16(x, m: m, k: k)
                    var twin = [Float](repeating: .nan, count: m * n), twinD = twin, twinF = twin
                    w.withUnsafeBytes { raw in
                        attend_quant_dot_q16_reference(Int32(type.rawValue), m, n, k / 32, q, d, s, raw.baseAddress, w.rowBytes, &twin, n)
                    }
                    x.withUnsafeBufferPointer { xp in
                        ReferenceKernels.gemmQuantizedInt16(m: m, a: xp.baseAddress!, lda: k, weight: w, c: &twinD, ldc: n)
                        ReferenceKernels.gemmQuantized(m: m, a: xp.baseAddress!, lda: k, weight: w, c: &twinF, ldc: n)
                    }
                    let acts = x.withUnsafeBufferPointer { xp in
                        (0..<m).map { ReferenceKernels.Int16Activations(UnsafeBufferPointer(rebasing: xp[($0 * k)..<($0 * k + k)])) }
                    }
                    var scale = [Double](repeating: 0, count: m * n), rounding = scale, plain = scale
                    w.withUnsafeBytes { raw in
                        for i in 0..<m {
                            for j in 0..<n {
                                scale[i * n + j] = Self.termScale(w, raw, j: j, acts: acts[i])
                                for p in 0..<k {
                                    let wv = abs(Double(deq[j * k + p]))
                                    rounding[i * n + j] += wv * Double(acts[i].d[p / 32]) / 2
                                    plain[i * n + j] += wv * abs(Double(x[i * k + p]))
                                }
                            }
                        }
                    }
                    for o in 0..<(m * n) {
                        let own = abs(Double(twin[o]) - Double(twinD[o])) / (atol + rtol * scale[o])
                        let flt = abs(Double(twin[o]) - Double(twinF[o])) / (rounding[o] + atol + rtol * plain[o])
                        worstFloat = max(worstFloat, flt.isNaN ? .infinity : flt)
                        #expect(own <= 1, "\(type) C twin vs Double twin m=\(m) n=\(n) k=\(k) [\(o)]: \(twin[o]) vs \(twinD[o])")
                        #expect(flt <= 1, "\(type) C twin vs float32 twin m=\(m) n=\(n) k=\(k) [\(o)]: \(twin[o]) vs \(twinF[o])")
                    }
                    for v in int16Variants {
                        var fast = [Float](repeating: .nan, count: m * n)
                        w.withUnsafeBytes { raw in
                            v.dot(Int32(type.rawValue), m, n, k / 32, q, d, s, raw.baseAddress, w.rowBytes, &fast, n)
                        }
                        for o in 0..<(m * n) {
                            let r = abs(Double(fast[o]) - Double(twin[o])) / (atol + rtol * scale[o])
                            worst = max(worst, r.isNaN ? .infinity : r)
                            #expect(r <= 1, "\(type) \(v.name) m=\(m) n=\(n) k=\(k) [\(o / n), \(o % n)]: \(fast[o]) vs twin \(twin[o])")
                        }
                    }
                }
            }
        }
        print("QuantGEMM int16 \(type) on \(int16Variants.map(\.name)): worst \(worst) × the bound against the C twin, \(worstFloat) × the rounding bound against the float32 twin")
    }

    /// The model's largest product, the tied LM head (49,152 Q8_0 rows × 576), and its FFN down projection
    /// (576 Q4_1 rows × 1536), one decode row, each variant against the C twin.
    @Test(arguments: [(GGMLType.q8_0, 49152, 576), (.q4_1, 576, 1536)])
    func realSizes(type: GGMLType, n: Int, k: Int) throws {
        var rng = SeededRNG(seed: 7 + UInt64(n))
        let w = try randomMatrix(type, rows: n, columns: k, rng: &rng)
        let x = activations(m: 1, k: k, rng: &rng)
        let (q, d, s) = quantize16(x, m: 1, k: k)
        var twin = [Float](repeating: .nan, count: n)
        w.withUnsafeBytes { raw in
            attend_quant_dot_q16_reference(Int32(type.rawValue), 1, n, k / 32, q, d, s, raw.baseAddress, w.rowBytes, &twin, n)
        }
        let acts = x.withUnsafeBufferPointer { ReferenceKernels.Int16Activations($0) }
        let scale = w.withUnsafeBytes { raw in (0..<n).map { Self.termScale(w, raw, j: $0, acts: acts) } }
        for v in int16Variants where v.isa != .generic {
            var fast = [Float](repeating: .nan, count: n)
            w.withUnsafeBytes { raw in v.dot(Int32(type.rawValue), 1, n, k / 32, q, d, s, raw.baseAddress, w.rowBytes, &fast, n) }
            let bad = (0..<n).filter { !(abs(Double(fast[$0]) - Double(twin[$0])) <= 1e-6 + 1e-6 * scale[$0]) }
            #expect(bad.isEmpty, "\(type) \(v.name) [\(n) × \(k)]: \(bad.count) outputs off, first \(bad.first.map { "\($0): \(fast[$0]) vs \(twin[$0])" } ?? "")")
        }
    }

    /// The driver (`QuantGEMM.run`, threads split the rows) on every supported ISA gives its kernel's results, and
    /// `Tensor.linear(_:quantized:activations: .int16)` takes the int16 path (fast or, with `useReference`, the
    /// Double twin) exactly for m ≤ 16; past 16 rows the float32 path runs.
    @Test func driverAndLinearFollowTheInt16Path() throws {
        try KernelSettingsLock.exclusive {
            var rng = SeededRNG(seed: 191)
            let w = try randomMatrix(.q4_1, rows: 37, columns: 96, rng: &rng)
            for m in [1, 16, 17] {
                let x = activations(m: m, k: 96, rng: &rng)
                let (q, d, s) = quantize16(x, m: m, k: 96)
                var twin = [Float](repeating: 0, count: m * 37), twinD = twin, floatPath = twin
                w.withUnsafeBytes { raw in attend_quant_dot_q16_reference(3, m, 37, 3, q, d, s, raw.baseAddress, w.rowBytes, &twin, 37) }
                x.withUnsafeBufferPointer { xp in
                    ReferenceKernels.gemmQuantizedInt16(m: m, a: xp.baseAddress!, lda: 96, weight: w, c: &twinD, ldc: 37)
                }
                for isa in KernelISA.supported where QuantGEMM.ukernel(isa).dot_q16 != nil {
                    var viaDriver = [Float](repeating: .nan, count: m * 37)
                    x.withUnsafeBufferPointer { xp in
                        viaDriver.withUnsafeMutableBufferPointer {
                            QuantGEMM.run(m: m, a: xp.baseAddress!, lda: 96, weight: w, c: $0.baseAddress!, ldc: 37, isa: isa,
                                          threads: 2, activations: .int16)
                        }
                        floatPath.withUnsafeMutableBufferPointer {
                            QuantGEMM.run(m: m, a: xp.baseAddress!, lda: 96, weight: w, c: $0.baseAddress!, ldc: 37, isa: isa,
                                          threads: 2, activations: .fp32)
                        }
                    }
                    if m <= 16 {
                        // Threads split W's rows only, so each output is the ISA's kernel's, bit for bit.
                        var direct = [Float](repeating: .nan, count: m * 37)
                        w.withUnsafeBytes { raw in
                            QuantGEMM.ukernel(isa).dot_q16?(3, m, 37, 3, q, d, s, raw.baseAddress, w.rowBytes, &direct, 37)
                        }
                        #expect(viaDriver == direct, "\(isa) m=\(m): the driver's results differ from its kernel's")
                        expectClose(viaDriver, twin, atol: 1e-4, rtol: 1e-5, "\(isa) m=\(m) driver vs C twin")
                    } else {
                        #expect(viaDriver == floatPath, "\(isa) m=\(m): past 16 rows the float32 path runs")
                    }
                }
                let xt = try Tensor(shape: [m, 96], scalars: x)
                let fast = try Tensor.linear(xt, quantized: w, activations: .int16)
                let ref = try Kernels.$useReference.withValue(true) { try Tensor.linear(xt, quantized: w, activations: .int16) }
                if m <= 16 {
                    #expect(ref.scalars == twinD, "m=\(m): the reference twin took the wrong path")
                    expectClose(fast.scalars, twinD, atol: 1e-4, rtol: 1e-5, "m=\(m) linear vs the int16 twin")   // |y| ≲ 50: float32 sums
                } else {
                    let plain = try Kernels.$useReference.withValue(true) { try Tensor.linear(xt, quantized: w) }
                    #expect(ref.scalars == plain.scalars, "m=\(m): the reference should be the float32 twin past 16 rows")
                }
            }
        }
    }
}

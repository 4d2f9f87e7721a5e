import AttendKernelsC
import AttendTestSupport
import Foundation
import Testing
@testable import AttendTensor

/// The ISAs whose kernel set has an int8 kernel on this CPU.
private let int8ISAs = KernelISA.supported.filter { isa in
    let uk = QuantGEMM.ukernel(isa)
    return uk.dot_q8 != nil && uk.isa == isa.cValue
}

/// The int8-activation path (AVX-512 VNNI and AVX2 kernels), checked two ways on every ISA that has it.
///
/// 1. Against its own twin (``ReferenceKernels/gemmQuantizedInt8(m:a:lda:weight:c:ldc:)``, same quantized
///    activations, exact integer sums, Double): only float32 rounding differs, so
///    `|fast − twin8| ≤ 1e-6 · S8 + 1e-7` with `S8 = Σ_b (|d_w·d_x|·Σ_t |qw·qx| + |c_b|)`.
/// 2. Against the float32 twin (activations not quantized): the activation rounding `|x − d_x·q| ≤ d_x/2`
///    bounds the difference by `E = Σ_p |w_p| · d_x(p)/2`, so `|fast − twin| ≤ E + 1e-6 · S + 1e-7`.
@Suite(.enabled(if: !int8ISAs.isEmpty, "this CPU has neither AVX2 nor AVX-512 VNNI: the int8 path does not run here"))
struct QuantInt8Tests {
    /// The C activation quantizer equals the Swift twin bit for bit.
    @Test func activationQuantizerMatchesTheTwin() {
        var rng = SeededRNG(seed: 31)
        var x = (0..<(3 * 96)).map { _ in rng.float() * 4 }
        x.replaceSubrange(32..<64, with: [Float](repeating: 0, count: 32))   // a zero block: d = 0, q = 0
        x[70] = 0.5; x[71] = -0.5                                           // ties next to other values
        var q = [Int8](repeating: 99, count: x.count)
        var d = [Float](repeating: .nan, count: 9), s = [Float](repeating: .nan, count: 9)
        attend_quant_activations_q8(3, 3, x, 96, &q, &d, &s)
        for i in 0..<3 {
            let twin = x.withUnsafeBufferPointer {
                ReferenceKernels.QuantizedActivations(UnsafeBufferPointer(rebasing: $0[(96 * i)..<(96 * i + 96)]))
            }
            #expect(Array(q[(96 * i)..<(96 * i + 96)]) == twin.q, "row \(i) quants")
            #expect(Array(d[(3 * i)..<(3 * i + 3)]) == twin.d, "row \(i) scales")
            for b in 0..<3 { #expect(s[3 * i + b] == twin.d[b] * Float(twin.qsum[b]), "row \(i) block \(b) sum") }
        }
    }

    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func kernelMatchesBothTwins(type: GGMLType) throws {
        var rng = SeededRNG(seed: 40 + UInt64(type.rawValue))
        var worstOwn = 0.0, worstFloat = 0.0
        for k in [32, 64, 576, 1536] {
            for n in (k == 1536 ? [1, 17, 65] : [1, 7, 16, 17, 63, 64, 65]) {
                let w = try randomMatrix(type, rows: n, columns: k, rng: &rng)
                let deq = w.dequantized().scalars
                for m in [1, 2, 7, 16] {
                    let x = (0..<(m * k)).map { _ in rng.float() }
                    var fast = [Float](repeating: .nan, count: m * n)
                    var twin8 = [Float](repeating: .nan, count: m * n)
                    var twin = [Float](repeating: .nan, count: m * n)
                    x.withUnsafeBufferPointer { xp in
                        twin8.withUnsafeMutableBufferPointer { c in
                            ReferenceKernels.gemmQuantizedInt8(m: m, a: xp.baseAddress!, lda: k, weight: w, c: c.baseAddress!, ldc: n)
                        }
                        twin.withUnsafeMutableBufferPointer { c in
                            ReferenceKernels.gemmQuantized(m: m, a: xp.baseAddress!, lda: k, weight: w, c: c.baseAddress!, ldc: n)
                        }
                    }
                    let acts = x.withUnsafeBufferPointer { xp in
                        (0..<m).map { ReferenceKernels.QuantizedActivations(UnsafeBufferPointer(rebasing: xp[($0 * k)..<($0 * k + k)])) }
                    }
                    for isa in int8ISAs {
                    x.withUnsafeBufferPointer { xp in
                        fast.withUnsafeMutableBufferPointer { c in
                            QuantGEMM.run(m: m, a: xp.baseAddress!, lda: k, weight: w, c: c.baseAddress!, ldc: n,
                                          isa: isa, threads: 2, int8: true)
                        }
                    }
                    w.withUnsafeBytes { raw in
                        for j in 0..<n {
                            for i in 0..<m {
                                var s8 = 0.0, e = 0.0, s = 0.0
                                for b in 0..<(k / 32) {
                                    let blk = ReferenceKernels.WeightBlock(type, raw, offset: j * w.rowBytes + b * type.blockBytes)
                                    let dx = Double(acts[i].d[b])
                                    var qq = 0.0
                                    for t in 0..<32 {
                                        qq += Double(abs(blk.q[t] * Int(acts[i].q[32 * b + t])))
                                        let wv = abs(Double(deq[j * k + 32 * b + t]))
                                        e += wv * dx / 2
                                        s += wv * abs(Double(x[i * k + 32 * b + t]))
                                    }
                                    s8 += abs(Double(blk.d) * dx) * qq + abs(blk.c * dx * Double(acts[i].qsum[b]))
                                }
                                let o = i * n + j
                                let own = abs(Double(fast[o]) - Double(twin8[o])) / (1e-6 * s8 + 1e-7)
                                let flt = abs(Double(fast[o]) - Double(twin[o])) / (e + 1e-6 * s + 1e-7)
                                worstOwn = max(worstOwn, own.isNaN ? .infinity : own)
                                worstFloat = max(worstFloat, flt.isNaN ? .infinity : flt)
                                #expect(own <= 1, "\(type) \(isa) m=\(m) n=\(n) k=\(k) [\(i), \(j)]: \(fast[o]) vs int8 twin \(twin8[o])")
                                #expect(flt <= 1, "\(type) \(isa) m=\(m) n=\(n) k=\(k) [\(i), \(j)]: \(fast[o]) vs float twin \(twin[o]) (bound \(e))")
                            }
                        }
                    }
                    }
                }
            }
        }
        print("QuantGEMM int8 \(type) on \(int8ISAs): worst \(worstOwn) × the bound against the int8 twin, \(worstFloat) × the activation-rounding bound against the float32 twin")
    }

    /// `Tensor.linear(_:quantized:int8Activations:)` takes the int8 path (fast or, with `useReference`, its twin)
    /// exactly where the kernels do: m ≤ 16 on a CPU that has it.
    @Test func linearFollowsTheInt8Path() throws {
        try KernelSettingsLock.exclusive {
            var rng = SeededRNG(seed: 91)
            let w = try randomMatrix(.q8_0, rows: 6, columns: 96, rng: &rng)
            for m in [2, 17] {
                let x = try Tensor(shape: [m, 96], scalars: (0..<(m * 96)).map { _ in rng.float() })
                let fast = try Tensor.linear(x, quantized: w, int8Activations: true)
                let twin = try Kernels.$useReference.withValue(true) { try Tensor.linear(x, quantized: w, int8Activations: true) }
                var int8Twin = [Float](repeating: 0, count: m * 6), floatTwin = int8Twin
                x.scalars.withUnsafeBufferPointer { xp in
                    ReferenceKernels.gemmQuantizedInt8(m: m, a: xp.baseAddress!, lda: 96, weight: w, c: &int8Twin, ldc: 6)
                    ReferenceKernels.gemmQuantized(m: m, a: xp.baseAddress!, lda: 96, weight: w, c: &floatTwin, ldc: 6)
                }
                let expected = Kernels.int8ActivationsAvailable && m <= 16 ? int8Twin : floatTwin
                #expect(twin.scalars == expected, "m=\(m): the reference twin took the wrong path")
                expectClose(fast.scalars, expected, atol: 1e-5, rtol: 1e-5, "m=\(m) fast vs the twin of its path")
            }
        }
    }

    /// Past m = 16, and with the flag off, the float32 path runs (results equal the plain path's bits).
    @Test func flagOnlyAffectsSmallM() throws {
        var rng = SeededRNG(seed: 77)
        let w = try randomMatrix(.q4_1, rows: 9, columns: 64, rng: &rng)
        for isa in int8ISAs {
        for m in [1, 17] {
            let x = (0..<(m * 64)).map { _ in rng.float() }
            var a = [Float](repeating: 0, count: m * 9), b = a
            x.withUnsafeBufferPointer { xp in
                a.withUnsafeMutableBufferPointer {
                    QuantGEMM.run(m: m, a: xp.baseAddress!, lda: 64, weight: w, c: $0.baseAddress!, ldc: 9, isa: isa, threads: 1, int8: true)
                }
                b.withUnsafeMutableBufferPointer {
                    QuantGEMM.run(m: m, a: xp.baseAddress!, lda: 64, weight: w, c: $0.baseAddress!, ldc: 9, isa: isa, threads: 1, int8: false)
                }
            }
            #expect((a == b) == (m > 16), "\(isa) m=\(m)")
        }
        }
    }
}

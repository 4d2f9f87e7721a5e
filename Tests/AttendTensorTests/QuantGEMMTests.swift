import AttendKernelsC
import AttendTestSupport
import Foundation
import Testing
@testable import AttendTensor

/// Compares the quantized kernels with their dequantize-then-Double-dot twin.
///
/// Tolerance (stated): `|fast − twin| ≤ 1e-6 · S + 1e-7` per output, with
/// `S = Σ_p |x_p| · (|w_p| + 2·M_b(p))` and `M_b` the largest |w| in p's block. The kernels keep the
/// activations in float32 and decode the weights exactly (Q4_0, Q8_0) or within 1 ulp of
/// max(|q·d|, |m|) ≤ 2·M_b (Q4_1's fused q·d + m), so the only error is float32 rounding: per-lane block
/// sums and a final reduction, a few units of 2⁻²⁴ · S in practice (measured: at most 0.05 of this bound
/// over the sweep). A single wrong nibble moves an output by d·|x_p|, far outside it
/// (``QuantGEMMTests/theBoundCatchesOneWrongNibble()``).
enum QuantKernelCheck {
    static let rtol = 1e-6
    static let atol = 1e-7

    /// Runs the kernel set of `isa` through the driver (one thread unless `threads`) and the twin; returns
    /// the fast result, the twin's and the per-output scale S.
    static func run(weight: QuantizedMatrix, x: [Float], m: Int, isa: KernelISA, threads: Int = 1,
                    tuning: QuantGEMM.Tuning = QuantGEMM.Tuning()) -> ([Float], [Float], [Double]) {
        let n = weight.rows, k = weight.columns
        var fast = [Float](repeating: .nan, count: m * n)
        var reference = [Float](repeating: .nan, count: m * n)
        x.withUnsafeBufferPointer { xp in
            fast.withUnsafeMutableBufferPointer { c in
                QuantGEMM.run(m: m, a: xp.baseAddress!, lda: k, weight: weight, c: c.baseAddress!, ldc: n,
                              isa: isa, threads: threads, tuning: tuning)
            }
            reference.withUnsafeMutableBufferPointer { c in
                ReferenceKernels.gemmQuantized(m: m, a: xp.baseAddress!, lda: k, weight: weight, c: c.baseAddress!, ldc: n)
            }
        }
        let w = weight.dequantized().scalars
        var scale = [Double](repeating: 0, count: m * n)
        w.withUnsafeBufferPointer { wp in
            x.withUnsafeBufferPointer { xp in
                for j in 0..<n {
                    var bound = [Double](repeating: 0, count: k)
                    for b in 0..<(k / 32) {
                        var mb = 0.0
                        for t in 0..<32 { mb = max(mb, Double(abs(wp[j * k + 32 * b + t]))) }
                        for t in 0..<32 { bound[32 * b + t] = Double(abs(wp[j * k + 32 * b + t])) + 2 * mb }
                    }
                    for i in 0..<m {
                        var s = 0.0
                        for p in 0..<k { s += abs(Double(xp[i * k + p])) * bound[p] }
                        scale[i * n + j] = s
                    }
                }
            }
        }
        return (fast, reference, scale)
    }

    /// The worst |fast − twin| / (rtol·S + atol) over all outputs (≤ 1 passes), and its index.
    static func worst(_ fast: [Float], _ reference: [Float], _ scale: [Double]) -> (ratio: Double, index: Int, abs: Double) {
        var worst = (ratio: 0.0, index: -1, abs: 0.0)
        for i in 0..<fast.count {
            let diff = abs(Double(fast[i]) - Double(reference[i]))
            let ratio = diff.isNaN ? .infinity : diff / (rtol * scale[i] + atol)
            if ratio > worst.ratio || worst.index < 0 { worst = (ratio, i, diff) }
        }
        return worst
    }

    static func expectWithin(_ fast: [Float], _ reference: [Float], _ scale: [Double], label: String,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let w = worst(fast, reference, scale)
        #expect(w.ratio <= 1, "\(label): worst at \(w.index): got \(fast[max(0, w.index)]) twin \(reference[max(0, w.index)]) (|diff| \(w.abs), \(w.ratio)× the bound)",
                sourceLocation: sourceLocation)
    }
}

/// Random blocks: the scales are real binary16 values in a realistic range, the quants uniformly random. Shared by
/// the quantized-product suites (QuantGEMM, QuantInt8, QuantInt16, QuantShared).
func randomMatrix(_ type: GGMLType, rows: Int, columns: Int, rng: inout SeededRNG) throws -> QuantizedMatrix {
    var bytes: [UInt8] = []
    func half(_ x: Float) { withUnsafeBytes(of: Float16Bits.bits(x).littleEndian) { bytes.append(contentsOf: $0) } }
    for _ in 0..<(rows * columns / 32) {
        half(0.001 + 0.05 * rng.nextUnit())
        if type == .q4_1 { half(-0.4 * rng.nextUnit()) }
        let n = type == .q8_0 ? 32 : 16
        for _ in 0..<n { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
    }
    return try QuantizedMatrix(type: type, rows: rows, columns: columns, bytes: bytes)
}

private let quantTypes: [GGMLType] = [.q4_0, .q4_1, .q8_0]

@Suite struct QuantGEMMTests {
    /// Each ISA's block decoder equals the plain twin: bit for bit for Q4_0 and Q8_0 (and for the generic
    /// decoder on every type); within 1 ulp of max(|q·d|, |m|) for Q4_1 on SIMD (one fused q·d + m).
    @Test(arguments: quantTypes)
    func decodersMatchTheTwin(type: GGMLType) throws {
        var rng = SeededRNG(seed: 3)
        let w = try randomMatrix(type, rows: 3, columns: 96, rng: &rng)
        let twin = w.dequantized().scalars
        for isa in KernelISA.supported {
            let uk = attend_quant_ukernel_for(isa.cValue).pointee
            var out = [Float](repeating: .nan, count: 3 * 96)
            w.withUnsafeBytes { raw in
                out.withUnsafeMutableBufferPointer { uk.dequant!(Int32(type.rawValue), raw.baseAddress!, 9, $0.baseAddress!) }
            }
            let exact = type != .q4_1 || uk.isa == ATTEND_ISA_GENERIC
            for i in 0..<out.count {
                let blockMax = (0..<32).map { abs(twin[i / 32 * 32 + $0]) }.max()!
                let bound: Float = exact ? 0 : 2 * blockMax * 0x1p-23
                #expect(abs(out[i] - twin[i]) <= bound, "\(type) \(isa) element \(i): \(out[i]) vs \(twin[i])")
            }
        }
    }

    /// Every ISA, every type, swept shapes (k multiples of 32; n around the two-row tiles; m around the
    /// four-row tiles and past the direct path's limit of 16, which switches to decoded panels).
    @Test(arguments: quantTypes)
    func kernelsMatchTheTwinOverSweptShapes(type: GGMLType) throws {
        var rng = SeededRNG(seed: UInt64(type.rawValue))
        var worst = 0.0
        for k in [32, 64, 576, 1536] {
            let ns = k == 1536 ? [1, 17, 65] : [1, 7, 16, 17, 63, 64, 65, 576]
            for n in ns {
                let w = try randomMatrix(type, rows: n, columns: k, rng: &rng)
                for m in [1, 2, 7, 33] where !(n == 576 && m > 2) {
                    let x = (0..<(m * k)).map { _ in rng.float() }
                    var reference: [Float]? = nil
                    for isa in KernelISA.supported {
                        let (fast, ref, scale) = QuantKernelCheck.run(weight: w, x: x, m: m, isa: isa)
                        if let reference { #expect(ref == reference) }
                        reference = ref
                        QuantKernelCheck.expectWithin(fast, ref, scale, label: "\(type) \(isa) m=\(m) n=\(n) k=\(k)")
                        worst = max(worst, QuantKernelCheck.worst(fast, ref, scale).ratio)
                    }
                }
            }
        }
        print("QuantGEMM \(type): worst error \(worst) × the bound (rtol \(QuantKernelCheck.rtol)·S)")
    }

    /// Threads split the weight rows (direct path) or the panel decoding (panel path): same results as one thread.
    @Test func threadedAndPanelPathsAgree() throws {
        var rng = SeededRNG(seed: 9)
        let w = try randomMatrix(.q4_1, rows: 131, columns: 256, rng: &rng)
        for m in [1, 5, 40] {
            let x = (0..<(m * 256)).map { _ in rng.float() }
            for isa in KernelISA.supported {
                var tuning = QuantGEMM.Tuning()
                tuning.workPerThread = 1
                tuning.panelRows = 50
                let (one, ref, scale) = QuantKernelCheck.run(weight: w, x: x, m: m, isa: isa, threads: 1, tuning: tuning)
                let (two, _, _) = QuantKernelCheck.run(weight: w, x: x, m: m, isa: isa, threads: 2, tuning: tuning)
                #expect(one == two, "\(isa) m=\(m): threads change the result")
                QuantKernelCheck.expectWithin(two, ref, scale, label: "\(isa) m=\(m) threaded")
                tuning.directMaxM = 0   // force the panel path even for m = 1
                let (panel, _, _) = QuantKernelCheck.run(weight: w, x: x, m: m, isa: isa, threads: 2, tuning: tuning)
                QuantKernelCheck.expectWithin(panel, ref, scale, label: "\(isa) m=\(m) panels")
            }
        }
    }

    /// The tolerance is tight enough to fail: one nibble changed in one block shows in every row's output.
    @Test func theBoundCatchesOneWrongNibble() throws {
        var rng = SeededRNG(seed: 17)
        let good = try randomMatrix(.q4_1, rows: 4, columns: 1536, rng: &rng)
        var bytes = good.withUnsafeBytes { Array($0) }
        bytes[good.rowBytes * 2 + 20 * 30 + 4 + 7] ^= 0x01   // row 2, block 30, element 7: q ± 1
        let bad = try QuantizedMatrix(type: .q4_1, rows: 4, columns: 1536, bytes: bytes)
        let x = (0..<(3 * 1536)).map { _ in rng.float() }
        for isa in KernelISA.supported {
            let (fast, _, scale) = QuantKernelCheck.run(weight: good, x: x, m: 3, isa: isa)
            let (_, wrongTwin, _) = QuantKernelCheck.run(weight: bad, x: x, m: 3, isa: isa)
            for i in 0..<3 {
                let diff = abs(Double(fast[i * 4 + 2]) - Double(wrongTwin[i * 4 + 2]))
                #expect(diff > QuantKernelCheck.rtol * scale[i * 4 + 2] + QuantKernelCheck.atol, "\(isa) row \(i)")
            }
        }
    }

    @Test func linearOnAQuantizedWeightMatchesTheDequantizedLinear() throws {
        var rng = SeededRNG(seed: 21)
        let w = try randomMatrix(.q8_0, rows: 10, columns: 64, rng: &rng)
        let x = try Tensor(shape: [2, 3, 64], scalars: (0..<384).map { _ in rng.float() })
        let bias = Tensor((0..<10).map { Float($0) / 10 })
        let y = try Tensor.linear(x, quantized: w, bias: bias)
        #expect(y.shape == [2, 3, 10])
        let ref = try Tensor.linear(x, weight: w.dequantized(), bias: bias)
        expectClose(y, ref, atol: 1e-5, rtol: 1e-5, "linear quantized")
        let viaReference = try Kernels.$useReference.withValue(true) { try Tensor.linear(x, quantized: w, bias: bias) }
        expectClose(viaReference, ref, atol: 1e-5, rtol: 1e-5, "linear quantized, reference twin")
        #expect(throws: TensorError.self) { try Tensor.linear(try Tensor(shape: [2, 63], scalars: Array(repeating: 0, count: 126)), quantized: w) }
    }

    @Test func gatherRowsEqualsTheDequantizedRows() throws {
        var rng = SeededRNG(seed: 55)
        let w = try randomMatrix(.q8_0, rows: 7, columns: 64, rng: &rng)
        let all = w.dequantized()
        let picked = try w.gatherRows([6, 0, 6, 3])
        #expect(picked.shape == [4, 64])
        for (r, j) in [6, 0, 6, 3].enumerated() {
            #expect(Array(picked.scalars[(r * 64)..<(r * 64 + 64)]) == Array(all.scalars[(j * 64)..<(j * 64 + 64)]), "row \(j)")
        }
        #expect(try w.gatherRows([]).shape == [0, 64])
        #expect(throws: TensorError.invalidArgument(op: "QuantizedMatrix.gatherRows", "row 7 is outside 0..<7")) { try w.gatherRows([1, 7]) }
        #expect(throws: TensorError.self) { try w.gatherRows([-1]) }
    }

    @Test func quantizedMatrixRejectsBadBytes() throws {
        #expect(throws: TensorError.self) { try QuantizedMatrix(type: .q4_1, rows: 2, columns: 32, bytes: [UInt8](repeating: 0, count: 39)) }
        #expect(throws: TensorError.self) { try QuantizedMatrix(type: .q8_0, rows: 1, columns: 48, bytes: [UInt8](repeating: 0, count: 51)) }
        #expect(throws: TensorError.self) { try QuantizedMatrix(type: .f32, rows: 1, columns: 32, bytes: [UInt8](repeating: 0, count: 128)) }
        let ok = try QuantizedMatrix(type: .q4_0, rows: 2, columns: 64, bytes: [UInt8](repeating: 0, count: 72))
        #expect(ok.rowBytes == 36 && ok.blocksPerRow == 2 && ok.byteCount == 72)
    }
}

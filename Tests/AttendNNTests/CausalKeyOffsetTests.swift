import AttendTestSupport
import Foundation
import Testing
@testable import AttendNN

/// Causal attention whose queries start at an absolute position `off` (query i sees keys 0…off + i), as in
/// incremental decoding with a key/value cache: the fused kernel on every ISA forced, with one and two threads,
/// against the plain twin `referenceAttention` (Double), and the two other twins (`ReferenceKernels.attention`,
/// the unfused GEMM + softmax), over swept lengths, head dims, offsets and grouped-query heads.
@Suite("Causal key offset")
struct CausalKeyOffsetTests {
    /// Query lengths 1, 7, 16 (a SIMD width), 15 and 17 (±1), 97 (a prime past a micro-tile), 200 (past a query
    /// block); head dims 1, 17, 64; offsets 0, 1, 17. Keys: exactly the visible ones (off + Lq, the decoding case),
    /// or 5 more that no query may see.
    static let cases: [(Case, Int)] = {
        var cases: [(Case, Int)] = []
        let lengths = [1, 7, 15, 16, 17, 97, 200], dims = [1, 17, 64]
        for (i, lq) in lengths.enumerated() {
            for off in [0, 1, 17] {
                let extra = (i + off) % 2 == 0 ? 0 : 5
                let d = dims[(i + off) % 3]
                cases.append((Case(b: 1, h: 2, hkv: i % 2 == 0 ? 2 : 1, lq: lq, lk: off + lq + extra, dk: d, dv: d), off))
            }
        }
        return cases
    }()

    @Test(arguments: cases)
    func fusedMatchesReference(_ labelled: (Case, Int)) throws {
        let (c, offset) = labelled
        let data = c.randomData(seed: UInt64(c.lq * 31 + offset * 7 + c.dk))
        let ref = try c.reference(data, causal: true, keyOffset: offset)
        for isa in KernelISA.supported {
            for threads in [1, 2] {
                try c.fused(data, causal: true, keyOffset: offset, isa: isa, threads: threads)
                    .expectMatches(ref, "\(c) offset=\(offset) \(isa)×\(threads)")
            }
        }
        let plain = try Kernels.$useReference.withValue(true) {
            try c.fused(data, causal: true, keyOffset: offset, isa: .best, threads: 1)
        }
        plain.expectMatches(ref, "\(c) offset=\(offset) ReferenceKernels.attention", atol: 1e-6, rtol: 1e-5)
        let unfused = try c.solve(data, causal: true, keyOffset: offset) { unfusedAttention($0) }
        expectClose(unfused.out, ref.output.scalars, atol: 1e-5, rtol: 1e-4, "\(c) offset=\(offset) unfused output")
        expectClose(unfused.weights, ref.weights.scalars, atol: 1e-6, rtol: 1e-4, "\(c) offset=\(offset) unfused weights")
    }

    /// The maths the offset stands for: an explicit boolean mask with key j visible to query i iff j ≤ off + i.
    @Test(arguments: [0, 1, 17])
    func offsetEqualsShiftedMask(_ offset: Int) throws {
        let c = Case(b: 2, h: 3, hkv: 3, lq: 9, lk: offset + 9, dk: 16, dv: 16)
        let data = c.randomData(seed: UInt64(offset))
        let mask = try Tensor(shape: [c.lq, c.lk], scalars: (0..<(c.lq * c.lk)).map { Float($0 % c.lk <= offset + $0 / c.lk ? 1 : 0) })
        let masked = try referenceAttention(query: data.q, key: data.k, value: data.v, mask: .boolean(mask))
        let shifted = try referenceAttention(query: data.q, key: data.k, value: data.v, isCausal: true, causalKeyOffset: offset)
        #expect(masked.output == shifted.output && masked.weights == shifted.weights)
        let sdpa = try scaledDotProductAttention(query: data.q, key: data.k, value: data.v, isCausal: true,
                                                 causalKeyOffset: offset, returnWeights: true)
        expectClose(sdpa.output, masked.output, atol: 1e-5, rtol: 1e-4, "sdpa offset=\(offset)")
        expectClose(sdpa.weights!, masked.weights, atol: 1e-6, rtol: 1e-4, "sdpa weights offset=\(offset)")
    }

    /// An LLM's grouped-query heads (9 query heads sharing 3 key/value heads), decoding one token and a chunk of 17
    /// after a cache of 40, through the head-view form reading one fused `[B, T, (9 + 2·3)·d]` projection in place.
    @Test(arguments: [1, 17])
    func groupedQueryDecoding(_ newTokens: Int) throws {
        let (h, hkv, d, cached) = (9, 3, 32, 40)
        let lk = cached + newTokens
        var rng = SeededRNG(seed: UInt64(newTokens))
        let qProj = Tensor.randomNormal([1, newTokens, h * d], rng: &rng)           // [1, t, H·d]
        let kvProj = Tensor.randomNormal([1, lk, 2 * hkv * d], rng: &rng)           // [1, P+t, 2·Hkv·d]: keys, then values
        let q = try qProj.viewAsHeads(h)                                              // [1, 9, t, d]
        let k = try kvProj.viewAsHeads(hkv, dim: d)                                   // [1, 3, P+t, d]
        let v = try kvProj.viewAsHeads(hkv, dim: d, column: hkv * d)                  // [1, 3, P+t, d]
        let ref = try referenceAttention(query: q.contiguous(), key: k.contiguous(), value: v.contiguous(),
                                         isCausal: true, causalKeyOffset: cached)
        for isa in KernelISA.supported {
            let got = try Kernels.withSettings({ $0.isa = isa }) {
                try scaledDotProductAttention(query: q, key: k, value: v, isCausal: true, causalKeyOffset: cached, returnWeights: true)
            }
            expectClose(got.output.contiguous(), ref.output, atol: 1e-5, rtol: 1e-4, "GQA 9/3 t=\(newTokens) \(isa)")
            expectClose(got.weights!, ref.weights, atol: 1e-6, rtol: 1e-4, "GQA 9/3 weights t=\(newTokens) \(isa)")
            #expect(got.output.mergedHeads().shape == [1, newTokens, h * d])
        }
    }

    @Test func negativeOffsetIsATypedError() throws {
        let c = Case(b: 1, h: 1, hkv: 1, lq: 2, lk: 2, dk: 2, dv: 2)
        let data = c.randomData(seed: 1)
        #expect(throws: TensorError.self) { try c.fused(data, causal: true, keyOffset: -1, isa: .generic, threads: 1) }
        #expect(throws: TensorError.self) {
            try scaledDotProductAttention(query: data.q, key: data.k, value: data.v, isCausal: true, causalKeyOffset: -1)
        }
    }
}

import AttendTestSupport
import Testing
@testable import AttendNN

/// Random `[b, h, t, d]` tensors from a seed.
func randomQKV(b: Int, h: Int, hkv: Int? = nil, lq: Int, lk: Int, d: Int, dv: Int? = nil, seed: UInt64, std: Float = 1)
    -> (Tensor, Tensor, Tensor) {
    var rng = SeededRNG(seed: seed)
    let q = Tensor.randomNormal([b, h, lq, d], std: std, rng: &rng)
    let k = Tensor.randomNormal([b, hkv ?? h, lk, d], std: std, rng: &rng)
    let v = Tensor.randomNormal([b, hkv ?? h, lk, dv ?? d], rng: &rng)
    return (q, k, v)
}

@Suite("Scaled dot-product attention")
struct AttentionTests {
    /// The tutorials' worked example: query [1,0,1] against three keys with scale 1.
    @Test func tutorialWorkedExample() throws {
        let q = try Tensor(shape: [1, 1, 1, 3], scalars: [1, 0, 1])
        let k = try Tensor(shape: [1, 1, 3, 3], scalars: [1, 0, 1, 0, 1, 0, 1, 1, 1])
        let v = try Tensor(shape: [1, 1, 3, 3], scalars: [10, 20, 30, 1, 2, 3, 5, 10, 15])
        let r = try scaledDotProductAttention(query: q, key: k, value: v, scale: 1, returnWeights: true)
        expectClose(r.weights!.scalars, [0.4683, 0.0634, 0.4683], atol: 1e-4, rtol: 0, "weights")
        expectClose(r.output.scalars, [7.088, 14.176, 21.264], atol: 1e-3, rtol: 0, "output")
        let t = try referenceAttention(query: q, key: k, value: v, scale: 1)
        #expect(t.scores.scalars == [2, 0, 2])
        expectClose(t.weights, r.weights!, atol: 1e-6, rtol: 1e-6)
        // e²/(2e² + 1) exactly.
        let e2 = Float(7.38905609893065)
        #expect(abs(t.weights.scalars[0] - e2 / (2 * e2 + 1)) < 1e-6)
    }

    /// "I am Fine." with identity projections: scores/2 then softmax (skiitg.co.in walk-through).
    @Test func identityProjectionExample() throws {
        let x = try Tensor(shape: [1, 1, 3, 4], scalars: [1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1])
        let r = try scaledDotProductAttention(query: x, key: x, value: x, returnWeights: true)
        expectClose(r.weights!.scalars, [0.422, 0.155, 0.422, 0.155, 0.422, 0.422, 0.212, 0.212, 0.576], atol: 1e-3, rtol: 0)
    }

    @Test(arguments: [
        (1, 1, 1, 1, 1, 1), (1, 2, 7, 7, 16, 16), (2, 3, 17, 15, 17, 9), (1, 4, 16, 31, 64, 64),
        (2, 2, 64, 97, 32, 16), (1, 1, 1, 97, 15, 15),
    ])
    func fastMatchesReference(_ c: (Int, Int, Int, Int, Int, Int)) throws {
        let (b, h, lq, lk, d, dv) = c
        let (q, k, v) = randomQKV(b: b, h: h, lq: lq, lk: lk, d: d, dv: dv, seed: UInt64(lq * 131 + lk))
        for causal in [false, true] {
            let fast = try scaledDotProductAttention(query: q, key: k, value: v, isCausal: causal, returnWeights: true)
            let ref = try referenceAttention(query: q, key: k, value: v, isCausal: causal)
            expectClose(fast.output, ref.output, atol: 1e-5, rtol: 1e-4, "output \(c) causal=\(causal)")
            expectClose(fast.weights!, ref.weights, atol: 1e-6, rtol: 1e-4, "weights \(c) causal=\(causal)")
            let noWeights = try scaledDotProductAttention(query: q, key: k, value: v, isCausal: causal)
            #expect(noWeights.weights == nil)
            #expect(noWeights.output == fast.output)
        }
    }

    @Test(arguments: [1, 7, 16, 17, 64])
    func masksMatchReference(_ n: Int) throws {
        let (q, k, v) = randomQKV(b: 2, h: 3, lq: n, lk: n + 2, d: 8, seed: UInt64(n))
        var rng = SeededRNG(seed: 99)
        let boolMask = Tensor.randomUniform([2, 1, n, n + 2], rng: &rng).map { $0 < 0.7 ? 1 : 0 }
        let additive = Tensor.randomNormal([n, n + 2], std: 2, rng: &rng)
        for mask in [AttentionMask.boolean(boolMask), .additive(additive)] {
            let fast = try scaledDotProductAttention(query: q, key: k, value: v, mask: mask, returnWeights: true)
            let ref = try referenceAttention(query: q, key: k, value: v, mask: mask)
            expectClose(fast.output, ref.output, atol: 1e-5, rtol: 1e-4, "output n=\(n)")
            expectClose(fast.weights!, ref.weights, atol: 1e-6, rtol: 1e-4, "weights n=\(n)")
            #expect(!fast.output.scalars.contains { $0.isNaN })
        }
        #expect(throws: TensorError.self) {
            try scaledDotProductAttention(query: q, key: k, value: v, mask: .boolean(Tensor.ones([n, n + 3])))
        }
    }

    @Test func weightsRowsSumToOne() throws {
        let (q, k, v) = randomQKV(b: 2, h: 4, lq: 17, lk: 17, d: 16, seed: 5, std: 3)
        for causal in [false, true] {
            let w = try scaledDotProductAttention(query: q, key: k, value: v, isCausal: causal, returnWeights: true).weights!
            let sums = try w.sum(axis: -1)
            expectClose(sums.scalars, [Float](repeating: 1, count: sums.count), atol: 1e-5, rtol: 0, "causal=\(causal)")
            #expect(w.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
    }

    /// Adding the same constant to every score of a row changes nothing.
    @Test func shiftInvariance() throws {
        let (q, k, v) = randomQKV(b: 1, h: 2, lq: 7, lk: 9, d: 4, seed: 12)
        let plain = try scaledDotProductAttention(query: q, key: k, value: v, returnWeights: true)
        var rng = SeededRNG(seed: 1)
        let rowShift = try Tensor.randomNormal([7, 1], std: 50, rng: &rng).broadcast(to: [7, 9])
        let shifted = try scaledDotProductAttention(query: q, key: k, value: v, mask: .additive(rowShift), returnWeights: true)
        expectClose(shifted.weights!, plain.weights!, atol: 1e-5, rtol: 1e-4)
        expectClose(shifted.output, plain.output, atol: 1e-5, rtol: 1e-4)
    }

    /// Changing later tokens never changes earlier outputs under a causal mask.
    @Test func causality() throws {
        let (q, k, v) = randomQKV(b: 1, h: 2, lq: 16, lk: 16, d: 8, seed: 21)
        let base = try scaledDotProductAttention(query: q, key: k, value: v, isCausal: true).output
        var rng = SeededRNG(seed: 77)
        let cut = 9
        func perturb(_ t: Tensor) throws -> Tensor {
            let head = try t.slice(axis: 2, 0..<cut)
            let tail = Tensor.randomNormal([1, 2, 16 - cut, t.shape[3]], std: 10, rng: &rng)
            return try Tensor.concatenate([head, tail], axis: 2)
        }
        let changed = try scaledDotProductAttention(query: perturb(q), key: perturb(k), value: perturb(v), isCausal: true).output
        #expect(try changed.slice(axis: 2, 0..<cut) == base.slice(axis: 2, 0..<cut))
        #expect(try changed.slice(axis: 2, cut..<16) != base.slice(axis: 2, cut..<16))
    }

    /// Padded keys (masked out) never change the real rows; a batch equals its rows run alone.
    @Test func paddingAndBatchInvariance() throws {
        let lengths = [5, 9, 1]
        let maxLen = 9
        var rng = SeededRNG(seed: 8)
        var qs: [Tensor] = [], ks: [Tensor] = [], vs: [Tensor] = []
        var alone: [Tensor] = []
        var maskRows: [Float] = []
        for len in lengths {
            let q = Tensor.randomNormal([1, 2, maxLen, 4], rng: &rng)
            let k = Tensor.randomNormal([1, 2, maxLen, 4], rng: &rng)
            let v = Tensor.randomNormal([1, 2, maxLen, 4], rng: &rng)
            qs.append(q); ks.append(k); vs.append(v)
            alone.append(try scaledDotProductAttention(query: q.slice(axis: 2, 0..<len), key: k.slice(axis: 2, 0..<len),
                                                       value: v.slice(axis: 2, 0..<len)).output)
            maskRows += (0..<maxLen).map { $0 < len ? 1 : 0 }
        }
        let mask = try Tensor(shape: [3, 1, 1, maxLen], scalars: maskRows)
        let batch = try scaledDotProductAttention(query: Tensor.concatenate(qs, axis: 0), key: Tensor.concatenate(ks, axis: 0),
                                                  value: Tensor.concatenate(vs, axis: 0), mask: .boolean(mask)).output
        for (i, len) in lengths.enumerated() {
            let rows = try batch.select(axis: 0, i).slice(axis: 1, 0..<len).unsqueezed(0)
            expectClose(rows, alone[i], atol: 1e-6, rtol: 1e-5, "sequence \(i)")
        }
        // Changing what sits in padded key positions changes nothing.
        var ks2 = ks
        ks2[0] = try Tensor.concatenate([ks[0].slice(axis: 2, 0..<5), Tensor.full([1, 2, 4, 4], 1e4)], axis: 2)
        let batch2 = try scaledDotProductAttention(query: Tensor.concatenate(qs, axis: 0), key: Tensor.concatenate(ks2, axis: 0),
                                                   value: Tensor.concatenate(vs, axis: 0), mask: .boolean(mask)).output
        #expect(batch2 == batch)
    }

    @Test func fullyMaskedRowsAreZeroNotNaN() throws {
        let (q, k, v) = randomQKV(b: 1, h: 1, lq: 3, lk: 4, d: 2, seed: 3)
        let mask = try Tensor(rows: [[1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 1]])
        let r = try scaledDotProductAttention(query: q, key: k, value: v, mask: .boolean(mask), returnWeights: true)
        #expect(try r.weights!.select(axis: 2, 1).scalars.allSatisfy { $0 == 0 })
        #expect(try r.output.select(axis: 2, 1).scalars.allSatisfy { $0 == 0 })
        #expect(!r.output.scalars.contains { $0.isNaN })
        let additive = mask.map { $0 == 1 ? 0 : -.infinity }
        let a = try scaledDotProductAttention(query: q, key: k, value: v, mask: .additive(additive), returnWeights: true)
        #expect(a.output == r.output)
        let ref = try referenceAttention(query: q, key: k, value: v, mask: .boolean(mask))
        #expect(try ref.output.select(axis: 2, 1).scalars.allSatisfy { $0 == 0 })
    }

    @Test func hugeScoresDoNotOverflow() throws {
        let q = try Tensor(shape: [1, 1, 2, 2], scalars: [1e18, 1e18, -1e18, 3e18])
        let k = try Tensor(shape: [1, 1, 3, 2], scalars: [1e18, 0, 0, 1e18, 1e18, 1e18])
        let v = try Tensor(shape: [1, 1, 3, 1], scalars: [1, 2, 3])
        let r = try scaledDotProductAttention(query: q, key: k, value: v, scale: 1e-20, returnWeights: true)
        #expect(!r.output.scalars.contains { !$0.isFinite })
        let ref = try referenceAttention(query: q, key: k, value: v, scale: 1e-20)
        expectClose(r.output, ref.output, atol: 1e-5, rtol: 1e-4)
        let big = try scaledDotProductAttention(query: q * 1e-9, key: k * 1e-9, value: v, returnWeights: true)
        #expect(!big.weights!.scalars.contains { $0.isNaN })
        expectClose(big.output.scalars, [3, 2], atol: 1e-5, rtol: 0)  // each row picks its largest score exactly
    }

    /// Grouped-query attention equals ordinary attention with each K/V head repeated.
    @Test(arguments: [(4, 1), (4, 2), (6, 3), (8, 8)])
    func groupedQueryEqualsRepeatedKV(_ heads: (Int, Int)) throws {
        let (h, hkv) = heads
        let (q, k, v) = randomQKV(b: 2, h: h, hkv: hkv, lq: 7, lk: 11, d: 16, seed: UInt64(h * 10 + hkv))
        let gqa = try scaledDotProductAttention(query: q, key: k, value: v, isCausal: true, returnWeights: true)
        let kr = try k.repeatInterleave(h / hkv, axis: 1), vr = try v.repeatInterleave(h / hkv, axis: 1)
        let full = try scaledDotProductAttention(query: q, key: kr, value: vr, isCausal: true, returnWeights: true)
        expectClose(gqa.output, full.output, atol: 1e-6, rtol: 1e-5)
        expectClose(gqa.weights!, full.weights!, atol: 1e-7, rtol: 1e-5)
        let ref = try referenceAttention(query: q, key: k, value: v, isCausal: true)
        expectClose(gqa.output, ref.output, atol: 1e-5, rtol: 1e-4)
    }

    /// Empty sizes give empty (or zero) results, never a crash: no queries, no keys, value dim 0, and the head-view form.
    @Test func emptySizes() throws {
        for (lq, lk, dv) in [(0, 3, 2), (2, 0, 2), (2, 3, 0), (0, 0, 0)] {
            let q = Tensor.zeros([1, 2, lq, 4]), k = Tensor.zeros([1, 2, lk, 4]), v = Tensor.zeros([1, 2, lk, dv])
            let r = try scaledDotProductAttention(query: q, key: k, value: v, isCausal: true, causalKeyOffset: 1, returnWeights: true)
            #expect(r.output.shape == [1, 2, lq, dv] && r.output.scalars.allSatisfy { $0 == 0 })
            #expect(r.weights?.shape == [1, 2, lq, lk])
            let views = try scaledDotProductAttention(query: HeadView(q), key: HeadView(k), value: HeadView(v))
            #expect(views.output.mergedHeads().shape == [1, lq, 2 * dv])
        }
    }

    @Test func rejectsBadShapes() {
        let q = Tensor.zeros([1, 4, 3, 8])
        #expect(throws: TensorError.self) { try scaledDotProductAttention(query: q, key: Tensor.zeros([1, 3, 3, 8]), value: Tensor.zeros([1, 3, 3, 8])) }
        #expect(throws: TensorError.self) { try scaledDotProductAttention(query: q, key: Tensor.zeros([1, 4, 3, 7]), value: Tensor.zeros([1, 4, 3, 8])) }
        #expect(throws: TensorError.self) { try scaledDotProductAttention(query: q, key: Tensor.zeros([1, 4, 3, 8]), value: Tensor.zeros([1, 4, 2, 8])) }
        #expect(throws: TensorError.self) { try scaledDotProductAttention(query: Tensor.zeros([4, 3, 8]), key: q, value: q) }
    }
}

import Foundation
import AttendTestSupport
import Testing
@testable import AttendNN

@Suite("MultiHeadAttention")
struct MultiHeadAttentionTests {
    func make(_ e: Int, _ h: Int, kv: Int? = nil, kdim: Int? = nil, vdim: Int? = nil, seed: UInt64 = 1) throws -> MultiHeadAttention {
        var rng = SeededRNG(seed: seed)
        return try MultiHeadAttention(embedDim: e, heads: h, kvHeads: kv, keyDim: kdim, valueDim: vdim, rng: &rng)
    }

    /// The layer equals its textbook composition: project, split heads, attend (reference twin), concatenate, W_O.
    @Test(arguments: [(8, 1), (12, 3), (16, 4)])
    func equalsTextbookComposition(_ c: (Int, Int)) throws {
        let (e, h) = c
        let mha = try make(e, h, seed: UInt64(e))
        var rng = SeededRNG(seed: 5)
        let x = Tensor.randomNormal([2, 7, e], rng: &rng)
        let out = try mha(query: x, isCausal: true, weights: .perHead)
        let q = try x.matmul(mha.qProj) .splitHeads(h), k = try x.matmul(mha.kProj).splitHeads(h), v = try x.matmul(mha.vProj).splitHeads(h)
        let ref = try referenceAttention(query: q, key: k, value: v, isCausal: true)
        let expected = try ref.output.mergeHeads().matmul(mha.outProj)
        expectClose(out.output, expected, atol: 1e-5, rtol: 1e-4)
        expectClose(out.weights!, ref.weights, atol: 1e-6, rtol: 1e-4)
        #expect(out.output.shape == [2, 7, e])
    }

    /// One head with identity projections and no biases is plain scaled dot-product attention.
    @Test func oneHeadIdentityIsPlainAttention() throws {
        let e = 6
        let mha = try make(e, 1)
        let eye = try Tensor(shape: [e, e], scalars: (0..<(e * e)).map { $0 / e == $0 % e ? 1 : 0 })
        for lin in [mha.qProj, mha.kProj, mha.vProj, mha.outProj] {
            lin.weight.value = eye
            lin.bias?.value = .zeros([e])
        }
        var rng = SeededRNG(seed: 2)
        let x = Tensor.randomNormal([1, 5, e], rng: &rng)
        let out = try mha(query: x).output
        let x4 = try x.unsqueezed(1)
        let plain = try scaledDotProductAttention(query: x4, key: x4, value: x4).output
        expectClose(out, try plain.select(axis: 1, 0), atol: 1e-6, rtol: 1e-5)
    }

    /// Cross-attention given the same tensor as query, key and value is self-attention; other lengths and widths work.
    @Test func crossAttention() throws {
        let mha = try make(8, 2)
        var rng = SeededRNG(seed: 3)
        let x = Tensor.randomNormal([2, 5, 8], rng: &rng)
        #expect(try mha(query: x, key: x, value: x).output == mha(query: x).output)
        let enc = try make(8, 2, kdim: 6, vdim: 10)
        let memoryK = Tensor.randomNormal([2, 9, 6], rng: &rng), memoryV = Tensor.randomNormal([2, 9, 10], rng: &rng)
        let r = try enc(query: x, key: memoryK, value: memoryV, weights: .perHead)
        #expect(r.output.shape == [2, 5, 8])
        #expect(r.weights?.shape == [2, 2, 5, 9])
        #expect(throws: TensorError.self) { try enc(query: x, key: memoryK, value: Tensor.zeros([2, 8, 10])) }
        #expect(throws: TensorError.self) { try enc(query: x, key: Tensor.zeros([2, 9, 7]), value: memoryV) }
    }

    @Test func averagedWeightsAreTheMeanOfHeads() throws {
        let mha = try make(12, 4)
        var rng = SeededRNG(seed: 4)
        let x = Tensor.randomNormal([1, 6, 12], rng: &rng)
        let per = try mha(query: x, weights: .perHead).weights!
        let avg = try mha(query: x, weights: .averaged).weights!
        #expect(avg.shape == [1, 6, 6])
        expectClose(avg, try per.mean(axis: 1), atol: 1e-7, rtol: 1e-6)
        #expect(try mha(query: x).weights == nil)
    }

    /// Padded keys change nothing for the real tokens: a padded batch equals each sequence alone.
    @Test func keyPaddingMask() throws {
        let mha = try make(8, 2)
        var rng = SeededRNG(seed: 6)
        let a = Tensor.randomNormal([1, 4, 8], rng: &rng), b = Tensor.randomNormal([1, 7, 8], rng: &rng)
        let padA = try Tensor.concatenate([a, Tensor.full([1, 3, 8], 99)], axis: 1)
        let batch = try Tensor.concatenate([padA, b], axis: 0)                         // [2, 7, 8]
        let kpm = try Tensor(rows: [[1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1]])     // [2, 7]
        let out = try mha(query: batch, keyPaddingMask: kpm).output
        expectClose(try out.select(axis: 0, 0).slice(axis: 0, 0..<4), try mha(query: a).output.select(axis: 0, 0), atol: 1e-5, rtol: 1e-5)
        expectClose(try out.select(axis: 0, 1), try mha(query: b).output.select(axis: 0, 0), atol: 1e-5, rtol: 1e-5)
        // Combined with a causal flag and an additive mask.
        let causal = try mha(query: batch, keyPaddingMask: kpm, isCausal: true).output
        let aloneCausal = try mha(query: a, isCausal: true).output
        expectClose(try causal.select(axis: 0, 0).slice(axis: 0, 0..<4), try aloneCausal.select(axis: 0, 0), atol: 1e-5, rtol: 1e-5)
        let zeroAdd = try mha(query: batch, keyPaddingMask: kpm, mask: .additive(.zeros([7, 7]))).output
        expectClose(zeroAdd, out, atol: 1e-6, rtol: 1e-6)
        #expect(throws: TensorError.self) { try mha(query: batch, keyPaddingMask: Tensor.ones([2, 6])) }
    }

    /// Grouped-query attention equals full multi-head attention whose K/V projections repeat each group's rows.
    @Test func groupedQueryHeads() throws {
        let gqa = try make(16, 4, kv: 2, seed: 8)
        #expect(gqa.kProj.weight.shape == [8, 16])
        let full = try make(16, 4, seed: 9)
        for (src, dst) in [(gqa.kProj, full.kProj), (gqa.vProj, full.vProj)] {
            // [kvHeads·d, E] → [kvHeads, d, E] → repeat each head twice → [heads·d, E]
            dst.weight.value = try src.weight.value.reshaped([2, 4, 16]).repeatInterleave(2, axis: 0).reshaped([16, 16])
            dst.bias!.value = try src.bias!.value.reshaped([2, 4]).repeatInterleave(2, axis: 0).reshaped([16])
        }
        for (src, dst) in [(gqa.qProj, full.qProj), (gqa.outProj, full.outProj)] {
            dst.weight.value = src.weight.value
            dst.bias!.value = src.bias!.value
        }
        var rng = SeededRNG(seed: 10)
        let x = Tensor.randomNormal([2, 5, 16], rng: &rng)
        expectClose(try gqa(query: x, isCausal: true).output, try full(query: x, isCausal: true).output, atol: 1e-5, rtol: 1e-5)
        #expect(throws: TensorError.self) { try make(16, 4, kv: 3) }
        #expect(throws: TensorError.self) { try make(10, 4) }
    }

    /// Fused Q/K/V (one GEMM, heads read in place) equals the three separate projections, GQA included.
    @Test(arguments: [(8, 2, 2), (16, 4, 2), (12, 3, 1)])
    func fusedProjectionsMatch(_ c: (Int, Int, Int)) throws {
        let mha = try make(c.0, c.1, kv: c.2, seed: 21)
        var rng = SeededRNG(seed: 22)
        let x = Tensor.randomNormal([2, 6, c.0], rng: &rng)
        let kpm = try Tensor(rows: [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
        let plain = try mha(query: x, keyPaddingMask: kpm, isCausal: true, weights: .perHead)
        try mha.fuseProjections()
        #expect(mha.fusedQKV != nil)
        let recorder = IntermediateRecorder()
        let fused = try mha(query: x, keyPaddingMask: kpm, isCausal: true, weights: .perHead, observer: recorder, name: "L")
        expectClose(fused.output, plain.output, atol: 1e-5, rtol: 1e-5)
        expectClose(fused.weights!, plain.weights!, atol: 1e-6, rtol: 1e-5)
        #expect(recorder["L.q"]?.shape == [2, c.1, 6, c.0 / c.1])
        #expect(recorder["L.k"]?.shape == [2, c.2, 6, c.0 / c.1])
        // Cross-attention never uses the fused path.
        let y = Tensor.randomNormal([2, 4, c.0], rng: &rng)
        mha.unfuseProjections()
        let crossPlain = try mha(query: x, key: y, value: y)
        try mha.fuseProjections()
        expectClose(try mha(query: x, key: y, value: y).output, crossPlain.output, atol: 1e-6, rtol: 1e-6)
    }

    @Test func observerReceivesWeights() throws {
        let mha = try make(8, 2)
        let recorder = IntermediateRecorder()
        var rng = SeededRNG(seed: 11)
        let x = Tensor.randomNormal([1, 3, 8], rng: &rng)
        _ = try mha(query: x, observer: recorder, name: "L0")
        #expect(recorder["L0.weights"]?.shape == [1, 2, 3, 3])
        let none = IntermediateRecorder(filter: { _ in false })
        _ = try mha(query: x, observer: none, name: "L0")
        #expect(none.values.isEmpty)
    }

    @Test func strictLoadingNamesTheTensor() throws {
        let mha = try make(8, 2)
        var weights: [String: Tensor] = [:]
        for (name, p) in mha.namedParameters(prefix: "attn.") { weights[name] = p.value }
        #expect(weights.count == 8)
        #expect(try mha.load(weights, prefix: "attn.").isEmpty)
        var missing = weights
        missing["attn.k_proj.bias"] = nil
        #expect(throws: WeightLoadingError.missing(source: "test", tensor: "attn.k_proj.bias", shape: [8])) {
            try mha.load(missing, prefix: "attn.", source: "test")
        }
        var wrong = weights
        wrong["attn.out_proj.weight"] = .zeros([8, 7])
        #expect(throws: WeightLoadingError.shapeMismatch(source: "test", tensor: "attn.out_proj.weight", expected: [8, 8], actual: [8, 7])) {
            try mha.load(wrong, prefix: "attn.", source: "test")
        }
        var extra = weights
        extra["attn.surprise"] = .zeros([1])
        #expect(try mha.load(extra, prefix: "attn.") == ["attn.surprise"])
    }
}

@Suite("Positional encodings")
struct PositionalEncodingTests {
    @Test func sinusoidalTable() {
        let pe = PositionalEncoding.sinusoidal(length: 50, dim: 16)
        #expect(pe.shape == [50, 16])
        #expect(pe[0, 0] == 0 && pe[0, 1] == 1)
        #expect(abs(pe[1, 0] - 0.84147098) < 1e-6)      // sin(1)
        #expect(abs(pe[1, 1] - 0.54030231) < 1e-6)      // cos(1)
        #expect(abs(pe[3, 2] - Float(sin(3 / pow(10000, 2.0 / 16)))) < 1e-6)
        #expect(PositionalEncoding.sinusoidal(length: 2, dim: 5).shape == [2, 5])
    }

    /// RoPE keeps norms and makes q·k depend only on the distance between positions.
    @Test(arguments: [false, true])
    func rotaryIsRelative(_ interleaved: Bool) throws {
        var rng = SeededRNG(seed: 12)
        let q = Tensor.randomNormal([1, 1, 1, 8], rng: &rng), k = Tensor.randomNormal([1, 1, 1, 8], rng: &rng)
        func dot(_ m: Int, _ n: Int) throws -> Float {
            let a = try PositionalEncoding.rotary(q, offset: m, interleaved: interleaved)
            let b = try PositionalEncoding.rotary(k, offset: n, interleaved: interleaved)
            return zip(a.scalars, b.scalars).reduce(0) { $0 + $1.0 * $1.1 }
        }
        #expect(abs(try dot(3, 1) - dot(12, 10)) < 1e-4)
        #expect(abs(try dot(0, 0) - zip(q.scalars, k.scalars).reduce(0) { $0 + $1.0 * $1.1 }) < 1e-5)
        let rotated = try PositionalEncoding.rotary(q, offset: 7, interleaved: interleaved)
        #expect(abs(rotated.squared().sum() - q.squared().sum()) < 1e-4)
        // Position t of a sequence equals offset t of a single token.
        let seq = Tensor.randomNormal([1, 2, 5, 8], rng: &rng)
        let whole = try PositionalEncoding.rotary(seq, interleaved: interleaved)
        let third = try PositionalEncoding.rotary(seq.slice(axis: 2, 3..<4), offset: 3, interleaved: interleaved)
        expectClose(try whole.slice(axis: 2, 3..<4), third, atol: 1e-6, rtol: 1e-6)
        #expect(throws: TensorError.self) { try PositionalEncoding.rotary(Tensor.zeros([1, 1, 2, 5])) }
    }
}

extension Tensor {
    /// `self @ Wᵀ + b` through a Linear's parameters (test helper).
    func matmul(_ l: Linear) throws -> Tensor {
        let y = try Tensor.matmul(self, l.weight.value, transposeB: true)
        return try l.bias.map { try y + $0.value } ?? y
    }
}

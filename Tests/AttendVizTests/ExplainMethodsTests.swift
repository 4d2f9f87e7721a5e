import AttendNN
import AttendTestSupport
import AttendViz
import Foundation
import Testing

// Independent references, written plainly in Double: they share no code with AttendViz/Methods.

/// Row-stochastic random attention `[H, T, T]` (softmax of normal scores ×3, so rows are peaked).
func randomAttention(heads: Int, tokens t: Int, rng: inout SeededRNG) throws -> Tensor {
    try (Tensor.randomNormal([heads, t, t], rng: &rng) * 3).softmax(axis: -1)
}

/// Rollout by the definition: Â = ½·mean_h A + ½·I, R ← Â·R from R = I.
func referenceRollout(_ layers: [Tensor], upTo: Int) -> [[Double]] {
    let t = layers[0].shape[1], h = layers[0].shape[0]
    var r = [[Double]](repeating: [Double](repeating: 0, count: t), count: t)
    for i in 0..<t { r[i][i] = 1 }
    for l in 0...upTo {
        let a = layers[l].scalars
        var next = [[Double]](repeating: [Double](repeating: 0, count: t), count: t)
        for i in 0..<t {
            for j in 0..<t {
                var s = 0.0
                for k in 0..<t {
                    var mean = 0.0
                    for hi in 0..<h { mean += Double(a[(hi * t + i) * t + k]) }
                    let ahat = 0.5 * mean / Double(h) + (i == k ? 0.5 : 0)
                    s += ahat * r[k][j]
                }
                next[i][j] = s
            }
        }
        r = next
    }
    return r
}

/// Max flow by the max-flow/min-cut theorem: the smallest cut over every node set holding `s` but not `t`.
func bruteForceMinCut(nodes: Int, edges: [(Int, Int, Double)], s: Int, t: Int) -> Double {
    let others = (0..<nodes).filter { $0 != s && $0 != t }
    var best = Double.infinity
    for bits in 0..<(1 << others.count) {
        var inS = [Bool](repeating: false, count: nodes)
        inS[s] = true
        for (k, n) in others.enumerated() where bits & (1 << k) != 0 { inS[n] = true }
        var cut = 0.0
        for (u, v, c) in edges where inS[u] && !inS[v] { cut += c }
        best = min(best, cut)
    }
    return best
}

/// Value-norm through the output projection of one key's weighted value: for key j, the context vector
/// c = concat_h α^h_ij v^h_j, then N_ij = ‖W_O c‖ and N^h_ij = ‖W_O (c restricted to head h)‖.
func referenceValueNorm(weights: Tensor, input: Tensor, wv: Tensor, bv: Tensor?, wo: Tensor) -> (perHead: [[[Double]]], layer: [[Double]]) {
    let (h, lq, lk) = (weights.shape[0], weights.shape[1], weights.shape[2])
    let din = input.shape[1], hd = wo.shape[1], d = hd / h, dout = wo.shape[0]
    let kvh = wv.shape[0] / d
    var perHead = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: lk), count: lq), count: h)
    var layer = [[Double]](repeating: [Double](repeating: 0, count: lk), count: lq)
    for i in 0..<lq {
        for j in 0..<lk {
            var ctx = [Double](repeating: 0, count: hd)
            for hi in 0..<h {
                let vh = hi / (h / kvh)
                for k in 0..<d {
                    var v = Double(bv?.scalars[vh * d + k] ?? 0)
                    for m in 0..<din { v += Double(wv.scalars[(vh * d + k) * din + m]) * Double(input.scalars[j * din + m]) }
                    ctx[hi * d + k] = Double(weights.scalars[(hi * lq + i) * lk + j]) * v
                }
            }
            func norm(_ mask: (Int) -> Bool) -> Double {
                var s = 0.0
                for o in 0..<dout {
                    var y = 0.0
                    for c in 0..<hd where mask(c) { y += Double(wo.scalars[o * hd + c]) * ctx[c] }
                    s += y * y
                }
                return s.squareRoot()
            }
            layer[i][j] = norm { _ in true }
            for hi in 0..<h { perHead[hi][i][j] = norm { $0 / d == hi } }
        }
    }
    return (perHead, layer)
}

/// Chefer's rule by the definition, with the positive part taken per head before the mean.
func referenceGradRollout(_ a: [Tensor], _ g: [Tensor]) -> [[Double]] {
    let h = a[0].shape[0], t = a[0].shape[1]
    var r = [[Double]](repeating: [Double](repeating: 0, count: t), count: t)
    for i in 0..<t { r[i][i] = 1 }
    for l in a.indices {
        var bar = [[Double]](repeating: [Double](repeating: 0, count: t), count: t)
        for i in 0..<t { for j in 0..<t {
            var s = 0.0
            for hi in 0..<h { s += max(0, Double(a[l].scalars[(hi * t + i) * t + j]) * Double(g[l].scalars[(hi * t + i) * t + j])) }
            bar[i][j] = s / Double(h)
        } }
        var next = r
        for i in 0..<t { for j in 0..<t { for k in 0..<t { next[i][j] += bar[i][k] * r[k][j] } } }
        r = next
    }
    return r
}

func expectMatrixClose(_ a: [[Double]], _ b: [[Double]], atol: Double, rtol: Double, _ label: String) {
    #expect(a.count == b.count, "\(label): rows \(a.count) vs \(b.count)")
    var worst = 0.0, at = (0, 0)
    for i in 0..<min(a.count, b.count) {
        #expect(a[i].count == b[i].count, "\(label): row \(i) length")
        for j in 0..<min(a[i].count, b[i].count) {
            let excess = abs(a[i][j] - b[i][j]) - (atol + rtol * abs(b[i][j]))
            if excess > worst { worst = excess; at = (i, j) }
        }
    }
    #expect(worst <= 0, "\(label): worst at \(at): \(a[at.0][at.1]) vs \(b[at.0][at.1])")
}

@Suite("Explanation methods against independent references")
struct ExplainMethodsTests {
    @Test(arguments: [(1, 1, 1), (2, 1, 2), (7, 3, 4), (17, 2, 12), (16, 6, 3)])
    func rolloutMatchesTheDefinition(_ c: (Int, Int, Int)) throws {
        let (t, layers, heads) = c
        var rng = SeededRNG(seed: UInt64(t * 100 + layers))
        let a = try (0..<layers).map { _ in try randomAttention(heads: heads, tokens: t, rng: &rng) }
        for upTo in 0..<layers {
            let r = try AttentionRollout.compute(layers: a, upTo: upTo)
            expectMatrixClose(r, referenceRollout(a, upTo: upTo), atol: 1e-12, rtol: 1e-10, "T=\(t) L=\(layers) up to \(upTo)")
            for row in r { #expect(abs(row.reduce(0, +) - 1) < 1e-6) }
        }
    }

    @Test func rolloutRejectsBadShapes() throws {
        #expect(throws: ExplainMethodError.self) { try AttentionRollout.compute(layers: []) }
        #expect(throws: ExplainMethodError.self) { try AttentionRollout.compute(layers: [.zeros([2, 3, 4])]) }
        #expect(throws: ExplainMethodError.self) { try AttentionRollout.compute(layers: [.zeros([2, 3, 3]), .zeros([2, 4, 4])]) }
        #expect(throws: ExplainMethodError.self) { try AttentionRollout.compute(layers: [.zeros([2, 3, 3])], upTo: 1) }
    }

    /// CLRS's flow network (Figure 26.1): maximum flow 23.
    @Test func maxFlowOfTheTextbookNetwork() {
        let edges: [(Int, Int, Double)] = [(0, 1, 16), (0, 2, 13), (1, 3, 12), (2, 1, 4), (2, 4, 14), (3, 2, 9),
                                            (3, 5, 20), (4, 3, 7), (4, 5, 4)]
        var g = FlowGraph(nodes: 6)
        for (u, v, c) in edges { g.addEdge(u, v, c) }
        #expect(abs(g.maxFlow(from: 0, to: 5) - 23) < 1e-12)
        #expect(abs(g.maxFlow(from: 0, to: 5) - 23) < 1e-12, "capacities are restored between calls")
        #expect(bruteForceMinCut(nodes: 6, edges: edges, s: 0, t: 5) == 23)
        #expect(g.maxFlow(from: 5, to: 0) == 0)
    }

    /// A two-layer, two-token graph worked by hand: input 0 reaches output 0 by 0→0→0 (min(0.9, 0.8) = 0.8)
    /// and 0→1→0 (min(0.1, 0.2) = 0.1), so 0.9.
    @Test func maxFlowOfAHandMadeLayeredGraph() {
        let c: [[[Double]]] = [[[0.9, 0.1], [0.1, 0.9]], [[0.8, 0.2], [0.3, 0.7]]]
        let f = AttentionFlow.maxFlows(capacities: c)
        #expect(abs(f[0][0] - 0.9) < 1e-12)
        // input 1 → output 1: 1→1→1 min(0.9, 0.7) = 0.7, 1→0→1 min(0.1, 0.3) = 0.1.
        #expect(abs(f[1][1] - 0.8) < 1e-12)
    }

    /// Flow on random layered graphs equals the brute-force minimum cut for every input/output pair.
    @Test(arguments: [(2, 1), (3, 2), (3, 1), (2, 3)])
    func flowEqualsMinimumCut(_ c: (Int, Int)) throws {
        let (t, layers) = c
        var rng = SeededRNG(seed: UInt64(7 * t + layers))
        let a = try (0..<layers).map { _ in try randomAttention(heads: 2, tokens: t, rng: &rng) }
        let f = try AttentionFlow.compute(layers: a)
        var edges: [(Int, Int, Double)] = []
        for l in 0..<layers {
            let s = a[l].scalars
            for i in 0..<t { for j in 0..<t {
                let ahat = 0.5 * (Double(s[i * t + j]) + Double(s[(t + i) * t + j])) / 2 + (i == j ? 0.5 : 0)
                edges.append((l * t + j, (l + 1) * t + i, ahat))
            } }
        }
        for i in 0..<t { for j in 0..<t {
            let cut = bruteForceMinCut(nodes: (layers + 1) * t, edges: edges, s: j, t: layers * t + i)
            #expect(abs(f[i][j] - cut) < 1e-9, "T=\(t) L=\(layers) out \(i) in \(j): flow \(f[i][j]) vs cut \(cut)")
        } }
    }

    @Test func flowRefusesLongSentencesWithAClearMessage() throws {
        var rng = SeededRNG(seed: 99)
        let a = try randomAttention(heads: 1, tokens: 5, rng: &rng)
        #expect(throws: ExplainMethodError.self) { try AttentionFlow.compute(layers: [a], maxTokens: 4) }
        do {
            _ = try AttentionFlow.compute(layers: [a], maxTokens: 4)
        } catch {
            #expect("\(error)".contains("5 tokens") && "\(error)".contains("at most 4"))
        }
    }

    @Test(arguments: [(1, 1, 1, 4, 1), (3, 5, 2, 8, 2), (4, 7, 4, 12, 2), (5, 6, 4, 8, 4)])
    func valueNormMatchesTheContextFormulation(_ c: (Int, Int, Int, Int, Int)) throws {
        let (lq, lk, heads, dim, kvHeads) = c
        var rng = SeededRNG(seed: UInt64(lq * 31 + lk))
        let w = try (Tensor.randomNormal([heads, lq, lk], rng: &rng) * 2).softmax(axis: -1)   // [H, Lq, Lk]
        let d = dim / heads
        let x = Tensor.randomNormal([lk, 6], rng: &rng)                                      // [Lk, D_in]
        let wv = Tensor.randomNormal([kvHeads * d, 6], rng: &rng)
        let bv = Tensor.randomNormal([kvHeads * d], rng: &rng)
        let wo = Tensor.randomNormal([5, heads * d], rng: &rng)
        let n = try ValueNorm.compute(weights: w, input: x, valueWeight: wv, valueBias: bv, outputWeight: wo)
        let ref = referenceValueNorm(weights: w, input: x, wv: wv, bv: bv, wo: wo)
        expectMatrixClose(n.layer, ref.layer, atol: 1e-9, rtol: 1e-9, "layer")
        for h in 0..<heads { expectMatrixClose(n.perHead[h], ref.perHead[h], atol: 1e-9, rtol: 1e-9, "head \(h)") }
        #expect(throws: ExplainMethodError.self) {
            try ValueNorm.compute(weights: w, input: .zeros([lk + 1, 6]), valueWeight: wv, valueBias: bv, outputWeight: wo)
        }
    }

    @Test func gradRolloutMatchesTheDefinition() throws {
        var rng = SeededRNG(seed: 5)
        let a = try (0..<3).map { _ in try randomAttention(heads: 4, tokens: 6, rng: &rng) }
        let g = (0..<3).map { _ in Tensor.randomNormal([4, 6, 6], rng: &rng) }
        expectMatrixClose(try GradAttention.relevance(attentions: a, gradients: g), referenceGradRollout(a, g),
                          atol: 1e-12, rtol: 1e-10, "relevance")
        #expect(throws: ExplainMethodError.self) { try GradAttention.relevance(attentions: a, gradients: Array(g.prefix(2))) }
    }

    @Test func cosineGradientMatchesFiniteDifferences() throws {
        var rng = SeededRNG(seed: 11)
        let a0 = Tensor.randomNormal([3, 5], rng: &rng), b0 = Tensor.randomNormal([3, 5], rng: &rng)
        let tape = Tape()
        let a = tape.variable(a0), b = tape.variable(b0)
        let c = try Variable.cosineSimilarity(a, b)
        try tape.backward(c.sum())
        let ga = try #require(tape.gradient(a)).scalars, gb = try #require(tape.gradient(b)).scalars
        func f(_ x: Tensor, _ y: Tensor) throws -> Double {
            try Variable.cosineSimilarity(Variable(x), Variable(y)).value.scalars.reduce(0) { $0 + Double($1) }
        }
        let eps: Float = 1e-2
        for k in 0..<15 {
            var p = a0, m = a0
            p.scalars[k] += eps; m.scalars[k] -= eps
            let fd = (try f(p, b0) - f(m, b0)) / Double(2 * eps)
            #expect(abs(fd - Double(ga[k])) < 2e-3, "∂/∂a[\(k)]: fd \(fd) vs \(ga[k])")
            var pb = b0, mb = b0
            pb.scalars[k] += eps; mb.scalars[k] -= eps
            let fdb = (try f(a0, pb) - f(a0, mb)) / Double(2 * eps)
            #expect(abs(fdb - Double(gb[k])) < 2e-3, "∂/∂b[\(k)]: fd \(fdb) vs \(gb[k])")
        }
    }

    /// The differentiable BERT forward equals the inference forward on a random model.
    @Test func tracedBertEqualsTheFastForward() throws {
        let config = BertConfig(vocabSize: 50, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 24)
        let model = try BertModel(config: config, seed: 3)
        let ids = [[1, 7, 9, 30, 2], [1, 4, 4, 8, 2]]
        let fast = try model(ids: ids)                                                        // [2, 5, 16]
        let traced = try model.tracedForward(ids: ids, tape: nil)
        expectClose(traced.hidden.value, fast, atol: 1e-5, rtol: 1e-5)
        #expect(traced.attention.count == 2 && traced.attention[0].shape == [2, 4, 5, 5])
    }

    /// The decomposition of random vectors sums to their cosine; word pieces merge into words for highlighting.
    @Test func similarityDecompositionAndHighlight() throws {
        var rng = SeededRNG(seed: 21)
        let ha = (0..<4).map { _ in (0..<8).map { _ in rng.float() } }, hb = (0..<6).map { _ in (0..<8).map { _ in rng.float() } }
        let (cosine, c) = try SimilarityExplanation.decompose(hiddenA: ha, hiddenB: hb)
        func mean(_ v: [[Float]]) -> [Float] { (0..<8).map { k in v.reduce(0) { $0 + $1[k] } / Float(v.count) } }
        #expect(abs(cosine - Double(cosineSimilarity(mean(ha), mean(hb)))) < 1e-6)
        #expect(abs(c.flatMap { $0 }.reduce(0, +) - cosine) < 1e-12)
        let x = SimilarityExplanation(textA: "q", textB: "d", tokensA: ["[CLS]", "bin", "##ocular", "##s", "[SEP]"],
                                      tokensB: ["[CLS]", "cat", "[SEP]"],
                                      contributions: [[0.1, 0, 0], [0, 0.2, 0], [0, 0.05, 0], [0, 0.01, 0], [0, 0, 0.3]], cosine: 0.66)
        let h = MatchHighlight(x)
        #expect(h.queryWords.map(\.word) == ["[CLS]", "binoculars", "[SEP]"])
        #expect(abs(h.queryWords[1].contribution - 0.26) < 1e-12 && h.queryWords[0].isSpecial && !h.queryWords[1].isSpecial)
        #expect(MatchHighlight.render(h.queryWords, top: 1) == "[binoculars]")
        #expect(MatchHighlight.render(h.documentWords) == "[cat]")
        #expect(throws: ExplainMethodError.self) { try SimilarityExplanation.decompose(hiddenA: [], hiddenB: hb) }
    }

    /// The methods on a captured encoder-decoder-shaped trace: rollout composes the layers of one sequence only.
    @Test func methodsOnATraceChooseTheirLayers() throws {
        let trace = try Synthetic.trace()
        #expect(try ExplainMethods.chain(trace, upTo: 0) == [0])
        #expect(try ExplainMethods.chain(trace, upTo: 1) == [1], "the decoder's self-attention does not compose with the encoder's")
        #expect(throws: ExplainMethodError.self) { try ExplainMethods.chain(trace, upTo: 2) }
        let raw = try ExplainMethods.result(.raw, trace: trace, layer: 2, head: 1)
        #expect(raw.matrix == trace.layers[2].weightRows(head: 1) && raw.queryTokens == Synthetic.target && raw.keyTokens == Synthetic.source)
        let r = try ExplainMethods.result(.rollout, trace: trace, layer: 1, head: nil)
        expectMatrixClose(r.matrix.map { $0.map(Double.init) }, referenceRollout([trace.layers[1].weights], upTo: 0), atol: 1e-6, rtol: 0, "decoder rollout")
        for (i, row) in r.matrix.enumerated() { for (j, v) in row.enumerated() where j > i { #expect(v == 0) } }
        #expect(throws: ExplainMethodError.self) { try ExplainMethods.result(.valueNorm, trace: trace, layer: 0, head: nil) }
        #expect(throws: (any Error).self) { try ExplainMethods.result(.raw, trace: trace, layer: 3, head: 0) }
        #expect(throws: (any Error).self) { try ExplainMethods.result(.raw, trace: trace, layer: 0, head: 9) }
        let json = r.json.rendered()
        #expect(json.hasPrefix("{\"method\":\"rollout\",\"matrix\":[[") && json.contains("\"query_tokens\"") && json.contains("\"key_tokens\""))
    }
}

import AttendNN
import AttendTestSupport
import AttendViz
import Foundation
import Testing

/// Central finite differences of y with respect to attention weight (l, h, i, j), through the forward's offsets.
func attentionFiniteDifference(layers: Int, shape: [Int], l: Int, index: Int, eps: Float,
                               y: ([Tensor]) throws -> Double) throws -> Double {
    func offsets(_ delta: Float) -> [Tensor] {
        (0..<layers).map { k in
            var t = Tensor.zeros(shape)
            if k == l { t.scalars[index] = delta }
            return t
        }
    }
    return (try y(offsets(eps)) - y(offsets(-eps))) / Double(2 * eps)
}

/// Entries worth checking in one layer's gradient `[H, T, T]`: the three largest in magnitude and three random.
func checkedEntries(_ g: Tensor, rng: inout SeededRNG) -> [Int] {
    let s = g.scalars
    let top = s.indices.sorted { abs(s[$0]) > abs(s[$1]) }.prefix(3)
    let random = (0..<3).map { _ in Int(rng.nextUnit() * Float(s.count)) % s.count }
    return Array(top) + random
}

@Suite("Explanation methods on all-MiniLM-L6-v2", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct ExplainMethodsMiniLMTests {
    static func sentences() throws -> [String] {
        let s = try #require(minilmFixture?["sentences"] as? [[String: Any]], "../shared/fixtures/minilm-public.json is missing")
        return s.compactMap { $0["text"] as? String }
    }

    @Test(arguments: [0, 1, 4])
    func tracedForwardEqualsTheFastForward(_ index: Int) throws {
        let e = try MiniLM.embedder()
        let enc = e.tokenizer.encode(try Self.sentences()[index])
        let bert = try #require(e.model as? BertModel)
        let fast = try bert(ids: [enc.ids], typeIds: [enc.typeIds])                           // [1, T, 384]
        let traced = try bert.tracedForward(ids: [enc.ids], typeIds: [enc.typeIds], tape: nil)
        expectClose(traced.hidden.value, fast, atol: 1e-5, rtol: 1e-5)
        let (_, weights) = try e.attentions(try Self.sentences()[index])
        for l in 0..<6 { expectClose(try traced.attention[l].select(axis: 0, 0), weights[l], atol: 1e-5, rtol: 1e-5) }
    }

    @Test func rolloutAndFlowOnARealSentence() throws {
        let (enc, w) = try MiniLM.embedder().attentions(MiniLM.animal)
        for upTo in [0, 3, 5] {
            expectMatrixClose(try AttentionRollout.compute(layers: w, upTo: upTo), referenceRollout(w, upTo: upTo),
                              atol: 1e-12, rtol: 1e-9, "rollout up to \(upTo)")
        }
        // Flow: no flow exceeds 1 (the edges into an output node sum to 1); on a short sentence, flow equals the
        // brute-force minimum cut.
        let f = try AttentionFlow.compute(layers: w)
        #expect(f.count == enc.count)
        for row in f { #expect(row.allSatisfy { $0 >= 0 && $0 <= 1 + 1e-6 }, "\(row.max() ?? 0)") }  // Float32 rows sum to 1 ± 1e-7
        let (_, hw) = try MiniLM.embedder().attentions("Hello World")                         // 4 tokens
        let two = Array(hw.prefix(2))
        let hf = try AttentionFlow.compute(layers: two)
        var edges: [(Int, Int, Double)] = []
        for l in 0..<2 {
            let s = hw[l].scalars, t = 4
            for i in 0..<t { for j in 0..<t {
                var m = 0.0
                for h in 0..<12 { m += Double(s[(h * t + i) * t + j]) }
                edges.append((l * t + j, (l + 1) * t + i, 0.5 * m / 12 + (i == j ? 0.5 : 0)))
            } }
        }
        for i in 0..<4 { for j in 0..<4 {
            #expect(abs(hf[i][j] - bruteForceMinCut(nodes: 12, edges: edges, s: j, t: 8 + i)) < 1e-9)
        } }
    }

    /// Every method through the one entry point, on the captured trace of the tutorials' sentence.
    @Test func everyMethodThroughTheEntryPoint() throws {
        let e = try MiniLM.embedder()
        let trace = try MiniLM.trace()
        let (_, w) = try e.attentions(MiniLM.animal)
        let rollout = try ExplainMethods.result(.rollout, trace: trace, layer: 5, head: nil)
        expectMatrixClose(rollout.matrix.map { $0.map(Double.init) }, referenceRollout(w, upTo: 5), atol: 1e-6, rtol: 0, "rollout")
        let flow = try ExplainMethods.result(.flow, trace: trace, layer: 2, head: nil)
        expectMatrixClose(flow.matrix.map { $0.map(Double.init) }, try AttentionFlow.compute(layers: Array(w.prefix(3))), atol: 1e-6, rtol: 0, "flow")
        let vn = try ExplainMethods.result(.valueNorm, trace: trace, layer: 5, head: 11, model: e, text: MiniLM.animal)
        #expect(vn.head == 11 && abs(vn.matrix[10][2] - 4.059) < 1e-3, "“it” → animal in layer 5, head 11: \(vn.matrix[10][2])")
        #expect(throws: ExplainMethodError.self) { try ExplainMethods.result(.gradAttention, trace: trace, layer: 5, head: nil, model: e, text: MiniLM.animal) }
        let g = try ExplainMethods.result(.gradAttention, trace: trace, layer: 5, head: nil, model: e, text: MiniLM.animal,
                                          target: .similarity(to: "The tired animal stayed on this side of the road"))
        #expect(g.matrix.count == 15 && g.target?.hasPrefix("cosine similarity to") == true)
    }

    @Test(arguments: [0, 2])
    func valueNormMatchesTheReference(_ index: Int) throws {
        let e = try MiniLM.embedder()
        let sites = try e.valueSites(try Self.sentences()[index])
        #expect(sites.count == 6)
        // Layer 0 reads the embeddings, layer l the previous layer's output.
        let recorder = IntermediateRecorder { $0 == "embeddings" || $0 == "L4.hidden" }
        _ = try e.embedBatch([e.tokenizer.encode(try Self.sentences()[index])], observer: recorder)
        expectClose(sites[0].input, try #require(recorder["embeddings"]).select(axis: 0, 0), atol: 0, rtol: 0)
        expectClose(sites[5].input, try #require(recorder["L4.hidden"]).select(axis: 0, 0), atol: 0, rtol: 0)
        for l in [0, 5] {
            let att = e.model.attentionLayers[l]
            #expect(sites[l].attention === att)
            let n = try ValueNorm.compute(weights: sites[l].weights, input: sites[l].input, attention: att)
            let ref = referenceValueNorm(weights: sites[l].weights, input: sites[l].input, wv: att.vProj.weight.value,
                                         bv: att.vProj.bias?.value, wo: att.outProj.weight.value)
            expectMatrixClose(n.layer, ref.layer, atol: 1e-9, rtol: 1e-7, "layer \(l)")
            for h in [0, 7, 11] { expectMatrixClose(n.perHead[h], ref.perHead[h], atol: 1e-9, rtol: 1e-7, "layer \(l) head \(h)") }
        }
    }

    /// ∂cos/∂A_l from the tape equals central finite differences in every layer.
    @Test func gradAttentionGradientsMatchFiniteDifferences() throws {
        let e = try MiniLM.embedder()
        let text = "The cat sat on the mat", target = "The cat that I saw yesterday sat on the mat"
        let g = try GradAttention.gradients(embedder: e, text: text, target: target)
        let enc = e.tokenizer.encode(text)
        let targetVector = try e.embed([target])[0].vector
        #expect(abs(Double(g.output) - Double(cosineSimilarity(try e.embed([text])[0].vector, targetVector))) < 1e-5)
        let bert = try #require(e.model as? BertModel)
        func y(_ offsets: [Tensor]) throws -> Double {
            let run = try bert.tracedForward(ids: [enc.ids], typeIds: [enc.typeIds], tape: nil, attentionOffsets: offsets)
            let pooled = try run.hidden.mean(axis: 1)
            return Double(try Variable.cosineSimilarity(pooled, Variable(Tensor(shape: [1, 384], scalars: targetVector))).value.scalars[0])
        }
        var rng = SeededRNG(seed: 3)
        let shape = [1] + g.attention[0].shape
        for l in 0..<6 {
            for k in checkedEntries(g.gradients[l], rng: &rng) {
                let fd = try attentionFiniteDifference(layers: 6, shape: shape, l: l, index: k, eps: 2e-3, y: y)
                let analytic = Double(g.gradients[l].scalars[k])
                #expect(abs(fd - analytic) <= 3e-4 + 0.03 * abs(analytic), "layer \(l) entry \(k): fd \(fd) vs tape \(analytic)")
            }
        }
        let r = try GradAttention.relevance(attentions: g.attention, gradients: g.gradients)
        expectMatrixClose(r, referenceGradRollout(g.attention, g.gradients), atol: 1e-12, rtol: 1e-9, "relevance")
    }

    /// The n × m contributions sum to the cosine (within 1e-5) on every pair of the fixture sentences, and that
    /// cosine is the model's (and PyTorch's).
    @Test func similarityContributionsSumToTheCosine() throws {
        let e = try MiniLM.embedder()
        let texts = try Self.sentences()
        let pytorch = try #require(minilmFixture?["cosine_similarity"] as? [[Double]])
        let vectors = try e.embed(texts).map(\.vector)
        for a in texts.indices {
            for b in texts.indices where b > a {
                let x = try SimilarityExplanation.explain(embedder: e, texts[a], texts[b])
                #expect(x.contributions.count == x.tokensA.count && x.contributions.allSatisfy { $0.count == x.tokensB.count })
                #expect(abs(x.total - x.cosine) < 1e-5, "pair \(a),\(b): Σ \(x.total) vs cosine \(x.cosine)")
                #expect(abs(x.cosine - Double(cosineSimilarity(vectors[a], vectors[b]))) < 1e-5, "pair \(a),\(b) vs the embedder")
                #expect(abs(x.cosine - pytorch[a][b]) < 1e-4, "pair \(a),\(b) vs PyTorch \(pytorch[a][b])")
                let h = MatchHighlight(x)
                #expect(abs(h.queryWords.reduce(0) { $0 + $1.contribution } - x.cosine) < 1e-5)
                #expect(abs(h.documentWords.reduce(0) { $0 + $1.contribution } - x.cosine) < 1e-5)
            }
        }
    }

    /// Integrated gradients over the word embeddings: the gradient they integrate matches finite differences,
    /// and the attributions sum to y(x) − y(x′) within 1% of the score.
    @Test func integratedGradientsAreComplete() throws {
        let e = try MiniLM.embedder()
        let a = "The cat sat on the mat", b = "The cat that I saw yesterday sat on the mat"
        let r = try IntegratedGradients.similarity(embedder: e, a, b, steps: 32)
        for side in [r.a, r.b] {
            #expect(side.relativeCompletenessError < 0.01, "\(side.text): completeness error \(side.completenessError) of score \(side.score)")
            #expect(abs(side.score - 0.9027772) < 1e-4)
            #expect(side.attributions.first == 0 && side.attributions.last == 0, "[CLS] and [SEP] are kept in the baseline")
        }
        // ∂y/∂x of the word embeddings at the input, against central differences.
        let enc = e.tokenizer.encode(a)
        let target = try e.embed([b])[0].vector
        let bert = try #require(e.model as? BertModel)
        let x0 = try bert.embeddings.words([enc.ids])                                      // [1, T, 384]
        func y(_ x: Tensor, tape: Tape?) throws -> (Variable, Variable) {
            let input = tape?.variable(x) ?? Variable(x)
            let run = try bert.tracedForward(ids: [enc.ids], typeIds: [enc.typeIds], wordEmbeddings: input, tape: tape)
            return (try Variable.cosineSimilarity(run.hidden.mean(axis: 1), Variable(Tensor(shape: [1, 384], scalars: target))), input)
        }
        let tape = Tape()
        let (out, input) = try y(x0, tape: tape)
        try tape.backward(out)
        let grad = try #require(tape.gradient(input)).scalars
        var rng = SeededRNG(seed: 8)
        let top = grad.indices.sorted { abs(grad[$0]) > abs(grad[$1]) }.prefix(4)
        for k in Array(top) + (0..<4).map({ _ in 384 + Int(rng.nextUnit() * Float(384 * (enc.count - 2))) }) {
            var p = x0, m = x0
            p.scalars[k] += 1e-2; m.scalars[k] -= 1e-2
            let fd = (Double(try y(p, tape: nil).0.value.scalars[0]) - Double(try y(m, tape: nil).0.value.scalars[0])) / 2e-2
            #expect(abs(fd - Double(grad[k])) <= 2e-4 + 0.03 * abs(Double(grad[k])), "∂y/∂x[\(k)]: fd \(fd) vs tape \(grad[k])")
        }
    }
}

@Suite("Explanation methods on the embedded TinyGPT")
struct ExplainMethodsTinyGPTTests {
    static let ids = [5, 9, 13, 2, 7, 40, 5, 9, 13]   // a repeat: an induction head should predict 2 next
    static var tokens: [String] { ids.map(TinyGPT.syllable) }

    @Test func tracedForwardEqualsTheModel() throws {
        let gpt = try TinyGPT.demo()
        var ctx = ForwardContext.inference()
        let logits = try gpt([Self.ids], &ctx).value
        let traced = try gpt.tracedForward([Self.ids], tape: nil)
        expectClose(traced.logits.value, logits, atol: 1e-5, rtol: 1e-5)
    }

    @Test func rolloutFlowAndValueNormMatchTheReferences() throws {
        let gpt = try TinyGPT.demo()
        let run = try gpt.tracedForward([Self.ids], tape: nil)
        let w = try run.attention.map { try $0.select(axis: 0, 0) }
        expectMatrixClose(try AttentionRollout.compute(layers: w), referenceRollout(w, upTo: w.count - 1),
                          atol: 1e-12, rtol: 1e-9, "rollout")
        let r = try AttentionRollout.compute(layers: w)
        for i in r.indices { for j in r[i].indices where j > i { #expect(r[i][j] == 0, "causal: \(i) never reads \(j)") } }
        // Flow on the first 5 tokens (brute-force cut over 2^13 node sets).
        let short = try run.attention.map { try $0.select(axis: 0, 0) }.map { a -> Tensor in
            let (h, t) = (a.shape[0], 5)
            return try Tensor(shape: [h, t, t], scalars: (0..<(h * t * t)).map { a.scalars[($0 / (t * t) * a.shape[1] + $0 / t % t) * a.shape[2] + $0 % t] })
        }
        let prefixRun = try gpt.tracedForward([Array(Self.ids.prefix(5))], tape: nil)
        for l in short.indices { expectClose(short[l], try prefixRun.attention[l].select(axis: 0, 0), atol: 1e-5, rtol: 1e-5) }
        let f = try AttentionFlow.compute(layers: short)
        var edges: [(Int, Int, Double)] = []
        let layers = short.count, t = 5, heads = short[0].shape[0]
        for l in 0..<layers {
            for i in 0..<t { for j in 0..<t {
                var m = 0.0
                for h in 0..<heads { m += Double(short[l].scalars[(h * t + i) * t + j]) }
                edges.append((l * t + j, (l + 1) * t + i, 0.5 * m / Double(heads) + (i == j ? 0.5 : 0)))
            } }
        }
        for (i, j) in [(4, 0), (4, 3), (2, 2), (3, 1)] {
            let cut = bruteForceMinCut(nodes: (layers + 1) * t, edges: edges, s: j, t: layers * t + i)
            #expect(abs(f[i][j] - cut) < 1e-9, "flow \(i)←\(j): \(f[i][j]) vs cut \(cut)")
        }
        for l in 0..<layers {
            let att = gpt.blocks[l].attention
            let x = try run.valueInputs[l].select(axis: 0, 0)
            let n = try ValueNorm.compute(weights: w[l], input: x, attention: att)
            let ref = referenceValueNorm(weights: w[l], input: x, wv: att.vProj.weight.value, bv: att.vProj.bias?.value, wo: att.outProj.weight.value)
            expectMatrixClose(n.layer, ref.layer, atol: 1e-9, rtol: 1e-7, "value-norm layer \(l)")
        }
    }

    /// ∂ log p(next token)/∂A_l from the tape equals central finite differences in every layer.
    @Test func gradAttentionGradientsMatchFiniteDifferences() throws {
        let gpt = try TinyGPT.demo()
        let g = try GradAttention.gradients(gpt: gpt, ids: Self.ids, target: 2)
        func y(_ offsets: [Tensor]?) throws -> Double {
            let logits = try gpt.tracedForward([Self.ids], tape: nil, attentionOffsets: offsets).logits.value.scalars
            let v = gpt.config.vocabSize, last = Array(logits[((Self.ids.count - 1) * v)...])
            let m = Double(last.max() ?? 0)
            let lse = m + Foundation.log(last.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
            return Double(last[2]) - lse
        }
        #expect(abs(try y(nil) - Double(g.output)) < 1e-4, "log p from the tape's forward")
        var rng = SeededRNG(seed: 4)
        let shape = [1] + g.attention[0].shape
        for l in g.attention.indices {
            for k in checkedEntries(g.gradients[l], rng: &rng) {
                let fd = try attentionFiniteDifference(layers: g.attention.count, shape: shape, l: l, index: k, eps: 1e-3, y: y)
                let analytic = Double(g.gradients[l].scalars[k])
                #expect(abs(fd - analytic) <= 1e-3 + 0.03 * abs(analytic), "layer \(l) entry \(k): fd \(fd) vs tape \(analytic)")
            }
        }
        let r = try GradAttention.result(model: gpt, text: Self.tokens.joined(separator: " "), target: .nextToken("bi"))
        #expect(r.matrix.count == Self.ids.count && r.method == .gradAttention && g.tokens == Self.tokens)
        #expect(r.target?.hasPrefix("log p(bi) at the last position") == true)
        #expect(throws: (any Error).self) { try GradAttention.result(model: gpt, text: "de fe", target: .similarity(to: "x")) }
        let sites = try gpt.valueSites(Self.tokens.joined(separator: " "))
        #expect(sites.count == gpt.blocks.count && sites[0].queryTokens == Self.tokens)
    }
}

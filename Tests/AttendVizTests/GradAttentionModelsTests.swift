// Grad-attention through the model seam on all-mpnet-base-v2, SmolLM2-135M (Llama) and the demo translator:
// (a) each differentiable forward equals the model's own forward, (b) its ∂y/∂A equals central finite differences,
// (c) Chefer's R equals a plain-loop implementation written here.
import AttendModels
import AttendNN
import AttendTestSupport
import AttendViz
import Foundation
import Testing

/// Central finite difference of y with respect to entry `index` of site `site`, through the forward's offsets
/// (one zero tensor per site, shaped as that site's weights `[1, H, Lq, Lk]`).
func siteFiniteDifference(shapes: [[Int]], site: Int, index: Int, eps: Float, y: ([Tensor]) throws -> Double) throws -> Double {
    func offsets(_ delta: Float) -> [Tensor] {
        shapes.enumerated().map { k, shape in
            var t = Tensor.zeros(shape)
            if k == site { t.scalars[index] = delta }
            return t
        }
    }
    return (try y(offsets(eps)) - y(offsets(-eps))) / Double(2 * eps)
}

/// Checks ∂y/∂A of `sites` against central differences on the `top` largest entries and `random` random ones:
/// |fd − tape| ≤ atol + rtol·|tape|.
func checkAttentionGradients(_ g: AttentionGradients, sites: [Int], top: Int, random: Int, eps: Float, atol: Double, rtol: Double,
                             seed: UInt64, y: ([Tensor]) throws -> Double) throws {
    let shapes = g.attention.map { [1] + $0.shape }
    var rng = SeededRNG(seed: seed)
    for l in sites {
        let s = g.gradients[l].scalars
        #expect(s.contains { $0 != 0 }, "site \(l): ∂y/∂A is all zeros")
        var entries = Array(s.indices.sorted { abs(s[$0]) > abs(s[$1]) }.prefix(top))
        entries += (0..<random).map { _ in Int(rng.nextUnit() * Float(s.count)) % s.count }
        for k in entries {
            let fd = try siteFiniteDifference(shapes: shapes, site: l, index: k, eps: eps, y: y)
            let analytic = Double(s[k])
            #expect(abs(fd - analytic) <= atol + rtol * abs(analytic), "site \(l) entry \(k): fd \(fd) vs tape \(analytic)")
        }
    }
}

/// Chefer et al.'s relevance in plain loops and Double, on the sites `sites` (the specification):
/// R = I; for each site: Ā = mean_h (∂y/∂A ⊙ A)⁺, R ← R + Ā·R.
func plainLoopRelevance(_ g: AttentionGradients, sites: [Int]) -> [[Double]] {
    let t = g.attention[sites[0]].shape[1]
    var r = (0..<t).map { i in (0..<t).map { j in i == j ? 1.0 : 0.0 } }
    for l in sites {
        let (a, d, heads) = (g.attention[l].scalars, g.gradients[l].scalars, g.attention[l].shape[0])
        var bar = [[Double]](repeating: [Double](repeating: 0, count: t), count: t)
        for h in 0..<heads { for i in 0..<t { for j in 0..<t {
            let k = (h * t + i) * t + j
            bar[i][j] += max(0, Double(d[k]) * Double(a[k])) / Double(heads)
        } } }
        var next = r
        for i in 0..<t { for j in 0..<t { for k in 0..<t { next[i][j] += bar[i][k] * r[k][j] } } }
        r = next
    }
    return r
}

@Suite("Grad-attention on all-mpnet-base-v2", .serialized,
       .enabled(if: modelTestsEnabled("all-mpnet-base-v2"), "install the model: swift run attend models install all-mpnet-base-v2"))
struct GradAttentionMPNetTests {
    /// The copy ScoreBiasTraceTests loads (one MPNet per test process).
    static var loaded: Result<LoadedModel, Error> { ScoreBiasTraceTests.loaded }
    static func embedder() throws -> SentenceEmbedder { try #require(try loaded.get().model as? SentenceEmbedder) }
    static let text = "A cat sat on the mat", target = "The kitten is sleeping on a rug"

    /// (a) The hidden states and every layer's weights equal the inference forward's.
    @Test func tracedForwardEqualsTheForward() throws {
        let e = try Self.embedder()
        let mpnet = try #require(e.model as? MPNetModel)
        let enc = e.tokenizer.encode(Self.text)
        let recorder = IntermediateRecorder { $0.hasSuffix(".weights") }
        let fast = try mpnet(ids: [enc.ids], observer: recorder)                                   // [1, T, 768]
        let traced = try mpnet.tracedForward(ids: [enc.ids], tape: nil)
        expectClose(traced.hidden.value, fast, atol: 1e-4, rtol: 1e-4)
        for l in 0..<mpnet.layerCount {
            expectClose(traced.attention[l], try #require(recorder["L\(l).weights"]), atol: 1e-5, rtol: 1e-4)
        }
    }

    /// (b) ∂cos/∂A_l equals central finite differences in the first, a middle and the last layer; y is the cosine
    /// of the model's own embeddings.
    @Test func gradientsMatchFiniteDifferences() throws {
        let e = try Self.embedder()
        let mpnet = try #require(e.model as? MPNetModel)
        let g = try e.attentionGradients(Self.text, target: .similarity(to: Self.target))
        let cosine = cosineSimilarity(try e.embed([Self.text])[0].vector, try e.embed([Self.target])[0].vector)
        #expect(abs(Double(g.output) - Double(cosine)) < 1e-5, "y \(g.output) vs the embeddings' cosine \(cosine)")
        let enc = e.tokenizer.encode(Self.text)
        let targetVector = try e.embed([Self.target])[0].vector
        func y(_ offsets: [Tensor]) throws -> Double {
            let run = try mpnet.tracedForward(ids: [enc.ids], tape: nil, attentionOffsets: offsets)
            let pooled = try run.hidden.mean(axis: 1)                                                  // [1, 768]
            return Double(try Variable.cosineSimilarity(pooled, Variable(Tensor(shape: [1, 768], scalars: targetVector))).value.scalars[0])
        }
        try checkAttentionGradients(g, sites: [0, 6, 11], top: 3, random: 2, eps: 2e-3, atol: 3e-4, rtol: 0.03, seed: 5, y: y)
    }

    /// (c) Through the entry point, R equals the plain loops on the same gradients, layer by layer.
    @Test func relevanceThroughTheEntryPoint() throws {
        let loaded = try Self.loaded.get()
        let trace = try ExplainTrace.capture(loaded, text: Self.text)
        let e = try Self.embedder()
        let g = try e.attentionGradients(Self.text, target: .similarity(to: Self.target))
        for layer in [0, 11] {
            let r = try ExplainMethods.result(.gradAttention, trace: trace, layer: layer, head: nil, model: e, text: Self.text,
                                              target: .similarity(to: Self.target))
            #expect(r.queryTokens == trace.layers[layer].queryTokens && r.layer == layer)
            expectMatrixClose(r.matrix.map { $0.map(Double.init) }, plainLoopRelevance(g, sites: Array(0...layer)),
                              atol: 1e-5, rtol: 1e-5, "MPNet R after layer \(layer)")
        }
    }
}

/// The installed SmolLM2 GGUF.
let smolLM2GGUF = installedModelFolder("smollm2-135m").appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")

@Suite("Grad-attention on SmolLM2-135M (Llama)", .serialized,
       .enabled(if: isCI || FileManager.default.fileExists(atPath: smolLM2GGUF.path), "install with `attend models install smollm2-135m`"))
struct GradAttentionSmolLM2Tests {
    static let gguf = smolLM2GGUF
    /// The reference path (Float32 weights), loaded once for this suite.
    static let reference = Result { try LlamaModel.load(gguf, path: .reference) }
    static let text = "The cat sat on the"                                                         // 5 tokens

    /// (a) The last position's logits and every layer's weights equal the reference forward's.
    @Test func tracedForwardEqualsTheReferenceForward() throws {
        let model = try Self.reference.get()
        let ids = try model.ids(Self.text)
        #expect(ids.count <= 6)
        let recorder = IntermediateRecorder { $0.hasSuffix(".weights") }
        let logits = try model.forward(ids, cache: LlamaCache(config: model.config), observer: recorder)   // [V]
        let traced = try model.tracedForward(ids, tape: nil)
        // Logits are O(10); the two paths order their float32 sums differently over 30 layers.
        expectClose(try traced.logits.value.reshaped([model.config.vocabSize]), logits, atol: 2e-3, rtol: 1e-4)
        for l in [0, 14, 29] {
            expectClose(traced.attention[l], try #require(recorder["L\(l).weights"]), atol: 1e-5, rtol: 1e-4)
        }
    }

    /// (b) ∂ log p(" mat")/∂A_l equals central finite differences in three layers; (c) R equals the plain loops.
    @Test func gradientsMatchFiniteDifferencesAndRelevanceTheLoops() throws {
        let model = try Self.reference.get()
        let ids = try model.ids(Self.text)
        let target = try model.targetTokenID(" mat")
        let g = try model.attentionGradients(Self.text, target: .nextToken(" mat"))
        let logits = try model.forward(ids, cache: LlamaCache(config: model.config)).scalars
        let m = Double(logits.max() ?? 0)
        let logProb = Double(logits[target]) - m - log(logits.reduce(0.0) { $0 + exp(Double($1) - m) })
        #expect(abs(Double(g.output) - logProb) < 1e-3, "y \(g.output) vs log p from the forward \(logProb)")
        func y(_ offsets: [Tensor]) throws -> Double {
            let z = try model.tracedForward(ids, tape: nil, attentionOffsets: offsets).logits.value.scalars
            let m = Double(z.max() ?? 0)
            return Double(z[target]) - m - log(z.reduce(0.0) { $0 + exp(Double($1) - m) })
        }
        try checkAttentionGradients(g, sites: [0, 15, 29], top: 2, random: 1, eps: 4e-3, atol: 5e-3, rtol: 0.05, seed: 9, y: y)
        let r = try GradAttention.result(g, sites: Array(0...29))
        expectMatrixClose(r.matrix.map { $0.map(Double.init) }, plainLoopRelevance(g, sites: Array(0...29)), atol: 1e-4, rtol: 1e-5, "SmolLM2 R")
        #expect(g.tokens == ids.map(model.tokenText))
    }

    /// A target that is not one token, or a text beyond the bound, is refused with a message that says why.
    @Test func refusals() throws {
        let model = try Self.reference.get()
        #expect(throws: ModelError.self) { try model.targetTokenID(" unbelievably") }
        let long = Array(repeating: 100, count: LlamaModel.maxExplainTokens + 1)
        do {
            _ = try model.tracedForward(long, tape: nil)
            Issue.record("a text of \(long.count) tokens was accepted")
        } catch {
            #expect("\(error)".contains("at most \(LlamaModel.maxExplainTokens) tokens"))
        }
    }
}

@Suite("Grad-attention on the demo translator")
struct GradAttentionTranslatorTests {
    static let loaded = Result { try ModelRegistry.load(folder: DemoModels.folder(named: "tiny-translator")!, name: "tiny-translator") }
    static func translator() throws -> TinyTranslator { try #require(try loaded.get().model as? TinyTranslator) }
    static let text = "the small dog sees the red car"

    /// (a) Logits and every site's weights equal the translator's own forward.
    @Test func tracedForwardEqualsTheForward() throws {
        let m = try Self.translator()
        let source = m.sourceVocabulary.encode(try m.tokens(Self.text))
        let target = m.targetVocabulary.encode(["<bos>"] + (try m.translate([Self.text])[0].target))
        let recorder = IntermediateRecorder { $0.hasSuffix(".weights") }
        var ctx = ForwardContext.inference(observer: recorder)
        let logits = try m(source: [source], targetIn: [target], &ctx)                              // [1, T, V]
        let traced = try m.tracedForward(source: source, targetIn: target, tape: nil)
        expectClose(traced.logits.value, logits.value, atol: 1e-5, rtol: 1e-5)
        let names = m.attentionSites.map { $0.name + ".weights" }
        #expect(traced.attention.count == names.count)
        for (i, name) in names.enumerated() { expectClose(traced.attention[i], try #require(recorder[name]), atol: 1e-6, rtol: 1e-5) }
    }

    /// (b) ∂ log p(word)/∂A of every site, cross-attention included, equals central finite differences.
    @Test func gradientsMatchFiniteDifferences() throws {
        let m = try Self.translator()
        let translation = try m.translate([Self.text])[0].target
        let word = translation[2], p = try #require(translation.firstIndex(of: word))
        let g = try m.attentionGradients(Self.text, target: .nextToken(word))
        let source = m.sourceVocabulary.encode(try m.tokens(Self.text))
        let decoderIn = ["<bos>"] + translation
        let target = m.targetVocabulary.encode([word])[0]
        func y(_ offsets: [Tensor]) throws -> Double {
            let z = try m.tracedForward(source: source, targetIn: m.targetVocabulary.encode(decoderIn), tape: nil,
                                        attentionOffsets: offsets).logits.value                    // [1, T, V]
            let v = m.config.targetVocabSize
            let row = Array(z.scalars[(p * v)..<((p + 1) * v)])                                      // position p predicts word p
            let mx = Double(row.max() ?? 0)
            return Double(row[target]) - mx - log(row.reduce(0.0) { $0 + exp(Double($1) - mx) })
        }
        #expect(g.target.contains("position \(p)"))
        try checkAttentionGradients(g, sites: Array(0..<m.attentionSites.count), top: 3, random: 2, eps: 1e-3,
                                    atol: 2e-4, rtol: 0.02, seed: 11, y: y)
        // Causality: decoder positions after the explained one do not reach y.
        let selfSite = try #require(m.attentionSites.firstIndex { $0.name == "decoder.L1.self_attn" })
        let gs = g.gradients[selfSite], t = decoderIn.count
        for h in 0..<gs.shape[0] { for i in (p + 1)..<t { for j in 0..<t { #expect(gs.scalars[(h * t + i) * t + j] == 0) } } }
    }

    /// (c) The decoder's and the encoder's compositions through the entry point equal the plain loops on those sites.
    @Test func relevanceComposesEachSequence() throws {
        let loaded = try Self.loaded.get()
        let m = try Self.translator()
        let trace = try ExplainTrace.capture(loaded, text: Self.text)
        let word = try m.translate([Self.text])[0].target[1]
        let g = try m.attentionGradients(Self.text, target: .nextToken(word))
        let sites = m.attentionSites
        let decoderSelf = sites.indices.filter { sites[$0].kind == .causalSelfAttention }
        let encoderSelf = sites.indices.filter { sites[$0].kind == .selfAttention }
        for (layer, chain) in [(decoderSelf.last!, decoderSelf), (encoderSelf.last!, encoderSelf)] {
            let r = try ExplainMethods.result(.gradAttention, trace: trace, layer: layer, head: nil, model: m, text: Self.text,
                                              target: .nextToken(word))
            #expect(r.queryTokens == trace.layers[layer].queryTokens && r.layer == layer)
            expectMatrixClose(r.matrix.map { $0.map(Double.init) }, plainLoopRelevance(g, sites: chain), atol: 1e-5, rtol: 1e-5,
                              "translator R over \(chain)")
            // The decoder's chain skips the cross-attention sites between its layers, and the notes say so.
            #expect(r.notes.contains { $0.hasPrefix("composed over") } == (chain != Array(0...layer)))
        }
        // Cross-attention is not a step of a composition; a word outside the translation is refused.
        let cross = try #require(sites.firstIndex { $0.kind == .crossAttention })
        #expect(throws: ExplainMethodError.self) {
            try ExplainMethods.result(.gradAttention, trace: trace, layer: cross, head: nil, model: m, text: Self.text, target: .nextToken(word))
        }
        #expect(throws: ModelError.self) { try m.attentionGradients(Self.text, target: .nextToken("zzz")) }
        #expect(throws: ModelError.self) { try m.attentionGradients(Self.text, target: .similarity(to: "x")) }
    }
}

@Suite("Decoder ops on the tape (RMSNorm, SiLU, repeated heads)")
struct DecoderOpsGradientTests {
    /// Each op's backward equals central finite differences of Σ c ⊙ op(x) in Double-checked tolerances.
    @Test(arguments: ["rmsNorm", "silu", "repeatedHeads"])
    func backwardMatchesFiniteDifferences(_ op: String) throws {
        var rng = SeededRNG(seed: 21)
        let shape = op == "repeatedHeads" ? [2, 3, 5, 4] : [3, 7]
        let n = shape.reduce(1, *)
        let x0 = (0..<n).map { _ in rng.nextUnit() * 4 - 2 }
        let gamma = (0..<7).map { _ in rng.nextUnit() + 0.5 }
        func apply(_ x: Variable) throws -> Variable {
            switch op {
            case "rmsNorm": return try x.rmsNorm(weight: Variable(Tensor(shape: [7], scalars: gamma)), eps: 1e-5)
            case "silu": return x.silu()
            default: return try x.repeatedHeads(3)
            }
        }
        let outCount = try apply(Variable(Tensor(shape: shape, scalars: x0))).value.count
        let c = (0..<outCount).map { _ in rng.nextUnit() - 0.5 }
        func y(_ x: [Float]) throws -> Double {
            let out = try apply(Variable(Tensor(shape: shape, scalars: x))).value.scalars
            return zip(out, c).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let tape = Tape()
        let x = tape.variable(try Tensor(shape: shape, scalars: x0))
        let out = try apply(x)
        try tape.backward((out * Variable(Tensor(shape: out.shape, scalars: c))).sum())
        let grad = try #require(tape.gradient(x)).scalars
        let eps: Float = 1e-2
        for k in 0..<n {
            var plus = x0, minus = x0
            plus[k] += eps; minus[k] -= eps
            let fd = (try y(plus) - y(minus)) / Double(2 * eps)
            #expect(abs(fd - Double(grad[k])) <= 2e-3 + 1e-2 * abs(fd), "\(op) entry \(k): fd \(fd) vs tape \(grad[k])")
        }
        if op == "repeatedHeads" {
            // Output head h is input head h / 3.
            let v = out.value
            for h in 0..<9 { #expect(Array(v.scalars[(h * 20)..<(h * 20 + 20)]) == Array(x0[((h / 3) * 20)..<((h / 3) * 20 + 20)])) }
        }
    }
}

import AttendNN
import AttendTestSupport
import AttendViz
import Foundation
import Testing

/// The per-family capture code as it was before the model seam, kept here as the reference the generic capture must
/// reproduce exactly (same layers, labels, kinds, tokens, masks and numbers).
enum PerFamilyCapture {
    static func bert(_ embedder: SentenceEmbedder, text: String) throws -> ExplainTrace {
        let encoding = embedder.tokenizer.encode(text, maxLength: embedder.maxSeqLength)
        let capture = AttentionCapture(vectors: true)
        _ = try embedder.model.encode(ids: [encoding.ids], typeIds: [Array(repeating: 0, count: encoding.ids.count)], attentionMask: nil, observer: capture)
        let layers = try (0..<embedder.model.layerCount).map { i in
            try capture.layer("L\(i)", label: "layer \(i)", kind: .selfAttention, queryTokens: encoding.tokens, keyTokens: encoding.tokens)
        }
        let embeddings = try capture["embeddings"].map { try $0.select(axis: 0, 0) }
        return ExplainTrace(model: "m", text: text, tokens: encoding.tokens, embeddings: embeddings, layers: layers,
                            wasTruncated: encoding.wasTruncated)
    }

    static func translator(_ translator: TinyTranslator, sourceTokens: [String], targetTokens: [String]) throws -> ExplainTrace {
        let src = translator.sourceVocabulary.encode(sourceTokens), tgt = translator.targetVocabulary.encode(targetTokens)
        let capture = AttentionCapture(vectors: false)
        var ctx = ForwardContext.inference(observer: capture)
        _ = try translator(source: [src], targetIn: [tgt], &ctx)
        let real = src.map { $0 != WordVocabulary.pad }
        let padded = real.contains(false)
        let (s, t) = (src.count, tgt.count)
        var layers: [AttentionLayerTrace] = []
        for i in 0..<translator.config.encoderLayers {
            layers.append(try capture.layer("encoder.L\(i).self_attn", label: "encoder \(i) · self", kind: .selfAttention,
                                            queryTokens: sourceTokens, keyTokens: sourceTokens,
                                            mask: padded ? Array(repeating: real, count: s) : nil))
        }
        let causal = (0..<t).map { i in (0..<t).map { $0 <= i } }
        let pooled = translator.config.isBottleneck
        for i in 0..<translator.config.decoderLayers {
            layers.append(try capture.layer("decoder.L\(i).self_attn", label: "decoder \(i) · self", kind: .causalSelfAttention,
                                            queryTokens: targetTokens, keyTokens: targetTokens, mask: causal))
            layers.append(try capture.layer("decoder.L\(i).encoder_attn", label: "decoder \(i) · cross", kind: .crossAttention,
                                            queryTokens: targetTokens, keyTokens: pooled ? ["⟨pooled source⟩"] : sourceTokens,
                                            mask: padded && !pooled ? Array(repeating: real, count: t) : nil))
        }
        return ExplainTrace(model: "m", text: sourceTokens.joined(separator: " "), tokens: sourceTokens, layers: layers)
    }

    /// Same layers, labels, kinds, tokens and masks; weights (and q/k/v/context when both have them) bit-identical.
    static func expectEqual(_ a: ExplainTrace, _ b: ExplainTrace, vectors: Bool) {
        #expect(a.tokens == b.tokens && a.text == b.text && a.wasTruncated == b.wasTruncated)
        #expect(a.embeddings?.scalars == b.embeddings?.scalars && a.embeddings?.shape == b.embeddings?.shape)
        #expect(a.layers.count == b.layers.count)
        for (x, y) in zip(a.layers, b.layers) {
            #expect(x.name == y.name && x.label == y.label && x.kind == y.kind, "\(x.name)")
            #expect(x.queryTokens == y.queryTokens && x.keyTokens == y.keyTokens && x.mask == y.mask, "\(x.name)")
            #expect(x.weights.shape == y.weights.shape && x.weights.scalars == y.weights.scalars, "\(x.name) weights")
            if vectors {
                for (p, q) in [(x.q, y.q), (x.k, y.k), (x.v, y.v), (x.context, y.context)] {
                    #expect(p != nil && p?.shape == q?.shape && p?.scalars == q?.scalars, "\(x.name) vectors")
                }
            }
        }
    }
}

@Suite("Generic capture through AttendModel equals the per-family capture")
struct GenericCaptureTests {
    @Test(arguments: [false, true])
    func translatorWithAndWithoutPadding(_ padded: Bool) throws {
        let model = try TinyTranslator(seed: 5)
        let source = Array(TranslationCorpus.sourceWords.prefix(5)) + (padded ? ["<pad>", "<pad>"] : [])
        let target = ["<bos>"] + Array(TranslationCorpus.targetWords.prefix(4))
        let old = try PerFamilyCapture.translator(model, sourceTokens: source, targetTokens: target)
        let generic = try ExplainTrace.capture(sites: model.attentionSites, modelName: "m", vectors: false) { observer in
            try model.runAttention(sourceTokens: source, targetTokens: target, observer: observer)
        }
        PerFamilyCapture.expectEqual(generic, old, vectors: false)
        // The compatibility wrapper is the generic capture too.
        PerFamilyCapture.expectEqual(try ExplainTrace.capture(translator: model, sourceTokens: source, targetTokens: target, modelName: "m"),
                                     old, vectors: false)
    }

    @Test func bottleneckCrossAttentionHasOnePooledColumn() throws {
        let model = try TinyTranslator(bottleneck: true, seed: 2)
        let source = Array(TranslationCorpus.sourceWords.prefix(3)), target = ["<bos>", TranslationCorpus.targetWords[0]]
        let old = try PerFamilyCapture.translator(model, sourceTokens: source, targetTokens: target)
        let generic = try ExplainTrace.capture(translator: model, sourceTokens: source, targetTokens: target, modelName: "m")
        PerFamilyCapture.expectEqual(generic, old, vectors: false)
        #expect(generic.layers.last?.keyTokens == ["⟨pooled source⟩"])
    }

    /// The demo translator now reports q, k, v and context, so the step-by-step head trace works, and its plain
    /// recomputation from Q and K lands on the model's own weights and output.
    @Test func translatorReportsVectorsForTheStepByStepText() throws {
        let model = try TinyTranslator(seed: 7)
        let source = Array(TranslationCorpus.sourceWords.prefix(4)) + ["<pad>"]
        let target = ["<bos>"] + Array(TranslationCorpus.targetWords.prefix(3))
        let trace = try ExplainTrace.capture(sites: model.attentionSites, modelName: "m") { observer in
            try model.runAttention(sourceTokens: source, targetTokens: target, observer: observer)
        }
        for layer in trace.layers {
            for h in 0..<layer.heads {
                let head = try layer.head(h)
                #expect(head.recomputationError <= 1e-5, "\(layer.name) head \(h): \(head.recomputationError)")
            }
        }
    }

    @Test func tinyGPTReportsVectorsAfterRotaryPositions() throws {
        let model = try TinyGPT(config: TinyGPTConfig(vocabSize: 64, maxPositionEmbeddings: 16, hiddenSize: 32, numLayers: 2, numHeads: 2), seed: 4)
        let trace = try ExplainTrace.capture(model: model, text: "na ro zi na ro", modelName: "m")
        #expect(trace.tokens == ["na", "ro", "zi", "na", "ro"])
        #expect(trace.layers.map(\.kind) == [.causalSelfAttention, .causalSelfAttention])
        for layer in trace.layers {
            #expect(layer.mask == (0..<5).map { i in (0..<5).map { $0 <= i } })
            for h in 0..<layer.heads { #expect(try layer.head(h).recomputationError <= 1e-5, "\(layer.name) head \(h)") }
        }
    }
}

@Suite("Generic capture on all-MiniLM-L6-v2", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct GenericCaptureMiniLMTests {
    @Test func equalsThePerFamilyCapture() throws {
        let embedder = try MiniLM.embedder()
        let old = try PerFamilyCapture.bert(embedder, text: MiniLM.animal)
        var generic = try ExplainTrace.capture(model: embedder, text: MiniLM.animal, modelName: "m")
        PerFamilyCapture.expectEqual(generic, old, vectors: true)
        generic = try ExplainTrace.capture(embedder: embedder, text: MiniLM.animal, modelName: "m")
        PerFamilyCapture.expectEqual(generic, old, vectors: true)
    }
}

@Suite("Explaining the embedded demo models")
struct DemoExplainTests {
    @Test func translatorShowsSourceAndTargetTokens() throws {
        let folder = try #require(DemoModels.folder(named: "tiny-translator"))
        let loaded = try ModelRegistry.load(folder: folder, name: "tiny-translator")
        let trace = try ExplainTrace.capture(loaded, text: "the small dog sees the red car")
        #expect(trace.tokens == ["the", "small", "dog", "sees", "the", "red", "car"])
        #expect(trace.layers.map(\.label) == ["encoder 0 · self", "encoder 1 · self", "decoder 0 · self", "decoder 0 · cross",
                                              "decoder 1 · self", "decoder 1 · cross"])
        let cross = try trace.layer(5)
        #expect(cross.queryTokens == ["<bos>", "le", "petit", "chien", "voit", "la", "voiture", "rouge"], "its own greedy translation")
        #expect(cross.keyTokens == trace.tokens && cross.mask == nil)
        #expect(try trace.layer(2).mask?[0] == [true] + Array(repeating: false, count: 7), "causal")
    }

    /// The induction head of the demo TinyGPT (layer 1, head 0): at the second "na" it looks at the token after the
    /// first "na" ("ro"), and so on along the repeat.
    @Test func tinyGPTShowsTheInductionHead() throws {
        let folder = try #require(DemoModels.folder(named: "tiny-gpt"))
        let trace = try ExplainTrace.capture(ModelRegistry.load(folder: folder), text: "na ro zi li bo si va ba na ro zi")
        let rows = try trace.layer(1).weightRows(head: 0)
        for (query, expectedKey) in [(8, 1), (9, 2), (10, 3)] {
            let best = rows[query].indices.max { rows[query][$0] < rows[query][$1] }
            #expect(best == expectedKey, "query \(query) looks at \(String(describing: best)): \(rows[query])")
        }
    }
}

extension BrowserTests {
    /// The page `attend explain "the small dog sees the red car" --model tiny-translator --format html` writes.
    @Test func translatorDemoPageIsDrawnAndInteractive() throws {
        let folder = try #require(DemoModels.folder(named: "tiny-translator"))
        let trace = try ExplainTrace.capture(ModelRegistry.load(folder: folder, name: "tiny-translator"), text: "the small dog sees the red car")
        let html = try HTMLReport(trace: trace, layer: trace.layers.count - 1, head: 0, focus: nil).render()
        let url = try page(html, name: "tiny-translator.html")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        guard let t = try selfTest(url) else { return }
        expectInteractive(t, "tiny-translator")
    }
}

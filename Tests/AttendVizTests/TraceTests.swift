import AttendNN
import AttendTestSupport
import AttendViz
import Foundation
import Testing

@Suite("Explain traces captured from all-MiniLM-L6-v2", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct MiniLMTraceTests {
    /// Every layer's and head's weights, captured through the observer, equal PyTorch's.
    @Test func capturedWeightsEqualTheFixture() throws {
        let trace = try MiniLM.trace()
        let s = try MiniLM.fixtureSentence(1)
        #expect(trace.tokens == (s["tokens"] as? [String]))
        let expected = try #require(s["attentions"] as? [Any])
        #expect(trace.layers.count == 6)
        for (l, layer) in trace.layers.enumerated() {
            #expect(layer.heads == 12 && layer.kind == .selfAttention && layer.mask == nil)
            expectClose(layer.weights.scalars, flattenFloats(expected[l]), atol: 1e-5, rtol: 1e-4, "layer \(l) weights")
        }
    }

    /// The tutorials' example: in layer 5, head 11, "it" gives about 0.65 to "animal" and 0.02 to "street".
    @Test func itAttendsToAnimal() throws {
        let trace = try MiniLM.trace()
        let h = try trace.layer(5).head(11)
        let it = try ExplainTrace.findToken("it", in: h.queryTokens).index
        let animal = try ExplainTrace.findToken("animal", in: h.keyTokens).index
        let street = try ExplainTrace.findToken("street", in: h.keyTokens).index
        #expect(abs(h.weights[it, animal] - 0.6466076) < 1e-5)
        #expect(abs(h.weights[it, street] - 0.02236) < 1e-5)
    }

    /// Scores recomputed from the observed Q and K reproduce the model's own weights and output.
    @Test(arguments: [(0, 0), (2, 7), (5, 11)])
    func headTraceIsConsistent(_ lh: (Int, Int)) throws {
        let trace = try MiniLM.trace()
        let h = try trace.layer(lh.0).head(lh.1)
        #expect(h.dk == 32 && h.q.shape == [15, 32] && h.k.shape == [15, 32] && h.v.shape == [15, 32])
        #expect(abs(h.scale - 1 / Float(32).squareRoot()) < 1e-7)
        #expect(h.recomputationError < 1e-5, "recomputed vs model: \(h.recomputationError)")
        // scaled = scores × scale, and softmax of the scaled rows is the weights.
        for i in 0..<15 {
            let row = (0..<15).map { Double(h.scaledScores[i, $0]) }
            let m = row.max() ?? 0
            let e = row.map { exp($0 - m) }
            let z = e.reduce(0, +)
            expectClose(e.map { Float($0 / z) }, (0..<15).map { h.weights[i, $0] }, atol: 1e-5, rtol: 1e-4, "softmax row \(i)")
            expectClose((0..<15).map { h.scores[i, $0] * h.scale }, (0..<15).map { h.scaledScores[i, $0] }, atol: 1e-5, rtol: 1e-5)
        }
        // output = weights · V
        for i in 0..<15 {
            let o = (0..<32).map { d in (0..<15).reduce(Float(0)) { $0 + h.weights[i, $1] * h.v[$1, d] } }
            expectClose(o, (0..<32).map { h.output[i, $0] }, atol: 1e-4, rtol: 1e-4, "output row \(i)")
        }
        #expect(trace.embeddings?.shape == [15, 384])
    }
}

@Suite("Explain traces: model-free")
struct TraceTests {
    /// An encoder-decoder captured through MultiHeadAttention: separate query and key tokens, masks carried.
    @Test func crossAttentionTraceCarriesTwoTokenListsAndAMask() throws {
        let trace = try Synthetic.trace()
        let cross = try trace.layer(2)
        #expect(cross.kind == .crossAttention)
        #expect(cross.queryTokens == Synthetic.target && cross.keyTokens == Synthetic.source)
        #expect(cross.weights.shape == [2, 5, 6])
        for h in 0..<2 {
            for (i, row) in cross.weightRows(head: h).enumerated() {
                #expect(row[5] == 0, "padding key gets no weight")
                #expect(abs(row.reduce(0, +) - 1) < 1e-5, "row \(i) sums to 1")
            }
        }
        let causal = try trace.layer(1)
        for (i, row) in causal.weightRows(head: 1).enumerated() {
            #expect(row[(i + 1)...].allSatisfy { $0 == 0 }, "causal row \(i)")
        }
        let h = try cross.head(1)
        #expect(h.maskedScores?[0, 5] == -.infinity)
        #expect(h.recomputationError < 1e-5)
        #expect(h.q.shape == [5, 4] && h.k.shape == [6, 4] && h.v.shape == [6, 4] && h.output.shape == [5, 4])
    }

    @Test func invalidTracesAreTypedErrors() throws {
        let w = Tensor.zeros([2, 3, 4])
        #expect(throws: VizError.self) {
            try AttentionLayerTrace(name: "x", label: "x", kind: .selfAttention, queryTokens: ["a", "b"], keyTokens: ["a", "b", "c", "d"], weights: w)
        }
        #expect(throws: VizError.self) {
            try AttentionLayerTrace(name: "x", label: "x", kind: .crossAttention, queryTokens: ["a", "b", "c"], keyTokens: ["a", "b", "c", "d"],
                                    weights: w, mask: [[true]])
        }
        let ok = try AttentionLayerTrace(name: "x", label: "x", kind: .crossAttention, queryTokens: ["a", "b", "c"],
                                         keyTokens: ["a", "b", "c", "d"], weights: w)
        #expect(throws: VizError.missingIntermediate("x.q/.k/.v (the model did not report them)")) { try ok.head(0) }
        #expect(throws: VizError.headOutOfRange(2, heads: 2)) { try ok.head(2) }
        let trace = ExplainTrace(model: "m", text: "t", tokens: ["a"], layers: [ok])
        #expect(throws: VizError.layerOutOfRange(1, layers: 1)) { try trace.layer(1) }
        #expect(VizError.layerOutOfRange(6, layers: 6).description == "layer 6 is out of range: this model has 6 layers, numbered 0…5")
        #expect(throws: VizError.missingIntermediate("L9.weights")) {
            try AttentionCapture().layer("L9", label: "", kind: .selfAttention, queryTokens: [], keyTokens: [])
        }
    }

    @Test func findsTokensByTextOrIndex() throws {
        let tokens = ["[CLS]", "the", "animal", "didn", "'", "t", "the", "tire", "##d", "[SEP]"]
        #expect(try ExplainTrace.findToken("animal", in: tokens) == (2, [2]))
        #expect(try ExplainTrace.findToken("The", in: tokens).occurrences == [1, 6])
        #expect(try ExplainTrace.findToken("7", in: tokens).index == 7)
        #expect(try ExplainTrace.findToken("d", in: tokens).index == 8)
        #expect(throws: VizError.tokenIndexOutOfRange(10, count: 10)) { try ExplainTrace.findToken("10", in: tokens) }
        #expect(throws: VizError.self) { try ExplainTrace.findToken("zebra", in: tokens) }
    }

    @Test func headSummaryNamesKnownPatterns() throws {
        let trace = try Synthetic.patterned(n: 12)
        let s = HeadSummary.all(trace)[0]
        #expect(s[0].mostly == .previous && abs(s[0].mostlyShare - 10.0 / 12) < 1e-9, "rows 0 and 1 look at [CLS], which counts first")
        #expect(s[1].mostly == .cls && abs(s[1].mostlyShare - 1) < 1e-9)
        #expect(s[2].mostly == .itself && s[2].entropy == 0 && abs(s[2].mostlyShare - 10.0 / 12) < 1e-9)
        #expect(s[3].mostly == .other)
        #expect(abs(s[3].entropy - log2(12)) < 1e-5 && abs(s[3].maxEntropy - log2(12)) < 1e-9)
        #expect(HeadSummary.classify(",") == .punctuation && HeadSummary.classify("[SEP]") == .sep && HeadSummary.classify("##s") == nil)
        // Cross-attention has no self/previous/next.
        let cross = HeadSummary(layer: try Synthetic.trace().layer(2), layerIndex: 2, head: 0)
        #expect(cross.shares[.previous] == nil && cross.shares[.sep] != nil)
    }

    @Test func elisionKeepsEndsAndRequestedIndices() {
        #expect(VizFormat.elided(count: 10, budget: 16) == Array(0..<10))
        let e = VizFormat.elided(count: 256, budget: 16, keep: [100, 200])
        #expect(e.count <= 16 && e.contains(0) && e.contains(255) && e.contains(100) && e.contains(200))
        #expect(e == e.sorted())
    }
}

@Suite("Explain traces of the encoder-decoder translator")
struct TranslatorTraceTests {
    /// An untrained TinyTranslator: the capture goes through its observer names and the views draw decoder × encoder.
    @Test func crossAttentionOfTheTranslator() throws {
        let model = try TinyTranslator(seed: 3)
        let source = Array(TranslationCorpus.sourceWords.prefix(4)) + ["<eos>", "<pad>"]
        let target = ["<bos>"] + Array(TranslationCorpus.targetWords.prefix(3))
        let trace = try ExplainTrace.capture(translator: model, sourceTokens: source, targetTokens: target, modelName: "tiny-translator")
        let c = model.config
        #expect(trace.layers.count == c.encoderLayers + 2 * c.decoderLayers)
        let cross = try #require(trace.layers.first { $0.kind == .crossAttention })
        #expect(cross.queryTokens == target && cross.keyTokens == source)
        #expect(cross.weights.shape == [c.attentionHeads, target.count, source.count])
        for h in 0..<cross.heads { #expect(cross.weightRows(head: h).allSatisfy { $0[5] == 0 }, "<pad> is masked") }
        #expect(cross.mask?.allSatisfy { $0 == [true, true, true, true, true, false] } == true)
        let decoderSelf = try #require(trace.layers.first { $0.kind == .causalSelfAttention })
        #expect(decoderSelf.weightRows(head: 0)[0].dropFirst().allSatisfy { $0 == 0 }, "causal")
        // Views: weights only (this model reports no q/k/v), so text is refused and pictures are drawn.
        let li = try #require(trace.layers.firstIndex { $0.kind == .crossAttention })
        #expect(throws: VizError.self) { try trace.layer(li).head(0) }
        let svg = SVGHeatmap(layer: cross, head: 0, caption: SVGCaption(model: "tiny-translator", layerLabel: cross.label, head: 0, text: trace.text)).render()
        #expect(XMLCollector.parse(svg).error == nil && svg.contains("url(#masked)"))
        #expect(try HTMLReport(trace: trace, layer: li, head: 0).render().contains("\"cross\""))
    }
}

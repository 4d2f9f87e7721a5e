// Value-norm through the model seam on SmolLM2-135M (Llama: grouped-query attention, Q4_1 matrices, no bias) and on
// the demo translator (self- and cross-attention): each site's matrices and inputs are checked against what the test
// reads itself (the GGUF file's tensors dequantized, the run's own intermediates), and the numbers against
// `referenceValueNorm`, the plain loops in Double of ExplainMethodsTests.swift (|a − b| ≤ atol + rtol·|ref|).
import AttendModels
import AttendNN
import AttendTestSupport
import AttendViz
import Foundation
import Testing

@Suite("Value-norm on SmolLM2-135M (Llama, grouped-query attention)", .serialized,
       .enabled(if: isCI || FileManager.default.fileExists(atPath: smolLM2GGUF.path), "install with `attend models install smollm2-135m`"))
struct ValueNormSmolLM2Tests {
    /// The quantized path, as `attend explain` and the server load it.
    static let model = Result { try LlamaModel.load(smolLM2GGUF, path: .quantized) }
    static let text = "The cat sat on the"                                                         // 5 tokens

    /// W_V and W_O are the file's `attn_v` and `attn_output` dequantized; x of layer 0 is RMSNorm(embeddings)·γ₁ in
    /// Double; α is the run's "L{l}.weights"; N equals the plain loops per head (heads 3 and 4 share value head 1,
    /// head 8 reads value head 2) and for the whole layer, and is zero above the diagonal.
    @Test func sitesAndNumbersMatchTheReference() throws {
        let model = try Self.model.get()
        let file = try GGUFFile(url: smolLM2GGUF)
        let ids = try model.ids(Self.text)
        let t = ids.count
        let (h, hkv, width) = (model.config.numHeads, model.config.numKeyValueHeads, model.config.hiddenSize)
        #expect(h == 9 && hkv == 3 && width == 576 && (2...8).contains(t))
        let recorder = IntermediateRecorder { $0 == "embeddings" || $0.hasSuffix(".weights") }
        _ = try model.forward(ids, cache: LlamaCache(config: model.config), observer: recorder)      // [V]
        let sites = try model.valueSites(Self.text)
        #expect(sites.count == model.config.numLayers)

        // Layer 0's x: RMSNorm of the embeddings, y = γ · x / √(mean(x²) + ε), in Double.
        let e = try #require(recorder["embeddings"]).scalars, gamma = try file.tensor("blk.0.attn_norm.weight").scalars
        var x0 = [Float](repeating: 0, count: t * width)
        for r in 0..<t {
            let row = (0..<width).map { Double(e[r * width + $0]) }
            let inv = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(width) + Double(model.config.rmsNormEps)).squareRoot()
            for j in 0..<width { x0[r * width + j] = Float(Double(gamma[j]) * row[j] * inv) }
        }
        expectClose(sites[0].input, try Tensor(shape: [t, width], scalars: x0), atol: 1e-5, rtol: 1e-5)

        for l in [0, 17] {
            let s = sites[l]
            let wv = try file.tensor("blk.\(l).attn_v.weight"), wo = try file.tensor("blk.\(l).attn_output.weight")
            #expect(wv.shape == [hkv * 64, width] && wo.shape == [width, h * 64])
            expectClose(s.valueWeight, wv, atol: 0, rtol: 0)
            expectClose(s.outputWeight, wo, atol: 0, rtol: 0)
            #expect(s.valueBias == nil && s.attention == nil && s.queryTokens == ids.map(model.tokenText))
            expectClose(s.weights, try #require(recorder["L\(l).weights"]).select(axis: 0, 0), atol: 0, rtol: 0)
            let n = try ValueNorm.compute(weights: s.weights, input: s.input, valueWeight: s.valueWeight, valueBias: nil,
                                          outputWeight: s.outputWeight)
            let ref = referenceValueNorm(weights: s.weights, input: s.input, wv: wv, bv: nil, wo: wo)
            expectMatrixClose(n.layer, ref.layer, atol: 1e-9, rtol: 1e-7, "SmolLM2 layer \(l)")
            for head in [3, 4, 8] {
                expectMatrixClose(n.perHead[head], ref.perHead[head], atol: 1e-9, rtol: 1e-7, "SmolLM2 layer \(l) head \(head)")
            }
            for i in 0..<t {
                for j in 0..<t where j > i {
                    #expect(n.layer[i][j] == 0 && (0..<h).allSatisfy { n.perHead[$0][i][j] == 0 }, "causal: \(i) never reads \(j)")
                }
                #expect(n.layer[i][0] > 0, "layer \(l): row \(i) reads the first token")
            }
        }
    }

    /// Through the entry point (the CLI's and the server's): one layer's site only, the numbers as above, and notes
    /// that name the shared value head.
    @Test func throughTheEntryPoint() throws {
        let model = try Self.model.get()
        let loaded = LoadedModel(name: "smollm2-135m", folder: smolLM2GGUF.deletingLastPathComponent(), model: model)
        let trace = try ExplainTrace.capture(loaded, text: Self.text)
        let file = try GGUFFile(url: smolLM2GGUF)
        let site = try model.valueSite(Self.text, site: 17)
        let ref = referenceValueNorm(weights: site.weights, input: site.input, wv: try file.tensor("blk.17.attn_v.weight"), bv: nil,
                                     wo: try file.tensor("blk.17.attn_output.weight"))
        let one = try ExplainMethods.result(.valueNorm, trace: trace, layer: 17, head: 4, model: model, text: Self.text)
        expectMatrixClose(one.matrix.map { $0.map(Double.init) }, ref.perHead[4], atol: 1e-6, rtol: 1e-6, "head 4 via the entry point")
        #expect(one.notes.contains { $0.contains("head 4 reads value head 1, as heads 3–5 do") }, "\(one.notes)")
        let all = try ExplainMethods.result(.valueNorm, trace: trace, layer: 17, head: nil, model: model, text: Self.text)
        expectMatrixClose(all.matrix.map { $0.map(Double.init) }, ref.layer, atol: 1e-6, rtol: 1e-6, "layer 17 via the entry point")
        #expect(all.queryTokens == trace.layers[17].queryTokens && all.notes.contains { $0.contains("9 query heads share 3 value heads") })
        #expect(throws: ModelError.self) { try model.valueSite(Self.text, site: 30) }
    }
}

@Suite("Value-norm on the demo translator (self- and cross-attention)")
struct ValueNormTranslatorTests {
    static let loaded = Result { try ModelRegistry.load(folder: DemoModels.folder(named: "tiny-translator")!, name: "tiny-translator") }
    static func translator() throws -> TinyTranslator { try #require(try loaded.get().model as? TinyTranslator) }
    static let text = "the small dog sees the red car"

    /// Every site: α equals the forward's weights, a cross-attention site reads the encoder's memory, and N equals the
    /// plain loops over the module's own projections, per head and for the whole layer.
    @Test func everySiteMatchesTheReference() throws {
        let m = try Self.translator()
        let words = try m.tokens(Self.text)
        let source = m.sourceVocabulary.encode(words)
        let decoderIn = ["<bos>"] + (try m.translate([Self.text])[0].target)
        let recorder = IntermediateRecorder { $0.hasSuffix(".weights") }
        var ctx = ForwardContext.inference(observer: recorder)
        let memory = try m.encode([source], &ctx).memory.value.select(axis: 0, 0)                    // [S, D]
        _ = try m(source: [source], targetIn: [m.targetVocabulary.encode(decoderIn)], &ctx)         // [1, T, V]
        let sites = try m.valueSites(Self.text)
        #expect(sites.count == m.attentionSites.count)
        var crossSeen = 0
        for (i, info) in m.attentionSites.enumerated() {
            let s = sites[i]
            let att = try #require(s.attention)
            expectClose(s.weights, try #require(recorder[info.name + ".weights"]).select(axis: 0, 0), atol: 1e-6, rtol: 1e-5)
            if info.kind == .crossAttention {
                crossSeen += 1
                expectClose(s.input, memory, atol: 1e-6, rtol: 1e-5)
                #expect(s.queryTokens == decoderIn && s.keyTokens == words)
            }
            let n = try ValueNorm.compute(weights: s.weights, input: s.input, valueWeight: s.valueWeight, valueBias: s.valueBias,
                                          outputWeight: s.outputWeight)
            let ref = referenceValueNorm(weights: s.weights, input: s.input, wv: att.vProj.weight.value, bv: att.vProj.bias?.value,
                                         wo: att.outProj.weight.value)
            expectMatrixClose(n.layer, ref.layer, atol: 1e-9, rtol: 1e-7, "\(info.label)")
            for head in 0..<s.weights.shape[0] {
                expectMatrixClose(n.perHead[head], ref.perHead[head], atol: 1e-9, rtol: 1e-7, "\(info.label) head \(head)")
            }
        }
        #expect(crossSeen == m.config.decoderLayers)
    }

    /// Through the entry point: a cross-attention site (target × source) and a decoder self-attention site, the notes
    /// naming the site by its label.
    @Test func throughTheEntryPoint() throws {
        let loaded = try Self.loaded.get()
        let m = try Self.translator()
        let trace = try ExplainTrace.capture(loaded, text: Self.text)
        let sites = try m.valueSites(Self.text)
        let cross = try #require(m.attentionSites.lastIndex { $0.kind == .crossAttention })
        let causal = try #require(m.attentionSites.lastIndex { $0.kind == .causalSelfAttention })
        for (layer, head) in [(cross, nil), (cross, 2), (causal, 1)] as [(Int, Int?)] {
            let s = sites[layer], att = try #require(s.attention)
            let ref = referenceValueNorm(weights: s.weights, input: s.input, wv: att.vProj.weight.value, bv: att.vProj.bias?.value,
                                         wo: att.outProj.weight.value)
            let r = try ExplainMethods.result(.valueNorm, trace: trace, layer: layer, head: head, model: m, text: Self.text)
            expectMatrixClose(r.matrix.map { $0.map(Double.init) }, head.map { ref.perHead[$0] } ?? ref.layer, atol: 1e-6, rtol: 1e-6,
                              "\(trace.layers[layer].label) head \(String(describing: head))")
            #expect(r.queryTokens == trace.layers[layer].queryTokens && r.keyTokens == trace.layers[layer].keyTokens)
            if head == nil { #expect(r.notes.contains { $0.contains("over all heads of \(trace.layers[layer].label)") }, "\(r.notes)") }
        }
    }
}

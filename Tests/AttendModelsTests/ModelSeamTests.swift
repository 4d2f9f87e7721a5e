import AttendNN
import AttendTestSupport
import Foundation
@testable import AttendModels
import Testing

/// The model seam: one folder loader, the registry keyed by model_type, and the attention sites.
@Suite("Model seam: loader, registry, sites")
struct ModelSeamTests {
    func tempFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-seam-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func tinyGPT() throws -> TinyGPT {
        try TinyGPT(config: TinyGPTConfig(vocabSize: 64, maxPositionEmbeddings: 8, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 8), seed: 1)
    }

    /// Rewrites a saved folder's weights: drop one tensor, give one another shape, add one.
    func rewriteWeights(_ dir: URL, drop: String? = nil, reshape: String? = nil, extra: String? = nil) throws {
        let file = try SafetensorsFile(url: dir.appendingPathComponent("model.safetensors"))
        var tensors: [String: Tensor] = [:]
        for name in file.names where name != drop { tensors[name] = try file.tensor(name) }
        if let reshape { tensors[reshape] = .zeros([3]) }
        if let extra { tensors[extra] = .zeros([2]) }
        try Safetensors.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
    }

    @Test func registryPicksTheFamilyFromConfig() throws {
        for (name, type) in [("tiny-translator", "tiny-translator"), ("tiny-translator-bottleneck", "tiny-translator"), ("tiny-gpt", "tiny-gpt")] {
            let folder = try #require(DemoModels.folder(named: name))
            #expect(try ModelRegistry.family(of: folder).modelType == type)
            let loaded = try ModelRegistry.load(folder: folder, name: name)
            #expect(loaded.family == type && loaded.name == name)
        }
        #expect(try ModelRegistry.load(folder: #require(DemoModels.folder(named: "tiny-translator"))).model is TinyTranslator)
        #expect(try ModelRegistry.load(folder: #require(DemoModels.folder(named: "tiny-gpt"))).model is TinyGPT)
        // A BERT folder: the family is read from config.json alone.
        let bert = try tempFolder()
        try JSONEncoder().encode(BertConfig(vocabSize: 11, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16))
            .write(to: bert.appendingPathComponent("config.json"))
        #expect(try ModelRegistry.family(of: bert).modelType == "bert")
        // A saved TinyGPT goes through the registry with its own name.
        let gpt = try tempFolder()
        try tinyGPT().save(to: gpt)
        #expect(try ModelRegistry.load(folder: gpt).name == gpt.lastPathComponent)
    }

    @Test func unknownOrMissingModelTypeIsAClearError() throws {
        let dir = try tempFolder()
        let config = dir.appendingPathComponent("config.json")
        let known = ModelRegistry.families.map(\.modelType).joined(separator: ", ")
        try Data(#"{"model_type": "gpt_neox", "hidden_size": 8}"#.utf8).write(to: config)
        #expect(throws: ModelError.invalidConfig(config.path, "model_type \"gpt_neox\" is not supported (known model types: \(known))")) {
            try ModelRegistry.load(folder: dir)
        }
        try Data(#"{"hidden_size": 8}"#.utf8).write(to: config)
        #expect(throws: ModelError.invalidConfig(config.path, "missing key \"model_type\" (known model types: \(known))")) {
            try ModelRegistry.load(folder: dir)
        }
        try Data(#"{"model_type": 3}"#.utf8).write(to: config)
        #expect(throws: ModelError.invalidConfig(config.path, "wrong type at \"model_type\"")) { try ModelRegistry.load(folder: dir) }
        let empty = try tempFolder()
        #expect(throws: ModelError.missingFile(empty.appendingPathComponent("config.json").path)) { try ModelRegistry.load(folder: empty) }
    }

    /// Sizes beyond any real model are errors naming the file and field, never a trap or a huge allocation.
    @Test(arguments: [
        ("tiny-gpt", "num_layers", "4611686018427387904"), ("tiny-gpt", "vocab_size", "-1"), ("tiny-gpt", "hidden_size", "4611686018427387904"),
        ("tiny-translator", "d_model", "4611686018427387904"), ("tiny-translator", "encoder_layers", "-3"),
        ("bert", "num_hidden_layers", "4611686018427387904"), ("bert", "intermediate_size", "0"), ("bert", "max_position_embeddings", "99999999999"),
    ])
    func absurdSizesNameTheField(_ family: String, _ field: String, _ value: String) throws {
        let dir = try tempFolder()
        switch family {
        case "tiny-gpt": try tinyGPT().save(to: dir)
        case "tiny-translator": try TinyTranslator(config: TinyTranslatorConfig(dModel: 8, encoderLayers: 1, decoderLayers: 1, attentionHeads: 2, ffnDim: 8,
                                                                                  sourceVocabSize: TranslationCorpus.sourceWords.count + 4,
                                                                                  targetVocabSize: TranslationCorpus.targetWords.count + 4)).save(to: dir)
        default:
            try JSONEncoder().encode(BertConfig(vocabSize: 11, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16))
                .write(to: dir.appendingPathComponent("config.json"))
        }
        let url = dir.appendingPathComponent("config.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object[field] = Int(value)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        do {
            if family == "bert" { _ = try BertModel.load(folder: dir) } else { _ = try ModelRegistry.load(folder: dir) }
            Issue.record("\(field) = \(value) was accepted")
        } catch let error as ModelError {
            guard case let .invalidConfig(path, message) = error else { Issue.record("\(error)"); return }
            #expect(path == url.path && message.hasPrefix("\(field) is \(value), expected"), "\(message)")
        }
    }

    /// Each size in bounds, their product not: still an error naming the fields, before anything is allocated.
    @Test func hugeTablesAreErrorsBeforeAllocation() throws {
        let dir = try tempFolder()
        try tinyGPT().save(to: dir)
        let url = dir.appendingPathComponent("config.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object["vocab_size"] = 1 << 24
        object["hidden_size"] = 1 << 20
        object["num_heads"] = 1
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        #expect(throws: ModelError.invalidConfig(url.path, "vocab_size × hidden_size = 16777216 × 1048576 is more than 4294967296 weights")) {
            try ModelRegistry.load(folder: dir)
        }
        #expect(throws: ModelError.self) {
            try BertConfig(vocabSize: 10, hiddenSize: 1 << 16, numHiddenLayers: 4096, numAttentionHeads: 1, intermediateSize: 8).validate(source: "c")
        }
    }

    @Test func demoModelStrictLoadingNamesTensorsAndShapes() throws {
        let model = try tinyGPT()
        let missing = try tempFolder()
        try model.save(to: missing)
        try rewriteWeights(missing, drop: "transformer.h.0.attn.attention.k_proj.bias")
        #expect(throws: WeightLoadingError.missing(source: "model.safetensors", tensor: "transformer.h.0.attn.attention.k_proj.bias", shape: [16])) {
            try TinyGPT.load(folder: missing)
        }
        let wrong = try tempFolder()
        try model.save(to: wrong)
        try rewriteWeights(wrong, reshape: "transformer.ln_f.weight")
        #expect(throws: WeightLoadingError.shapeMismatch(source: "model.safetensors", tensor: "transformer.ln_f.weight", expected: [16], actual: [3])) {
            try ModelRegistry.load(folder: wrong)
        }
        let extra = try tempFolder()
        try model.save(to: extra)
        try rewriteWeights(extra, extra: "transformer.h.0.mystery")
        #expect(throws: WeightLoadingError.unused(source: "model.safetensors", tensors: ["transformer.h.0.mystery"])) {
            try TinyGPT.load(folder: extra)
        }
        // Loaded as saved: the same logits.
        let again = try tempFolder()
        try model.save(to: again)
        var ctx = ForwardContext.inference(), ctx2 = ForwardContext.inference()
        #expect(try TinyGPT.load(folder: again)([[3, 9, 27]], &ctx).value.scalars == model([[3, 9, 27]], &ctx2).value.scalars)
    }

    /// BERT's sanitize step: a `bert.` prefix is dropped, `cls.*` heads and `position_ids` are not parameters.
    @Test func bertSanitizeStep() throws {
        #expect(BertModel.sanitize("bert.encoder.layer.0.output.dense.weight", prefix: "bert.") == .parameter("encoder.layer.0.output.dense.weight"))
        #expect(BertModel.sanitize("cls.predictions.bias", prefix: "bert.") == .ignore)
        #expect(BertModel.sanitize("embeddings.position_ids", prefix: "") == .ignore)
        let dir = try tempFolder()
        let model = try BertModel(config: BertConfig(vocabSize: 11, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16), seed: 2)
        try JSONEncoder().encode(model.config).write(to: dir.appendingPathComponent("config.json"))
        var tensors: [String: Tensor] = ["cls.predictions.bias": .zeros([11])]
        for (name, p) in model.namedParameters() { tensors["bert." + name] = p.value }
        try Safetensors.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
        let loaded = try BertModel.load(folder: dir)
        expectClose(try loaded(ids: [[1, 4, 2]]), try model(ids: [[1, 4, 2]]), atol: 1e-5, rtol: 1e-5)
        tensors["bert.mystery"] = .zeros([1])
        try Safetensors.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
        #expect(throws: WeightLoadingError.unused(source: "model.safetensors", tensors: ["bert.mystery"])) { try BertModel.load(folder: dir) }
    }

    @Test func sitesOfEachFamily() throws {
        let translator = try TinyTranslator.demo()
        #expect(translator.attentionSites.map(\.name) == ["encoder.L0.self_attn", "encoder.L1.self_attn", "decoder.L0.self_attn",
                                                          "decoder.L0.encoder_attn", "decoder.L1.self_attn", "decoder.L1.encoder_attn"])
        #expect(translator.attentionSites.map(\.kind) == [.selfAttention, .selfAttention, .causalSelfAttention, .crossAttention,
                                                          .causalSelfAttention, .crossAttention])
        #expect(translator.attentionSites[3].queries == .target && translator.attentionSites[3].keys == .source)
        #expect(try TinyTranslator.demo(bottleneck: true).attentionSites[3].keys == .fixed(["⟨pooled source⟩"]))
        let gpt = try TinyGPT.demo()
        #expect(gpt.attentionSites.map(\.name) == ["L0", "L1"] && gpt.attentionSites.allSatisfy { $0.kind == .causalSelfAttention && $0.heads == 4 })
        #expect(try gpt.tokens("na ro 5") == ["na", "ro", "de"])
        #expect(throws: ModelError.self) { try gpt.tokens("   ") }
        #expect(try translator.tokens("The small dog.") == ["the", "small", "dog"])
    }

    /// The decoder-side observer reports the same q/k/v/weights for every model family it is attached to.
    @Test func runReportsEverySite() throws {
        for model in [try TinyTranslator.demo() as any AttendModel, try TinyGPT.demo()] {
            let recorder = IntermediateRecorder { _ in true }
            let text = model is TinyGPT ? "na ro zi na" : "the dog sees the cat"
            let run = try model.runAttention(text, observer: recorder)
            #expect(!run.sourceTokens.isEmpty)
            for site in model.attentionSites {
                let w = try #require(recorder[site.name + ".weights"], "\(site.name)")
                #expect(w.shape == [1, site.heads, run.tokens(site.queries).count, run.tokens(site.keys).count], "\(site.name)")
                for suffix in ["q", "k", "v", "context"] { #expect(recorder[site.name + "." + suffix] != nil, "\(site.name).\(suffix)") }
            }
        }
    }
}

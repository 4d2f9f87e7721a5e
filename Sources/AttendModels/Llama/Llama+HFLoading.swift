// Loading a Llama model from a Hugging Face folder (what `LlamaForCausalLM.save_pretrained` and the tokenizer's
// `save_pretrained` write): the config from `config.json`, the weights from `model.safetensors` or the shards named
// by `model.safetensors.index.json` (F32, F16 or BF16, widened to Float32: the reference path), the byte-level BPE
// tokenizer from `tokenizer.json` (+ `tokenizer_config.json` for BOS/EOS), and the chat template from
// `chat_template.jinja` or `tokenizer_config.json`. Hugging Face's Q and K rows are already in the layout of
// transformers' rotate_half RoPE: nothing is permuted here (that is only for GGUF files). Every size is checked
// against the config and every tensor's shape and dtype against the file headers before a weight is read.
import AttendNN
import AttendTokenizers
import Foundation

/// `config.json` of a Llama checkpoint, under its own key names (transformers' `LlamaConfig`).
struct LlamaHFConfig: Decodable {
    var modelType: String?
    var architectures: [String]?
    var hiddenSize: Int
    var intermediateSize: Int
    var numHiddenLayers: Int
    var numAttentionHeads: Int
    var numKeyValueHeads: Int?
    var headDim: Int?
    var ropeTheta: Double?
    var ropeScaling: RopeSettings?
    var ropeParameters: RopeSettings?
    var rmsNormEps: Double
    var maxPositionEmbeddings: Int
    var vocabSize: Int
    var tieWordEmbeddings: Bool?
    var hiddenAct: String?
    var attentionBias: Bool?
    var mlpBias: Bool?
    var eosTokenId: TokenIds?

    /// `rope_scaling` (transformers 4) or `rope_parameters` (transformers 5): the fields Attend looks at.
    struct RopeSettings: Decodable {
        var ropeType: String?
        var type: String?
        var ropeTheta: Double?
        enum CodingKeys: String, CodingKey { case ropeType = "rope_type", type, ropeTheta = "rope_theta" }
        var kind: String { ropeType ?? type ?? "default" }
    }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", architectures, hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling", ropeParameters = "rope_parameters", rmsNormEps = "rms_norm_eps"
        case maxPositionEmbeddings = "max_position_embeddings", vocabSize = "vocab_size"
        case tieWordEmbeddings = "tie_word_embeddings", hiddenAct = "hidden_act", attentionBias = "attention_bias"
        case mlpBias = "mlp_bias", eosTokenId = "eos_token_id"
    }
}

/// An `eos_token_id` of `config.json` / `generation_config.json`: one id or a list of them.
struct TokenIds: Decodable {
    var ids: [Int]
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(Int.self) { ids = [one] } else { ids = try c.decode([Int].self) }
    }
}

extension LlamaModel {
    /// Whether `url` is a Hugging Face folder: a folder with `config.json` and no `.gguf` file.
    public static func isHuggingFaceFolder(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else { return false }
        return FileManager.default.fileExists(atPath: url.appendingPathComponent(ModelFolder.configFile).path)
            && ModelStore.ggufFiles(in: url).isEmpty
    }

    /// Whether `url` is a Hugging Face folder of a causal language model: ``isHuggingFaceFolder(_:)`` with a
    /// `config.json` whose `model_type` is "llama" or whose `architectures` name a `…ForCausalLM` (which the loader
    /// then accepts or refuses, naming the field).
    public static func isHuggingFaceLanguageModel(_ url: URL) -> Bool {
        guard isHuggingFaceFolder(url) else { return false }
        struct Probe: Decodable {
            var modelType: String?
            var architectures: [String]?
            enum CodingKeys: String, CodingKey { case modelType = "model_type", architectures }
        }
        guard let probe = try? ModelFolder.readConfig(Probe.self, folder: url) else { return false }
        return probe.modelType == architecture || (probe.architectures ?? []).contains { $0.hasSuffix("ForCausalLM") }
    }

    /// Loads a Hugging Face folder of a `LlamaForCausalLM` (see the file comment). The weights are dense Float32
    /// (``LlamaWeightPath/reference``); `activations` is kept for ``with(activations:)`` and has no effect on them.
    /// - Throws: ``ModelError`` naming the file and the field, `SafetensorsError` naming the file and the tensor.
    public static func load(huggingFaceFolder folder: URL, activations: LlamaActivations = .int16) throws -> LlamaModel {
        let configURL = folder.appendingPathComponent(ModelFolder.configFile)
        let source = configURL.path
        let hf = try ModelFolder.readConfig(LlamaHFConfig.self, folder: folder)
        let config = try llamaConfig(hf, source: source)

        let tokenizer = try loadHFTokenizer(folder, config: hf)
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw ModelError.invalidConfig(source, "vocab_size is \(config.vocabSize), but tokenizer.json has \(tokenizer.vocabularySize) tokens")
        }
        let template = try loadHFChatTemplate(folder)
        let weights = try HFWeights(folder: folder)

        // Every tensor's name, shape and dtype, checked before any is read.
        let (d, h, hkv, f, dim) = (config.hiddenSize, config.numHeads, config.numKeyValueHeads, config.intermediateSize, config.headDim)
        let tied = hf.tieWordEmbeddings ?? false
        var expected: [(String, [Int])] = [("model.embed_tokens.weight", [config.vocabSize, d]), ("model.norm.weight", [d])]
        if !tied { expected.append(("lm_head.weight", [config.vocabSize, d])) }
        for i in 0..<config.numLayers {
            let p = "model.layers.\(i)."
            expected += [
                (p + "input_layernorm.weight", [d]), (p + "post_attention_layernorm.weight", [d]),
                (p + "self_attn.q_proj.weight", [h * dim, d]), (p + "self_attn.k_proj.weight", [hkv * dim, d]),
                (p + "self_attn.v_proj.weight", [hkv * dim, d]), (p + "self_attn.o_proj.weight", [d, h * dim]),
                (p + "mlp.gate_proj.weight", [f, d]), (p + "mlp.up_proj.weight", [f, d]), (p + "mlp.down_proj.weight", [d, f]),
            ]
        }
        for (name, shape) in expected { try weights.check(name, shape: shape, tiedHint: name == "lm_head.weight") }
        // A tied checkpoint may still carry lm_head.weight (transformers ignores it); old ones carry RoPE's inv_freq.
        let ignored = Set(expected.map(\.0)).union(tied ? ["lm_head.weight"] : [])
        let unused = weights.names.filter { !ignored.contains($0) && !$0.hasSuffix(".rotary_emb.inv_freq") }.sorted()
        if !unused.isEmpty {
            throw ModelError.invalidWeights(weights.source, "tensors Llama does not use: \(unused.prefix(8).joined(separator: ", "))\(unused.count > 8 ? " (\(unused.count) in all)" : "") (attention_bias / mlp_bias checkpoints are not supported)")
        }

        func matrix(_ name: String) throws -> LlamaMatrix { .dense(try weights.tensor(name)) }     // [out, in] Float32
        var layers: [LlamaLayer] = []
        for i in 0..<config.numLayers {
            let p = "model.layers.\(i)."
            layers.append(LlamaLayer(
                attnNorm: try weights.tensor(p + "input_layernorm.weight"),                          // [D]
                q: try matrix(p + "self_attn.q_proj.weight"),                                        // [H·d, D]
                k: try matrix(p + "self_attn.k_proj.weight"),                                        // [Hkv·d, D]
                v: try matrix(p + "self_attn.v_proj.weight"),                                        // [Hkv·d, D]
                o: try matrix(p + "self_attn.o_proj.weight"),                                        // [D, H·d]
                ffnNorm: try weights.tensor(p + "post_attention_layernorm.weight"),                  // [D]
                gate: try matrix(p + "mlp.gate_proj.weight"),                                        // [F, D]
                up: try matrix(p + "mlp.up_proj.weight"),                                            // [F, D]
                down: try matrix(p + "mlp.down_proj.weight")))                                       // [D, F]
        }
        return LlamaModel(config: config, path: .reference, activations: activations, tokenizer: tokenizer,
                          chatTemplate: template, url: folder,
                          embedding: try matrix("model.embed_tokens.weight"),                        // [V, D]
                          layers: layers, outputNorm: try weights.tensor("model.norm.weight"),       // [D]
                          lmHead: tied ? nil : try matrix("lm_head.weight"))                         // [V, D]
    }

    /// The model's sizes from `config.json`, each bounded; errors name the file and the field.
    static func llamaConfig(_ hf: LlamaHFConfig, source: String) throws -> LlamaConfig {
        guard let type = hf.modelType else {
            throw ModelError.invalidConfig(source, "missing key \"model_type\" (expected \"\(architecture)\")")
        }
        guard type == architecture else {
            throw ModelError.invalidConfig(source, "model_type \"\(type)\" is not supported by the Llama loader (expected \"\(architecture)\")")
        }
        if let names = hf.architectures, !names.contains("LlamaForCausalLM") {
            throw ModelError.invalidConfig(source, "architectures is \(names), expected [\"LlamaForCausalLM\"]")
        }
        if let act = hf.hiddenAct, act != "silu" {
            throw ModelError.invalidConfig(source, "hidden_act \"\(act)\" is not supported (expected \"silu\")")
        }
        if hf.attentionBias == true { throw ModelError.invalidConfig(source, "attention_bias true is not supported (expected false)") }
        if hf.mlpBias == true { throw ModelError.invalidConfig(source, "mlp_bias true is not supported (expected false)") }
        if let scaling = hf.ropeScaling {
            throw ModelError.invalidConfig(source, "rope_scaling of type \"\(scaling.kind)\" is not supported (expected null: plain RoPE)")
        }
        if let parameters = hf.ropeParameters, parameters.kind != "default" {
            throw ModelError.invalidConfig(source, "rope_parameters.rope_type \"\(parameters.kind)\" is not supported (expected \"default\": plain RoPE)")
        }
        let check = ConfigCheck(source: source)
        try check.size(hf.vocabSize, "vocab_size")
        try check.size(hf.hiddenSize, "hidden_size")
        try check.size(hf.intermediateSize, "intermediate_size")
        try check.size(hf.maxPositionEmbeddings, "max_position_embeddings")
        try check.count(hf.numHiddenLayers, "num_hidden_layers")
        try check.count(hf.numAttentionHeads, "num_attention_heads", positive: true)
        let kvHeads = hf.numKeyValueHeads ?? hf.numAttentionHeads
        try check.count(kvHeads, "num_key_value_heads", positive: true)
        try check.divisible(hf.hiddenSize, "hidden_size", by: hf.numAttentionHeads, "num_attention_heads")
        try check.divisible(hf.numAttentionHeads, "num_attention_heads", by: kvHeads, "num_key_value_heads")
        let headDim = hf.hiddenSize / hf.numAttentionHeads
        if let declared = hf.headDim, declared != headDim {
            throw ModelError.invalidConfig(source, "head_dim is \(declared), but hidden_size / num_attention_heads is \(headDim) (a separate head size is not supported)")
        }
        guard headDim % 2 == 0 else {
            throw ModelError.invalidConfig(source, "head size \(headDim) (hidden_size / num_attention_heads) must be even for RoPE")
        }
        let theta = hf.ropeTheta ?? hf.ropeParameters?.ropeTheta ?? 10_000
        guard theta.isFinite && theta > 1 && theta < 1e30 else {
            throw ModelError.invalidConfig(source, "rope_theta is \(theta), expected a finite number > 1")
        }
        guard hf.rmsNormEps.isFinite && hf.rmsNormEps >= 0 && hf.rmsNormEps < 1 else {
            throw ModelError.invalidConfig(source, "rms_norm_eps is \(hf.rmsNormEps), expected 0 ≤ ε < 1")
        }
        try check.elements([hf.vocabSize, hf.hiddenSize], "vocab_size × hidden_size")
        try check.elements([hf.numHiddenLayers, 3, hf.intermediateSize, hf.hiddenSize], "num_hidden_layers × 3 × intermediate_size × hidden_size")
        try check.elements([hf.numHiddenLayers, 4, hf.hiddenSize, hf.hiddenSize], "num_hidden_layers × 4 × hidden_size²")
        return LlamaConfig(vocabSize: hf.vocabSize, hiddenSize: hf.hiddenSize, intermediateSize: hf.intermediateSize,
                           numLayers: hf.numHiddenLayers, numHeads: hf.numAttentionHeads, numKeyValueHeads: kvHeads,
                           ropeTheta: Float(theta), rmsNormEps: Float(hf.rmsNormEps), contextLength: hf.maxPositionEmbeddings)
    }

    /// The byte-level BPE tokenizer of `tokenizer.json`; BOS / EOS / pad from `tokenizer_config.json`, else the EOS
    /// of `generation_config.json` or `config.json`.
    static func loadHFTokenizer(_ folder: URL, config: LlamaHFConfig) throws -> BPETokenizer {
        let file = folder.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: file.path) else { throw ModelError.missingFile(file.path) }
        let named = try BPETokenizer(folder: folder)
        guard let bpe = named.tokenizer.model as? BytePairEncoding, bpe.byteLevel,
              named.tokenizer.decoder is ByteLevelDecoder else {
            throw ModelError.invalidConfig(file.path, "model.type must be \"BPE\" with a ByteLevel pre-tokenizer and decoder (a byte-level BPE tokenizer)")
        }
        guard named.eosTokenId == nil else { return named }
        struct Generation: Decodable {
            var eosTokenId: TokenIds?
            enum CodingKeys: String, CodingKey { case eosTokenId = "eos_token_id" }
        }
        let generationURL = folder.appendingPathComponent("generation_config.json")
        var eos = config.eosTokenId?.ids.first
        if FileManager.default.fileExists(atPath: generationURL.path),
           let id = try ModelFolder.readJSON(Generation.self, from: generationURL).eosTokenId?.ids.first {
            eos = id
        }
        if let eos, !(0..<named.vocabularySize).contains(eos) {
            throw ModelError.invalidConfig(generationURL.path, "eos_token_id \(eos) is outside the \(named.vocabularySize) tokens of tokenizer.json")
        }
        return BPETokenizer(tokenizer: named.tokenizer, bosTokenId: named.bosTokenId, eosTokenId: eos, padTokenId: named.padTokenId)
    }

    /// The chat template of `chat_template.jinja` (transformers 5), else `chat_template` of `tokenizer_config.json`
    /// (a string, or a list of `{"name", "template"}` of which "default" is used); nil when neither has one.
    static func loadHFChatTemplate(_ folder: URL) throws -> ChatTemplate? {
        let jinja = folder.appendingPathComponent("chat_template.jinja")
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        var text: String?, file = jinja
        if FileManager.default.fileExists(atPath: jinja.path) {
            guard let data = FileManager.default.contents(atPath: jinja.path), let s = String(data: data, encoding: .utf8) else {
                throw ModelError.invalidConfig(jinja.path, "cannot read the file as UTF-8 text")
            }
            text = s
        } else if FileManager.default.fileExists(atPath: configURL.path) {
            struct Named: Decodable { var name: String; var template: String }
            struct Config: Decodable {
                var template: String?
                enum CodingKeys: String, CodingKey { case template = "chat_template" }
                init(from decoder: any Decoder) throws {
                    let c = try decoder.container(keyedBy: CodingKeys.self)
                    if let list = try? c.decodeIfPresent([Named].self, forKey: .template) {
                        template = (list.first { $0.name == "default" } ?? list.first)?.template
                    } else {
                        template = try c.decodeIfPresent(String.self, forKey: .template)
                    }
                }
            }
            text = try ModelFolder.readJSON(Config.self, from: configURL).template
            file = configURL
        }
        guard let text else { return nil }
        do { return try ChatTemplate(source: text) } catch let ModelError.invalidConfig(_, message) {
            throw ModelError.invalidConfig(file.path, message)
        }
    }
}

/// The tensors of a Hugging Face folder: `model.safetensors`, or the shards `model.safetensors.index.json` names.
struct HFWeights {
    /// Every tensor name → the open file holding it.
    private var files: [String: SafetensorsFile] = [:]
    /// What errors about the set of tensors name: the weights file or the index.
    let source: String

    var names: [String] { Array(files.keys) }

    init(folder: URL) throws {
        let single = folder.appendingPathComponent(ModelFolder.weightsFile)
        let index = folder.appendingPathComponent(ModelStore.shardIndexFile)
        if FileManager.default.fileExists(atPath: single.path) {
            source = single.path
            let file = try SafetensorsFile(url: single)
            for name in file.names { files[name] = file }
        } else if FileManager.default.fileExists(atPath: index.path) {
            source = index.path
            struct Index: Decodable {
                var weightMap: [String: String]
                enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
            }
            let map = try ModelFolder.readJSON(Index.self, from: index).weightMap
            var shards: [String: SafetensorsFile] = [:]
            for shard in Set(map.values).sorted() {
                guard !shard.contains("/"), shard != "..", !shard.isEmpty else {
                    throw ModelError.invalidConfig(index.path, "weight_map names the file \"\(shard)\", expected a file of this folder")
                }
                let url = folder.appendingPathComponent(shard)
                guard FileManager.default.fileExists(atPath: url.path) else {
                    throw ModelError.invalidConfig(index.path, "weight_map names \(shard), which is not in \(folder.path)")
                }
                shards[shard] = try SafetensorsFile(url: url)
            }
            for (name, shard) in map {
                guard let file = shards[shard], file.contains(name) else {
                    throw ModelError.invalidWeights(folder.appendingPathComponent(shard).path, "tensor '\(name)' (listed in model.safetensors.index.json) is not in the file")
                }
                files[name] = file
            }
        } else {
            throw ModelError.missingFile(single.path + " (or model.safetensors.index.json)")
        }
    }

    /// Requires tensor `name` with `shape` and a floating-point dtype (read from the header only).
    func check(_ name: String, shape: [Int], tiedHint: Bool = false) throws {
        guard let file = files[name] else {
            let hint = tiedHint ? " (config.json has tie_word_embeddings false; set it to true if the LM head is the embedding)" : ""
            throw ModelError.invalidWeights(source, "missing tensor '\(name)' of shape \(shape)\(hint)")
        }
        let info = try file.info(name)
        guard info.shape == shape else {
            throw SafetensorsError.shapeMismatch(file: file.url.lastPathComponent, tensor: name, expected: shape, actual: info.shape)
        }
        guard [.f32, .f16, .bf16].contains(info.dtype) else {
            throw SafetensorsError.unsupportedDType(file: file.url.lastPathComponent, tensor: name, dtype: info.dtype, accessor: "Llama weights (F32, F16 or BF16)")
        }
    }

    /// Tensor `name` as Float32 (checked by ``check(_:shape:tiedHint:)`` first).
    func tensor(_ name: String) throws -> Tensor {
        guard let file = files[name] else { throw ModelError.invalidWeights(source, "missing tensor '\(name)'") }
        return try file.tensor(name, releasingPages: true)
    }
}

// BERT: Bidirectional Encoder Representations from Transformers (Devlin et al., 2018, arXiv:1810.04805).
// Reference implementation: Hugging Face transformers' `modeling_bert.py` (BertModel, eager attention);
// parameter names follow its checkpoints (`encoder.layer.0.attention.self.query.weight`).
//
//   ids ─▶ word + position + token-type embeddings ─▶ LayerNorm
//       ─▶ N × [ MultiHeadAttention ─▶ +residual ─▶ LayerNorm ─▶ Linear ─▶ GELU ─▶ Linear ─▶ +residual ─▶ LayerNorm ]
//       ─▶ hidden states [B, T, hidden]
//
// Attention is the only layer that mixes information across positions; every other op works on each
// token alone. Each layer reports its intermediates to an observer: "L3.weights" [B, H, T, T], "L3.q",
// "L3.k", "L3.v" [B, H, T, d], "L3.hidden" [B, T, hidden]; the embeddings output is "embeddings".
import AttendNN
import Foundation

/// `config.json` of a BERT checkpoint, with Hugging Face's key names.
public struct BertConfig: Codable, Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: String
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var padTokenId: Int?
    public var positionEmbeddingType: String?
    public var modelType: String?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case hiddenAct = "hidden_act", maxPositionEmbeddings = "max_position_embeddings"
        case typeVocabSize = "type_vocab_size", layerNormEps = "layer_norm_eps", padTokenId = "pad_token_id"
        case positionEmbeddingType = "position_embedding_type", modelType = "model_type"
    }

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
                hiddenAct: String = "gelu", maxPositionEmbeddings: Int = 512, typeVocabSize: Int = 2,
                layerNormEps: Float = 1e-12) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.hiddenAct = hiddenAct
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps
        self.padTokenId = 0
        self.positionEmbeddingType = "absolute"
        self.modelType = "bert"
    }

    /// Reads and checks `config.json`.
    public static func load(_ url: URL) throws -> BertConfig {
        let config = try ModelFolder.readJSON(BertConfig.self, from: url)
        try config.validate(source: url.path)
        return config
    }

    func validate(source: String) throws {
        let check = ConfigCheck(source: source)
        try check.size(vocabSize, "vocab_size")
        try check.size(hiddenSize, "hidden_size")
        try check.count(numHiddenLayers, "num_hidden_layers")
        try check.count(numAttentionHeads, "num_attention_heads", positive: true)
        try check.divisible(hiddenSize, "hidden_size", by: numAttentionHeads, "num_attention_heads")
        try check.size(intermediateSize, "intermediate_size")
        try check.size(maxPositionEmbeddings, "max_position_embeddings")
        try check.count(typeVocabSize, "type_vocab_size", positive: true)
        try check.elements([vocabSize, hiddenSize], "vocab_size × hidden_size")
        try check.elements([maxPositionEmbeddings, hiddenSize], "max_position_embeddings × hidden_size")
        try check.elements([numHiddenLayers, intermediateSize, hiddenSize], "num_hidden_layers × intermediate_size × hidden_size")
        try check.elements([numHiddenLayers, 4, hiddenSize, hiddenSize], "num_hidden_layers × 4 × hidden_size²")
        guard Activation(hfName: hiddenAct) != nil else {
            throw ModelError.invalidConfig(source, "hidden_act \"\(hiddenAct)\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)")
        }
        if let p = positionEmbeddingType, p != "absolute" {
            throw ModelError.invalidConfig(source, "position_embedding_type \"\(p)\" is not supported (absolute)")
        }
    }
}

/// Word + position + token-type embeddings, then LayerNorm.
public final class BertEmbeddings: Module {
    public let words: Embedding       // [vocab, hidden]
    public let positions: Embedding   // [maxPositions, hidden]
    public let tokenTypes: Embedding  // [typeVocab, hidden]
    public let norm: LayerNorm

    init(_ c: BertConfig, rng: inout SeededRNG?) {
        if rng != nil {
            words = Embedding(c.vocabSize, c.hiddenSize, rng: &rng!)
            positions = Embedding(c.maxPositionEmbeddings, c.hiddenSize, rng: &rng!)
            tokenTypes = Embedding(c.typeVocabSize, c.hiddenSize, rng: &rng!)
        } else {
            words = Embedding(c.vocabSize, c.hiddenSize)
            positions = Embedding(c.maxPositionEmbeddings, c.hiddenSize)
            tokenTypes = Embedding(c.typeVocabSize, c.hiddenSize)
        }
        norm = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
    }

    public var children: [(String, any Module)] {
        [("word_embeddings", words), ("position_embeddings", positions), ("token_type_embeddings", tokenTypes), ("LayerNorm", norm)]
    }

    /// `ids`, `typeIds`: `[B][T]` → `[B, T, hidden]`
    func callAsFunction(_ ids: [[Int]], typeIds: [[Int]]) throws -> Tensor {
        let t = ids.first?.count ?? 0
        guard t <= positions.count else {
            throw ModelError.sequenceTooLong(length: t, max: positions.count)
        }
        let pos = try positions([Array(0..<t)])                 // [1, T, hidden]
        let x = try words(ids) + tokenTypes(typeIds) + pos      // [B, T, hidden]
        return try norm(x)
    }
}

/// One BERT encoder layer: the shared post-norm ``EncoderLayer`` with BERT's parameter names.
public typealias BertLayer = EncoderLayer

/// The BERT encoder (Hugging Face's `BertModel`), with its optional pooler (`tanh(W·h_[CLS] + b)`).
public final class BertModel: Module {
    public let config: BertConfig
    public let embeddings: BertEmbeddings
    public let layers: [BertLayer]
    public let pooler: Linear?                 // pooler.dense, present in most checkpoints

    /// A model with random weights from `seed`, or zero weights (to be loaded) when `seed` is nil.
    public init(config: BertConfig, withPooler: Bool = true, seed: UInt64? = 0) throws {
        try config.validate(source: "config")
        self.config = config
        var rng = seed.map { SeededRNG(seed: $0) }
        embeddings = BertEmbeddings(config, rng: &rng)
        layers = try (0..<config.numHiddenLayers).map { _ in
            try EncoderLayer(hidden: config.hiddenSize, heads: config.numAttentionHeads,
                             intermediateSize: config.intermediateSize, layerNormEps: config.layerNormEps,
                             hiddenAct: config.hiddenAct, names: .bert, rng: &rng)
        }
        if !withPooler {
            pooler = nil
        } else if rng != nil {
            pooler = Linear(config.hiddenSize, config.hiddenSize, rng: &rng!)
        } else {
            pooler = Linear(config.hiddenSize, config.hiddenSize)
        }
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("embeddings", embeddings)]
        c += layers.enumerated().map { ("encoder.layer.\($0.offset)", $0.element) }
        if let pooler { c.append(("pooler.dense", pooler)) }
        return c
    }

    public var heads: Int { config.numAttentionHeads }
    public var layerCount: Int { layers.count }

    /// Runs the encoder.
    /// - Parameters:
    ///   - ids: token ids `[B][T]` (equal lengths; pad with the pad id)
    ///   - typeIds: segment ids `[B][T]`, default zeros
    ///   - attentionMask: `[B][T]`, 1 = real token, 0 = padding; default all ones
    ///   - observer: receives "embeddings", "L{i}.q/k/v/weights/context" and "L{i}.hidden"
    /// - Returns: the last hidden states `[B, T, hidden]`
    public func callAsFunction(ids: [[Int]], typeIds: [[Int]]? = nil, attentionMask: [[Int]]? = nil,
                               observer: (any IntermediateObserver)? = nil) throws -> Tensor {
        let b = ids.count, t = ids.first?.count ?? 0
        let typeIds = typeIds ?? Array(repeating: Array(repeating: 0, count: t), count: b)
        var mask: Tensor? = nil
        if let attentionMask {
            guard attentionMask.count == b, attentionMask.allSatisfy({ $0.count == t }) else {
                throw ModelError.invalidInput("attention mask must be \(b)×\(t) like the ids")
            }
            if attentionMask.contains(where: { $0.contains(0) }) {
                mask = try Tensor(shape: [b, t], scalars: attentionMask.flatMap { $0.map { Float($0 != 0 ? 1 : 0) } })
            }
        }
        let x = try embeddings(ids, typeIds: typeIds)                 // [B, T, hidden]
        if let observer, observer.wants("embeddings") { observer.observe("embeddings", x) }
        // int8: a batch of at least twice `int8GroupRows` rows runs in groups of sentences of about that many rows,
        // each through all layers while its activations stay in the caches (a smaller batch stays whole: small
        // groups would cost more in thread hand-offs than they save). Every op is per row or per sentence and the
        // int8 GEMM's bits do not depend on its row count, so the result is the whole batch's bit for bit.
        let rows = b * t, groupRows = Self.int8GroupRows
        let groups = observer == nil && inferencePrecision == .int8 && rows >= 2 * groupRows ? (rows + groupRows - 1) / groupRows : 1
        guard groups > 1 else { return try encoderLayers(x, mask: mask, observer: observer) }   // [B, T, hidden]
        let group = (b + groups - 1) / groups
        var parts: [Tensor] = []
        for g0 in stride(from: 0, to: b, by: group) {
            let sentences = g0..<min(b, g0 + group)
            parts.append(try encoderLayers(x.slice(axis: 0, sentences), mask: mask?.slice(axis: 0, sentences), observer: nil))  // [g, T, hidden]
        }
        return try Tensor.concatenate(parts, axis: 0)                 // [B, T, hidden]
    }

    /// Rows (sentences × tokens) per group of sentences the int8 encoder runs through all its layers at a time:
    /// the activations of a group (its [rows, intermediate] feed-forward hidden state is the largest, 2.4 MB for
    /// MiniLM) stay in the L2 caches instead of going to L3 or memory and back in every op.
    static let int8GroupRows = 384

    /// The layers over `x`: `[B, T, hidden]`, `mask`: `[B, T]` or nil → `[B, T, hidden]`
    private func encoderLayers(_ x: Tensor, mask: Tensor?, observer: (any IntermediateObserver)?) throws -> Tensor {
        var x = x
        for (i, layer) in layers.enumerated() {
            x = try layer(x, mask: mask, observer: observer, name: "L\(i)")   // [B, T, hidden]
            if let observer, observer.wants("L\(i).hidden") { observer.observe("L\(i).hidden", x) }
        }
        return x
    }

    /// Fuses each layer's Q/K/V projections into one GEMM and packs every layer's weights once for the GEMM.
    /// Weights changed afterwards are noticed (stale copies are ignored); call again to make them fast.
    /// - Parameter precision: ``InferencePrecision/fp32`` (default, PyTorch's results), ``InferencePrecision/bf16`` or ``InferencePrecision/int8``.
    public func prepareForInference(precision: InferencePrecision = .fp32) throws {
        for layer in layers {
            try layer.attention.prepareForInference(precision: precision)
            try layer.intermediate.prepareForInference(precision: precision)
            try layer.output.prepareForInference(precision: precision)
        }
    }

    /// The precision the encoder's linear layers run at.
    public var inferencePrecision: InferencePrecision { layers.first?.output.inferencePrecision ?? .fp32 }

    /// `tanh(W · h_[CLS] + b)`: `[B, T, hidden]` → `[B, hidden]` (needs the pooler weights).
    public func pooled(_ hidden: Tensor) throws -> Tensor {
        guard let pooler else { throw ModelError.invalidInput("this model was loaded without pooler weights") }
        return try pooler(hidden.select(axis: 1, 0)).tanh()
    }

    /// Loads a Hugging Face BERT folder: `config.json` + `model.safetensors`, strictly: every parameter present
    /// with its shape, every tensor of the file used (the pooler if present; `embeddings.position_ids` checked;
    /// pre-training heads `cls.*` ignored). A `bert.` name prefix is accepted. Large F32 tensors stay in the
    /// memory-mapped file (``Parameter/map(_:)``); the weight matrices are packed once for the GEMM in `precision`,
    /// unless `prepack` is false and `precision` is fp32 (see ``SentenceEncoders/load(folder:precision:prepack:)``).
    public static func load(folder: URL, precision: InferencePrecision = .fp32, prepack: Bool = true) throws -> BertModel {
        let config = try BertConfig.load(folder.appendingPathComponent(ModelFolder.configFile))
        let weightsURL = folder.appendingPathComponent(ModelFolder.weightsFile)
        guard FileManager.default.fileExists(atPath: weightsURL.path) else { throw ModelError.missingFile(weightsURL.path) }
        let file = try SafetensorsFile(url: weightsURL)
        let prefix = file.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        let positionIDs = prefix + "embeddings.position_ids"
        if file.contains(positionIDs) {
            let ids = try file.intArray(positionIDs)
            guard ids == Array(0..<ids.count) else {
                throw ModelError.invalidWeights(weightsURL.path, "\(positionIDs) is not 0, 1, 2, … (absolute positions expected)")
            }
        }
        // Placeholders instead of zeros: every parameter is read from the file below, or loading throws.
        let model = try Parameter.$placeholders.withValue(true) {
            try BertModel(config: config, withPooler: file.contains(prefix + "pooler.dense.weight"), seed: nil)
        }
        let mapped = try ModelFolder.loadWeights(model, from: file) { sanitize($0, prefix: prefix) }
        guard prepack || precision != .fp32 else { return model }
        try model.prepareForInference(precision: precision)
        // Packing read every weight matrix once; drop those pages (the packed copies are what inference reads).
        for name in mapped { file.releasePages(of: name) }
        return model
    }

    /// BERT's renames: a `bert.` prefix (checkpoints saved from `BertForPreTraining` and kin) is dropped; the
    /// pre-training heads `cls.*` and the `embeddings.position_ids` buffer (checked by ``load(folder:precision:)``)
    /// are not parameters.
    static func sanitize(_ name: String, prefix: String) -> SanitizedTensor {
        if name.hasPrefix("cls.") || name == prefix + "embeddings.position_ids" { return .ignore }
        return .parameter(name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name)
    }

    /// Tensors of at least this many bytes are read in place from the mapped weights file rather than copied.
    static let mapThreshold = ModelFolder.defaultMapThreshold
}

// MPNet: Masked and Permuted Pre-training for Language Understanding (Song et al., 2020, arXiv:2004.09297).
// Reference implementation: Hugging Face transformers' `modeling_mpnet.py` (MPNetModel, eager attention);
// parameter names follow its checkpoints (`encoder.layer.0.attention.attn.q.weight`).
//
//   ids ─▶ word + position embeddings (positions count from pad_token_id + 1) ─▶ LayerNorm
//       ─▶ relative-position bias B [heads, T, T], computed once from T5-style buckets, shared by every layer
//       ─▶ N × [ MultiHeadAttention (scores = Q·Kᵀ/√d + B) ─▶ +residual ─▶ LayerNorm
//                ─▶ Linear ─▶ GELU ─▶ Linear ─▶ +residual ─▶ LayerNorm ]
//       ─▶ hidden states [B, T, hidden]
//
// The one thing MPNet adds to BERT's encoder is B: a learned scalar per head and per bucket of the signed distance
// j − i between key and query, added to every score before the softmax. Near distances (|j − i| < 8) get a bucket
// each, farther ones share logarithmically wider buckets up to 128, and the sign gets its own half of the 32 buckets.
// Observer names are BERT's ("embeddings", "L3.q", "L3.weights", "L3.hidden", …) plus "position_bias" [1, H, T, T].
import AttendNN
import Foundation

/// `config.json` of an MPNet checkpoint, with Hugging Face's key names.
public struct MPNetConfig: Codable, Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: String
    public var maxPositionEmbeddings: Int
    public var layerNormEps: Float
    public var padTokenId: Int
    public var relativeAttentionNumBuckets: Int
    public var modelType: String?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case hiddenAct = "hidden_act", maxPositionEmbeddings = "max_position_embeddings"
        case layerNormEps = "layer_norm_eps", padTokenId = "pad_token_id"
        case relativeAttentionNumBuckets = "relative_attention_num_buckets", modelType = "model_type"
    }

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
                hiddenAct: String = "gelu", maxPositionEmbeddings: Int = 514, layerNormEps: Float = 1e-5,
                padTokenId: Int = 1, relativeAttentionNumBuckets: Int = 32) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.hiddenAct = hiddenAct
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.layerNormEps = layerNormEps
        self.padTokenId = padTokenId
        self.relativeAttentionNumBuckets = relativeAttentionNumBuckets
        self.modelType = "mpnet"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
        maxPositionEmbeddings = try c.decode(Int.self, forKey: .maxPositionEmbeddings)
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-5
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? 1
        relativeAttentionNumBuckets = try c.decodeIfPresent(Int.self, forKey: .relativeAttentionNumBuckets) ?? 32
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType)
    }

    /// Checks sizes against sane bounds before anything is allocated; errors name the file and the field.
    func validate(source: String) throws {
        let check = ConfigCheck(source: source)
        try check.size(vocabSize, "vocab_size")
        try check.size(hiddenSize, "hidden_size")
        try check.count(numHiddenLayers, "num_hidden_layers")
        try check.count(numAttentionHeads, "num_attention_heads", positive: true)
        try check.divisible(hiddenSize, "hidden_size", by: numAttentionHeads, "num_attention_heads")
        try check.size(intermediateSize, "intermediate_size")
        try check.size(maxPositionEmbeddings, "max_position_embeddings")
        try check.require(relativeAttentionNumBuckets, "relative_attention_num_buckets", in: 2...4096)
        try check.require(padTokenId, "pad_token_id", in: 0...Swift.max(0, maxPositionEmbeddings - 2))
        try check.elements([vocabSize, hiddenSize], "vocab_size × hidden_size")
        try check.elements([maxPositionEmbeddings, hiddenSize], "max_position_embeddings × hidden_size")
        try check.elements([numHiddenLayers, intermediateSize, hiddenSize], "num_hidden_layers × intermediate_size × hidden_size")
        try check.elements([numHiddenLayers, 4, hiddenSize, hiddenSize], "num_hidden_layers × 4 × hidden_size²")
        guard Activation(hfName: hiddenAct) != nil else {
            throw ModelError.invalidConfig(source, "hidden_act \"\(hiddenAct)\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)")
        }
    }

    /// Reads and checks `config.json`.
    public static func load(_ url: URL) throws -> MPNetConfig {
        let config = try ModelFolder.readJSON(MPNetConfig.self, from: url)
        try config.validate(source: url.path)
        return config
    }
}

/// The relative-position bucket of key `j` seen from query `i`, exactly as `MPNetEncoder.relative_position_bucket`
/// computes it for `relative_position = j − i` (T5's scheme, bidirectional):
///
///     n = i − j;  half = buckets / 2;  bucket = (n < 0 ? half : 0);  n = |n|
///     exact = half / 2
///     bucket += n < exact ? n : min(half − 1, exact + ⌊ln(n / exact) / ln(maxDistance / exact) · (half − exact)⌋)
///
/// The logarithm is taken in Float32 as PyTorch does, so distances on a bucket boundary land where PyTorch puts them.
public func mpnetRelativePositionBucket(_ relativePosition: Int, buckets: Int = 32, maxDistance: Int = 128) -> Int {
    var n = -relativePosition
    let half = buckets / 2
    var bucket = n < 0 ? half : 0
    n = abs(n)
    let exact = half / 2
    if n < exact { return bucket + n }
    let scaled = Float(logf(Float(n) / Float(exact))) / Float(log(Double(maxDistance) / Double(exact))) * Float(half - exact)
    bucket += Swift.min(exact + Int(scaled), half - 1)
    return bucket
}

/// Word + position embeddings, then LayerNorm. Positions are numbered as fairseq does: real tokens get
/// `pad + 1, pad + 2, …` in order, padding tokens get `pad`.
public final class MPNetEmbeddings: Module {
    public let words: Embedding       // [vocab, hidden]
    public let positions: Embedding   // [maxPositions, hidden]
    public let norm: LayerNorm
    let padTokenId: Int

    init(_ c: MPNetConfig, rng: inout SeededRNG?) {
        if rng != nil {
            words = Embedding(c.vocabSize, c.hiddenSize, rng: &rng!)
            positions = Embedding(c.maxPositionEmbeddings, c.hiddenSize, rng: &rng!)
        } else {
            words = Embedding(c.vocabSize, c.hiddenSize)
            positions = Embedding(c.maxPositionEmbeddings, c.hiddenSize)
        }
        norm = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
        padTokenId = c.padTokenId
    }

    public var children: [(String, any Module)] {
        [("word_embeddings", words), ("position_embeddings", positions), ("LayerNorm", norm)]
    }

    /// `ids`: `[B][T]` → `[B, T, hidden]`
    func callAsFunction(_ ids: [[Int]]) throws -> Tensor {
        let positionIDs = ids.map { row -> [Int] in
            var count = 0
            return row.map { id in
                guard id != padTokenId else { return padTokenId }
                count += 1
                return padTokenId + count
            }
        }
        let longest = positionIDs.flatMap { $0 }.max() ?? 0
        guard longest < positions.count else {
            throw ModelError.sequenceTooLong(length: longest - padTokenId, max: positions.count - padTokenId - 1)
        }
        let x = try words(ids) + positions(positionIDs)     // [B, T, hidden]
        return try norm(x)                                  // [B, T, hidden]
    }
}

/// One MPNet encoder layer: the shared post-norm ``EncoderLayer`` with MPNet's parameter names.
public typealias MPNetLayer = EncoderLayer

/// The MPNet encoder (Hugging Face's `MPNetModel` without its pooler).
public final class MPNetModel: Module {
    public let config: MPNetConfig
    public let embeddings: MPNetEmbeddings
    public let layers: [MPNetLayer]
    /// `encoder.relative_attention_bias`: `[buckets, heads]`, one learned scalar per bucket and head.
    public let relativeAttentionBias: Embedding

    /// A model with random weights from `seed`, or placeholders (to be loaded) when `seed` is nil.
    public init(config: MPNetConfig, seed: UInt64? = 0) throws {
        try config.validate(source: "config")
        self.config = config
        var rng = seed.map { SeededRNG(seed: $0) }
        embeddings = MPNetEmbeddings(config, rng: &rng)
        layers = try (0..<config.numHiddenLayers).map { _ in
            try EncoderLayer(hidden: config.hiddenSize, heads: config.numAttentionHeads,
                             intermediateSize: config.intermediateSize, layerNormEps: config.layerNormEps,
                             hiddenAct: config.hiddenAct, names: .mpnet, rng: &rng)
        }
        if rng != nil {
            relativeAttentionBias = Embedding(config.relativeAttentionNumBuckets, config.numAttentionHeads, rng: &rng!)
        } else {
            relativeAttentionBias = Embedding(config.relativeAttentionNumBuckets, config.numAttentionHeads)
        }
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("embeddings", embeddings)]
        c += layers.enumerated().map { ("encoder.layer.\($0.offset)", $0.element) }
        c.append(("encoder.relative_attention_bias", relativeAttentionBias))
        return c
    }

    public var heads: Int { config.numAttentionHeads }
    public var layerCount: Int { layers.count }

    /// The relative-position bias of a sequence of `length` tokens: `[1, heads, length, length]`,
    /// `B[h, i, j] = table[bucket(j − i), h]`. The same for every layer and every sequence of that length.
    public func positionBias(length t: Int) throws -> Tensor {
        let h = heads
        var out = [Float](repeating: 0, count: h * t * t)
        try relativeAttentionBias.weight.withUnsafeValues { table in      // [buckets, heads]
            let buckets = config.relativeAttentionNumBuckets
            for i in 0..<t {
                for j in 0..<t {
                    let bucket = mpnetRelativePositionBucket(j - i, buckets: buckets)
                    guard bucket < buckets else {
                        throw ModelError.invalidInput("relative-position bucket \(bucket) outside the table of \(buckets)")
                    }
                    for head in 0..<h { out[(head * t + i) * t + j] = table[bucket * h + head] }
                }
            }
        }
        return try Tensor(shape: [1, h, t, t], scalars: out)
    }

    /// Runs the encoder.
    /// - Parameters:
    ///   - ids: token ids `[B][T]` (equal lengths; pad with `pad_token_id`)
    ///   - attentionMask: `[B][T]`, 1 = real token, 0 = padding; default all ones
    ///   - observer: receives "embeddings", "position_bias", "L{i}.q/k/v/weights/context" and "L{i}.hidden"
    /// - Returns: the last hidden states `[B, T, hidden]`
    public func callAsFunction(ids: [[Int]], attentionMask: [[Int]]? = nil,
                               observer: (any IntermediateObserver)? = nil) throws -> Tensor {
        let b = ids.count, t = ids.first?.count ?? 0
        guard ids.allSatisfy({ $0.count == t }) else { throw ModelError.invalidInput("every row of ids must have \(t) tokens") }
        var x = try embeddings(ids)                                            // [B, T, hidden]
        if let observer, observer.wants("embeddings") { observer.observe("embeddings", x) }
        let position = try positionBias(length: t)                             // [1, H, T, T]
        if let observer, observer.wants("position_bias") { observer.observe("position_bias", position) }
        var bias = position
        if let attentionMask {
            guard attentionMask.count == b, attentionMask.allSatisfy({ $0.count == t }) else {
                throw ModelError.invalidInput("attention mask must be \(b)×\(t) like the ids")
            }
            if attentionMask.contains(where: { $0.contains(0) }) {
                // Padded keys at −∞ on top of the position bias: [B, H, T, T].
                let keep = try Tensor(shape: [b, 1, 1, t], scalars: attentionMask.flatMap { $0.map { Float($0 != 0 ? 1 : 0) } })
                bias = try Tensor.zip(position, keep, op: "position bias and padding") { $1 != 0 ? $0 : -.infinity }
            }
        }
        for (i, layer) in layers.enumerated() {
            x = try layer(x, bias: .additive(bias), observer: observer, name: "L\(i)")   // [B, T, hidden]
            if let observer, observer.wants("L\(i).hidden") { observer.observe("L\(i).hidden", x) }
        }
        return x
    }

    /// Fuses each layer's Q/K/V projections and packs every weight matrix once for the GEMM.
    public func prepareForInference(precision: InferencePrecision = .fp32) throws {
        for layer in layers {
            try layer.attention.prepareForInference(precision: precision)
            try layer.intermediate.prepareForInference(precision: precision)
            try layer.output.prepareForInference(precision: precision)
        }
    }

    /// The precision the encoder's linear layers run at.
    public var inferencePrecision: InferencePrecision { layers.first?.output.inferencePrecision ?? .fp32 }

    /// Renames a checkpoint's tensors to this module's names: an `mpnet.` prefix (MPNetForMaskedLM and friends)
    /// is dropped; the pooler, `lm_head.*` and the `embeddings.position_ids` buffer are not parameters of the encoder.
    public static func sanitize(_ name: String) -> SanitizedTensor {
        let n = name.hasPrefix("mpnet.") ? String(name.dropFirst("mpnet.".count)) : name
        if n.hasPrefix("pooler.") || n.hasPrefix("lm_head.") || n == "embeddings.position_ids" { return .ignore }
        return .parameter(n)
    }
}

extension MPNetModel {
    /// Loads a Hugging Face MPNet folder (`config.json` + `model.safetensors`) strictly (``ModelFolder/loadWeights(_:folder:file:sanitize:mapThreshold:)``):
    /// every parameter present with its shape, every tensor used or named by ``sanitize(_:)`` as not part of the
    /// encoder. Large F32 tensors stay in the memory-mapped file; weight matrices are packed once for the GEMM,
    /// unless `prepack` is false and `precision` is fp32 (see ``SentenceEncoders/load(folder:precision:prepack:)``).
    public static func load(folder: URL, precision: InferencePrecision = .fp32, prepack: Bool = true) throws -> MPNetModel {
        let config = try MPNetConfig.load(folder.appendingPathComponent(ModelFolder.configFile))
        let model = try Parameter.$placeholders.withValue(true) { try MPNetModel(config: config, seed: nil) }
        let (file, mapped) = try ModelFolder.loadWeights(model, folder: folder, sanitize: sanitize)
        guard prepack || precision != .fp32 else { return model }
        try model.prepareForInference(precision: precision)
        for name in mapped { file.releasePages(of: name) }
        return model
    }
}

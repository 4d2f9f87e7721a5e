// The encoders a sentence-transformers folder can hold: BERT (all-MiniLM-L6-v2) and MPNet (all-mpnet-base-v2).
// `SentenceEmbedder` tokenizes, runs one of these and pools; the encoder family comes from config.json's
// `model_type`, so adding an encoder family is one conformance and one line in `SentenceEncoders.load`.
import AttendNN
import AttendTokenizers
import Foundation

/// A transformer encoder that turns token ids into one vector per token and reports its attention sites
/// ("embeddings", "L{i}.q/k/v/weights/context", "L{i}.hidden") to an observer.
public protocol SentenceEncoder: AnyObject {
    /// config.json's `model_type` (`"bert"`, `"mpnet"`).
    var modelType: String { get }
    /// Width of each token's vector.
    var hiddenSize: Int { get }
    /// Width of the feed-forward layer's hidden vector.
    var intermediateSize: Int { get }
    var layerCount: Int { get }
    var heads: Int { get }
    /// The most tokens (special tokens included) the position table allows.
    var maxTokens: Int { get }
    /// The input-embedding table `[vocab, hidden]` (nearest neighbours read it).
    var wordEmbeddings: Embedding { get }
    /// Each layer's self-attention, in order (its Q/K/V/O projections; value-weighted explanations read them).
    var attentionLayers: [MultiHeadAttention] { get }
    /// The precision the linear layers run at.
    var inferencePrecision: InferencePrecision { get }
    /// The observer name of the additive score bias every layer adds before the softmax (nil for BERT).
    var scoreBias: String? { get }
    /// How the embedding layer's output is made, in one line.
    var embeddingsFormula: String { get }
    /// Runs the encoder: `ids`, `typeIds` and `attentionMask` (1 = real token) are `[B][T]` → hidden states `[B, T, hidden]`.
    func encode(ids: [[Int]], typeIds: [[Int]]?, attentionMask: [[Int]]?, observer: (any IntermediateObserver)?) throws -> Tensor
}

extension BertModel: SentenceEncoder {
    public var modelType: String { config.modelType ?? "bert" }
    public var scoreBias: String? { nil }
    public var embeddingsFormula: String { "LayerNorm(token + position + segment embedding)" }
    public var hiddenSize: Int { config.hiddenSize }
    public var intermediateSize: Int { config.intermediateSize }
    public var maxTokens: Int { config.maxPositionEmbeddings }
    public var wordEmbeddings: Embedding { embeddings.words }
    public var attentionLayers: [MultiHeadAttention] { layers.map(\.attention) }
    public func encode(ids: [[Int]], typeIds: [[Int]]?, attentionMask: [[Int]]?, observer: (any IntermediateObserver)?) throws -> Tensor {
        try self(ids: ids, typeIds: typeIds, attentionMask: attentionMask, observer: observer)
    }
}

extension SentenceEncoder {
    /// Useful floating-point operations of one sequence of `tokens` tokens, as PERFORMANCE-NOTES counts them:
    /// 2 per multiply-add of every layer's linear maps, T·(4·D² + 2·D·F), and of its attention, 4·T²·(D / H) per
    /// head (QKᵀ and weights·V). Embedding look-ups, norms and the softmax are not counted.
    public func flops(tokens: Int) -> Double {
        let (t, d, f) = (Double(tokens), Double(hiddenSize), Double(intermediateSize))
        let linear = t * (4 * d * d + 2 * d * f)
        let attention = Double(heads) * 2 * t * t * (d / Double(heads))
        return 2 * Double(layerCount) * (linear + attention)
    }
}

extension MPNetModel: SentenceEncoder {
    public var modelType: String { config.modelType ?? "mpnet" }
    public var scoreBias: String? { "position_bias" }
    public var embeddingsFormula: String { "LayerNorm(token + position embedding), positions counted from \(config.padTokenId + 1)" }
    public var hiddenSize: Int { config.hiddenSize }
    public var intermediateSize: Int { config.intermediateSize }
    /// Positions count from `pad_token_id + 1`, so a table of 514 rows holds 512 tokens.
    public var maxTokens: Int { config.maxPositionEmbeddings - config.padTokenId - 1 }
    public var wordEmbeddings: Embedding { embeddings.words }
    public var attentionLayers: [MultiHeadAttention] { layers.map(\.attention) }
    /// MPNet has no segment embeddings: `typeIds` are ignored.
    public func encode(ids: [[Int]], typeIds: [[Int]]?, attentionMask: [[Int]]?, observer: (any IntermediateObserver)?) throws -> Tensor {
        try self(ids: ids, attentionMask: attentionMask, observer: observer)
    }
}

/// Loads the encoder of a sentence-transformers folder by its `model_type`.
public enum SentenceEncoders {
    /// The `model_type`s a sentence-transformers folder may have.
    public static let modelTypes = ["bert", "mpnet"]

    ///
    /// `prepack` (default true) fuses each layer's Q/K/V projections and packs every weight matrix once for the GEMM:
    /// the fastest way to run many sentences, at the cost of a second copy of the weights made at load time. With
    /// `prepack: false` (fp32 only; bf16 always packs) the weights stay in the memory-mapped file and each product
    /// packs the panels it needs as it goes: the same results, a faster start and half the memory, for a process
    /// that embeds a few sentences and exits.
    public static func load(folder: URL, precision: InferencePrecision = .fp32, prepack: Bool = true) throws -> any SentenceEncoder {
        let type = try ModelFolder.modelType(of: folder) ?? "bert"
        switch type {
        case "bert": return try BertModel.load(folder: folder, precision: precision, prepack: prepack)
        case "mpnet": return try MPNetModel.load(folder: folder, precision: precision, prepack: prepack)
        default:
            throw ModelError.invalidConfig(folder.appendingPathComponent(ModelFolder.configFile).path,
                                           "model_type \"\(type)\" is not a sentence encoder (\(modelTypes.joined(separator: ", ")))")
        }
    }
}

import AttendNN
import AttendTensor

/// One post-norm Transformer encoder layer, as BERT and MPNet have it: self-attention and a feed-forward block,
/// each followed by a residual connection and LayerNorm.
///
///     h = LayerNorm(x + MultiHeadAttention(x))
///     y = LayerNorm(h + W₂ · act(W₁ · h + b₁) + b₂)
///
/// The families differ only in their checkpoints' parameter names (``Names``) and in the mask they pass: BERT a
/// key-padding mask, MPNet an additive bias (its relative positions, padded keys at −∞).
public final class EncoderLayer: Module {
    /// The checkpoint names of the attention parameters (the feed-forward names are the same in both families).
    public struct Names: Sendable {
        public let query, key, value, output, attentionNorm: String

        /// BERT: `attention.self.{query,key,value}`, `attention.output.dense`, `attention.output.LayerNorm`.
        public static let bert = Names(query: "attention.self.query", key: "attention.self.key",
                                       value: "attention.self.value", output: "attention.output.dense",
                                       attentionNorm: "attention.output.LayerNorm")
        /// MPNet: `attention.attn.{q,k,v,o}`, `attention.LayerNorm`.
        public static let mpnet = Names(query: "attention.attn.q", key: "attention.attn.k", value: "attention.attn.v",
                                        output: "attention.attn.o", attentionNorm: "attention.LayerNorm")
    }

    public let attention: MultiHeadAttention   // W_Q, W_K, W_V, W_O
    public let attentionNorm: LayerNorm
    public let intermediate: Linear            // intermediate.dense   [intermediate, hidden]
    public let output: Linear                  // output.dense         [hidden, intermediate]
    public let outputNorm: LayerNorm           // output.LayerNorm
    let activation: Activation
    let names: Names

    /// A layer of width `hidden` with `heads` heads and a feed-forward block of width `intermediateSize`; `rng`
    /// initialises the weights at random (training, tests), `nil` leaves them to be loaded.
    init(hidden: Int, heads: Int, intermediateSize: Int, layerNormEps: Float, hiddenAct: String, names: Names,
         rng: inout SeededRNG?) throws {
        attention = try MultiHeadAttention(embedDim: hidden, heads: heads, initializer: &rng)
        attentionNorm = LayerNorm(hidden, eps: layerNormEps)
        if rng != nil {
            intermediate = Linear(hidden, intermediateSize, rng: &rng!)
            output = Linear(intermediateSize, hidden, rng: &rng!)
        } else {
            intermediate = Linear(hidden, intermediateSize)
            output = Linear(intermediateSize, hidden)
        }
        outputNorm = LayerNorm(hidden, eps: layerNormEps)
        activation = Activation(hfName: hiddenAct) ?? .gelu
        self.names = names
    }

    public var children: [(String, any Module)] {
        [(names.query, attention.qProj), (names.key, attention.kProj), (names.value, attention.vProj),
         (names.output, attention.outProj), (names.attentionNorm, attentionNorm),
         ("intermediate.dense", intermediate), ("output.dense", output), ("output.LayerNorm", outputNorm)]
    }

    /// BERT: `x`: `[B, T, hidden]`, `mask`: `[B, T]` (1 = real token) → `[B, T, hidden]`
    func callAsFunction(_ x: Tensor, mask: Tensor?, observer: (any IntermediateObserver)?, name: String) throws -> Tensor {
        let a = try attention(query: x, keyPaddingMask: mask, observer: observer, name: name).output  // [B, T, hidden]
        return try feedForward(attended: a, input: x)                                                // [B, T, hidden]
    }

    /// MPNet: `x`: `[B, T, hidden]`, `bias`: additive `[1 or B, H, T, T]` (position bias, padded keys at −∞)
    /// → `[B, T, hidden]`
    func callAsFunction(_ x: Tensor, bias: AttentionMask, observer: (any IntermediateObserver)?, name: String) throws -> Tensor {
        let a = try attention(query: x, mask: bias, observer: observer, name: name).output   // [B, T, hidden]
        return try feedForward(attended: a, input: x)                                         // [B, T, hidden]
    }

    /// The residual, LayerNorm and feed-forward block after attention: `a`, `x`: `[B, T, hidden]` → `[B, T, hidden]`
    private func feedForward(attended a: Tensor, input x: Tensor) throws -> Tensor {
        let h = try attentionNorm(a, residual: x)                                 // [B, T, hidden]
        let f = try output(intermediate(h, activation: activation.fused))         // [B, T, hidden]
        return try outputNorm(f, residual: h)                                     // [B, T, hidden]
    }
}

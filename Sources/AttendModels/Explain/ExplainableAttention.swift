// What the explanation methods beyond raw attention need from a model, beyond the attention sites every model
// lists: for value-norm, the vectors each site's value projection reads and the projection weights; for
// grad-attention, a differentiable run that exposes ∂y/∂A. A family conforms in its own folder's file; the
// methods themselves (AttendViz/Methods) know no family.
import AttendNN
import Foundation

/// One attention site as value-norm needs it: α, the vectors x_j the value projection read, and the matrices of
/// f^h(x) = (x·W_V^hᵀ + b_V^h)·W_O^hᵀ in PyTorch's `[out, in]` layout. With grouped key/value heads (Llama), W_V has
/// `H_kv·d` rows and query head h reads value head h / (H / H_kv).
public struct ValueSite {
    /// `[H, Lq, Lk]`, the attention weights α.
    public var weights: Tensor
    /// `[Lk, D_in]`, what the value projection reads (BERT: the layer's input; a pre-norm block: LN₁ or RMSNorm of
    /// its input; cross-attention: the encoder's output).
    public var input: Tensor
    /// `[H_kv·d, D_in]`, W_V.
    public var valueWeight: Tensor
    /// `[H_kv·d]`, b_V, or nil (Llama has none).
    public var valueBias: Tensor?
    /// `[D_out, H·d]`, W_O (its bias is not part of f).
    public var outputWeight: Tensor
    /// The module the matrices come from, when the site is a ``MultiHeadAttention`` (nil for Llama's GGUF matrices).
    public var attention: MultiHeadAttention?
    public var queryTokens: [String]
    public var keyTokens: [String]

    /// A site whose projections are `attention`'s `vProj` and `outProj`.
    public init(weights: Tensor, input: Tensor, attention: MultiHeadAttention, queryTokens: [String], keyTokens: [String]) {
        self.init(weights: weights, input: input, valueWeight: attention.vProj.weight.value, valueBias: attention.vProj.bias?.value,
                  outputWeight: attention.outProj.weight.value, queryTokens: queryTokens, keyTokens: keyTokens)
        self.attention = attention
    }

    /// A site given by its matrices.
    public init(weights: Tensor, input: Tensor, valueWeight: Tensor, valueBias: Tensor?, outputWeight: Tensor,
                queryTokens: [String], keyTokens: [String]) {
        self.weights = weights
        self.input = input
        self.valueWeight = valueWeight
        self.valueBias = valueBias
        self.outputWeight = outputWeight
        self.attention = nil
        self.queryTokens = queryTokens
        self.keyTokens = keyTokens
    }
}

/// The scalar y whose gradient grad-attention follows.
public enum GradientTarget: Sendable, Equatable {
    /// Cosine similarity of the sentence embedding to that of another sentence (sentence encoders).
    case similarity(to: String)
    /// Log-probability of this token at the last position (decoders).
    case nextToken(String)

    public var description: String {
        switch self {
        case .similarity(let s): return "cosine similarity to “\(s)”"
        case .nextToken(let t): return "log p(\(t)) at the last position"
        }
    }
}

/// Attention weights and ∂y/∂A of every site for one input, with y's value.
public struct AttentionGradients: Sendable {
    /// Per site `[H, T, T]`.
    public var attention: [Tensor]
    /// Per site `[H, T, T]`, ∂y/∂A.
    public var gradients: [Tensor]
    /// The value of y.
    public var output: Float
    public var tokens: [String]
    /// What y is, for people.
    public var target: String

    public init(attention: [Tensor], gradients: [Tensor], output: Float, tokens: [String], target: String) {
        self.attention = attention
        self.gradients = gradients
        self.output = output
        self.tokens = tokens
        self.target = target
    }
}

/// A model that value-norm and grad-attention can explain. Sites are numbered as the model's attention sites.
public protocol ExplainableAttention: AnyObject {
    /// Every attention site of one run on `text`, with what its value projection read.
    func valueSites(_ text: String) throws -> [ValueSite]
    /// Site `site` of one run on `text` (by default from ``valueSites(_:)``; a model whose matrices are costly to
    /// make dense makes only that site's).
    func valueSite(_ text: String, site: Int) throws -> ValueSite
    /// One forward and backward pass on Attend's autograd with every site's weights tapped: ∂y/∂A per site.
    func attentionGradients(_ text: String, target: GradientTarget) throws -> AttentionGradients
}

extension ExplainableAttention {
    public func valueSite(_ text: String, site: Int) throws -> ValueSite {
        let sites = try valueSites(text)
        guard site >= 0, site < sites.count else {
            throw ModelError.invalidInput("attention site \(site) is out of range 0…\(sites.count - 1)")
        }
        return sites[site]
    }
}

extension AttentionGradients {
    /// Reads each tap's gradient (zeros where y does not reach) and drops the batch axis.
    static func collect(_ attention: [Tensor], _ taps: [Variable], tape: Tape, output: Float, tokens: [String],
                        target: String) throws -> AttentionGradients {
        let a = try attention.map { try $0.select(axis: 0, 0) }                                      // [H, T, T] each
        let g = try zip(taps, a).map { tap, w in
            try tape.gradient(tap).map { try $0.select(axis: 0, 0) } ?? .zeros(w.shape)             // [H, T, T]
        }
        return AttentionGradients(attention: a, gradients: g, output: output, tokens: tokens, target: target)
    }
}

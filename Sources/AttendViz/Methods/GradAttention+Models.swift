// Grad-attention on real models: the model's differentiable run gives ∂y/∂A per site
// (ExplainableAttention.attentionGradients), then Chefer et al.'s rule (GradAttention.relevance).
import AttendNN
import AttendTokenizers
import Foundation

extension GradAttention {
    /// ∂y/∂A of a sentence encoder for y = cosine similarity to `target`.
    public static func gradients(embedder: SentenceEmbedder, text: String, target: String) throws -> AttentionGradients {
        try embedder.attentionGradients(text, target: .similarity(to: target))
    }

    /// ∂y/∂A of TinyGPT for y = log p(`target` | `ids`) at the last position.
    public static func gradients(gpt: TinyGPT, ids: [Int], target: Int) throws -> AttentionGradients {
        try gpt.attentionGradients(ids: ids, target: target)
    }

    /// Grad-attention of any explainable model for `target`, after site `upTo` (default the last).
    public static func result(model: any ExplainableAttention, text: String, target: GradientTarget, upTo: Int? = nil) throws -> MethodResult {
        try result(model.attentionGradients(text, target: target), upTo: upTo)
    }

    /// Grad-attention of a sentence encoder for the cosine similarity to `target`.
    public static func result(embedder: SentenceEmbedder, text: String, target: String, upTo: Int? = nil) throws -> MethodResult {
        try result(gradients(embedder: embedder, text: text, target: target), upTo: upTo)
    }

    /// Grad-attention of TinyGPT for the log-probability of `target` after `ids`.
    public static func result(gpt: TinyGPT, ids: [Int], target: Int, upTo: Int? = nil) throws -> MethodResult {
        try result(gradients(gpt: gpt, ids: ids, target: target), upTo: upTo)
    }

    /// Chefer's rule on computed gradients.
    public static func result(_ g: AttentionGradients, upTo: Int? = nil) throws -> MethodResult {
        let r = try relevance(attentions: g.attention, gradients: g.gradients, upTo: upTo)
        let target = "\(g.target) = \(VizFormat.number(g.output, decimals: 4))"
        return MethodResult(method: .gradAttention, matrix: toFloat(r), queryTokens: g.tokens, keyTokens: g.tokens,
                            layer: upTo ?? g.attention.count - 1, target: target,
                            notes: ["R = Π_l (I + mean_h (∂y/∂A_l ⊙ A_l)⁺) with y = \(target); R starts at I, so read R − I"])
    }
}

// Grad-attention on real models: the model's differentiable run gives ∂y/∂A per site
// (ExplainableAttention.attentionGradients), then Chefer et al.'s rule (GradAttention.relevance). BERT and MPNet
// encoders, Llama decoders (SmolLM2), TinyGPT and TinyTranslator provide the gradients.
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

    /// Grad-attention of any explainable model for `target`, composing the sites `sites` (in order; all of one
    /// sequence, self- or causal self-attention) over `tokens` (default the gradients' tokens). For an
    /// encoder-decoder, `sites` are the encoder's self-attention layers or the decoder's causal self-attention
    /// layers up to the one asked for (``ExplainMethods/chain(_:upTo:)``); the gradients are those of y through the
    /// whole model, cross-attention included.
    public static func result(model: any ExplainableAttention, text: String, target: GradientTarget, sites: [Int],
                              tokens: [String]? = nil) throws -> MethodResult {
        try result(model.attentionGradients(text, target: target), sites: sites, tokens: tokens)
    }

    /// Chefer's rule on the computed gradients of the sites `sites` (in order).
    public static func result(_ g: AttentionGradients, sites: [Int], tokens: [String]? = nil) throws -> MethodResult {
        guard let lastSite = sites.last, sites.allSatisfy({ $0 >= 0 && $0 < g.attention.count }) else {
            throw ExplainMethodError.invalidInput("grad-attention: sites \(sites) are not among the model's \(g.attention.count) attention sites")
        }
        let a = sites.map { g.attention[$0] }, d = sites.map { g.gradients[$0] }
        let r = try relevance(attentions: a, gradients: d)
        let names = tokens ?? g.tokens
        guard names.count == r.count else {
            throw ExplainMethodError.invalidInput("grad-attention: \(names.count) tokens for a \(r.count) × \(r.count) relevance")
        }
        let target = "\(g.target) = \(VizFormat.number(g.output, decimals: 4))"
        return MethodResult(method: .gradAttention, matrix: toFloat(r), queryTokens: names, keyTokens: names,
                            layer: lastSite, target: target,
                            notes: ["R = Π_l (I + mean_h (∂y/∂A_l ⊙ A_l)⁺) with y = \(target); R starts at I, so read R − I"])
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

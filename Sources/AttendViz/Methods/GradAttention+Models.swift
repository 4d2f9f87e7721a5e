// Grad-attention on real models: the scalar y, one forward and one backward on Attend's autograd with the
// attention weights tapped, then Chefer et al.'s rule (GradAttention.relevance).
import AttendNN
import AttendTokenizers
import Foundation

/// Attention weights and ∂y/∂A of every layer for one input, with y's value.
public struct AttentionGradients: Sendable {
    /// Per layer `[H, T, T]`.
    public var attention: [Tensor]
    /// Per layer `[H, T, T]`, ∂y/∂A_l.
    public var gradients: [Tensor]
    /// The value of y.
    public var output: Float
    public var tokens: [String]
}

extension GradAttention {
    /// y = cosine similarity between the mean-pooled last hidden states of `text` and the embedding of `target`
    /// (the model's own sentence embedding; normalising does not change a cosine).
    public static func gradients(embedder: SentenceEmbedder, text: String, target: String) throws -> AttentionGradients {
        guard embedder.pooling == [.mean] else {
            throw ExplainMethodError.unsupported("grad-attention on a sentence encoder needs mean pooling; this model pools by \(embedder.pooling.map(\.rawValue))")
        }
        let encoding = embedder.tokenizer.encode(text, maxLength: embedder.maxSeqLength)
        let targetVector = try embedder.embed([target])[0].vector                                    // [hidden]
        let tape = Tape()
        let run = try embedder.model.tracedForward(ids: [encoding.ids], typeIds: [encoding.typeIds], tape: tape, tapAttention: true)
        let pooled = try run.hidden.mean(axis: 1)                                                    // [1, hidden]
        let y = try Variable.cosineSimilarity(pooled, Variable(Tensor(shape: [1, targetVector.count], scalars: targetVector)))  // [1]
        try tape.backward(y)
        return try collect(run.attention, run.attentionTaps, tape: tape, output: y.value.scalars[0], tokens: encoding.tokens)
    }

    /// y = log p(`target` | `ids`) at the last position of a TinyGPT.
    public static func gradients(gpt: TinyGPT, ids: [Int], target: Int, tokens: [String]) throws -> AttentionGradients {
        guard !ids.isEmpty, tokens.count == ids.count else {
            throw ExplainMethodError.invalidInput("grad-attention: \(ids.count) ids for \(tokens.count) tokens (need at least one)")
        }
        guard target >= 0, target < gpt.config.vocabSize else {
            throw ExplainMethodError.invalidInput("grad-attention: target token \(target) is outside the vocabulary of \(gpt.config.vocabSize)")
        }
        let tape = Tape()
        let run = try gpt.tracedForward([ids], tape: tape, tapAttention: true)
        // −log p(target) at the last position only (the others are ignored).
        let targets = Array(repeating: -100, count: ids.count - 1) + [target]
        let nll = try Variable.crossEntropy(run.logits, targets: targets)                            // []
        try tape.backward(nll, seed: Tensor(shape: nll.shape, scalars: [-1]))                        // d(−nll) = d log p
        return try collect(run.attention, run.attentionTaps, tape: tape, output: -nll.value.scalars[0], tokens: tokens)
    }

    static func collect(_ attention: [Tensor], _ taps: [Variable], tape: Tape, output: Float, tokens: [String]) throws -> AttentionGradients {
        let a = try attention.map { try $0.select(axis: 0, 0) }                                      // [H, T, T] each
        let g = try zip(taps, a).map { tap, w in
            try tape.gradient(tap).map { try $0.select(axis: 0, 0) } ?? .zeros(w.shape)             // [H, T, T]
        }
        return AttentionGradients(attention: a, gradients: g, output: output, tokens: tokens)
    }

    /// Grad-attention of a sentence encoder for the cosine similarity to `target`.
    public static func result(embedder: SentenceEmbedder, text: String, target: String, upTo: Int? = nil) throws -> MethodResult {
        let g = try gradients(embedder: embedder, text: text, target: target)
        return try result(g, upTo: upTo, target: "cosine similarity to “\(target)” = \(VizFormat.number(g.output, decimals: 4))")
    }

    /// Grad-attention of TinyGPT for the log-probability of `target` after `ids`.
    public static func result(gpt: TinyGPT, ids: [Int], target: Int, tokens: [String], targetName: String, upTo: Int? = nil) throws -> MethodResult {
        let g = try gradients(gpt: gpt, ids: ids, target: target, tokens: tokens)
        return try result(g, upTo: upTo, target: "log p(\(targetName)) = \(VizFormat.number(g.output, decimals: 4)) at the last position")
    }

    static func result(_ g: AttentionGradients, upTo: Int?, target: String) throws -> MethodResult {
        let r = try relevance(attentions: g.attention, gradients: g.gradients, upTo: upTo)
        return MethodResult(method: .gradAttention, matrix: toFloat(r), queryTokens: g.tokens, keyTokens: g.tokens,
                            layer: upTo ?? g.attention.count - 1, target: target,
                            notes: ["R = Π_l (I + mean_h (∂y/∂A_l ⊙ A_l)⁺), read row by row; y = \(target)"])
    }
}

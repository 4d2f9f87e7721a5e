// Integrated gradients (Sundararajan, Taly & Yan 2017, "Axiomatic Attribution for Deep Networks",
// arXiv:1703.01365) over BERT's input word embeddings: carries a similarity score back to the input words with
// attributions that sum to the change of the score from a baseline (completeness), up to the quadrature error.
import AttendNN
import AttendTokenizers
import Foundation

/// Per-token attributions of a score, with the numbers that check them.
public struct TokenAttribution: Sendable {
    public var text: String
    public var tokens: [String]
    /// One per token, Σ_d (x − x')_td · ∫₀¹ ∂y/∂x_td (x' + α(x − x')) dα.
    public var attributions: [Double]
    /// y(x), the score of the real input.
    public var score: Double
    /// y(x'), the score of the baseline.
    public var baselineScore: Double
    /// Points on the path are α = k/steps, k = 0…steps (trapezoid rule).
    public var steps: Int
    /// |Σ attributions − (y(x) − y(x'))|.
    public var completenessError: Double { abs(attributions.reduce(0, +) - (score - baselineScore)) }
    /// ``completenessError`` / |y(x)|.
    public var relativeCompletenessError: Double { completenessError / max(abs(score), 1e-12) }

    public var json: JSONValue {
        .object([
            ("text", .string(text)),
            ("tokens", .array(tokens.map { .string($0) })),
            ("attributions", .array(attributions.map { .double($0) })),
            ("score", .double(score)), ("baseline_score", .double(baselineScore)), ("steps", .int(steps)),
            ("completeness_error", .double(completenessError)),
            ("relative_completeness_error", .double(relativeCompletenessError)),
        ])
    }
}

public enum IntegratedGradients {
    /// The baseline, stated once: every token's word embedding set to zero except those of the special tokens
    /// ([CLS], [SEP]), which are kept; position and token-type embeddings are kept (they are not words).
    public static let baselineDescription = "word embeddings of every token but [CLS]/[SEP] set to zero; position and token-type embeddings kept"

    /// Attributions of y(x) = cos(mean-pooled last hidden states of `text`, `target`) to the tokens of `text`:
    ///
    ///     x'  = the baseline (``baselineDescription``)
    ///     IG_t = Σ_d (x_td − x'_td) · Σ_k w_k ∂y/∂x_td (x' + α_k (x − x'))     α_k = k/steps, trapezoid weights w_k
    ///
    /// with Σ_t IG_t ≈ y(x) − y(x') (completeness; the error is reported). Gradients come from Attend's autograd
    /// through ``BertModel/tracedForward(ids:typeIds:wordEmbeddings:tape:watchParameters:tapAttention:)``; the
    /// path points run as batches of `batchSize`.
    public static func similarity(embedder: SentenceEmbedder, text: String, target: [Float], steps: Int = 32,
                                  batchSize: Int = 17) throws -> TokenAttribution {
        guard steps >= 1, batchSize >= 1 else { throw ExplainMethodError.invalidInput("integrated gradients: steps and batch size must be at least 1") }
        guard embedder.pooling == [.mean] else {
            throw ExplainMethodError.unsupported("integrated gradients of a similarity need mean pooling; this model pools by \(embedder.pooling.map(\.rawValue))")
        }
        guard let model = embedder.model as? BertModel else {
            throw ExplainMethodError.unsupported("integrated gradients need a differentiable forward of the encoder; \(embedder.model.modelType) has none yet (BERT has)")
        }
        let hidden = model.config.hiddenSize
        guard target.count == hidden else { throw ExplainMethodError.invalidInput("target vector has \(target.count) dimensions, the model \(hidden)") }
        let enc = embedder.tokenizer.encode(text, maxLength: embedder.maxSeqLength)
        let t = enc.count
        let x = try model.embeddings.words.callAsFunction([enc.ids]).scalars                          // [1, T, hidden]
        var base = [Float](repeating: 0, count: t * hidden)                                           // [T, hidden]
        for ti in 0..<t where ti < enc.specialTokensMask.count && enc.specialTokensMask[ti] != 0 {
            for d in 0..<hidden { base[ti * hidden + d] = x[ti * hidden + d] }
        }
        let alphas = (0...steps).map { Double($0) / Double(steps) }
        let weights = alphas.indices.map { k in (k == 0 || k == steps ? 0.5 : 1) / Double(steps) }
        var integrated = [Double](repeating: 0, count: t * hidden)                                    // [T, hidden]
        var ys = [Double](repeating: 0, count: alphas.count)
        for start in stride(from: 0, to: alphas.count, by: batchSize) {
            let ks = Array(start..<min(alphas.count, start + batchSize))
            var points = [Float](repeating: 0, count: ks.count * t * hidden)                          // [B, T, hidden]
            for (bi, k) in ks.enumerated() {
                let a = Float(alphas[k])
                for e in 0..<(t * hidden) { points[bi * t * hidden + e] = base[e] + a * (x[e] - base[e]) }
            }
            let tape = Tape()
            let input = tape.variable(try Tensor(shape: [ks.count, t, hidden], scalars: points))
            let ids = Array(repeating: enc.ids, count: ks.count), types = Array(repeating: enc.typeIds, count: ks.count)
            let run = try model.tracedForward(ids: ids, typeIds: types, wordEmbeddings: input, tape: tape)
            let pooled = try run.hidden.mean(axis: 1)                                                 // [B, hidden]
            let targets = Tensor(shape: [ks.count, hidden], repeating: target)
            let y = try Variable.cosineSimilarity(pooled, Variable(targets))                          // [B]
            for (bi, k) in ks.enumerated() { ys[k] = Double(y.value.scalars[bi]) }
            try tape.backward(y, seed: Tensor(shape: [ks.count], scalars: ks.map { Float(weights[$0]) }))
            guard let g = tape.gradient(input)?.scalars else { continue }                            // [B, T, hidden]
            for bi in ks.indices { for e in 0..<(t * hidden) { integrated[e] += Double(g[bi * t * hidden + e]) } }
        }
        let attributions = (0..<t).map { ti in
            (0..<hidden).reduce(0.0) { $0 + Double(x[ti * hidden + $1] - base[ti * hidden + $1]) * integrated[ti * hidden + $1] }
        }
        return TokenAttribution(text: text, tokens: enc.tokens, attributions: attributions, score: ys[steps],
                                baselineScore: ys[0], steps: steps)
    }

    /// Both sides of a similarity: the words of `a` that make it match `b` (b's embedding fixed), and the words of
    /// `b` that make it match `a`.
    public static func similarity(embedder: SentenceEmbedder, _ a: String, _ b: String, steps: Int = 32) throws -> (a: TokenAttribution, b: TokenAttribution) {
        let v = try embedder.embed([a, b]).map(\.vector)
        return (try similarity(embedder: embedder, text: a, target: v[1], steps: steps),
                try similarity(embedder: embedder, text: b, target: v[0], steps: steps))
    }
}

extension Tensor {
    /// `rows` copies of `row`: `[rows, row.count]`.
    init(shape: [Int], repeating row: [Float]) {
        var s: [Float] = []
        s.reserveCapacity(shape.reduce(1, *))
        for _ in 0..<(shape.first ?? 0) { s += row }
        self = (try? Tensor(shape: shape, scalars: s)) ?? .zeros(shape)
    }
}

// "Why are these two sentences similar?", exactly: with mean pooling the cosine of two sentence embeddings is a
// sum of token × token terms, so it splits without approximation into an n × m table.
import AttendNN
import AttendTokenizers
import Foundation

/// The token × token decomposition of the cosine similarity of two mean-pooled sentence embeddings:
///
///     ē_a = (1/n) Σ_i h_i        ē_b = (1/m) Σ_j g_j        (h_i, g_j: last-layer vectors of the tokens)
///     cos(a, b) = ē_a·ē_b / (‖ē_a‖‖ē_b‖) = Σ_i Σ_j C_ij,    C_ij = (h_i · g_j) / (n · m · ‖ē_a‖ · ‖ē_b‖)
///
/// The final normalisation of the embeddings (Normalize module) does not change the cosine. `C_ij` is positive
/// when token i of a and token j of b point the same way in the model's last layer, negative when they point
/// apart; it says which pairs of *contextual* vectors carry the score, not which input words caused it (for that,
/// see ``IntegratedGradients``).
public struct SimilarityExplanation: Sendable {
    public var textA: String
    public var textB: String
    public var tokensA: [String]
    public var tokensB: [String]
    /// `[n][m]`, summing to ``cosine``.
    public var contributions: [[Double]]
    /// ē_a·ē_b / (‖ē_a‖‖ē_b‖), in Double.
    public var cosine: Double

    public init(textA: String, textB: String, tokensA: [String], tokensB: [String], contributions: [[Double]], cosine: Double) {
        self.textA = textA
        self.textB = textB
        self.tokensA = tokensA
        self.tokensB = tokensB
        self.contributions = contributions
        self.cosine = cosine
    }

    /// The decomposition from the last-layer vectors `hiddenA` `[n][D]` and `hiddenB` `[m][D]`.
    public static func decompose(hiddenA: [[Float]], hiddenB: [[Float]]) throws -> (cosine: Double, contributions: [[Double]]) {
        let n = hiddenA.count, m = hiddenB.count
        guard n > 0, m > 0, let d = hiddenA.first?.count, d > 0,
              hiddenA.allSatisfy({ $0.count == d }), hiddenB.allSatisfy({ $0.count == d }) else {
            throw ExplainMethodError.invalidInput("similarity: need at least one token on each side, all vectors of one width")
        }
        func mean(_ v: [[Float]]) -> [Double] {
            var s = [Double](repeating: 0, count: d)
            for row in v { for k in 0..<d { s[k] += Double(row[k]) } }
            return s.map { $0 / Double(v.count) }
        }
        let ea = mean(hiddenA), eb = mean(hiddenB)
        let na = ea.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = eb.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard na > 0, nb > 0 else { throw ExplainMethodError.invalidInput("similarity: a mean embedding is zero; the cosine is undefined") }
        let scale = 1 / (Double(n) * Double(m) * na * nb)
        var c = [[Double]](repeating: [Double](repeating: 0, count: m), count: n)
        for i in 0..<n {
            for j in 0..<m {
                var dot = 0.0
                for k in 0..<d { dot += Double(hiddenA[i][k]) * Double(hiddenB[j][k]) }
                c[i][j] = dot * scale
            }
        }
        var dot = 0.0
        for k in 0..<d { dot += ea[k] * eb[k] }
        return (dot / (na * nb), c)
    }

    /// Runs both texts through the model (each alone) and decomposes their cosine. The model must pool by mean.
    public static func explain(embedder: SentenceEmbedder, _ a: String, _ b: String) throws -> SimilarityExplanation {
        guard embedder.pooling == [.mean] else {
            throw ExplainMethodError.unsupported("the token × token explanation needs mean pooling; this model pools by \(embedder.pooling.map(\.rawValue))")
        }
        func run(_ text: String) throws -> (tokens: [String], hidden: [[Float]]) {
            let e = embedder.tokenizer.encode(text, maxLength: embedder.maxSeqLength)
            let h = try embedder.model.encode(ids: [e.ids], typeIds: [e.typeIds], attentionMask: nil, observer: nil)  // [1, T, hidden]
            let d = h.shape[2], s = h.scalars
            return (e.tokens, (0..<e.count).map { Array(s[($0 * d)..<(($0 + 1) * d)]) })
        }
        let ra = try run(a), rb = try run(b)
        let (cosine, c) = try decompose(hiddenA: ra.hidden, hiddenB: rb.hidden)
        return SimilarityExplanation(textA: a, textB: b, tokensA: ra.tokens, tokensB: rb.tokens, contributions: c, cosine: cosine)
    }

    /// Σ_j C_ij: what each token of a adds to the cosine.
    public var rowSums: [Double] { contributions.map { $0.reduce(0, +) } }
    /// Σ_i C_ij: what each token of b adds to the cosine.
    public var columnSums: [Double] {
        (0..<(tokensB.count)).map { j in contributions.reduce(0) { $0 + $1[j] } }
    }
    /// Σ_ij C_ij (equals ``cosine`` up to rounding).
    public var total: Double { contributions.reduce(0) { $0 + $1.reduce(0, +) } }

    /// The `count` largest contributions, as (i, j, value), largest first.
    public func topPairs(_ count: Int) -> [(i: Int, j: Int, value: Double)] {
        var all: [(i: Int, j: Int, value: Double)] = []
        for i in contributions.indices { for j in contributions[i].indices { all.append((i, j, contributions[i][j])) } }
        return Array(all.sorted { $0.value > $1.value }.prefix(count))
    }

    /// `{"text_a", "text_b", "cosine", "tokens_a", "tokens_b", "contributions", "row_sums", "column_sums"}`.
    public var json: JSONValue {
        .object([
            ("text_a", .string(textA)), ("text_b", .string(textB)),
            ("cosine", .double(cosine)),
            ("tokens_a", .array(tokensA.map { .string($0) })),
            ("tokens_b", .array(tokensB.map { .string($0) })),
            ("contributions", .array(contributions.map { .array($0.map { .double($0) }) })),
            ("row_sums", .array(rowSums.map { .double($0) })),
            ("column_sums", .array(columnSums.map { .double($0) })),
        ])
    }
}

// Nearest neighbours in a model's input-embedding table (the vectors a token has before any attention), by cosine
// similarity, with word arithmetic: "king - man + woman" adds and subtracts the words' vectors, and a word the
// tokenizer splits into several pieces uses the mean of its pieces' vectors.
import AttendModels
import AttendTensor
import AttendTokenizers

/// A word-arithmetic expression: words joined by `+` and `-` (spaces around the operators).
public struct NeighborExpression: Sendable, Equatable {
    public struct Term: Sendable, Equatable {
        /// +1 or −1.
        public var sign: Float
        public var word: String
        public init(sign: Float, word: String) { self.sign = sign; self.word = word }
    }

    public var text: String
    public var terms: [Term]

    /// "king - man + woman" → [+king, −man, +woman]; a lone word is one term.
    public init(parsing expression: String) throws {
        var terms: [Term] = []
        var sign: Float = 1
        var expectWord = true
        for raw in expression.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            let part = String(raw)
            if part == "+" || part == "-" {
                guard !expectWord else { throw SearchError("expression \"\(expression)\": '\(part)' must come between two words") }
                sign = part == "-" ? -1 : 1
                expectWord = true
            } else {
                guard expectWord else { throw SearchError("expression \"\(expression)\": put + or - between words (\"a - b + c\")") }
                terms.append(Term(sign: sign, word: part))
                expectWord = false
            }
        }
        guard !terms.isEmpty, !expectWord else { throw SearchError("expression \"\(expression)\" is empty or ends with an operator") }
        self.text = expression
        self.terms = terms
    }
}

/// The vocabulary pieces nearest to an expression in an input-embedding table.
public struct EmbeddingNeighbors: Sendable {
    public struct Neighbor: Sendable, Equatable {
        public var id: Int
        /// nil for an id the tokenizer has no piece for.
        public var token: String?
        public var cosine: Float
    }

    /// Best first.
    public var neighbors: [Neighbor]
    /// For each word made of several pieces: `"word" = mean of piece piece`.
    public var explanations: [String]
    /// Rows and columns of the table.
    public var vocabularySize: Int
    public var dimensions: Int

    /// The `top` pieces nearest to `expression` in `table` (`[vocab, hidden]`, row i = token id i). The words of the
    /// expression are left out, as analogy demos do; so are `##` continuation pieces and `[special]` tokens unless
    /// `allPieces`. `unknownPiece` is told about each word containing the tokenizer's unknown token.
    public init(of expression: NeighborExpression, table: Tensor, tokenizer: Tokenizer, top: Int, allPieces: Bool = false,
                unknownPiece: (String) -> Void = { _ in }) throws {
        guard top >= 1 else { throw SearchError("top must be at least 1, got \(top)") }
        guard table.shape.count == 2 else { throw SearchError("the embedding table must be [vocab, hidden], got \(table.shape)") }
        let (vocab, dim) = (table.shape[0], table.shape[1])
        let scalars = table.scalars
        var query = [Float](repeating: 0, count: dim)
        var excluded = Set<Int>()
        var explained: [String] = []
        for term in expression.terms {
            let e = tokenizer.encode(term.word, addSpecialTokens: false)
            guard !e.ids.isEmpty else { throw SearchError("\"\(term.word)\" has no tokens") }
            for id in e.ids where id < 0 || id >= vocab {
                throw SearchError("\"\(term.word)\": token id \(id) is outside the embedding table (\(vocab) rows)")
            }
            if e.ids.contains(where: { $0 == tokenizer.unkTokenId }) { unknownPiece(term.word) }
            if e.ids.count > 1 { explained.append("\"\(term.word)\" = mean of \(e.tokens.joined(separator: " "))") }
            for id in e.ids { excluded.insert(id) }
            for id in e.ids { for d in 0..<dim { query[d] += term.sign * scalars[id * dim + d] / Float(e.ids.count) } }
        }
        var scored: [(Int, Float)] = []
        scored.reserveCapacity(vocab)
        for id in 0..<vocab where !excluded.contains(id) {
            let token = tokenizer.token(for: id) ?? ""
            if !allPieces && (token.hasPrefix("##") || (token.hasPrefix("[") && token.hasSuffix("]"))) { continue }
            scored.append((id, cosineSimilarity(query, Array(scalars[(id * dim)..<((id + 1) * dim)]))))
        }
        neighbors = scored.sorted { $0.1 > $1.1 }.prefix(top).map { Neighbor(id: $0.0, token: tokenizer.token(for: $0.0), cosine: $0.1) }
        explanations = explained
        vocabularySize = vocab
        dimensions = dim
    }
}

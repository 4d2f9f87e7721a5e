// Which words of a query and of a document made a search hit match: the exact token × token split of their
// cosine (SimilarityExplanation), summed per token and merged into words, ready to highlight.
import AttendNN
import Foundation

/// One word and what it adds to the cosine of a query and a document.
public struct WordContribution: Sendable, Equatable {
    public var word: String
    /// Σ over the word's tokens of their row (query) or column (document) sums of the contributions.
    public var contribution: Double
    /// Whether the word is a special token ([CLS], [SEP]): they carry part of every score, and no meaning of the text.
    public var isSpecial: Bool
}

/// The words of a query and a document with what each adds to their cosine (the sums are exactly the cosine).
public struct MatchHighlight: Sendable {
    public var cosine: Double
    public var queryWords: [WordContribution]
    public var documentWords: [WordContribution]

    /// From an explanation of (query, document): word pieces (`##…`) are merged into the word before them.
    public init(_ x: SimilarityExplanation) {
        cosine = x.cosine
        queryWords = Self.words(x.tokensA, x.rowSums)
        documentWords = Self.words(x.tokensB, x.columnSums)
    }

    /// Explains one hit: runs the query and the document through the model (see ``SimilarityExplanation``).
    public static func explain(embedder: SentenceEmbedder, query: String, document: String) throws -> MatchHighlight {
        MatchHighlight(try SimilarityExplanation.explain(embedder: embedder, query, document))
    }

    static func words(_ tokens: [String], _ values: [Double]) -> [WordContribution] {
        var out: [WordContribution] = []
        for (t, v) in zip(tokens, values) {
            let special = t.hasPrefix("[") && t.hasSuffix("]") && t.count > 2
            if t.hasPrefix("##"), let last = out.last, !last.isSpecial {
                out[out.count - 1].word += String(t.dropFirst(2))
                out[out.count - 1].contribution += v
            } else {
                out.append(WordContribution(word: t, contribution: v, isSpecial: special))
            }
        }
        return out
    }

    /// The words in order, the `top` strongest non-special ones marked: bold when `color` is not `.none`,
    /// else wrapped in `[…]`; e.g. `the [cat] [sat] on the [mat]`.
    public static func render(_ words: [WordContribution], top: Int = 3, color: TerminalColor = .none) -> String {
        let ranked = words.indices.filter { !words[$0].isSpecial && words[$0].contribution > 0 }
            .sorted { words[$0].contribution > words[$1].contribution }.prefix(top)
        let marked = Set(ranked)
        let style = TextStyle(color: color)
        return words.indices.filter { !words[$0].isSpecial }.map { i in
            guard marked.contains(i) else { return words[i].word }
            return color == .none ? "[\(words[i].word)]" : style.bold(words[i].word)
        }.joined(separator: " ")
    }

    /// `{"cosine", "query_words": [{"word", "contribution", "special"}], "document_words": […]}`.
    public var json: JSONValue {
        func list(_ w: [WordContribution]) -> JSONValue {
            .array(w.map { .object([("word", .string($0.word)), ("contribution", .double($0.contribution)), ("special", .bool($0.isSpecial))]) })
        }
        return .object([("cosine", .double(cosine)), ("query_words", list(queryWords)), ("document_words", list(documentWords))])
    }
}

// Attention as a soft database lookup: a query is compared with every document (cosine similarity); ranking by
// cosine is the hard lookup, and softmax(cosine / temperature) over the whole corpus is the soft one, weights that
// sum to 1, as a query's attention over keys does. Shared by `attend search`, the server and a corpus index.
import AttendModels
import AttendTensor
import Foundation

/// A search input that cannot be used: one line saying which and why.
public struct SearchError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The hard and soft lookup of one query over a corpus.
public struct SoftLookup: Sendable, Equatable {
    /// Cosine similarity of the query with each document, in corpus order.
    public var cosines: [Float]
    /// softmax(cosine / temperature) over the corpus, in corpus order; sums to 1.
    public var weights: [Float]
    /// Document indices by decreasing cosine (the hard lookup's ranking).
    public var ranking: [Int]
    /// Entropy of the weights in nats: 0 when one document takes everything, ln(n) when spread evenly.
    public var entropy: Float
    public var temperature: Float

    /// exp(entropy): the number of equally weighted documents the soft lookup is spread like.
    public var effectiveDocuments: Float { Foundation.exp(entropy) }

    /// The first `count` documents of the ranking.
    public func top(_ count: Int) -> ArraySlice<Int> { ranking.prefix(max(0, count)) }

    /// The soft weight held by `documents` together.
    public func share<S: Sequence>(of documents: S) -> Float where S.Element == Int {
        documents.reduce(Float(0)) { $0 + weights[$1] }
    }

    /// Looks `query` up among `documents` (vectors of the same width, e.g. sentence embeddings).
    public init(query: [Float], documents: [[Float]], temperature: Float) throws {
        guard !documents.isEmpty else { throw SearchError("no documents to search") }
        for (i, d) in documents.enumerated() where d.count != query.count {
            throw SearchError("document \(i) has \(d.count) dimensions, the query has \(query.count)")
        }
        try self.init(cosines: documents.map { cosineSimilarity(query, $0) }, temperature: temperature)
    }

    /// The lookup from precomputed similarities (one per document).
    public init(cosines: [Float], temperature: Float) throws {
        guard temperature > 0, temperature.isFinite else {
            throw SearchError("temperature must be a positive number, got \(temperature)")
        }
        guard !cosines.isEmpty else { throw SearchError("no documents to search") }
        self.cosines = cosines
        self.temperature = temperature
        weights = try Tensor(cosines).map { $0 / temperature }.softmax().scalars   // [N], sums to 1
        ranking = cosines.indices.sorted { cosines[$0] > cosines[$1] }
        entropy = -weights.reduce(Float(0)) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) }
    }
}

/// Cosine similarity of every pair of vectors: `[i][j]` = cos(vectors[i], vectors[j]) (what `attend similarity` shows).
public func cosineSimilarityMatrix(_ vectors: [[Float]]) -> [[Float]] {
    vectors.map { a in vectors.map { b in cosineSimilarity(a, b) } }
}

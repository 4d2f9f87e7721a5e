// Text queries against a corpus index: embed the queries (one batch), check the model is the index's, take the exact
// (GEMM) or approximate (HNSW) top-k, and look the retrieved documents up softly: softmax(score / temperature) over
// them, as a query's attention over keys. Shared by `attend search --index` and the server.
import AttendModels
import AttendTensor
import Foundation

/// One ranked document of a query's results.
public struct IndexSearchHit: Sendable, Equatable {
    public var rank: Int
    /// Row in the index.
    public var row: Int
    /// The document's stored record: `{"id", "text", …}`.
    public var document: JSONValue
    /// Inner product with the query (cosine for normalised embeddings).
    public var score: Float
    /// softmax(score / temperature) over the retrieved documents.
    public var weight: Float

    public var id: JSONValue { document["id"] ?? .null }
    public var text: String { document["text"]?.stringValue ?? "" }
}

/// A query's results.
public struct IndexSearchResult: Sendable, Equatable {
    public var query: String
    public var hits: [IndexSearchHit]
    /// exp(entropy) of the weights: how many equally weighted documents the soft lookup is spread like.
    public var effectiveDocuments: Float
    public var temperature: Float
}

/// How to search an index.
public struct IndexSearchOptions: Sendable {
    public var top = 5
    public var temperature: Float = 0.05
    /// Search the HNSW graph with this beam (nil: exact search).
    public var approximateEF: Int? = nil
    public init(top: Int = 5, temperature: Float = 0.05, approximateEF: Int? = nil) {
        self.top = top
        self.temperature = temperature
        self.approximateEF = approximateEF
    }
}

extension CorpusIndex {
    /// Embeds `queries` with `embedder` (which must be the index's model, `identity`) and searches.
    public func search(_ queries: [String], embedder: SentenceEmbedder, identity: ModelIdentity,
                       options: IndexSearchOptions) throws -> [IndexSearchResult] {
        try checkModel(identity)
        guard options.top >= 1 else { throw SearchError("--top must be at least 1, got \(options.top)") }
        let vectors = try embedder.embed(queries).map(\.vector)                              // [Q][D]
        let hits: [[SearchHit]]
        if let ef = options.approximateEF {
            hits = try vectors.map { try searchApproximate($0, k: options.top, ef: ef) }
        } else {
            hits = try searchExact(vectors, k: options.top)
        }
        return try zip(queries, hits).map { query, found in
            guard !found.isEmpty else {
                return IndexSearchResult(query: query, hits: [], effectiveDocuments: 0, temperature: options.temperature)
            }
            let lookup = try SoftLookup(cosines: found.map(\.score), temperature: options.temperature)
            let ranked = try found.enumerated().map { r, h in
                IndexSearchHit(rank: r + 1, row: h.index, document: try document(h.index), score: h.score, weight: lookup.weights[r])
            }
            return IndexSearchResult(query: query, hits: ranked, effectiveDocuments: lookup.effectiveDocuments, temperature: options.temperature)
        }
    }
}

extension IndexSearchResult {
    /// `{"query", "temperature", "results": [{"rank", "id", "text", "cosine", "weight", …other stored fields}],
    /// "effective_documents"}`.
    public var json: JSONValue {
        .object([
            ("query", .string(query)), ("temperature", .float(temperature)),
            ("results", .array(hits.map { h in
                var o: JSONObject = [("rank", .int(h.rank)), ("id", h.id), ("text", .string(h.text)),
                                     ("cosine", .float(h.score)), ("weight", .float(h.weight))]
                for (k, v) in h.document.objectValue ?? [:] where k != "id" && k != "text" { o[k] = v }
                return .object(o)
            })),
            ("effective_documents", .float(effectiveDocuments)),
        ])
    }
}

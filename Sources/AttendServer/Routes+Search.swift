// POST /v1/search: a query against a served corpus index, answered with exactly what
// `attend search --index FILE "query" --top K [--temperature T] --json [--explain]` prints (the same library calls:
// CorpusIndex.search, then MatchHighlight for each hit): {"query", "temperature", "results": [{"rank", "id", "text",
// "cosine", "weight", …the document's other stored fields, "explanation"?}], "effective_documents"}. The weights are
// the soft lookup, softmax(cosine / temperature) over the retrieved documents: the query attends to the documents as a
// query attends to keys, and the answer is the weighted sum of their values.
import AttendModels
import AttendSearch
import AttendTensor
import AttendViz
import Foundation
import Hummingbird
import NIOCore

/// A parsed `/v1/search` body.
public struct SearchRequest: Sendable, Equatable {
    public var query: String
    public var model: String?
    public var index: String?
    public var topK: Int
    public var temperature: Float
    public var explain: Bool

    public static let fields: Set<String> = ["query", "model", "index", "top_k", "temperature", "explain"]
    /// Hits one request may ask for.
    public static let maxTopK = 100
    /// Hits one request may ask to explain (each runs the model on the query and the document).
    public static let maxExplainedHits = 10
    /// The temperature's range (the CLI's default is 0.05).
    public static let temperatures: ClosedRange<Float> = 1e-4...100

    /// Parses `data`; throws `APIError` 400 for JSON that does not parse, wrong types, unknown fields or a missing or
    /// blank query, and 422 for a top_k or temperature out of range.
    public init(_ data: Data) throws {
        let body = try JSONBody(data)
        try body.rejectUnknown(Self.fields)
        guard let query = try body.string("query") else {
            throw APIError.badRequest("\"query\" is required: the text to look up in the corpus", param: "query")
        }
        guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.badRequest("\"query\" is blank: send the text to look up", param: "query")
        }
        self.query = query
        model = try body.string("model")
        index = try body.string("index")
        explain = try body.bool("explain", default: false)
        topK = try body.int("top_k") ?? 5
        guard (1...Self.maxTopK).contains(topK) else {
            throw APIError.unprocessable("\"top_k\" must be 1…\(Self.maxTopK), got \(topK)", param: "top_k")
        }
        if explain && topK > Self.maxExplainedHits {
            throw APIError.unprocessable("with \"explain\": true, \"top_k\" may be at most \(Self.maxExplainedHits) (each hit runs the model twice), got \(topK)",
                                         param: "top_k")
        }
        switch body.fields["temperature"] {
        case nil, .some(.null): temperature = 0.05
        case .some(.int(let i)): temperature = Float(i)
        case .some(.double(let d)): temperature = Float(d)
        case .some(let other): throw APIError.badRequest("\"temperature\" must be a number, got \(other.typeName)", param: "temperature")
        }
        guard Self.temperatures.contains(temperature) else {
            throw APIError.unprocessable("\"temperature\" must be \(Self.temperatures.lowerBound)…\(Self.temperatures.upperBound), got \(temperature)",
                                         param: "temperature")
        }
    }
}

extension AttendServer {
    /// The index and the encoder a request searches with. Neither named: the first index, with the model that built
    /// it; an index named without a model: that index, likewise; a model without an index: its first index; naming a model and another model's index is
    /// a 422 (as `attend search --index` refuses it).
    func searchTarget(_ request: SearchRequest) throws -> (ServedIndex, ServedModel) {
        let known = indexes.map { "\"\($0.name)\" (\($0.model))" }.joined(separator: ", ")
        guard let name = request.index else {
            if request.model == nil, let first = indexes.first { return (first, try model(first.model)) }
            let model = try self.model(request.model)
            guard let served = indexes.first(where: { $0.model == model.name }) else {
                throw APIError.unprocessable("no corpus index here holds \(model.name)'s embeddings; the indexes are \(known.isEmpty ? "none" : known) (start the server with --index FILE built by `attend index build --model \(model.name)`)",
                                             param: "model")
            }
            return (served, model)
        }
        let named = indexes.filter { $0.name == name }
        guard let first = named.first else {
            throw APIError(status: .notFound, message: "no corpus index \"\(name)\" here; the indexes are \(known.isEmpty ? "none" : known)",
                           type: "invalid_request_error", teiType: "Validation", param: "index", code: "index_not_found")
        }
        guard let modelName = request.model else { return (first, try model(first.model)) }
        let model = try self.model(modelName)
        guard let served = named.first(where: { $0.model == model.name }) else {
            throw APIError(status: .unprocessableContent,
                           message: "the index \"\(name)\" was built with model \(first.model), not \(model.name): search it with \"model\": \"\(first.model)\" (or leave \"model\" out)",
                           type: "invalid_request_error", teiType: "Validation", param: "index", code: "index_model_mismatch")
        }
        return (served, model)
    }

    func searchResponse(_ data: Data) async throws -> Response {
        let request = try SearchRequest(data)
        let (served, model) = try searchTarget(request)
        do { _ = try model.encode(request.query, truncate: false) } catch InputProblem.tooLong(let n, let limit) {
            throw APIError(status: .contentTooLarge, message: "the query has \(n) tokens, more than \(model.name)'s maximum of \(limit)",
                           type: "invalid_request_error", teiType: "Validation", param: "query", code: "query_too_long")
        }
        // On the explain queue: the search and the explanations run the model object, never two requests at once.
        let text: String = try await withCheckedThrowingContinuation { done in
            explainQueue.async {
                done.resume(with: Result {
                    do {
                        let options = IndexSearchOptions(top: request.topK, temperature: request.temperature)
                        guard let r = try served.index.search([request.query], embedder: model.embedder, identity: served.identity,
                                                              options: options).first else {
                            throw APIError.unprocessable("the search returned no result", param: nil)
                        }
                        let explanations = try r.hits.map { hit -> JSONValue? in
                            guard request.explain else { return nil }
                            return try MatchHighlight.explain(embedder: model.embedder, query: r.query, document: hit.text).json
                        }
                        return r.json(explanations: explanations).rendered() + "\n"
                    } catch let e as SearchError {
                        throw APIError.unprocessable(e.message, param: nil)
                    } catch let e as ExplainMethodError {
                        throw APIError.unprocessable("the matching words cannot be shown: \(e)", param: "explain")
                    } catch let e as ModelError {
                        throw APIError.unprocessable("\(model.name) cannot run on this query: \(e)", param: "query")
                    }
                })
            }
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

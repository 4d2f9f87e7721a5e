// OpenAI-compatible routes: the official client libraries work unchanged against http://HOST:PORT/v1.
//   POST /v1/embeddings  {"input": string | [string] | [int] | [[int]], "model"?, "encoding_format"?: "float"|"base64",
//                         "dimensions"?, "user"?, "return_attention"?: bool}
//   GET  /v1/models, GET /v1/models/{id}
// Token-id input is the model's ids without special tokens; the server wraps them as the tokenizer wraps a text.
// `dimensions` is accepted only for the full width unless the model was trained for shortened (Matryoshka)
// embeddings; all-MiniLM-L6-v2 was not, so a smaller value is a 400 that says so.
import AttendTokenizers
import Foundation
import Hummingbird

/// One input of a request: text, or token ids.
enum EmbeddingInput {
    case text(String)
    case ids([Int])
}

extension AttendServer {
    func embeddingsResponse(_ data: Data) async throws -> Response {
        let body = try JSONBody(data)
        try body.rejectUnknown(["input", "model", "encoding_format", "dimensions", "user", "return_attention"])
        let model = try self.model(body.string("model"))
        guard body.has("input"), let input = body.fields["input"] else {
            throw APIError.badRequest("\"input\" is required: a string, an array of strings, an array of token ids or an array of such arrays", param: "input")
        }
        let inputs = try Self.openAIInputs(input)
        guard inputs.count <= options.maxClientBatch else {
            throw APIError.badRequest("\"input\" has \(inputs.count) items; this server takes at most \(options.maxClientBatch) per request (--max-client-batch)", param: "input")
        }
        let format = try body.string("encoding_format") ?? "float"
        guard format == "float" || format == "base64" else {
            throw APIError.badRequest("\"encoding_format\" must be \"float\" or \"base64\", got \"\(format)\"", param: "encoding_format")
        }
        let dimensions = try body.int("dimensions")
        if let d = dimensions {
            guard d >= 1 else { throw APIError.badRequest("\"dimensions\" must be at least 1, got \(d)", param: "dimensions") }
            guard d == model.dimension || model.matryoshkaDimensions.contains(d) else {
                throw APIError.badRequest(model.matryoshkaDimensions.isEmpty
                    ? "\"dimensions\" \(d) is not supported: \(model.name) was not trained for shortened (Matryoshka) embeddings, so only its full width \(model.dimension) is allowed; omit \"dimensions\""
                    : "\"dimensions\" \(d) is not supported by \(model.name): use one of \(model.matryoshkaDimensions.map(String.init).joined(separator: ", ")) or \(model.dimension)",
                    param: "dimensions")
            }
        }
        let wants = Wants(attention: try body.bool("return_attention", default: false))

        let started = ContinuousClock.now
        let encodings = try inputs.enumerated().map { i, input -> Encoding in
            let label = inputs.count == 1 ? "\"input\"" : "input[\(i)]"
            do {
                switch input {
                case .text(let t): return try model.encode(t, truncate: false)
                case .ids(let ids): return try model.encode(ids: ids, truncate: false)
                }
            } catch InputProblem.tooLong(let tokens, let limit) {
                throw APIError.badRequest("\(label) has \(tokens) tokens; \(model.name) takes at most \(limit) (special tokens included). Shorten the input.",
                                          param: "input", code: "context_length_exceeded")
            } catch InputProblem.tokenOutOfRange(let id, let vocab) {
                throw APIError.badRequest("\(label) holds token id \(id); \(model.name)'s ids are 0…\(vocab - 1)", param: "input")
            }
        }
        metrics.tokenized(model: model.name, duration: ContinuousClock.now - started)
        let outputs = try await model.batcher.run(encodings, wants: wants)

        var data: [ResponseJSON] = []
        for (i, out) in outputs.enumerated() {
            var vector = out.vector
            if let d = dimensions, d < vector.count { vector = Self.shorten(vector, to: d) }
            var item: [(String, ResponseJSON)] = [
                ("object", .string("embedding")), ("index", .int(i)),
                ("embedding", format == "base64" ? .string(base64Floats(vector)) : .floats(vector)),
            ]
            if let attention = out.attention {
                item.append(("attention", Self.attentionJSON(attention, tokens: encodings[i].tokens, heads: model.heads, base64: format == "base64")))
            }
            data.append(.object(item))
        }
        let tokens = encodings.reduce(0) { $0 + $1.count }
        return json(.object([
            ("object", .string("list")), ("data", .array(data)), ("model", .string(model.name)),
            ("usage", .object([("prompt_tokens", .int(tokens)), ("total_tokens", .int(tokens))])),
        ]))
    }

    /// OpenAI's four input forms.
    static func openAIInputs(_ value: RequestJSON) throws -> [EmbeddingInput] {
        func text(_ s: String, _ where_: String) throws -> EmbeddingInput {
            guard !s.isEmpty else { throw APIError.badRequest("\(where_) is an empty string; every input needs at least one character", param: "input") }
            return .text(s)
        }
        func ids(_ a: [RequestJSON], _ where_: String) throws -> EmbeddingInput {
            guard !a.isEmpty else { throw APIError.badRequest("\(where_) is an empty array of token ids", param: "input") }
            return .ids(try a.enumerated().map { j, v in
                guard case .int(let id) = v else { throw APIError.badRequest("\(where_)[\(j)] must be a token id (an integer), got \(v.typeName)", param: "input") }
                return id
            })
        }
        switch value {
        case .string(let s): return [try text(s, "\"input\"")]
        case .array(let a):
            guard let first = a.first else { throw APIError.badRequest("\"input\" is an empty array; send at least one input", param: "input") }
            switch first {
            case .int: return [try ids(a, "\"input\"")]
            case .string, .array:
                return try a.enumerated().map { i, v in
                    switch v {
                    case .string(let s): return try text(s, "input[\(i)]")
                    case .array(let inner): return try ids(inner, "input[\(i)]")
                    default: throw APIError.badRequest("input[\(i)] must be a string or an array of token ids, got \(v.typeName)", param: "input")
                    }
                }
            default: throw APIError.badRequest("\"input\" items must be strings, token ids or arrays of token ids, got \(first.typeName)", param: "input")
            }
        default:
            throw APIError.badRequest("\"input\" must be a string, an array of strings, an array of token ids or an array of such arrays, got \(value.typeName)", param: "input")
        }
    }

    /// The first `d` components, renormalised to unit length (OpenAI's shortening of Matryoshka embeddings).
    static func shorten(_ v: [Float], to d: Int) -> [Float] {
        let head = Array(v.prefix(d))
        let norm = head.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? head.map { $0 / norm } : head
    }

    /// `{"tokens", "shape": [layers, heads, T, T], "weights"}`: weights `[layer][head][query][key]` as nested
    /// arrays, or with base64 one string of little-endian Float32 in that order.
    static func attentionJSON(_ layers: [[Float]], tokens: [String], heads: Int, base64: Bool) -> ResponseJSON {
        let n = tokens.count
        let weights: ResponseJSON
        if base64 {
            weights = .string(base64Floats(layers.flatMap { $0 }))
        } else {
            weights = .array(layers.map { w in
                .array((0..<heads).map { h in .array((0..<n).map { i in .floats(Array(w[(h * n + i) * n ..< (h * n + i + 1) * n])) }) })
            })
        }
        return .object([
            ("tokens", .array(tokens.map { .string($0) })),
            ("shape", .array([.int(layers.count), .int(heads), .int(n), .int(n)])),
            ("weights", weights),
        ])
    }

    func modelsResponse() -> Response {
        json(.object([("object", .string("list")), ("data", .array(explainers.map(modelJSON)))]))
    }

    /// OpenAI's model object, plus `attend`: the family, whether the embedding routes serve it, its dimension,
    /// whether it generates (`completions`, `chat`, `context_length`: language models only), and its attention layers (label, kind, heads) for `/v1/explain` and the explorer.
    func modelJSON(_ m: ServedExplainer) -> ResponseJSON {
        let embedding = models.first { $0.name == m.name }
        var attend: [(String, ResponseJSON)] = [("family", .string(m.family)), ("embeddings", .bool(m.embeds))]
        if let embedding { attend.append(("dimension", .int(embedding.dimension))) }
        if let decoder = decoders.first(where: { $0.name == m.name }) {
            attend.append(("completions", .bool(true)))
            attend.append(("chat", .bool(decoder.model.chatTemplate != nil)))
            attend.append(("context_length", .int(decoder.model.config.contextLength)))
        }
        attend.append(("layers", .array(m.sites.map {
            .object([("label", .string($0.label)), ("kind", .string($0.kind.rawValue)), ("heads", .int($0.heads))])
        })))
        return .object([("id", .string(m.name)), ("object", .string("model")), ("created", .int(embedding?.created ?? m.created)),
                        ("owned_by", .string("attend")), ("attend", .object(attend))])
    }

    func json(_ value: ResponseJSON, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: value.byteBuffer))
    }
}

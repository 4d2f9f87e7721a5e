// Hugging Face text-embeddings-inference (TEI) compatible routes, in TEI's request and response shapes:
//   POST /embed      {"inputs": string | [string], "normalize"?: true, "truncate"?: false,
//                     "truncation_direction"?: "Right"|"Left", "model"?, "return_attention"?: false} → [[float]]
//                    (with return_attention: {"embeddings": [[float]], "attention": [{"tokens", "shape", "weights"}]})
//   POST /embed_all  same inputs → [[[float]]], the last hidden state of every token
//   POST /similarity {"inputs": {"source_sentence", "sentences"}} → [float] (cosine)
//   POST /rerank     {"query", "texts", "raw_scores"?, "return_text"?, "truncate"?} → [{"index", "score", "text"?}],
//                    best first; a bi-encoder's cosine similarity is the score (raw or not: it is already in −1…1)
//   POST /tokenize   {"inputs", "add_special_tokens"?: true} → [[{"id", "text", "special", "start", "stop"}]]
//   POST /decode     {"ids": [int] | [[int]], "skip_special_tokens"?: true} → [string]
//   GET  /info, /health, /metrics
import AttendModels
import AttendNN
import AttendTokenizers
import Foundation
import Hummingbird

extension AttendServer {
    /// `inputs` as a list of non-empty texts within the client batch limit.
    func teiTexts(_ body: JSONBody, field: String = "inputs") throws -> [String] {
        guard body.has(field), let value = body.fields[field] else {
            throw APIError.badRequest("\"\(field)\" is required: a string or an array of strings", param: field)
        }
        let texts: [String]
        switch value {
        case .string(let s): texts = [s]
        case .array: texts = try body.strings(field) ?? []
        case let other: throw APIError.badRequest("\"\(field)\" must be a string or an array of strings, got \(other.typeName)", param: field)
        }
        guard !texts.isEmpty else {
            throw APIError(status: .unprocessableContent, message: "\"\(field)\" is an empty batch", type: "invalid_request_error", teiType: "Empty", param: field)
        }
        guard texts.count <= options.maxClientBatch else {
            throw APIError.badRequest("batch size \(texts.count) > maximum allowed batch size \(options.maxClientBatch) (--max-client-batch)", param: field)
        }
        if let i = texts.firstIndex(where: \.isEmpty) {
            throw APIError(status: .unprocessableContent, message: "\(field)[\(i)] is an empty string", type: "invalid_request_error", teiType: "Empty", param: field)
        }
        return texts
    }

    /// Tokenizes for a TEI route: too long is 413 unless `truncate`.
    func teiEncode(_ texts: [String], model: ServedModel, truncate: Bool, direction: TruncationDirection) throws -> [Encoding] {
        let started = ContinuousClock.now
        defer { metrics.tokenized(model: model.name, duration: ContinuousClock.now - started) }
        return try texts.enumerated().map { i, t in
            do { return try model.encode(t, truncate: truncate, direction: direction) } catch InputProblem.tooLong(let n, let limit) {
                throw APIError(status: .contentTooLarge, message: "input \(i) has \(n) tokens, more than the maximum of \(limit); pass \"truncate\": true to cut it",
                               type: "invalid_request_error", teiType: "Validation", param: "inputs")
            }
        }
    }

    func truncation(_ body: JSONBody) throws -> (Bool, TruncationDirection) {
        let truncate = try body.bool("truncate", default: false)
        let raw = try body.string("truncation_direction") ?? "Right"
        guard let direction = TruncationDirection(rawValue: raw) ?? TruncationDirection(rawValue: raw.capitalized) else {
            throw APIError.badRequest("\"truncation_direction\" must be \"Right\" or \"Left\", got \"\(raw)\"", param: "truncation_direction")
        }
        return (truncate, direction)
    }

    func embedResponse(_ data: Data, all: Bool) async throws -> Response {
        let body = try JSONBody(data)
        try body.rejectUnknown(["inputs", "normalize", "truncate", "truncation_direction", "model", "return_attention"])
        let model = try self.model(body.string("model"))
        let texts = try teiTexts(body)
        let normalize = try body.bool("normalize", default: true)
        let (truncate, direction) = try truncation(body)
        let wants = Wants(tokenStates: all, attention: try body.bool("return_attention", default: false))
        let encodings = try teiEncode(texts, model: model, truncate: truncate, direction: direction)
        let outputs = try await model.batcher.run(encodings, wants: wants)
        let vectors: ResponseJSON
        if all {
            vectors = .array(outputs.map { .array(($0.tokenStates ?? []).map { .floats($0) }) })
        } else {
            vectors = .array(outputs.map { .floats(normalize ? Self.unit($0.vector) : $0.pooled) })
        }
        guard wants.attention else { return json(vectors) }
        return json(.object([
            (all ? "token_embeddings" : "embeddings", vectors),
            ("attention", .array(zip(outputs, encodings).map {
                Self.attentionJSON($0.attention ?? [], tokens: $1.tokens, heads: model.heads, base64: false)
            })),
        ]))
    }

    /// Unit length (a vector that already is one comes back unchanged up to rounding).
    static func unit(_ v: [Float]) -> [Float] {
        let norm = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 && abs(norm - 1) > 1e-7 ? v.map { $0 / norm } : v
    }

    func similarityResponse(_ data: Data) async throws -> Response {
        let body = try JSONBody(data)
        try body.rejectUnknown(["inputs", "truncate", "truncation_direction", "model"])
        let model = try self.model(body.string("model"))
        guard case .some(.object(let inner)) = body.fields["inputs"] else {
            throw APIError.badRequest("\"inputs\" must be an object {\"source_sentence\": string, \"sentences\": [string]}", param: "inputs")
        }
        let pair = JSONBody(fields: inner)
        try pair.rejectUnknown(["source_sentence", "sentences"])
        guard let source = try pair.string("source_sentence") else {
            throw APIError.badRequest("\"inputs.source_sentence\" is required", param: "inputs.source_sentence")
        }
        let sentences = try teiTexts(pair, field: "sentences")
        let texts = try teiTexts(JSONBody(fields: ["inputs": .array([.string(source)] + sentences.map { .string($0) })]))
        let (truncate, direction) = try truncation(body)
        let outputs = try await model.batcher.run(try teiEncode(texts, model: model, truncate: truncate, direction: direction), wants: Wants())
        let scores = outputs.dropFirst().map { cosineSimilarity(outputs[0].vector, $0.vector) }
        return json(.floats(scores))
    }

    func rerankResponse(_ data: Data) async throws -> Response {
        let body = try JSONBody(data)
        try body.rejectUnknown(["query", "texts", "raw_scores", "return_text", "truncate", "truncation_direction", "model"])
        let model = try self.model(body.string("model"))
        guard let query = try body.string("query") else { throw APIError.badRequest("\"query\" is required", param: "query") }
        let texts = try teiTexts(body, field: "texts")
        _ = try body.bool("raw_scores", default: false)
        let returnText = try body.bool("return_text", default: false)
        let (truncate, direction) = try truncation(body)
        let all = try teiTexts(JSONBody(fields: ["inputs": .array([.string(query)] + texts.map { .string($0) })]))
        let outputs = try await model.batcher.run(try teiEncode(all, model: model, truncate: truncate, direction: direction), wants: Wants())
        let ranked = outputs.dropFirst().enumerated()
            .map { (index: $0.offset, score: cosineSimilarity(outputs[0].vector, $0.element.vector)) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        return json(.array(ranked.map { r in
            var o: [(String, ResponseJSON)] = [("index", .int(r.index)), ("score", .float(r.score))]
            if returnText { o.append(("text", .string(texts[r.index]))) }
            return .object(o)
        }))
    }

    func tokenizeResponse(_ data: Data) throws -> Response {
        let body = try JSONBody(data)
        try body.rejectUnknown(["inputs", "add_special_tokens", "model"])
        let model = try self.model(body.string("model"))
        let texts = try teiTexts(body)
        let special = try body.bool("add_special_tokens", default: true)
        return json(.array(texts.map { text in
            let e = model.tokenizer.encode(text, addSpecialTokens: special)
            let scalars = Array(text.unicodeScalars)
            return .array(e.ids.indices.map { i in
                let isSpecial = e.specialTokensMask[i] != 0
                let o = e.offsets[i]
                let piece = isSpecial || o.end <= o.start || o.end > scalars.count
                    ? e.tokens[i] : String(String.UnicodeScalarView(scalars[o.start..<o.end]))
                return .object([("id", .int(e.ids[i])), ("text", .string(piece)), ("special", .bool(isSpecial)),
                                ("start", isSpecial ? .null : .int(o.start)), ("stop", isSpecial ? .null : .int(o.end))])
            })
        }))
    }

    func decodeResponse(_ data: Data) throws -> Response {
        let body = try JSONBody(data)
        try body.rejectUnknown(["ids", "skip_special_tokens", "model"])
        let model = try self.model(body.string("model"))
        let skip = try body.bool("skip_special_tokens", default: true)
        guard case .some(.array(let outer)) = body.fields["ids"], !outer.isEmpty else {
            throw APIError.badRequest("\"ids\" must be a non-empty array of token ids or of arrays of token ids", param: "ids")
        }
        let lists: [[RequestJSON]]
        if case .array = outer[0] {
            lists = try outer.enumerated().map { i, v in
                guard case .array(let a) = v else { throw APIError.badRequest("ids[\(i)] must be an array of token ids, got \(v.typeName)", param: "ids") }
                return a
            }
        } else {
            lists = [outer]
        }
        guard lists.count <= options.maxClientBatch else {
            throw APIError.badRequest("batch size \(lists.count) > maximum allowed batch size \(options.maxClientBatch)", param: "ids")
        }
        let vocab = model.tokenizer.vocabularySize
        return json(.array(try lists.enumerated().map { i, list in
            let ids = try list.enumerated().map { j, v -> Int in
                guard case .int(let id) = v, id >= 0, id < vocab else {
                    throw APIError.badRequest("ids[\(i)][\(j)] must be a token id 0…\(vocab - 1), got \(v)", param: "ids")
                }
                return id
            }
            return .string(model.tokenizer.decode(ids, skipSpecialTokens: skip))
        }))
    }

    func infoResponse() -> Response {
        guard let m = models.first else {
            // Only explain models: say what is served, without an embedding model's fields.
            return json(.object([
                ("model_id", .string(explainers[0].name)), ("model_sha", .null), ("model_dtype", .string("float32")),
                ("model_type", .object([("explain", .object([("family", .string(explainers[0].family))]))])),
                ("max_client_batch_size", .int(options.maxClientBatch)), ("version", .string("attend")),
                ("models", .array([])), ("explain_models", .array(explainers.map { .string($0.name) })),
            ]))
        }
        let pooling = m.embedder.pooling.map { $0.rawValue }.joined(separator: "+")
        return json(.object([
            ("model_id", .string(m.name)), ("model_sha", .null), ("model_dtype", .string(m.embedder.model.inferencePrecision.dtypeName)),
            ("model_type", .object([("embedding", .object([("pooling", .string(pooling))]))])),
            ("max_concurrent_requests", .int(options.maxQueuedTokens)), ("max_input_length", .int(m.maxInputTokens)),
            ("max_batch_tokens", .int(options.maxBatchTokens)), ("max_batch_requests", .null),
            ("max_client_batch_size", .int(options.maxClientBatch)), ("tokenization_workers", .null),
            ("version", .string("attend")), ("dimension", .int(m.dimension)), ("layers", .int(m.layers)), ("heads", .int(m.heads)),
            ("models", .array(models.map { .string($0.name) })),
            ("explain_models", .array(explainers.map { .string($0.name) })),
        ]))
    }
}

extension InferencePrecision {
    /// The name TEI's `/info` gives the weights' type (`model_dtype`): "float32", "bfloat16" or "int8".
    var dtypeName: String {
        switch self {
        case .fp32: return "float32"
        case .bf16: return "bfloat16"
        case .int8: return "int8"
        }
    }
}

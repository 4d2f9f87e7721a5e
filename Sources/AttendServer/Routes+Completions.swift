// OpenAI-compatible text generation with a served language model (`attend serve --model smollm2-135m`):
//   POST /v1/completions       {"prompt": string | [string] | [int] | [[int]] (one prompt), "model"?, "max_tokens"?,
//                               "temperature"?, "top_p"?, "top_k"?, "seed"?, "stop"?, "logprobs"?: int, "stream"?,
//                               "stream_options"?, "n"?: 1, "user"?, "return_attention"?, "attention_layer"?, "attention_top"?}
//   POST /v1/chat/completions  {"messages": [{"role": "system"|"user"|"assistant", "content"}], …, "logprobs"?: bool,
//                               "top_logprobs"?: int, "max_completion_tokens"?}
// The raw prompt is continued as it is (as `attend generate --model`); chat messages go through the model's chat
// template (as `attend chat`), so greedy answers equal the CLI's token for token. `stream: true` answers with
// server-sent events in OpenAI's chunk shapes, ending with `data: [DONE]`. `"return_attention": true` adds, per
// generated token, the earlier tokens it attended to most (summarised over the layers and heads, and per head),
// as `attend chat --explain --json` lists them.
import AttendModels
import Foundation
import Hummingbird

/// One validated generation request.
struct CompletionRequest {
    var decoder: ServedDecoder
    var chat: Bool
    var prompt: [Int]
    /// The prompt's characters (for the legacy logprobs' `text_offset`).
    var promptCharacters: Int
    var options: GenerationOptions
    var stream: Bool
    var includeUsage: Bool
    /// Completions: `logprobs` N; chat: `top_logprobs` when `logprobs` is true; nil: no logprobs.
    var logprobs: Int?
    /// With `return_attention`: how many earlier positions per token (and per head) to list.
    var attentionTop: Int?
}

extension AttendServer {
    /// The language model a request names (the first served when it names none).
    func decoder(_ name: String?) throws -> ServedDecoder {
        guard let name else {
            guard let first = decoders.first else {
                throw APIError.badRequest("this server serves no language model (it serves \(modelNames.map { "\"\($0)\"" }.joined(separator: ", "))); start it with `attend serve --model smollm2-135m` after `attend models install smollm2-135m`",
                                          param: "model", code: "no_language_model")
            }
            return first
        }
        if let d = decoders.first(where: { $0.name == name }) { return d }
        if explainers.contains(where: { $0.name == name }) {
            throw APIError.badRequest("model \(name) does not generate text (it is \(models.contains { $0.name == name } ? "an embedding model" : "served for /v1/explain only")); the language models here are \(decoders.isEmpty ? "none" : decoders.map { "\"\($0.name)\"" }.joined(separator: ", "))",
                                      param: "model", code: "model_not_language_model")
        }
        throw APIError.unknownModel(name, served: modelNames)
    }

    func completionsResponse(_ data: Data, chat: Bool) async throws -> Response {
        let request = try completionRequest(try JSONBody(data), chat: chat)
        if request.stream { return try streamResponse(request) }
        let result = try await request.decoder.generate(request.prompt, options: request.options)
        return json(completionJSON(request, result))
    }

    /// Reads and checks every field (400 for a wrong type or range, 404 for an unknown model).
    func completionRequest(_ body: JSONBody, chat: Bool) throws -> CompletionRequest {
        var known: Set<String> = ["model", "max_tokens", "temperature", "top_p", "top_k", "seed", "stop", "logprobs", "stream",
                                  "stream_options", "n", "user", "presence_penalty", "frequency_penalty",
                                  "return_attention", "attention_layer", "attention_top"]
        known.formUnion(chat ? ["messages", "top_logprobs", "max_completion_tokens"] : ["prompt"])
        try body.rejectUnknown(known)
        let decoder = try self.decoder(body.string("model"))
        let model = decoder.model

        var prompt: [Int]
        var characters = 0
        if chat {
            let messages = try Self.chatMessages(body.fields["messages"])
            guard let template = model.chatTemplate else {
                throw APIError.badRequest("\(decoder.name) has no chat template (tokenizer.chat_template): use /v1/completions to continue raw text",
                                          param: "messages", code: "no_chat_template")
            }
            prompt = model.tokenizer.encode(template.render(messages))
        } else {
            switch try Self.completionPrompt(body.fields["prompt"], vocabulary: model.config.vocabSize) {
            case .text(let text):
                prompt = model.tokenizer.encode(text)
                characters = text.count
            case .ids(let ids):
                prompt = ids
                characters = ids.reduce(0) { $0 + model.tokenText($1).count }
            }
            guard !prompt.isEmpty else { throw APIError.badRequest("\"prompt\" has no tokens", param: "prompt") }
        }
        let context = model.config.contextLength
        guard prompt.count < context else {
            throw APIError.badRequest("the prompt has \(prompt.count) tokens; \(decoder.name) reads at most \(context), and needs room for at least one more",
                                      param: chat ? "messages" : "prompt", code: "context_length_exceeded")
        }

        var options = GenerationOptions()
        let limit = self.options.maxCompletionTokens
        let maxName = chat && body.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens"
        if chat && body.has("max_tokens") && body.has("max_completion_tokens") {
            throw APIError.badRequest("give \"max_tokens\" or \"max_completion_tokens\", not both", param: "max_completion_tokens")
        }
        if let n = try body.int(maxName) {
            guard n >= 1 && n <= limit else {
                throw APIError.badRequest("\"\(maxName)\" must be 1…\(limit) (this server's --max-completion-tokens), got \(n)", param: maxName)
            }
            options.maxTokens = n
        } else {
            options.maxTokens = chat ? limit : Swift.min(16, limit)       // OpenAI's defaults: 16 for completions
        }
        let temperature = try Self.number(body, "temperature") ?? 1
        guard temperature >= 0 && temperature <= 2 else {
            throw APIError.badRequest("\"temperature\" must be 0…2 (0: greedy), got \(temperature)", param: "temperature")
        }
        let topP = try Self.number(body, "top_p") ?? 1
        guard topP >= 0 && topP <= 1 else { throw APIError.badRequest("\"top_p\" must be 0…1, got \(topP)", param: "top_p") }
        let topK = try body.int("top_k") ?? 0
        guard topK >= 0 else { throw APIError.badRequest("\"top_k\" must be ≥ 0 (0: every token), got \(topK)", param: "top_k") }
        let seed = try body.int("seed").map { UInt64(bitPattern: Int64($0)) } ?? UInt64.random(in: 0...UInt64.max)
        options.sampling = SamplingOptions(temperature: Float(temperature), topK: topK > 0 ? topK : nil,
                                           topP: topP < 1 ? Float(topP) : nil, seed: seed)
        options.stop = try Self.stops(body.fields["stop"])
        if let n = try body.int("n"), n != 1 {
            throw APIError.badRequest("\"n\" must be 1: this server writes one choice per request", param: "n")
        }
        for name in ["presence_penalty", "frequency_penalty"] {
            if let p = try Self.number(body, name), p != 0 {
                throw APIError.badRequest("\"\(name)\" is not supported (Attend samples without penalties): omit it or send 0", param: name)
            }
        }
        _ = try body.string("user")

        var logprobs: Int?
        if chat {
            let wants = try body.bool("logprobs", default: false)
            let top = try body.int("top_logprobs")
            if let top {
                guard wants else { throw APIError.badRequest("\"top_logprobs\" needs \"logprobs\": true", param: "top_logprobs") }
                guard (0...20).contains(top) else { throw APIError.badRequest("\"top_logprobs\" must be 0…20, got \(top)", param: "top_logprobs") }
            }
            logprobs = wants ? (top ?? 0) : nil
        } else if let n = try body.int("logprobs") {
            guard (0...20).contains(n) else { throw APIError.badRequest("\"logprobs\" must be 0…20, got \(n)", param: "logprobs") }
            logprobs = n
        }
        options.topLogprobs = logprobs ?? 0

        let stream = try body.bool("stream", default: false)
        var includeUsage = false
        if let so = body.fields["stream_options"], so != .null {
            guard stream else { throw APIError.badRequest("\"stream_options\" is only allowed with \"stream\": true", param: "stream_options") }
            guard case .object(let fields) = so else {
                throw APIError.badRequest("\"stream_options\" must be an object, got \(so.typeName)", param: "stream_options")
            }
            let inner = JSONBody(fields: fields)
            try inner.rejectUnknown(["include_usage"])
            includeUsage = try inner.bool("include_usage", default: false)
        }

        var attentionTop: Int?
        if try body.bool("return_attention", default: false) {
            let layers = model.config.numLayers
            var selection = LookbackSelection()
            if let l = try body.int("attention_layer") {
                let resolved = l < 0 ? layers + l : l
                guard resolved >= 0 && resolved < layers else {
                    throw APIError.badRequest("\"attention_layer\" must be 0…\(layers - 1) (or -\(layers)…-1 from the end), got \(l)", param: "attention_layer")
                }
                selection.layer = resolved
            }
            let top = try body.int("attention_top") ?? 3
            guard (1...32).contains(top) else { throw APIError.badRequest("\"attention_top\" must be 1…32, got \(top)", param: "attention_top") }
            options.lookback = selection
            attentionTop = top
        } else {
            for name in ["attention_layer", "attention_top"] where body.has(name) {
                throw APIError.badRequest("\"\(name)\" needs \"return_attention\": true", param: name)
            }
        }
        return CompletionRequest(decoder: decoder, chat: chat, prompt: prompt, promptCharacters: characters, options: options,
                                 stream: stream, includeUsage: includeUsage, logprobs: logprobs, attentionTop: attentionTop)
    }

    /// A JSON number (integer or not).
    static func number(_ body: JSONBody, _ name: String) throws -> Double? {
        switch body.fields[name] {
        case nil, .some(.null): return nil
        case .some(.int(let i)): return Double(i)
        case .some(.double(let d)): return d
        case .some(let other): throw APIError.badRequest("\"\(name)\" must be a number, got \(other.typeName)", param: name)
        }
    }

    /// `stop`: a string or an array of up to 4 non-empty strings.
    static func stops(_ value: RequestJSON?) throws -> [String] {
        let list: [String]
        switch value {
        case nil, .some(.null): return []
        case .some(.string(let s)): list = [s]
        case .some(.array(let a)):
            list = try a.enumerated().map { i, v in
                guard case .string(let s) = v else { throw APIError.badRequest("\"stop\"[\(i)] must be a string, got \(v.typeName)", param: "stop") }
                return s
            }
        case .some(let other): throw APIError.badRequest("\"stop\" must be a string or an array of strings, got \(other.typeName)", param: "stop")
        }
        guard list.count <= 4 else { throw APIError.badRequest("\"stop\" takes at most 4 strings, got \(list.count)", param: "stop") }
        guard !list.contains("") else { throw APIError.badRequest("\"stop\" strings must not be empty", param: "stop") }
        return list
    }

    /// `prompt`: one text or one list of token ids (OpenAI's batch forms are accepted with exactly one prompt).
    static func completionPrompt(_ value: RequestJSON?, vocabulary: Int) throws -> EmbeddingInput {
        func ids(_ a: [RequestJSON]) throws -> EmbeddingInput {
            guard !a.isEmpty else { throw APIError.badRequest("\"prompt\" is an empty array of token ids", param: "prompt") }
            return .ids(try a.enumerated().map { i, v in
                guard case .int(let id) = v, id >= 0 && id < vocabulary else {
                    throw APIError.badRequest("\"prompt\"[\(i)] must be a token id 0…\(vocabulary - 1), got \(v == .null ? "null" : "\(v)")", param: "prompt")
                }
                return id
            })
        }
        switch value {
        case nil, .some(.null):
            throw APIError.badRequest("\"prompt\" is required: the text to continue", param: "prompt")
        case .some(.string(let s)):
            guard !s.isEmpty else { throw APIError.badRequest("\"prompt\" is an empty string: give some text to continue", param: "prompt") }
            return .text(s)
        case .some(.array(let a)):
            guard let first = a.first else { throw APIError.badRequest("\"prompt\" is an empty array: send one prompt", param: "prompt") }
            if case .int = first { return try ids(a) }
            guard a.count == 1 else {
                throw APIError.badRequest("\"prompt\" holds \(a.count) prompts; this server answers one prompt per request", param: "prompt")
            }
            switch first {
            case .string(let s):
                guard !s.isEmpty else { throw APIError.badRequest("\"prompt\"[0] is an empty string: give some text to continue", param: "prompt") }
                return .text(s)
            case .array(let inner): return try ids(inner)
            default: throw APIError.badRequest("\"prompt\"[0] must be a string or an array of token ids, got \(first.typeName)", param: "prompt")
            }
        case .some(let other):
            throw APIError.badRequest("\"prompt\" must be a string, an array of one string or an array of token ids, got \(other.typeName)", param: "prompt")
        }
    }

    /// `messages`: a non-empty array of {"role": "system" | "user" | "assistant", "content": string | [text parts]}.
    static func chatMessages(_ value: RequestJSON?) throws -> [ChatMessage] {
        guard let value, value != .null else {
            throw APIError.badRequest("\"messages\" is required: an array of {\"role\", \"content\"}", param: "messages")
        }
        guard case .array(let items) = value else {
            throw APIError.badRequest("\"messages\" must be an array of {\"role\", \"content\"}, got \(value.typeName)", param: "messages")
        }
        guard !items.isEmpty else { throw APIError.badRequest("\"messages\" is empty: send at least one message", param: "messages") }
        let roles = ["system", "user", "assistant"]
        return try items.enumerated().map { i, item in
            let at = "messages[\(i)]"
            guard case .object(let fields) = item else {
                throw APIError.badRequest("\(at) must be an object {\"role\", \"content\"}, got \(item.typeName)", param: "messages")
            }
            let m = JSONBody(fields: fields)
            if let extra = fields.keys.sorted().first(where: { !["role", "content", "name"].contains($0) }) {
                throw APIError.badRequest("\(at) has an unknown field \"\(extra)\"; a message takes \"role\", \"content\" and \"name\"", param: "messages")
            }
            guard let role = try? m.string("role") else {
                throw APIError.badRequest("\(at).role is required: one of \(roles.joined(separator: ", "))", param: "messages")
            }
            guard roles.contains(role) else {
                throw APIError.badRequest("\(at).role is \"\(role)\"; this model takes \(roles.joined(separator: ", "))", param: "messages")
            }
            if fields["name"] != nil, (try? m.string("name")) == nil {
                throw APIError.badRequest("\(at).name must be a string", param: "messages")
            }
            let content: String
            switch fields["content"] {
            case .some(.string(let s)): content = s
            case .some(.array(let parts)):
                content = try parts.enumerated().map { j, part -> String in
                    guard case .object(let p) = part, p["type"] == .string("text"), case .string(let text)? = p["text"], p.count == 2 else {
                        throw APIError.badRequest("\(at).content[\(j)] must be {\"type\": \"text\", \"text\": string}: this model reads text only", param: "messages")
                    }
                    return text
                }.joined()
            default:
                throw APIError.badRequest("\(at).content must be a string (or an array of text parts), got \(fields["content"]?.typeName ?? "nothing")", param: "messages")
            }
            return ChatMessage(role: role, content: content)
        }
    }
}

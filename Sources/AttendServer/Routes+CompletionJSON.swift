// The answers of `/v1/completions` and `/v1/chat/completions` in OpenAI's shapes: one object, or server-sent events
// (`data: {chunk}\n\n` … `data: [DONE]\n\n`) with `text_completion` / `chat.completion.chunk` chunks; logprobs in
// each route's own form; and Attend's attention extension (`"attention"` on the choice, per generated token).
import AttendModels
import Foundation
import Hummingbird
import NIOCore

extension AttendServer {
    /// The non-streamed answer.
    func completionJSON(_ r: CompletionRequest, _ result: GenerationResult) -> ResponseJSON {
        let id = Self.completionID(chat: r.chat)
        let created = Int(Date().timeIntervalSince1970)
        let indexed = Array(result.steps.enumerated())
        var choice: [(String, ResponseJSON)] = [("index", .int(0))]
        if r.chat {
            choice.append(("message", .object([("role", .string("assistant")), ("content", .string(result.text)), ("refusal", .null)])))
        } else {
            choice.append(("text", .string(result.text)))
        }
        choice.append(("logprobs", r.logprobs == nil ? .null : logprobsJSON(r, indexed, textOffset: r.promptCharacters)))
        choice.append(("finish_reason", .string(result.finishReason)))
        if let top = r.attentionTop {
            let all = result.inputIds + result.outputIds
            var attention = attentionHeader(r)
            attention.append(("tokens", .array(indexed.map { i, step in attentionStep(r, all: all, index: i, step: step, top: top) })))
            choice.append(("attention", .object(attention)))
        }
        return .object([
            ("id", .string(id)), ("object", .string(r.chat ? "chat.completion" : "text_completion")), ("created", .int(created)),
            ("model", .string(r.decoder.name)), ("system_fingerprint", .null), ("choices", .array([.object(choice)])),
            ("usage", usageJSON(prompt: result.inputIds.count, completion: result.outputIds.count)),
        ])
    }

    func usageJSON(prompt: Int, completion: Int) -> ResponseJSON {
        .object([("prompt_tokens", .int(prompt)), ("completion_tokens", .int(completion)), ("total_tokens", .int(prompt + completion))])
    }

    static func completionID(chat: Bool) -> String {
        (chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    }

    /// Logprobs of `steps` (index among the generated tokens, step): chat's `{"content": [...], "refusal": null}`
    /// or the completions route's `{"tokens", "token_logprobs", "top_logprobs", "text_offset"}`.
    func logprobsJSON(_ r: CompletionRequest, _ steps: [(offset: Int, element: GenerationStep)], textOffset: Int) -> ResponseJSON {
        let model = r.decoder.model
        func bytes(_ id: Int) -> ResponseJSON { .array(model.tokenizer.bytes(of: id).map { .int(Int($0)) }) }
        if r.chat {
            let content: [ResponseJSON] = steps.map { _, s in
                .object([
                    ("token", .string(model.tokenText(s.id))), ("logprob", .float(s.logprob)), ("bytes", bytes(s.id)),
                    ("top_logprobs", .array(s.topLogprobs.map { t in
                        .object([("token", .string(model.tokenText(t.id))), ("logprob", .float(t.logprob)), ("bytes", bytes(t.id))])
                    })),
                ])
            }
            return .object([("content", .array(content)), ("refusal", .null)])
        }
        var offset = textOffset
        var offsets: [ResponseJSON] = []
        for (_, s) in steps {
            offsets.append(.int(offset))
            offset += model.tokenText(s.id).count
        }
        return .object([
            ("tokens", .array(steps.map { .string(model.tokenText($0.element.id)) })),
            ("token_logprobs", .array(steps.map { .float($0.element.logprob) })),
            ("top_logprobs", .array(steps.map { _, s in
                var seen = Set<String>()
                return .object(s.topLogprobs.compactMap { t in
                    let text = model.tokenText(t.id)
                    return seen.insert(text).inserted ? (text, .float(t.logprob)) : nil
                })
            })),
            ("text_offset", .array(offsets)),
        ])
    }

    /// What every token's attention refers to: the layer read (null: all), the head count and the prompt's tokens.
    func attentionHeader(_ r: CompletionRequest) -> [(String, ResponseJSON)] {
        let model = r.decoder.model
        return [
            ("layer", r.options.lookback?.layer.map { .int($0) } ?? .null), ("num_heads", .int(model.config.numHeads)),
            ("prompt_tokens", .array(r.prompt.map { .string(model.tokenText($0)) })),
        ]
    }

    /// One generated token's attention: its position and text, the `top` earlier positions it attended to most
    /// (averaged over the layers read and every head; position 0, the attention sink, left out, as `attend chat
    /// --explain` does), and the same per query head. `all`: the ids of every position so far.
    func attentionStep(_ r: CompletionRequest, all: [Int], index: Int, step: GenerationStep, top: Int) -> ResponseJSON {
        let model = r.decoder.model
        func looks(_ row: [Float], withText: Bool) -> ResponseJSON {
            let order = row.indices.dropFirst().sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(top)
            return .array(order.map { p in
                var o: [(String, ResponseJSON)] = [("position", .int(p))]
                if withText { o.append(("token", .string(p < all.count ? model.tokenText(all[p]) : ""))) }
                o.append(("weight", .float(row[p])))
                return .object(o)
            })
        }
        return .object([
            ("position", .int(r.prompt.count + index)), ("id", .int(step.id)), ("token", .string(model.tokenText(step.id))),
            ("top", looks(step.attention ?? [], withText: true)),
            ("heads", .array((step.headAttention ?? []).map { looks($0, withText: false) })),
        ])
    }

    // MARK: - Streaming

    /// Server-sent events: the generation is admitted now (429 before any byte when the line is full) and streamed
    /// as it runs; a client that stops reading stops it.
    func streamResponse(_ r: CompletionRequest) throws -> Response {
        let (events, job) = try r.decoder.stream(r.prompt, options: r.options)
        let id = Self.completionID(chat: r.chat)
        let created = Int(Date().timeIntervalSince1970)
        let logger = self.logger
        let body = ResponseBody { writer in
            defer { job.cancel() }
            func send(_ value: ResponseJSON) async throws {
                do { try await writer.write(ByteBuffer(string: "data: " + value.text + "\n\n")) } catch { throw ClientGone() }
            }
            func chunk(_ choice: [(String, ResponseJSON)]?, usage: ResponseJSON? = nil) -> ResponseJSON {
                var o: [(String, ResponseJSON)] = [
                    ("id", .string(id)), ("object", .string(r.chat ? "chat.completion.chunk" : "text_completion")),
                    ("created", .int(created)), ("model", .string(r.decoder.name)), ("system_fingerprint", .null),
                    ("choices", .array(choice.map { [.object([("index", .int(0))] + $0)] } ?? [])),
                ]
                if r.includeUsage { o.append(("usage", usage ?? .null)) }
                return .object(o)
            }
            func textChoice(_ text: String, logprobs: ResponseJSON = .null, finish: String? = nil) -> [(String, ResponseJSON)] {
                r.chat ? [("delta", text.isEmpty && finish != nil ? .object([]) : .object([("content", .string(text))])),
                          ("logprobs", logprobs), ("finish_reason", finish.map { .string($0) } ?? .null)]
                       : [("text", .string(text)), ("logprobs", logprobs), ("finish_reason", finish.map { .string($0) } ?? .null)]
            }
            var sent = ""
            var ids = r.prompt
            var offset = r.promptCharacters
            do {
                if r.chat {
                    try await send(chunk([("delta", .object([("role", .string("assistant")), ("content", .string(""))])),
                                          ("logprobs", .null), ("finish_reason", .null)]))
                }
                for try await event in events {
                    switch event {
                    case .step(let index, let step):
                        ids.append(step.id)
                        let perToken = r.logprobs != nil || r.attentionTop != nil
                        guard perToken || !step.text.isEmpty else { continue }
                        let logprobs = r.logprobs == nil ? ResponseJSON.null : self.logprobsJSON(r, [(index, step)], textOffset: offset)
                        offset += r.decoder.model.tokenText(step.id).count
                        var choice = textChoice(step.text, logprobs: logprobs)
                        if let top = r.attentionTop {
                            var attention = self.attentionStep(r, all: ids, index: index, step: step, top: top)
                            if index == 0, case .object(let fields) = attention { attention = .object(fields + self.attentionHeader(r)) }
                            choice.append(("attention", attention))
                        }
                        sent += step.text
                        try await send(chunk(choice))
                    case .done(let result):
                        // Text the decoder held back until the end (a split character, a possible stop string).
                        if result.text.count > sent.count && result.text.hasPrefix(sent) {
                            try await send(chunk(textChoice(String(result.text.dropFirst(sent.count)))))
                        }
                        try await send(chunk(textChoice("", finish: result.finishReason)))
                        if r.includeUsage {
                            try await send(chunk(nil, usage: self.usageJSON(prompt: result.inputIds.count, completion: result.outputIds.count)))
                        }
                    }
                }
            } catch is ClientGone {
                return                                   // the deferred cancel stops the generation
            } catch is CancellationError {
                return
            } catch {
                // The answer has begun (200): the failure is one last event in OpenAI's error shape.
                logger.error("generation failed mid-stream", metadata: ["error": "\(error)"])
                let api = (error as? APIError) ?? .internalError("the generation failed: \(error)")
                try? await writer.write(ByteBuffer(string: "data: " + api.body(.openAI) + "\n\n"))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"], body: body)
    }
}

/// Writing to a streamed answer failed: the client went away.
struct ClientGone: Error {}

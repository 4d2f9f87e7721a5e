// /v1/completions and /v1/chat/completions over the real loopback socket, against the library's own generation:
// greedy answers equal `LlamaModel.generate` token for token (ids, text, log-probabilities, lookback weights);
// a streamed answer's chunks concatenate to the non-streamed text and have OpenAI's shapes; stop strings cut the
// text; bad requests get OpenAI's error shape with a 4xx; a full line answers 429; a streaming client that hangs
// up stops its generation; /metrics counts tokens, times, refusals and stops. Outputs are kept short: debug builds
// are slow.
import AttendModels
@testable import AttendServer
import AttendTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SmolLM2-135M-Instruct, loaded once per test process (the quantized path, as `attend serve` and the CLI load it).
enum DecoderFixture {
    static let name = "smollm2-135m"
    static var folder: URL { installedModelFolder(name) }
    static var installed: Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path)
    }
    static let modelResult: Result<LlamaModel, Error> = Result { try LlamaModel.load(folder, path: .quantized) }
    static func model() throws -> LlamaModel { try modelResult.get() }

    /// The library's generation of `prompt` (what `attend generate --model` / `attend chat` compute).
    static func reference(_ prompt: [Int], maxTokens: Int, stop: [String] = [], topLogprobs: Int = 0,
                          lookback: LookbackSelection? = nil) throws -> GenerationResult {
        try model().generate(prompt: prompt, options: GenerationOptions(maxTokens: maxTokens, stop: stop, topLogprobs: topLogprobs,
                                                                        lookback: lookback))
    }

    static func chatPrompt(_ messages: [ChatMessage]) throws -> [Int] {
        let m = try model()
        let template = try #require(m.chatTemplate)
        return m.tokenizer.encode(template.render(messages))
    }
}

/// A server with all-MiniLM-L6-v2 and SmolLM2 on a free port.
func withDecoderServer(_ configure: (inout ServerOptions) -> Void = { _ in },
                       _ body: (Int, AttendServer) async throws -> Void) async throws {
    var options = ServerOptions()
    options.port = 0
    configure(&options)
    let llama = LoadedModel(name: DecoderFixture.name, folder: DecoderFixture.folder, model: try DecoderFixture.model())
    let server = try AttendServer(embedders: [("all-MiniLM-L6-v2", try ServedFixture.embedder())], decoders: [llama],
                                  options: options, logger: ServedFixture.quietLogger)
    let running = try await server.start()
    do { try await body(running.port, server) } catch {
        try? await running.stop()
        throw error
    }
    try await running.stop()
}

/// The `data:` payloads of a server-sent event stream (the `[DONE]` marker included as a string).
func sseEvents(_ text: String) -> [String] {
    text.components(separatedBy: "\n\n").compactMap { block in
        let line = block.trimmingCharacters(in: .whitespacesAndNewlines)
        return line.hasPrefix("data: ") ? String(line.dropFirst(6)) : nil
    }
}

func jsonObject(_ s: String) -> [String: Any] {
    ((try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any]) ?? [:]
}

@Suite("Server: completions and chat completions (SmolLM2)", .serialized,
       .enabled(if: isCI || (DecoderFixture.installed && modelTestsEnabled()),
                "install the models: swift run attend models install smollm2-135m (and all-MiniLM-L6-v2)"))
struct CompletionRouteTests {
    static let question = [ChatMessage(role: "user", content: "What is the capital of France?")]

    /// Greedy chat: ids (from the attention extension), text, usage, log-probabilities and the lookback weights equal
    /// the library's for the same prompt; the streamed answer concatenates to the same text in OpenAI's chunk shapes.
    @Test func greedyChatEqualsTheLibraryStreamedAndNot() async throws {
        let prompt = try DecoderFixture.chatPrompt(Self.question)
        let ref = try DecoderFixture.reference(prompt, maxTokens: 8, topLogprobs: 2, lookback: LookbackSelection())
        let request: [String: Any] = [
            "model": "smollm2-135m", "messages": [["role": "user", "content": "What is the capital of France?"]],
            "temperature": 0, "max_tokens": 8, "logprobs": true, "top_logprobs": 2, "return_attention": true,
        ]
        try await withDecoderServer { port, _ in
            let r = try await HTTP.post(port: port, "/v1/chat/completions", json: request)
            #expect(r.status == 200, "\(r.text)")
            let o = r.object
            #expect(o["object"] as? String == "chat.completion")
            #expect((o["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            let choice = try #require((o["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] as? String == ref.text)
            #expect(choice["finish_reason"] as? String == ref.finishReason)
            let usage = try #require(o["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == prompt.count)
            #expect(usage["completion_tokens"] as? Int == ref.outputIds.count)
            #expect(usage["total_tokens"] as? Int == prompt.count + ref.outputIds.count)

            // Exact ids, and the lookback: the top positions and weights the library computes.
            let attention = try #require(choice["attention"] as? [String: Any])
            #expect((attention["prompt_tokens"] as? [String])?.count == prompt.count)
            #expect(attention["num_heads"] as? Int == 9)
            let tokens = try #require(attention["tokens"] as? [[String: Any]])
            #expect(tokens.compactMap { $0["id"] as? Int } == ref.outputIds)
            for (i, (t, step)) in zip(tokens, ref.steps).enumerated() {
                #expect(t["position"] as? Int == prompt.count + i)
                let row = try #require(step.attention)
                let want = row.indices.dropFirst().sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(3)
                let top = try #require(t["top"] as? [[String: Any]])
                #expect(top.compactMap { $0["position"] as? Int } == Array(want), "token \(i)")
                expectNear(top.map { floats($0["weight"]).first ?? .nan }, want.map { row[$0] }, atol: 0, "token \(i) weights")
                let heads = try #require(t["heads"] as? [[[String: Any]]])
                #expect(heads.count == 9 && heads.allSatisfy { $0.count == 3 }, "token \(i) heads")
                // The summary over every layer and head is the mean of the per-head rows.
                let perHead = try #require(step.headAttention)
                let mean = row.indices.map { j in perHead.reduce(Float(0)) { $0 + $1[j] } / Float(perHead.count) }
                expectNear(mean, row, atol: 1e-6, rtol: 1e-5, "token \(i) mean of heads")
            }

            // Log-probabilities: each chosen token's, and the top 2, as the library's.
            let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect(content.count == ref.steps.count)
            let model = try DecoderFixture.model()
            for (c, step) in zip(content, ref.steps) {
                #expect(c["token"] as? String == model.tokenText(step.id))
                expectNear(floats(c["logprob"]), [step.logprob], atol: 0, "logprob of \(step.id)")
                let tops = try #require(c["top_logprobs"] as? [[String: Any]])
                #expect(tops.compactMap { $0["token"] as? String } == step.topLogprobs.map { model.tokenText($0.id) })
                expectNear(tops.map { floats($0["logprob"]).first ?? .nan }, step.topLogprobs.map(\.logprob), atol: 0, "top logprobs")
                #expect((c["bytes"] as? [Int]) == model.tokenizer.bytes(of: step.id).map { Int($0) })
            }

            // Streamed: the role chunk, one chunk per token (logprobs and attention asked), the finish, usage, [DONE].
            var streamed = request
            streamed["stream"] = true
            streamed["stream_options"] = ["include_usage": true]
            let s = try await HTTP.post(port: port, "/v1/chat/completions", json: streamed)
            #expect(s.status == 200)
            #expect(s.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            let events = sseEvents(s.text)
            #expect(events.last == "[DONE]", "\(s.text.suffix(300))")
            let chunks = events.dropLast().map(jsonObject)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" && $0["id"] as? String == chunks.first?["id"] as? String })
            let first = try #require((chunks.first?["choices"] as? [[String: Any]])?.first)
            #expect((first["delta"] as? [String: Any])?["role"] as? String == "assistant")
            let choices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
            let text = choices.compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }.joined()
            #expect(text == ref.text)
            let ids = choices.compactMap { ($0["attention"] as? [String: Any])?["id"] as? Int }
            #expect(ids == ref.outputIds)
            #expect(choices.last?["finish_reason"] as? String == ref.finishReason)
            let usageChunk = try #require(chunks.last)
            #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
            #expect((usageChunk["usage"] as? [String: Any])?["completion_tokens"] as? Int == ref.outputIds.count)
        }
    }

    /// Raw completion: greedy continuation and the legacy logprobs equal the library's; stop strings cut the text,
    /// streamed or not (the streamed pieces never show a part of the stop string).
    @Test func completionsContinueRawTextAndStop() async throws {
        let model = try DecoderFixture.model()
        let prompt = model.tokenizer.encode("The")
        let ref = try DecoderFixture.reference(prompt, maxTokens: 4, topLogprobs: 2)
        let stopped = try DecoderFixture.reference(prompt, maxTokens: 12, stop: ["world"])
        #expect(stopped.text == "-the-" && stopped.finishReason == "stop", "the CLI test's fixture: \(stopped.text)")
        try await withDecoderServer { port, _ in
            let r = try await HTTP.post(port: port, "/v1/completions", json: ["model": "smollm2-135m", "prompt": "The", "max_tokens": 4,
                                                                             "temperature": 0, "logprobs": 2])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object["object"] as? String == "text_completion")
            let choice = try #require((r.object["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == ref.text)
            #expect(choice["finish_reason"] as? String == "length")
            let logprobs = try #require(choice["logprobs"] as? [String: Any])
            #expect(logprobs["tokens"] as? [String] == ref.outputIds.map(model.tokenText))
            expectNear(floats(logprobs["token_logprobs"]), ref.steps.map(\.logprob), atol: 0, "token_logprobs")
            let tops = try #require(logprobs["top_logprobs"] as? [[String: Any]])
            #expect(tops.count == 4 && tops.allSatisfy { $0.count >= 1 && $0.count <= 2 })
            for (t, step) in zip(tops, ref.steps) {
                for (id, lp) in step.topLogprobs { expectNear(floats(t[model.tokenText(id)]), [lp], atol: 0, "top \(id)") }
            }
            #expect(logprobs["text_offset"] as? [Int] == [3, 4, 7, 8], "\(logprobs["text_offset"] ?? "")")

            // Token ids as the prompt: the same continuation.
            let ids = try await HTTP.post(port: port, "/v1/completions", json: ["model": "smollm2-135m", "prompt": prompt, "max_tokens": 4, "temperature": 0])
            #expect((ids.object["choices"] as? [[String: Any]])?.first?["text"] as? String == ref.text)

            let stop = try await HTTP.post(port: port, "/v1/completions", json: ["prompt": ["The"], "max_tokens": 12, "temperature": 0, "stop": "world"])
            let stopChoice = try #require((stop.object["choices"] as? [[String: Any]])?.first)
            #expect(stopChoice["text"] as? String == "-the-")
            #expect(stopChoice["finish_reason"] as? String == "stop")
            #expect((stop.object["usage"] as? [String: Any])?["completion_tokens"] as? Int == stopped.outputIds.count)

            let s = try await HTTP.post(port: port, "/v1/completions", json: ["prompt": "The", "max_tokens": 12, "temperature": 0,
                                                                             "stop": ["world", "zzz"], "stream": true])
            let events = sseEvents(s.text)
            #expect(events.last == "[DONE]")
            let choices = events.dropLast().map(jsonObject).compactMap { ($0["choices"] as? [[String: Any]])?.first }
            #expect(choices.allSatisfy { ($0["text"] as? String)?.contains("w") != true }, "a piece of the stop string was streamed")
            #expect(choices.compactMap { $0["text"] as? String }.joined() == "-the-")
            #expect(choices.last?["finish_reason"] as? String == "stop")
            #expect(events.dropLast().map(jsonObject).allSatisfy { $0["object"] as? String == "text_completion" })
        }
    }

    /// Every bad request is OpenAI's error shape with a 4xx, and the server keeps answering.
    @Test func badRequestsAreOpenAIErrors() async throws {
        let user: [String: Any] = ["role": "user", "content": "hi"]
        let cases: [(String, String, Any, Int, String?)] = [
            ("unknown model", "/v1/chat/completions", ["model": "gpt-4", "messages": [user]], 404, "model"),
            ("embedding model", "/v1/chat/completions", ["model": "all-MiniLM-L6-v2", "messages": [user]], 400, "model"),
            ("embedding model, completions", "/v1/completions", ["model": "all-MiniLM-L6-v2", "prompt": "a"], 400, "model"),
            ("no messages", "/v1/chat/completions", ["model": "smollm2-135m"], 400, "messages"),
            ("empty messages", "/v1/chat/completions", ["messages": [Any]()], 400, "messages"),
            ("wrong role", "/v1/chat/completions", ["messages": [["role": "tool", "content": "x"]]], 400, "messages"),
            ("content not text", "/v1/chat/completions", ["messages": [["role": "user", "content": 3]]], 400, "messages"),
            ("message not an object", "/v1/chat/completions", ["messages": ["hi"]], 400, "messages"),
            ("max_tokens 0", "/v1/chat/completions", ["messages": [user], "max_tokens": 0], 400, "max_tokens"),
            ("max_tokens too large", "/v1/completions", ["prompt": "a", "max_tokens": 1_000_000], 400, "max_tokens"),
            ("max_tokens not an integer", "/v1/completions", ["prompt": "a", "max_tokens": "8"], 400, "max_tokens"),
            ("temperature out of range", "/v1/completions", ["prompt": "a", "temperature": 3], 400, "temperature"),
            ("top_p out of range", "/v1/completions", ["prompt": "a", "top_p": 1.5], 400, "top_p"),
            ("negative top_k", "/v1/completions", ["prompt": "a", "top_k": -1], 400, "top_k"),
            ("empty stop", "/v1/completions", ["prompt": "a", "stop": [""]], 400, "stop"),
            ("five stops", "/v1/completions", ["prompt": "a", "stop": ["a", "b", "c", "d", "e"]], 400, "stop"),
            ("empty prompt", "/v1/completions", ["prompt": ""], 400, "prompt"),
            ("two prompts", "/v1/completions", ["prompt": ["a", "b"]], 400, "prompt"),
            ("token id out of range", "/v1/completions", ["prompt": [49_152]], 400, "prompt"),
            ("prompt longer than the context", "/v1/completions", ["prompt": Array(repeating: 504, count: 8192)], 400, "prompt"),
            ("n = 2", "/v1/chat/completions", ["messages": [user], "n": 2], 400, "n"),
            ("top_logprobs without logprobs", "/v1/chat/completions", ["messages": [user], "top_logprobs": 2], 400, "top_logprobs"),
            ("logprobs too many", "/v1/completions", ["prompt": "a", "logprobs": 50], 400, "logprobs"),
            ("stream_options without stream", "/v1/chat/completions", ["messages": [user], "stream_options": ["include_usage": true]], 400, "stream_options"),
            ("attention layer out of range", "/v1/chat/completions", ["messages": [user], "return_attention": true, "attention_layer": 30], 400, "attention_layer"),
            ("attention_top without return_attention", "/v1/chat/completions", ["messages": [user], "attention_top": 2], 400, "attention_top"),
            ("unknown field", "/v1/chat/completions", ["messages": [user], "tools": [Any]()], 400, "tools"),
            ("messages on completions", "/v1/completions", ["messages": [user]], 400, "messages"),
            ("a language model asked for embeddings", "/v1/embeddings", ["model": "smollm2-135m", "input": "a"], 400, "model"),
        ]
        try await withDecoderServer { port, server in
            for (label, path, body, status, param) in cases {
                let r = try await HTTP.post(port: port, path, json: body)
                #expect(r.status == status, "\(label): \(r.status) \(r.text)")
                let error = r.openAIError
                #expect(error?["message"] is String && error?["type"] is String, "\(label): \(r.text)")
                #expect(error?["param"] as? String == param, "\(label): \(r.text)")
            }
            let invalid = try await HTTP.post(port: port, "/v1/chat/completions", raw: "{\"messages\": [")
            #expect(invalid.status == 400 && invalid.openAIError?["code"] as? String == "invalid_json")
            #expect(server.decoders[0].inFlight == 0)
            // /v1/models lists the language model and says it generates.
            let models = try await HTTP.get(port: port, "/v1/models")
            let entry = (models.object["data"] as? [[String: Any]])?.first { $0["id"] as? String == "smollm2-135m" }
            let attend = try #require(entry?["attend"] as? [String: Any])
            #expect(attend["completions"] as? Bool == true && attend["chat"] as? Bool == true && attend["family"] as? String == "llama")
        }
    }

    /// /metrics counts generations: prompt and generated tokens equal the answers' usage, one time to first token
    /// and one queue wait per generation, one time per output token for every token after the first, streamed or not.
    @Test func metricsCountGeneratedTokensAndTimes() async throws {
        try await withDecoderServer { port, server in
            let plain = try await HTTP.post(port: port, "/v1/completions", json: ["prompt": "The", "max_tokens": 3, "temperature": 0])
            #expect(plain.status == 200, "\(plain.text)")
            let usage = try #require(plain.object["usage"] as? [String: Any])
            let streamed = try await HTTP.post(port: port, "/v1/chat/completions", json: [
                "messages": [["role": "user", "content": "hi"]], "max_tokens": 2, "temperature": 0, "stream": true,
                "stream_options": ["include_usage": true]] as [String: Any])
            let streamUsage = try #require(sseEvents(streamed.text).dropLast().map(jsonObject).last?["usage"] as? [String: Any])
            let prompt = try #require(usage["prompt_tokens"] as? Int) + (try #require(streamUsage["prompt_tokens"] as? Int))
            let generated = try #require(usage["completion_tokens"] as? Int) + (try #require(streamUsage["completion_tokens"] as? Int))
            #expect(generated == 5)

            let text = try await HTTP.get(port: port, "/metrics").text
            func value(_ name: String) -> Double { ServingTests.value(text, name + "{model=\"smollm2-135m\"") }
            #expect(value("attend_prompt_tokens_total") == Double(prompt), "\(text)")
            #expect(value("attend_generation_tokens_total") == Double(generated))
            #expect(value("attend_time_to_first_token_seconds_count") == 2)
            #expect(value("attend_time_per_output_token_seconds_count") == Double(generated - 2))
            #expect(value("attend_generation_queue_seconds_count") == 2)
            #expect(value("attend_generation_seconds_count") == 2)
            #expect(value("attend_time_to_first_token_seconds_sum") > 0)
            #expect(value("attend_time_to_first_token_seconds_sum") <= value("attend_generation_seconds_sum"))
            #expect(text.contains(#"attend_http_requests_total{route="/v1/completions",status="200"} 1"#))
            #expect(text.contains(#"attend_http_requests_total{route="/v1/chat/completions",status="200"} 1"#))
            // Nothing refused or stopped: those series do not exist yet.
            #expect(value("attend_overloaded_total") == 0 && value("attend_generations_stopped_total") == 0)
            #expect(server.decoders[0].inFlight == 0)
        }
    }

    /// One generation at a time: with no room to wait, a second request gets 429 and Retry-After; a streaming client
    /// that hangs up stops its generation long before max_tokens, and the model serves the next request.
    @Test func fullLineIs429AndAHangUpStopsTheGeneration() async throws {
        try await withDecoderServer({ $0.maxQueuedGenerations = 0; $0.maxCompletionTokens = 512 }) { port, server in
            let decoder = server.decoders[0]
            let body = try JSONSerialization.data(withJSONObject: [
                "prompt": "Once upon a time", "max_tokens": 500, "temperature": 0, "stream": true] as [String: Any])
            let fd = try HTTP.connect(port: port)
            try HTTP.send(fd, HTTP.head("POST", "/v1/completions", port: port, headers: ["Content-Type": "application/json"], length: body.count) + body)
            try await waitUntil { decoder.inFlight == 1 }
            let busy = try await HTTP.post(port: port, "/v1/chat/completions", json: ["messages": [["role": "user", "content": "hi"]], "max_tokens": 1])
            #expect(busy.status == 429, "\(busy.text)")
            #expect(busy.headers["retry-after"].flatMap(Int.init).map { $0 >= 1 } == true)
            #expect(busy.openAIError?["type"] as? String == "server_overloaded")
            // Read until the first tokens arrived, then hang up.
            let received = try await Task.detached { try Self.readUntil(fd, events: 3) }.value
            #expect(received.contains("\"object\":\"text_completion\""))
            close(fd)
            for _ in 0..<18_000 where decoder.inFlight > 0 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(decoder.inFlight == 0, "the generation did not stop")
            let last = try #require(decoder.lastRun)
            #expect(last.stopped && last.steps < 500, "\(last)")
            let next = try await HTTP.post(port: port, "/v1/completions", json: ["prompt": "The", "max_tokens": 1, "temperature": 0])
            #expect(next.status == 200, "\(next.text)")
            // /metrics: the refusal and the stopped stream.
            let metrics = server.metrics.exposition()
            #expect(ServingTests.value(metrics, #"attend_overloaded_total{model="smollm2-135m"}"#) == 1, "\(metrics)")
            #expect(ServingTests.value(metrics, #"attend_generations_stopped_total{model="smollm2-135m"}"#) == 1)
            #expect(ServingTests.value(metrics, #"attend_generation_tokens_total{model="smollm2-135m"}"#) == Double(last.steps + 1) + 1,
                    "the stopped stream's tokens (one more computed before the stop was seen) and the next request's")
        }
    }

    /// Blocking read of a streamed answer until `events` data events arrived (or the server closed).
    static func readUntil(_ fd: Int32, events: Int) throws -> String {
        var tv = timeval(tv_sec: 900, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while String(decoding: data, as: UTF8.self).components(separatedBy: "data: ").count - 1 < events {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }
}

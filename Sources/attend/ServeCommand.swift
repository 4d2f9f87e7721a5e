import ArgumentParser
import Attend
import AttendServer
import Dispatch
import Foundation

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve embeddings and chat completions over HTTP (OpenAI- and TEI-compatible), attention explained step by step, and the explorer page.",
        discussion: """
        Without --model it serves all-MiniLM-L6-v2 when it is installed (attend models install all-MiniLM-L6-v2), the language model smollm2-135m when it is installed (attend models install smollm2-135m), and the embedded demo models tiny-translator and tiny-gpt, so it starts on a fresh clone without a network; open http://127.0.0.1:8080/ for the explorer. Sentence encoders (all-MiniLM-L6-v2, all-mpnet-base-v2) serve every embedding route; language models (smollm2-135m, a .gguf file or a folder holding one, a Hugging Face folder of a Llama model) serve the completion routes and /v1/explain; the demo models serve /v1/explain only.

        Loads each --model once (weights memory-mapped) and shares it across requests; concurrent requests are tokenized on their own tasks and coalesced into forward passes up to --max-batch-tokens (padded length × inputs); after a pass the batcher waits up to half that pass's time (at most 10 ms) for the clients it just answered, so a steady crowd of clients shares full passes while a lone client never waits. The queue is bounded: when it is full a request gets 429 with Retry-After. The server listens on 127.0.0.1 unless --host says otherwise, and stops gracefully on Ctrl-C or SIGTERM (requests in flight finish).

        Routes: POST /v1/embeddings and GET /v1/models (the official OpenAI clients work against http://127.0.0.1:8080/v1); POST /embed, /embed_all, /similarity, /rerank, /tokenize, /decode and GET /info, /health, /metrics (as Hugging Face text-embeddings-inference); POST /v1/attention (your own Q, K, V, as attend attention --json) and POST /v1/explain (one head of one layer of any served model on your sentence, as attend explain --format json); GET /openapi.json describes them all. Add "return_attention": true to /v1/embeddings, /embed or /embed_all to get every layer's and head's attention weights, [layer][head][query][key], from the same forward pass as the embedding. Layers and heads count from 0.

        POST /v1/search looks a query up in a corpus index as a soft lookup and answers what attend search --index FILE "query" --json [--explain] prints: each hit's id, text and cosine, and the weights softmax(cosine / temperature) over the retrieved documents. Give index files made by attend index build with --index (repeat it for several, or one per model); each must have been built by a served model, or the server refuses to start. Without --index the server embeds a built-in demo corpus of 40 sentences once at start for each served encoder, so the explorer's search panel works on a fresh clone.

        Chat completions: with a language model loaded, POST /v1/completions continues a raw prompt (as attend generate --model) and POST /v1/chat/completions answers messages (system, user, assistant) through the model's chat template (as attend chat), with OpenAI's fields max_tokens, temperature (default 1; 0 is greedy), top_p, top_k, seed, stop, logprobs (and top_logprobs for chat), stream (server-sent events ending with data: [DONE]) and usage. Add "return_attention": true to get, for every generated token, the earlier tokens it attended to most, averaged over every layer and head and per head ("attention_layer": L reads one layer, "attention_top": N lists N positions), as attend chat --explain shows them. Generations run one at a time per model; up to --max-queued-generations wait, and beyond that a request gets 429 with Retry-After. A streaming client that disconnects stops its generation.

        With --api-key KEY every route except /health, /openapi.json and the explorer page wants the header `Authorization: Bearer KEY`. With --precision bf16 or int8 the sentence encoders run their linear layers at that precision (as attend embed --precision; GET /info reports it as model_dtype); language models and the demos are unchanged.

        Examples:
          attend serve
          attend serve --model all-mpnet-base-v2 --model tiny-gpt
          attend serve --model all-MiniLM-L6-v2 --port 9000 --api-key secret
          attend serve --model all-MiniLM-L6-v2 --index corpus.attendindex
          attend serve --model all-MiniLM-L6-v2 --precision int8
          attend serve --model smollm2-135m --model all-MiniLM-L6-v2

        Asking it:
          curl -s localhost:8080/v1/embeddings -H 'Content-Type: application/json' -d '{"input": "The cat sat on the mat"}'
          curl -s localhost:8080/v1/search -d '{"query": "a pet sleeping indoors", "top_k": 3, "explain": true}'
          curl -s localhost:8080/v1/explain -d '{"text": "na ro zi li na ro", "model": "tiny-gpt", "layer": 1, "head": 0}'
          curl -s localhost:8080/v1/chat/completions -d '{"model": "smollm2-135m", "messages": [{"role": "user", "content": "What is the capital of France?"}], "temperature": 0, "max_tokens": 32}'
          curl -sN localhost:8080/v1/chat/completions -d '{"model": "smollm2-135m", "messages": [{"role": "user", "content": "Say hi."}], "stream": true, "return_attention": true}'
        """)

    @Option(name: .long, help: ArgumentHelp("A model to serve: a known name, a folder in Hugging Face layout, a GGUF language model (file or folder), or an embedded demo (tiny-translator, tiny-gpt); repeat to serve several (the first encoder is the embedding routes' default, the first language model the completion routes').", valueName: "name|folder|file"))
    var model: [String] = []
    @Option(name: .long, help: ArgumentHelp("A corpus index for POST /v1/search, made by `attend index build` with a served model; repeat for several (default: the built-in demo corpus).", valueName: "file"))
    var index: [String] = []
    @Option(help: "Interface to listen on (127.0.0.1 = this machine only; 0.0.0.0 = every interface).") var host = "127.0.0.1"
    @Option(help: "TCP port (0 picks a free one and prints it).") var port = 8080
    @Option(name: .customLong("api-key"), help: "Require `Authorization: Bearer KEY` on every route but /health, /openapi.json and the page.") var apiKey: String?
    @Option(name: .customLong("max-batch-tokens"), help: "Token budget of one forward pass (padded length × inputs).") var maxBatchTokens = 16_384
    @Option(name: .customLong("max-client-batch"), help: "Inputs one request may send.") var maxClientBatch = 256
    @Option(name: .customLong("max-input-tokens"), help: "Tokens per input, special tokens included (default and upper bound: the model's max_seq_length).") var maxInputTokens: Int?
    @Option(name: .customLong("payload-limit"), help: "Largest request body in bytes.") var payloadLimit = 2_000_000
    @Option(name: .customLong("cors-origin"), help: "Allow browsers on this origin (or *) to call the API.") var corsOrigin: String?
    @Option(name: .customLong("max-completion-tokens"), help: "Largest max_tokens a completion may ask for (and the chat route's default).") var maxCompletionTokens = 1024
    @OptionGroup var precisionOption: PrecisionOption
    @Option(name: .customLong("max-queued-generations"), help: "Generations that may wait per language model while one runs (more get 429).") var maxQueuedGenerations = 8

    func run() throws {
        try runReportingErrors {
            var options = ServerOptions()
            options.host = host
            options.port = port
            options.apiKey = apiKey
            options.maxBatchTokens = maxBatchTokens
            options.maxClientBatch = maxClientBatch
            options.maxInputTokens = maxInputTokens
            options.payloadLimit = payloadLimit
            options.corsOrigin = corsOrigin
            options.maxCompletionTokens = maxCompletionTokens
            options.maxQueuedGenerations = maxQueuedGenerations
            options.precision = precisionOption.precision
            options.maxQueuedTokens = max(options.maxQueuedTokens, maxBatchTokens)
            let problems = options.problems()
            guard problems.isEmpty else { throw CLIError(problems.joined(separator: "; ")) }
            let server: AttendServer
            do { server = try AttendServer.load(models: model, indexes: index, options: options) } catch { throw CLIError("\(error)") }
            for notice in server.notices { FileHandle.standardError.write(Data("attend: \(notice)\n".utf8)) }
            let host = self.host
            // The server runs on Swift's task pool; this (synchronous) command waits for it to stop.
            let done = DispatchSemaphore(value: 0)
            let failure = LockedError()
            Task {
                do {
                    try await server.run { port in
                        FileHandle.standardError.write(Data("attend: serving \(server.modelNames.joined(separator: ", ")) on http://\(host):\(port) (Ctrl-C stops)\n".utf8))
                    }
                } catch { failure.set(error) }
                done.signal()
            }
            done.wait()
            if let error = failure.get() { throw CLIError("the server stopped: \(error)") }
        }
    }
}

/// The server task's error, handed back to the waiting command.
private final class LockedError: @unchecked Sendable {
    private var error: Error?
    private let lock = NSLock()
    func set(_ e: Error) { lock.lock(); error = e; lock.unlock() }
    func get() -> Error? { lock.lock(); defer { lock.unlock() }; return error }
}

// What `attend serve` is told on its command line, with the defaults a laptop wants: loopback only, no key,
// limits that keep one request from starving the others.
import AttendNN
import Foundation

public struct ServerOptions: Sendable {
    /// Interface to bind; loopback unless the user asks for more.
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks a free one (tests).
    public var port: Int = 8080
    /// When set, every route except `/health`, `/`, the page's files and `/openapi.json` wants `Authorization: Bearer KEY`.
    public var apiKey: String?
    /// Token budget of one forward pass: padded length × inputs in the batch.
    public var maxBatchTokens: Int = 16_384
    /// Inputs one request may send.
    public var maxClientBatch: Int = 256
    /// Tokens per input (special tokens included); nil = the model's own limit. Never above the model's limit.
    public var maxInputTokens: Int?
    /// Largest request body in bytes.
    public var payloadLimit: Int = 2_000_000
    /// `Access-Control-Allow-Origin` for browsers on other origins; nil = same origin only.
    public var corsOrigin: String?
    /// Tokens that may wait for a forward pass (queued inputs' lengths summed); beyond it a request gets 429.
    public var maxQueuedTokens: Int = 262_144
    /// Largest `max_tokens` a completion request may ask for (and the chat route's default).
    public var maxCompletionTokens: Int = 1024
    /// Generations that may wait per language model while one runs; beyond it a request gets 429.
    public var maxQueuedGenerations: Int = 8
    /// The arithmetic of the sentence encoders' linear layers (`attend serve --precision`); language models and
    /// the demos ignore it.
    public var precision: InferencePrecision = .fp32

    public init() {}

    /// The limits as a list of problems (empty when every limit is usable).
    public func problems() -> [String] {
        var out: [String] = []
        if !(0...65_535).contains(port) { out.append("--port must be 0…65535, got \(port)") }
        if maxBatchTokens < 1 { out.append("--max-batch-tokens must be at least 1, got \(maxBatchTokens)") }
        if maxClientBatch < 1 { out.append("--max-client-batch must be at least 1, got \(maxClientBatch)") }
        if let m = maxInputTokens, m < 2 { out.append("--max-input-tokens must be at least 2 (room for [CLS] and [SEP]), got \(m)") }
        if payloadLimit < 1024 { out.append("--payload-limit must be at least 1024 bytes, got \(payloadLimit)") }
        if maxQueuedTokens < maxBatchTokens { out.append("the queue must hold at least one batch (\(maxBatchTokens) tokens)") }
        if maxCompletionTokens < 1 { out.append("--max-completion-tokens must be at least 1, got \(maxCompletionTokens)") }
        if maxQueuedGenerations < 0 { out.append("--max-queued-generations must be at least 0, got \(maxQueuedGenerations)") }
        if let k = apiKey, k.isEmpty { out.append("--api-key must not be empty") }
        return out
    }
}

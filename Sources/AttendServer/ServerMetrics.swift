// Prometheus metrics of one server (its own registry, so servers in one process — tests — never share counts):
// requests by route and status, tokenization, queue and inference time, batch sizes, queue depth, refusals; and for
// text generation (vLLM's names where they fit): prompt and generated tokens, queue wait, time to first token, time
// per output token, whole generations, and generations stopped because their client went away.
import Foundation
import Prometheus

public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    static let timeBuckets: [Duration] = [
        .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2.5), .seconds(5), .seconds(10),
    ]
    static let sizeBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    static let tokenBuckets: [Double] = [16, 64, 256, 1024, 4096, 16_384, 65_536]

    public init() {}

    /// `attend_NAME_UNIT`, with help text.
    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "attend", metricName: metric, unitName: unit, helpText: help)
    }

    static let requests = name("http_requests", "total", "HTTP requests by route and status")
    static let tokenization = name("tokenization", "seconds", "Time to tokenize one request's inputs")
    static let queueTime = name("queue", "seconds", "Time an input waited for its forward pass")
    static let inferenceTime = name("inference", "seconds", "Time of one batched forward pass")
    static let batchInputs = name("batch", "inputs", "Inputs per forward pass")
    static let batchTokens = name("batch_padded", "tokens", "Padded length times inputs per forward pass")
    static let queueInputs = name("queue", "inputs", "Inputs waiting when the last request arrived")
    static let overloaded = name("overloaded", "total", "Requests refused with 429 because the queue was full")
    static let dropped = name("dropped_inputs", "total", "Queued inputs dropped because their client went away")
    static let promptTokens = name("prompt_tokens", "total", "Prompt tokens of the generations that started")
    static let generationTokens = name("generation_tokens", "total", "Tokens generated")
    static let generationQueueTime = name("generation_queue", "seconds", "Time a generation waited for the model after admission")
    static let firstToken = name("time_to_first_token", "seconds", "Time from a generation's admission to its first token")
    static let perOutputToken = name("time_per_output_token", "seconds", "Time between two consecutive generated tokens")
    static let generationTime = name("generation", "seconds", "Time of one whole generation, queue wait included")
    static let generationsStopped = name("generations_stopped", "total", "Generations stopped because their client went away")
    static let generationBuckets: [Duration] = timeBuckets + [.seconds(30), .seconds(60), .seconds(120), .seconds(300)]

    func request(route: String, status: Int) {
        registry.makeCounter(descriptor: Self.requests, labels: [("route", route), ("status", String(status))]).increment()
    }

    func tokenized(model: String, duration: Duration) {
        registry.makeDurationHistogram(descriptor: Self.tokenization, labels: [("model", model)], buckets: Self.timeBuckets).record(duration)
    }

    func queued(model: String, duration: Duration) {
        registry.makeDurationHistogram(descriptor: Self.queueTime, labels: [("model", model)], buckets: Self.timeBuckets).record(duration)
    }

    func inference(model: String, duration: Duration) {
        registry.makeDurationHistogram(descriptor: Self.inferenceTime, labels: [("model", model)], buckets: Self.timeBuckets).record(duration)
    }

    func batch(model: String, inputs: Int, paddedTokens: Int) {
        registry.makeValueHistogram(descriptor: Self.batchInputs, labels: [("model", model)], buckets: Self.sizeBuckets).record(Double(inputs))
        registry.makeValueHistogram(descriptor: Self.batchTokens, labels: [("model", model)], buckets: Self.tokenBuckets)
            .record(Double(paddedTokens))
    }

    func queueDepth(model: String, inputs: Int) {
        registry.makeGauge(descriptor: Self.queueInputs, labels: [("model", model)]).set(Double(inputs))
    }

    func rejected(model: String) {
        registry.makeCounter(descriptor: Self.overloaded, labels: [("model", model)]).increment()
    }

    func dropped(model: String, inputs: Int) {
        registry.makeCounter(descriptor: Self.dropped, labels: [("model", model)]).increment(by: Int64(inputs))
    }

    // MARK: - Text generation (`model`: the language model's name)

    func generationStarted(model: String, promptTokens: Int, queued: Duration) {
        registry.makeCounter(descriptor: Self.promptTokens, labels: [("model", model)]).increment(by: Int64(promptTokens))
        registry.makeDurationHistogram(descriptor: Self.generationQueueTime, labels: [("model", model)], buckets: Self.generationBuckets)
            .record(queued)
    }

    /// One generated token: `sinceAdmission` for the first, `sincePrevious` (nil for the first) for the others.
    func generatedToken(model: String, sinceAdmission: Duration, sincePrevious: Duration?) {
        registry.makeCounter(descriptor: Self.generationTokens, labels: [("model", model)]).increment()
        let labels = [("model", model)]
        if let gap = sincePrevious {
            registry.makeDurationHistogram(descriptor: Self.perOutputToken, labels: labels, buckets: Self.timeBuckets).record(gap)
        } else {
            registry.makeDurationHistogram(descriptor: Self.firstToken, labels: labels, buckets: Self.generationBuckets).record(sinceAdmission)
        }
    }

    func generationFinished(model: String, duration: Duration, stoppedByClient: Bool) {
        registry.makeDurationHistogram(descriptor: Self.generationTime, labels: [("model", model)], buckets: Self.generationBuckets)
            .record(duration)
        if stoppedByClient { registry.makeCounter(descriptor: Self.generationsStopped, labels: [("model", model)]).increment() }
    }

    /// The text exposition format.
    public func exposition() -> String { registry.emitToString() }
}

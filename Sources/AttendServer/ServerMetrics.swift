// Prometheus metrics of one server (its own registry, so servers in one process — tests — never share counts):
// requests by route and status, tokenization, queue and inference time, batch sizes, queue depth, refusals.
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

    func request(route: String, status: Int) {
        registry.makeCounter(name: "attend_http_requests_total", labels: [("route", route), ("status", String(status))],
                             help: "HTTP requests by route and status").increment()
    }

    func tokenized(model: String, duration: Duration) {
        registry.makeDurationHistogram(descriptor: .init(metricName: "attend_tokenization_seconds", helpText: "Time to tokenize one request's inputs"), labels: [("model", model)], buckets: Self.timeBuckets).record(duration)
    }

    func queued(model: String, duration: Duration) {
        registry.makeDurationHistogram(descriptor: .init(metricName: "attend_queue_seconds", helpText: "Time an input waited for its forward pass"), labels: [("model", model)], buckets: Self.timeBuckets).record(duration)
    }

    func inference(model: String, duration: Duration) {
        registry.makeDurationHistogram(descriptor: .init(metricName: "attend_inference_seconds", helpText: "Time of one batched forward pass"), labels: [("model", model)], buckets: Self.timeBuckets).record(duration)
    }

    func batch(model: String, inputs: Int, paddedTokens: Int) {
        registry.makeValueHistogram(descriptor: .init(metricName: "attend_batch_inputs", helpText: "Inputs per forward pass"), labels: [("model", model)], buckets: Self.sizeBuckets).record(Double(inputs))
        registry.makeValueHistogram(descriptor: .init(metricName: "attend_batch_padded_tokens", helpText: "Padded length times inputs per forward pass"), labels: [("model", model)], buckets: Self.tokenBuckets).record(Double(paddedTokens))
    }

    func queueDepth(model: String, inputs: Int) {
        registry.makeGauge(name: "attend_queue_inputs", labels: [("model", model)],
                           help: "Inputs waiting when the last request arrived").set(Double(inputs))
    }

    func rejected(model: String) {
        registry.makeCounter(name: "attend_overloaded_total", labels: [("model", model)],
                             help: "Requests refused with 429 because the queue was full").increment()
    }

    func dropped(model: String, inputs: Int) {
        registry.makeCounter(name: "attend_dropped_inputs_total", labels: [("model", model)],
                             help: "Queued inputs dropped because their client went away").increment(by: Int64(inputs))
    }

    /// The text exposition format.
    public func exposition() -> String { registry.emitToString() }
}

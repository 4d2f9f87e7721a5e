// How the server behaves under load and at its edges: concurrent clients get their own, correct results
// (each equal to the single-request result); a full queue answers 429 with Retry-After; a client that goes away
// has its queued work dropped; a graceful stop lets requests in flight finish; metrics count what happened;
// /openapi.json documents every route; the explorer's files are served as they are.
import AttendModels
@testable import AttendServer
import AttendTestSupport
@testable import AttendViz
import Foundation
import Testing

@Suite("Server: batching, limits, lifecycle", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct ServingTests {
    @Test func concurrentClientsGetTheirOwnResults() async throws {
        let expected = try ServedFixture.reference(sentences)
        try await withServer({ $0.maxBatchTokens = 256 }) { port, server in
            let results = try await withThrowingTaskGroup(of: (Int, Int, [[Float]]).self) { group in
                for client in 0..<24 {
                    group.addTask {
                        // Each client sends one or two sentences, on both route families.
                        let picks = client % 3 == 0 ? [client % sentences.count, (client + 4) % sentences.count] : [client % sentences.count]
                        if client % 2 == 0 {
                            let r = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": picks.map { sentences[$0] }])
                            let data = (r.object["data"] as? [[String: Any]]) ?? []
                            return (client, r.status, data.map { floats($0["embedding"]) })
                        } else {
                            let r = try await HTTP.post(port: port, "/embed", json: ["inputs": picks.map { sentences[$0] }])
                            return (client, r.status, ((try? r.json()) as? [[Any]] ?? []).map { floats($0) })
                        }
                    }
                }
                var all: [(Int, Int, [[Float]])] = []
                for try await r in group { all.append(r) }
                return all
            }
            #expect(results.count == 24)
            for (client, status, vectors) in results {
                #expect(status == 200, "client \(client)")
                let picks = client % 3 == 0 ? [client % sentences.count, (client + 4) % sentences.count] : [client % sentences.count]
                #expect(vectors.count == picks.count, "client \(client)")
                for (v, p) in zip(vectors, picks) {
                    // A row of a padded batch equals the text run alone, up to the GEMM's summation order.
                    expectNear(v, expected[p], atol: 2e-6, rtol: 1e-5, "client \(client), sentence \(p)")
                }
            }
            // Requests were coalesced: fewer forward passes than inputs.
            let metrics = server.metrics.exposition()
            let passes = Self.value(metrics, "attend_batch_inputs_count")
            let inputs = Self.value(metrics, "attend_batch_inputs_sum")
            #expect(inputs == 32, "\(metrics)")
            #expect(passes >= 1 && passes <= inputs)
        }
    }

    @Test func fullQueueAnswers429WithRetryAfter() async throws {
        try await withServer({ $0.maxBatchTokens = 32; $0.maxQueuedTokens = 40 }) { port, server in
            let batcher = try #require(server.models.first)
            await batcher.pauseForTests()
            // This request fills most of the queue and waits (the worker is paused).
            let waiting = Task { try await HTTP.post(port: port, "/v1/embeddings", json: ["input": Array(repeating: "a small sentence here", count: 5)]) }
            try await waitUntil { await batcher.queuedInputsForTests() == 5 }
            // 5 × 6 tokens wait; 15 more do not fit in 40.
            let longer = "one more sentence with enough words to overflow the queue"
            let refused = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": longer])
            #expect(refused.status == 429)
            #expect(refused.headers["retry-after"] == "1")
            #expect(refused.openAIError?["type"] as? String == "server_overloaded")
            let tei = try await HTTP.post(port: port, "/embed", json: ["inputs": [longer, "and another"]])
            #expect(tei.status == 429 && tei.object["error_type"] as? String == "Overloaded" && tei.headers["retry-after"] == "1")
            await batcher.resumeForTests()
            let done = try await waiting.value
            #expect(done.status == 200)
            #expect((done.object["data"] as? [Any])?.count == 5)
            #expect(Self.value(server.metrics.exposition(), "attend_overloaded_total") == 2)
        }
    }

    @Test func disconnectedClientsWorkIsDropped() async throws {
        try await withServer { port, server in
            let model = try #require(server.models.first)
            await model.pauseForTests()
            // Send a request and hang up without reading the answer.
            let body = try JSONSerialization.data(withJSONObject: ["input": ["gone before the answer", "me too"]])
            let fd = try HTTP.connect(port: port)
            try HTTP.send(fd, HTTP.head("POST", "/v1/embeddings", port: port, headers: ["Content-Type": "application/json"], length: body.count) + body)
            try await waitUntil { await model.queuedInputsForTests() == 2 }
            close(fd)
            try await waitUntil { await model.queuedInputsForTests() == 0 }
            #expect(Self.value(server.metrics.exposition(), "attend_dropped_inputs_total") == 2)
            await model.resumeForTests()
            let ok = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "next"])
            #expect(ok.status == 200)
        }
    }

    @Test func gracefulStopFinishesRequestsInFlight() async throws {
        var options = ServerOptions()
        options.port = 0
        let server = try AttendServer(embedders: [("all-MiniLM-L6-v2", try ServedFixture.embedder())], options: options, logger: ServedFixture.quietLogger)
        let running = try await server.start()
        let model = try #require(server.models.first)
        await model.pauseForTests()
        let inFlight = Task { try await HTTP.post(port: running.port, "/v1/embeddings", json: ["input": "finish me"]) }
        try await waitUntil { await model.queuedInputsForTests() == 1 }
        let stopping = Task { try await running.stop() }
        try await Task.sleep(for: .milliseconds(200))
        await model.resumeForTests()
        let reply = try await inFlight.value
        #expect(reply.status == 200)
        expectNear(floats((reply.object["data"] as? [[String: Any]])?.first?["embedding"]), try ServedFixture.reference(["finish me"])[0], "in flight")
        try await stopping.value
        // Stopped: nothing listens any more.
        #expect(throws: (any Error).self) { _ = try HTTP.connect(port: running.port) }
    }

    @Test func metricsCountRoutesStatusesAndTimes() async throws {
        try await withServer { port, _ in
            _ = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "a"])
            _ = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": ""])
            _ = try await HTTP.post(port: port, "/embed", json: ["inputs": "b"])
            let text = try await HTTP.get(port: port, "/metrics").text
            #expect(text.contains(#"attend_http_requests_total{route="/v1/embeddings",status="200"} 1"#), "\(text)")
            #expect(text.contains(#"attend_http_requests_total{route="/v1/embeddings",status="400"} 1"#))
            #expect(text.contains(#"attend_http_requests_total{route="/embed",status="200"} 1"#))
            for name in ["attend_tokenization_seconds_bucket", "attend_queue_seconds_bucket", "attend_inference_seconds_bucket",
                         "attend_batch_inputs_bucket", "attend_batch_padded_tokens_bucket"] {
                #expect(text.contains(name), "\(name)")
            }
        }
    }

    @Test func openAPIDocumentListsEveryRoute() async throws {
        try await withServer { port, _ in
            let r = try await HTTP.get(port: port, "/openapi.json")
            #expect(r.status == 200)
            let doc = r.object
            #expect((doc["openapi"] as? String)?.hasPrefix("3.") == true)
            let paths = Set(((doc["paths"] as? [String: Any]) ?? [:]).keys)
            let served = ["/v1/embeddings", "/v1/models", "/v1/models/{id}", "/embed", "/embed_all", "/similarity", "/rerank",
                          "/tokenize", "/decode", "/info", "/health", "/metrics", "/openapi.json", "/", "/v1/attention", "/v1/explain",
                          "/v1/search", "/v1/similarity/explain", "/v1/completions", "/v1/chat/completions"]
            #expect(paths == Set(served))
            // The committed document is what is served.
            let committed = packageRoot.appendingPathComponent("Sources/AttendServer/Resources/openapi.json")
            #expect(try Data(contentsOf: committed) == r.body)
        }
    }

    @Test func explorerFilesAreServedAsTheyAre() async throws {
        try await withServer { port, _ in
            for name in VizResources.servedNames {
                let path = name == "explorer.html" ? "/" : "/\(name)"
                let r = try await HTTP.get(port: port, path)
                #expect(r.status == 200, "\(path)")
                #expect(r.body == (try VizResources.data(name)), "\(path) differs from the resource file")
                #expect(r.headers["content-type"] == VizResources.contentType(of: name))
            }
            #expect(try await HTTP.get(port: port, "/report.html").status == 404)
            #expect(try await HTTP.get(port: port, "/../Package.swift").status == 404)
        }
    }

    static func value(_ metrics: String, _ name: String) -> Double {
        metrics.split(separator: "\n").filter { $0.hasPrefix(name) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }
}

/// Polls `condition` for up to 20 s.
func waitUntil(_ condition: () async -> Bool) async throws {
    for _ in 0..<400 {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("condition not met within 20 s")
}

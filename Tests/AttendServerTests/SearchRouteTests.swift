// POST /v1/search over a real socket: the hits, cosines, soft-lookup weights and matching words equal the library's
// own search of the same index (CorpusIndex.search, MatchHighlight) within stated tolerances; an index built with
// another model is refused at start and by the route; every bad request gets its documented 4xx in OpenAI's shape.
import AttendModels
import AttendSearch
@testable import AttendServer
import AttendTestSupport
import AttendViz
import Foundation
import Testing

extension ServedFixture {
    /// The built-in demo corpus embedded once per test process by the served model (what `attend serve` builds at start).
    static let demoIndexResult: Result<CorpusIndex, Error> = Result {
        try ServedIndex.demo(embedder: try embedder(), model: "all-MiniLM-L6-v2")
    }
    static func demoIndex() throws -> CorpusIndex { try demoIndexResult.get() }
}

/// A float32 C-order `.npy` of `rows`.
func writeNpy(_ rows: [[Float]], to path: String) throws {
    let d = rows.first?.count ?? 0
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows.count), \(d)), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
    bytes += Array(header.utf8)
    for r in rows { for x in r { withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes += $0 } } }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// An index of two documents "built" by a model no server here loads (another SHA-256, 384 dims).
func foreignIndex(in folder: URL) throws -> String {
    let npy = folder.appendingPathComponent("foreign.npy").path, records = folder.appendingPathComponent("foreign.ids.jsonl").path
    let out = folder.appendingPathComponent("foreign.attendindex").path
    let unit = [Float](repeating: 1 / Float(384).squareRoot(), count: 384)
    try writeNpy([unit, unit.map { -$0 }], to: npy)
    try Data("{\"id\":\"a\",\"text\":\"one\"}\n{\"id\":\"b\",\"text\":\"two\"}\n".utf8).write(to: URL(fileURLWithPath: records))
    let identity = ModelIdentity(name: "some-other-model", sha256: String(repeating: "ab", count: 32), dimension: 384, pooling: ["mean"], normalize: true)
    try CorpusIndexWriter.write(vectorsNpy: npy, records: records, model: identity, to: out, storage: .float32)
    return out
}

func scratchFolder(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("attend-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A server with all-MiniLM-L6-v2 and its demo index (`extra` encoders and indexes beside them).
func withSearchServer(extra: [(name: String, embedder: SentenceEmbedder)] = [], _ body: (Int, AttendServer) async throws -> Void) async throws {
    var options = ServerOptions()
    options.port = 0
    options.payloadLimit = 4096
    let server = try AttendServer(embedders: [("all-MiniLM-L6-v2", try ServedFixture.embedder())] + extra,
                                  indexes: [(ServedIndex.demoName, try ServedFixture.demoIndex())], options: options,
                                  logger: ServedFixture.quietLogger)
    let running = try await server.start()
    do { try await body(running.port, server) } catch {
        try? await running.stop()
        throw error
    }
    try await running.stop()
}

@Suite("Server: POST /v1/search (a corpus index as a soft lookup)",
       .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct SearchRouteTests {
    /// Equal to the library's search of the same index with another instance of the model: ids, texts and ranks
    /// exactly; cosines, weights and effective documents to |a − b| ≤ 1e-5 + 1e-4·|b| (the same weights and kernels,
    /// so in practice bit-equal); weights sum to 1 within 1e-5.
    @Test(arguments: [("a pet sleeping indoors", 5, 0.05), ("stock market", 1, 0.05), ("rain and snow", 40, 0.2),
                      ("the orchestra played music", 12, 0.01), ("x", 3, 1.0)])
    func hitsEqualTheLibrary(query: String, top: Int, temperature: Double) async throws {
        let index = try ServedFixture.demoIndex()
        let reference = try SharedModels.miniLM()
        let identity = try ModelIdentity.of(reference, name: "all-MiniLM-L6-v2")
        let want = try #require(try index.search([query], embedder: reference, identity: identity,
                                                 options: IndexSearchOptions(top: top, temperature: Float(temperature))).first)
        try await withSearchServer { port, _ in
            let r = try await HTTP.post(port: port, "/v1/search", json: ["query": query, "top_k": top, "temperature": temperature])
            #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self))")
            let hits = try #require(r.object["results"] as? [[String: Any]])
            #expect(hits.count == min(top, 40))
            #expect(hits.map { $0["rank"] as? Int } == want.hits.map(\.rank))
            #expect(hits.map { $0["id"] as? Int } == want.hits.map { $0.id.intValue })
            #expect(hits.map { $0["text"] as? String } == want.hits.map(\.text))
            expectNear(hits.map { Float($0["cosine"] as? Double ?? .nan) }, want.hits.map(\.score), atol: 1e-5, rtol: 1e-4, "cosines")
            expectNear(hits.map { Float($0["weight"] as? Double ?? .nan) }, want.hits.map(\.weight), atol: 1e-5, rtol: 1e-4, "weights")
            let sum = hits.reduce(0.0) { $0 + ($1["weight"] as? Double ?? .nan) }
            #expect(abs(sum - 1) <= 1e-5, "weights sum to \(sum)")
            expectNear([Float(r.object["effective_documents"] as? Double ?? .nan)], [want.effectiveDocuments], atol: 1e-5, rtol: 1e-4, "effective documents")
            #expect(abs((r.object["temperature"] as? Double ?? .nan) - temperature) <= 1e-7 * temperature + 1e-9)
            #expect(r.object["query"] as? String == query)
        }
    }

    /// With explain, each hit's words and contributions equal MatchHighlight's on the same pair (the sums are the
    /// cosine): contributions to |a − b| ≤ 1e-5 + 1e-4·|b|.
    @Test func explainEqualsMatchHighlight() async throws {
        let reference = try SharedModels.miniLM()
        try await withSearchServer { port, _ in
            let r = try await HTTP.post(port: port, "/v1/search", json: ["query": "a kitten asleep by the window", "top_k": 3, "explain": true])
            #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self))")
            let hits = try #require(r.object["results"] as? [[String: Any]])
            #expect(hits.count == 3)
            for hit in hits {
                let x = try #require(hit["explanation"] as? [String: Any], "hit \(hit["rank"] ?? "?") has no explanation")
                let want = try MatchHighlight.explain(embedder: reference, query: "a kitten asleep by the window", document: hit["text"] as? String ?? "")
                for (key, words) in [("query_words", want.queryWords), ("document_words", want.documentWords)] {
                    let got = try #require(x[key] as? [[String: Any]])
                    #expect(got.map { $0["word"] as? String } == words.map(\.word), "\(key)")
                    #expect(got.map { $0["special"] as? Bool } == words.map(\.isSpecial), "\(key)")
                    expectNear(got.map { Float($0["contribution"] as? Double ?? .nan) }, words.map { Float($0.contribution) },
                               atol: 1e-5, rtol: 1e-4, "\(key) contributions")
                }
                expectNear([Float(x["cosine"] as? Double ?? .nan)], [Float(hit["cosine"] as? Double ?? .nan)], atol: 1e-5, rtol: 1e-4, "explained cosine vs hit cosine")
            }
        }
    }

    @Test func badRequestsGetTheirStatus() async throws {
        try await withSearchServer { port, _ in
            let cases: [(Any, Int, String?)] = [
                (["query": ""], 400, "query"), (["query": "   "], 400, "query"), ([String: Any](), 400, "query"),
                (["query": 3], 400, "query"), (["query": "a", "top_k": "5"], 400, "top_k"), (["query": "a", "top_k": 2.5], 400, "top_k"),
                (["query": "a", "explain": "yes"], 400, "explain"), (["query": "a", "temperature": "hot"], 400, "temperature"),
                (["query": "a", "topk": 3], 400, "topk"), (["query": "a", "model": "no-such-model"], 404, "model"),
                (["query": "a", "index": "no-such-index"], 404, "index"),
                (["query": "a", "top_k": 0], 422, "top_k"), (["query": "a", "top_k": 101], 422, "top_k"),
                (["query": "a", "top_k": -3], 422, "top_k"), (["query": "a", "top_k": 11, "explain": true], 422, "top_k"),
                (["query": "a", "temperature": 0], 422, "temperature"), (["query": "a", "temperature": -1], 422, "temperature"),
                (["query": "a", "temperature": 1e300], 422, "temperature"),
                (["query": String(repeating: "word ", count: 300)], 413, "query"),
            ]
            for (body, status, param) in cases {
                let r = try await HTTP.post(port: port, "/v1/search", json: body)
                #expect(r.status == status, "\(body): \(r.status) \(String(decoding: r.body, as: UTF8.self))")
                let error = r.object["error"] as? [String: Any]
                #expect(error?["message"] as? String != nil && error?["type"] as? String != nil, "\(body): not OpenAI's error shape")
                if let param { #expect(error?["param"] as? String == param, "\(body): param \(error?["param"] ?? "nil")") }
            }
            for raw in ["{", "[1, 2]", "null", "\"query\""] {
                let r = try await HTTP.post(port: port, "/v1/search", raw: raw)
                #expect(r.status == 400, "\(raw): \(r.status)")
            }
            let big = try await HTTP.post(port: port, "/v1/search", json: ["query": String(repeating: "a", count: 5000)])
            #expect(big.status == 413 && (big.object["error"] as? [String: Any])?["code"] as? String == "payload_too_large")
            // The server still answers.
            #expect(try await HTTP.post(port: port, "/v1/search", json: ["query": "a dog", "index": "demo"]).status == 200)
        }
    }

    /// A model with all-MiniLM-L6-v2's weights but without its Normalize module is another model to the index (its
    /// vectors are not unit length): naming it with the demo index (built by all-MiniLM-L6-v2) is a 422.
    @Test func refusesAnotherModelsIndex() async throws {
        let folder = try scratchFolder("unnormalised")
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = installedModelFolder("all-MiniLM-L6-v2")
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) where name != "modules.json" {
            try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(name), withDestinationURL: source.appendingPathComponent(name))
        }
        let modules = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("modules.json"))) as? [[String: Any]] ?? []
        try JSONSerialization.data(withJSONObject: modules.filter { ($0["type"] as? String)?.hasSuffix("Normalize") != true })
            .write(to: folder.appendingPathComponent("modules.json"))
        let unnormalised = try SentenceEmbedder.load(folder: folder)
        try await withSearchServer(extra: [("minilm-unnormalised", unnormalised)]) { port, server in
            #expect(server.indexes.map(\.model) == ["all-MiniLM-L6-v2"])
            let r = try await HTTP.post(port: port, "/v1/search", json: ["query": "a dog", "model": "minilm-unnormalised", "index": "demo"])
            #expect(r.status == 422, "\(String(decoding: r.body, as: UTF8.self))")
            #expect((r.object["error"] as? [String: Any])?["code"] as? String == "index_model_mismatch")
            // That model has no index of its own.
            let none = try await HTTP.post(port: port, "/v1/search", json: ["query": "a dog", "model": "minilm-unnormalised"])
            #expect(none.status == 422, "\(String(decoding: none.body, as: UTF8.self))")
            // The index named without a model is searched with the model that built it.
            #expect(try await HTTP.post(port: port, "/v1/search", json: ["query": "a dog", "index": "demo"]).status == 200)
        }
    }

    /// An index that no served encoder built is refused when the server is made, in one line naming both models.
    @Test func refusesAForeignIndexAtStart() throws {
        let folder = try scratchFolder("foreign")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try foreignIndex(in: folder)
        var options = ServerOptions()
        options.port = 0
        do {
            _ = try AttendServer(embedders: [("all-MiniLM-L6-v2", try ServedFixture.embedder())], indexes: [("foreign", try CorpusIndex(path: path))],
                                 options: options, logger: ServedFixture.quietLogger)
            Issue.record("a server was made with an index of another model")
        } catch let e as ServerError {
            guard case .indexModelNotServed = e else { Issue.record("wrong error: \(e)"); return }
            let text = e.description
            #expect(!text.contains("\n") && text.contains("some-other-model") && text.contains("all-MiniLM-L6-v2") && text.contains(path), "\(text)")
        }
    }
}

// The TEI-compatible routes over a real socket: shapes, values against the library, truncation, errors in TEI's
// {"error", "error_type"} shape with TEI's statuses (400 unparsable, 413 too long, 422 wrong contents).
import AttendModels
import AttendTokenizers
@testable import AttendServer
import AttendTestSupport
import Foundation
import Testing

@Suite("Server: TEI-compatible routes", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct TEIRouteTests {
    @Test func embedAndEmbedAll() async throws {
        let texts = Array(sentences.suffix(3))
        let expected = try ServedFixture.reference(texts)
        try await withServer { port, _ in
            let single = try await HTTP.post(port: port, "/embed", json: ["inputs": texts[0]])
            #expect(single.status == 200)
            let one = try #require(single.json() as? [[Any]])
            #expect(one.count == 1)
            expectNear(floats(one[0]), expected[0], "/embed one string")

            let batch = try #require(try await HTTP.post(port: port, "/embed", json: ["inputs": texts]).json() as? [[Any]])
            for i in texts.indices { expectNear(floats(batch[i]), expected[i], "/embed item \(i)") }

            // normalize: false gives the mean-pooled vector itself; normalised, it is the embedding.
            let raw = try #require(try await HTTP.post(port: port, "/embed", json: ["inputs": texts, "normalize": false]).json() as? [[Any]])
            for i in texts.indices {
                let v = floats(raw[i])
                let norm = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                #expect(abs(norm - 1) > 1e-3, "an unnormalised MiniLM vector is not unit length")
                expectNear(v.map { $0 / norm }, expected[i], atol: 1e-6, "normalize false, item \(i)")
            }

            // embed_all: one vector per token; their mean, normalised, is the embedding (mean pooling).
            let all = try #require(try await HTTP.post(port: port, "/embed_all", json: ["inputs": texts]).json() as? [[[Any]]])
            let tokenizer = try SharedModels.miniLM().tokenizer
            for i in texts.indices {
                #expect(all[i].count == tokenizer.encode(texts[i], maxLength: 256).count)
                var mean = [Float](repeating: 0, count: 384)
                for t in all[i] { for (d, x) in floats(t).enumerated() { mean[d] += x / Float(all[i].count) } }
                let norm = mean.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                expectNear(mean.map { $0 / norm }, expected[i], atol: 2e-6, "embed_all mean, item \(i)")
            }

            // The attention extension on /embed.
            let withAttention = try await HTTP.post(port: port, "/embed", json: ["inputs": [texts[2]], "return_attention": true])
            let obj = withAttention.object
            expectNear(floats((obj["embeddings"] as? [Any])?.first), expected[2], "/embed with attention")
            let att = try #require((obj["attention"] as? [[String: Any]])?.first)
            #expect((att["shape"] as? [Int])?.prefix(2) == [6, 12])
        }
    }

    @Test func truncation() async throws {
        let long = Array(repeating: "word", count: 40).joined(separator: " ") + " end"
        try await withServer({ $0.maxInputTokens = 12 }) { port, _ in
            let refused = try await HTTP.post(port: port, "/embed", json: ["inputs": long])
            #expect(refused.status == 413 && refused.object["error_type"] as? String == "Validation", "\(refused.text)")
            let tokenizer = try SharedModels.miniLM().tokenizer
            let model = try SharedModels.miniLM()
            // Right: the library's own cut; Left: [CLS] + the last 10 text tokens + [SEP].
            let right = try #require(try await HTTP.post(port: port, "/embed", json: ["inputs": long, "truncate": true]).json() as? [[Any]])
            let rightExpected = try model.embedBatch([tokenizer.encode(long, maxLength: 12)])[0]
            expectNear(floats(right[0]), rightExpected, "truncate right")
            let left = try #require(try await HTTP.post(port: port, "/embed", json: ["inputs": long, "truncate": true, "truncation_direction": "Left"]).json() as? [[Any]])
            let full = tokenizer.encode(long)
            let ids = [full.ids[0]] + full.ids[(full.count - 11)..<(full.count - 1)] + [full.ids[full.count - 1]]
            let leftEncoding = Encoding(ids: ids, tokens: ids.map { tokenizer.token(for: $0) ?? "" }, typeIds: Array(repeating: 0, count: 12),
                                        attentionMask: Array(repeating: 1, count: 12))
            expectNear(floats(left[0]), try model.embedBatch([leftEncoding])[0], "truncate left")
            let bad = try await HTTP.post(port: port, "/embed", json: ["inputs": long, "truncate": true, "truncation_direction": "Up"])
            #expect(bad.status == 422)
        }
    }

    @Test func similarityRerankTokenizeDecodeInfo() async throws {
        try await withServer { port, _ in
            let source = "A man is eating food."
            let others = ["A man is eating a piece of bread.", "The girl is carrying a baby.", "A man is riding a horse."]
            let expected = try ServedFixture.reference([source] + others)
            let sim = try #require(try await HTTP.post(port: port, "/similarity", json: ["inputs": ["source_sentence": source, "sentences": others]]).json() as? [Any])
            expectNear(floats(sim), others.indices.map { cosineSimilarity(expected[0], expected[$0 + 1]) }, "similarity")

            let rerank = try await HTTP.post(port: port, "/rerank", json: ["query": source, "texts": others, "return_text": true])
            let ranked = try #require(rerank.json() as? [[String: Any]])
            let scores = others.indices.map { cosineSimilarity(expected[0], expected[$0 + 1]) }
            #expect(ranked.map { $0["index"] as? Int } == others.indices.sorted { scores[$0] > scores[$1] })
            for r in ranked {
                let i = r["index"] as? Int ?? -1
                #expect(r["text"] as? String == others[i])
                #expect(abs(Float(r["score"] as? Double ?? 9) - scores[i]) < 1e-6)
            }
            let noText = try #require(try await HTTP.post(port: port, "/rerank", json: ["query": source, "texts": others]).json() as? [[String: Any]])
            #expect(noText.allSatisfy { $0["text"] == nil })

            let tokenizer = try SharedModels.miniLM().tokenizer
            let text = "Héllo, wörld!"
            let tokens = try #require(try await HTTP.post(port: port, "/tokenize", json: ["inputs": [text]]).json() as? [[[String: Any]]])
            let e = tokenizer.encode(text)
            #expect(tokens[0].map { $0["id"] as? Int } == e.ids)
            #expect(tokens[0].map { $0["text"] as? String } == ["[CLS]", "Héllo", ",", "wörld", "!", "[SEP]"])
            #expect(tokens[0].first?["special"] as? Bool == true && tokens[0][1]["start"] as? Int == 0 && tokens[0][1]["stop"] as? Int == 5)

            let decoded = try await HTTP.post(port: port, "/decode", json: ["ids": [e.ids, e.ids]])
            #expect(try decoded.json() as? [String] == [tokenizer.decode(e.ids), tokenizer.decode(e.ids)])
            let keep = try await HTTP.post(port: port, "/decode", json: ["ids": e.ids, "skip_special_tokens": false])
            #expect(try keep.json() as? [String] == [tokenizer.decode(e.ids, skipSpecialTokens: false)])

            let info = try await HTTP.get(port: port, "/info").object
            #expect(info["model_id"] as? String == "all-MiniLM-L6-v2" && info["max_input_length"] as? Int == 256)
            let health = try await HTTP.get(port: port, "/health")
            #expect(health.status == 200)
        }
    }

    @Test("attend serve --precision int8: the encoder loads in int8, /info says so, embeddings stay within cosine 0.99")
    func precisionInt8() async throws {
        let folder = try installedModelFolder("all-MiniLM-L6-v2")
        let loaded = try AttendServer.load(folder: folder, name: "all-MiniLM-L6-v2", precision: .int8)
        let embedder = try #require(loaded.model as? SentenceEmbedder)
        #expect(embedder.model.inferencePrecision == .int8)
        // The demo models ignore the precision.
        let demo = try AttendServer.load(folder: try #require(DemoModels.folder(named: "tiny-gpt")), name: "tiny-gpt", precision: .int8)
        #expect(demo.model is TinyGPT)
        var options = ServerOptions()
        options.port = 0
        options.precision = .int8
        let server = try AttendServer(embedders: [("all-MiniLM-L6-v2", embedder)], options: options, logger: ServedFixture.quietLogger)
        let running = try await server.start()
        do {
            let info = try await HTTP.get(port: running.port, "/info").object
            #expect(info["model_dtype"] as? String == "int8")
            let texts = Array(sentences.suffix(3))
            let expected = try ServedFixture.reference(texts)
            let got = try #require(try await HTTP.post(port: running.port, "/embed", json: ["inputs": texts]).json() as? [[Any]])
            for i in texts.indices {
                let v = floats(got[i])
                let cosine = zip(v, expected[i]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                #expect(cosine >= 0.99 && cosine < 1.0001, "item \(i): cosine to fp32 \(cosine)")
            }
        } catch {
            try? await running.stop()
            throw error
        }
        try await running.stop()
    }

    @Test func errorsInTEIShape() async throws {
        try await withServer({ $0.maxClientBatch = 3 }) { port, _ in
            let cases: [(String, String, Int, String)] = [
                ("/embed", #"{"inputs": "#, 400, "Validation"),
                ("/embed", #"{"inputs": []}"#, 422, "Empty"),
                ("/embed", #"{"inputs": [""]}"#, 422, "Empty"),
                ("/embed", #"{"inputs": 5}"#, 422, "Validation"),
                ("/embed", #"{"inputs": ["a", 5]}"#, 422, "Validation"),
                ("/embed", #"{"inputs": "a", "normalise": true}"#, 422, "Validation"),
                ("/embed", #"{"inputs": ["a", "b", "c", "d"]}"#, 422, "Validation"),
                ("/embed", #"{"inputs": "a", "model": "nope"}"#, 404, "Validation"),
                ("/embed_all", #"{}"#, 422, "Validation"),
                ("/similarity", #"{"inputs": {"source_sentence": "a"}}"#, 422, "Validation"),
                ("/similarity", #"{"inputs": ["a"]}"#, 422, "Validation"),
                ("/rerank", #"{"texts": ["a"]}"#, 422, "Validation"),
                ("/rerank", #"{"query": "a", "texts": []}"#, 422, "Empty"),
                ("/tokenize", #"{"inputs": null}"#, 422, "Validation"),
                ("/decode", #"{"ids": [-5]}"#, 422, "Validation"),
                ("/decode", #"{"ids": "1 2"}"#, 422, "Validation"),
                ("/decode", #"{"ids": [[1], 2]}"#, 422, "Validation"),
                ("/nowhere", #"{}"#, 404, "Validation"),
            ]
            for (path, body, status, type) in cases {
                let r = try await HTTP.post(port: port, path, raw: body)
                #expect(r.status == status, "\(path) \(body): \(r.status) \(r.text)")
                let obj = r.object
                #expect(Set(obj.keys) == ["error", "error_type"], "\(path) \(body): \(r.text)")
                #expect(obj["error_type"] as? String == type, "\(path) \(body): \(r.text)")
            }
        }
    }
}

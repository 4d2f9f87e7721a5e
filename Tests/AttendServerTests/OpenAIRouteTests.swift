// /v1/embeddings and /v1/models over a real socket: results equal the library's (what `attend embed` prints),
// every input form, base64, dimensions, the attention extension, and every error in OpenAI's shape.
import AttendModels
@testable import AttendServer
import AttendTestSupport
import Foundation
import Testing

@Suite("Server: OpenAI-compatible routes", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct OpenAIRouteTests {
    @Test func embeddingsEqualTheLibrarysForEveryInputForm() async throws {
        let texts = Array(sentences.prefix(4))
        let expected = try ServedFixture.reference(texts)
        try await withServer { port, _ in
            // One string.
            let one = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": texts[0], "model": "all-MiniLM-L6-v2"])
            #expect(one.status == 200, "\(one.text)")
            #expect(one.headers["content-type"] == "application/json")
            #expect(one.headers["x-request-id"]?.isEmpty == false)
            let obj = one.object
            #expect(obj["object"] as? String == "list" && obj["model"] as? String == "all-MiniLM-L6-v2")
            let data = try #require(obj["data"] as? [[String: Any]])
            #expect(data.count == 1 && data[0]["object"] as? String == "embedding" && data[0]["index"] as? Int == 0)
            expectNear(floats(data[0]["embedding"]), expected[0], "one string")
            let ids = try SharedModels.miniLM().tokenizer.encode(texts[0])
            let usage = try #require(obj["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == ids.count && usage["total_tokens"] as? Int == ids.count)

            // An array of strings, in order.
            let many = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": texts])
            let items = try #require(many.object["data"] as? [[String: Any]])
            #expect(items.map { $0["index"] as? Int } == [0, 1, 2, 3])
            for (i, item) in items.enumerated() { expectNear(floats(item["embedding"]), expected[i], "array item \(i)") }

            // base64: the same Float32 bits.
            let b64 = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": texts, "encoding_format": "base64"])
            let b64Items = try #require(b64.object["data"] as? [[String: Any]])
            for (i, item) in b64Items.enumerated() {
                expectNear(decodeBase64Floats(item["embedding"] as? String ?? ""), expected[i], atol: 0, "base64 item \(i)")
            }

            // Token ids without special tokens (from /tokenize) embed like the text; one list and a list of lists.
            let tok = try await HTTP.post(port: port, "/tokenize", json: ["inputs": [texts[0], texts[1]], "add_special_tokens": false])
            let tokenLists = try #require(tok.json() as? [[[String: Any]]]).map { $0.compactMap { $0["id"] as? Int } }
            #expect(tokenLists[0].count == ids.count - 2)
            let single = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": tokenLists[0]])
            expectNear(floats((single.object["data"] as? [[String: Any]])?.first?["embedding"]), expected[0], "token ids")
            let lists = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": tokenLists])
            let listItems = try #require(lists.object["data"] as? [[String: Any]])
            for i in 0..<2 { expectNear(floats(listItems[i]["embedding"]), expected[i], "token id list \(i)") }
        }
    }

    @Test func dimensionsOnlyAtFullWidthForMiniLM() async throws {
        try await withServer { port, _ in
            let full = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "a cat", "dimensions": 384])
            #expect(full.status == 200)
            #expect(floats((full.object["data"] as? [[String: Any]])?.first?["embedding"]).count == 384)
            for bad in [128, 0, 1000] {
                let r = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "a cat", "dimensions": bad])
                #expect(r.status == 400, "dimensions \(bad)")
                #expect(r.openAIError?["param"] as? String == "dimensions")
            }
            let r = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "a cat", "dimensions": 128])
            #expect((r.openAIError?["message"] as? String ?? "").contains("Matryoshka"))
        }
    }

    /// The attention extension: [layer][head][query][key] from the same forward pass, equal to the library's
    /// per-text attention even when the text shares a padded batch with a longer one.
    @Test func attentionFromTheSameForwardPass() async throws {
        let texts = ["The animal didn't cross the street because it was too tired.", "it"]
        let model = try SharedModels.miniLM()
        try await withServer { port, _ in
            for format in ["float", "base64"] {
                let r = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": texts, "return_attention": true, "encoding_format": format])
                #expect(r.status == 200, "\(r.text.prefix(300))")
                let items = try #require(r.object["data"] as? [[String: Any]])
                for (i, text) in texts.enumerated() {
                    let (encoding, weights) = try model.attentions(text)
                    let att = try #require(items[i]["attention"] as? [String: Any])
                    let n = encoding.count
                    #expect(att["tokens"] as? [String] == encoding.tokens)
                    #expect(att["shape"] as? [Int] == [6, 12, n, n])
                    let got = format == "base64" ? decodeBase64Floats(att["weights"] as? String ?? "") : floats(att["weights"])
                    let want = weights.flatMap { $0.scalars }
                    expectNear(got, want, atol: 1e-5, "attention of text \(i) (\(format))")
                    // Rows sum to 1.
                    for row in stride(from: 0, to: got.count, by: n) {
                        #expect(abs(got[row..<row + n].reduce(0, +) - 1) < 1e-4)
                    }
                    let vector = format == "base64" ? decodeBase64Floats(items[i]["embedding"] as? String ?? "") : floats(items[i]["embedding"])
                    expectNear(vector, try ServedFixture.reference([text])[0], "embedding beside attention \(i)")
                }
            }
        }
    }

    @Test func models() async throws {
        try await withServer { port, _ in
            let list = try await HTTP.get(port: port, "/v1/models")
            #expect(list.status == 200)
            let data = try #require(list.object["data"] as? [[String: Any]])
            #expect(data.map { $0["id"] as? String } == ["all-MiniLM-L6-v2"])
            #expect(data[0]["object"] as? String == "model")
            let one = try await HTTP.get(port: port, "/v1/models/all-MiniLM-L6-v2")
            #expect(one.status == 200 && one.object["id"] as? String == "all-MiniLM-L6-v2")
            let missing = try await HTTP.get(port: port, "/v1/models/gpt-4")
            #expect(missing.status == 404 && missing.openAIError?["code"] as? String == "model_not_found")
        }
    }

    /// Every client error: the status a client expects and OpenAI's nested shape with all four keys.
    @Test func errorsInOpenAIShape() async throws {
        try await withServer({ $0.maxClientBatch = 4; $0.maxInputTokens = 16; $0.payloadLimit = 4096 }) { port, _ in
            let cases: [(String, Int, String?, String?)] = [
                (#"{"input": "#, 400, nil, "invalid_json"),
                (#"[1, 2]"#, 400, nil, nil),
                (#"{}"#, 400, "input", nil),
                (#"{"input": ""}"#, 400, "input", nil),
                (#"{"input": []}"#, 400, "input", nil),
                (#"{"input": [[]]}"#, 400, "input", nil),
                (#"{"input": 3}"#, 400, "input", nil),
                (#"{"input": [1, "a"]}"#, 400, "input", nil),
                (#"{"input": [true]}"#, 400, "input", nil),
                (#"{"input": [-1]}"#, 400, "input", nil),
                (#"{"input": [99999999]}"#, 400, "input", nil),
                (#"{"input": "a", "inputs": "b"}"#, 400, "inputs", nil),
                (#"{"input": "a", "encoding_format": "hex"}"#, 400, "encoding_format", nil),
                (#"{"input": "a", "return_attention": "yes"}"#, 400, "return_attention", nil),
                (#"{"input": ["a", "b", "c", "d", "e"]}"#, 400, "input", nil),
                (#"{"input": "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"}"#, 400, "input", "context_length_exceeded"),
                (#"{"input": "a", "model": "text-embedding-3-small"}"#, 404, "model", "model_not_found"),
                (#"{"input": "a", "model": "/etc/passwd"}"#, 404, "model", "model_not_found"),
                ("{\"input\": \"" + String(repeating: "x", count: 5000) + "\"}", 413, nil, "payload_too_large"),
            ]
            for (body, status, param, code) in cases {
                let r = try await HTTP.post(port: port, "/v1/embeddings", raw: body)
                #expect(r.status == status, "\(body.prefix(60)): \(r.status) \(r.text)")
                let error = try #require(r.openAIError, "\(body.prefix(60)): \(r.text)")
                #expect(Set(error.keys) == ["message", "type", "param", "code"])
                #expect((error["message"] as? String)?.isEmpty == false)
                if let param { #expect(error["param"] as? String == param, "\(body.prefix(60))") }
                if let code { #expect(error["code"] as? String == code, "\(body.prefix(60))") }
            }
            // Unreadable values: a lone surrogate, a number beyond Double, nesting deeper than the parser allows.
            for raw in [#"{"input": "\ud800"}"#, #"{"input": [1e400]}"#,
                        #"{"input":"# + String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000) + "}"] {
                let r = try await HTTP.post(port: port, "/v1/embeddings", raw: raw)
                #expect(r.status == 400 && r.openAIError?["code"] as? String == "invalid_json", "\(raw.prefix(40)): \(r.text)")
            }
            // Invalid UTF-8 and a body that is not JSON at all.
            for bytes in [Data([0x7B, 0x22, 0x69, 0xFF, 0xFE, 0x22, 0x7D]), Data("input=a".utf8), Data()] {
                let r = try await HTTP.request(port: port, "POST", "/v1/embeddings", body: bytes, headers: ["Content-Type": "application/json"])
                #expect(r.status == 400 && r.openAIError?["code"] as? String == "invalid_json", "\(r.text)")
            }
            // The server still answers.
            let ok = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "still alive"])
            #expect(ok.status == 200)
        }
    }

    @Test func apiKey() async throws {
        try await withServer({ $0.apiKey = "s3cret" }) { port, _ in
            for headers in [[:], ["Authorization": "Bearer wrong"], ["Authorization": "s3cret"]] {
                let r = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "a"], headers: headers)
                #expect(r.status == 401 && r.openAIError?["code"] as? String == "invalid_api_key", "\(headers)")
                let t = try await HTTP.post(port: port, "/embed", json: ["inputs": "a"], headers: headers)
                #expect(t.status == 401 && t.object["error_type"] as? String == "Unauthorized")
                for path in ["/v1/models", "/metrics", "/info"] {
                    #expect(try await HTTP.get(port: port, path, headers: headers).status == 401, "\(path)")
                }
            }
            let ok = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "a"], headers: ["Authorization": "Bearer s3cret"])
            #expect(ok.status == 200)
            // Public without a key: health, the page and its files, the API document.
            for path in ["/health", "/", "/explorer.js", "/attend.css", "/openapi.json"] {
                #expect(try await HTTP.get(port: port, path).status == 200, "\(path)")
            }
        }
    }
}

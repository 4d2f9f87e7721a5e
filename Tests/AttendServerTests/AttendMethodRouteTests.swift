// The explanation methods over a real socket: POST /v1/explain with "method" (rollout, flow, value-norm,
// grad-attention) answers byte for byte what `attend explain --method M --format json` prints, and its matrices equal
// the library's direct result (ExplainMethods.result on a model loaded here) within explicit tolerances; POST
// /v1/similarity/explain answers what `attend similarity A B --explain --json` prints, its contributions sum to its
// cosine and equal SimilarityExplanation's; bad methods, targets and sizes are 400/404/422 in OpenAI's shape.
import AttendModels
@testable import AttendServer
import AttendTestSupport
import AttendViz
import Foundation
import Testing

/// Rows of a JSON matrix as Floats.
private func matrix(_ any: Any?) -> [[Float]] { ((any as? [Any]) ?? []).map { floats($0) } }

@Suite("Server: explanation methods (/v1/explain method, /v1/similarity/explain)",
       .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct AttendMethodRouteTests {
    @Test func methodsEqualTheCLI() async throws {
        let animal = "The animal didn't cross the street because it was too tired"
        let cases: [(model: String, text: String, layer: Int?, head: Int?, token: String?, method: String, target: String?, targetToken: String?)] = [
            ("all-MiniLM-L6-v2", animal, 5, nil, "it", "rollout", nil, nil),
            ("all-MiniLM-L6-v2", "The cat sat on the mat", 2, nil, nil, "flow", nil, nil),
            ("all-MiniLM-L6-v2", animal, 5, 11, "it", "value-norm", nil, nil),
            ("all-MiniLM-L6-v2", "The cat sat on the mat", 3, nil, nil, "value-norm", nil, nil),
            ("all-MiniLM-L6-v2", "The cat sat on the mat", nil, nil, nil, "grad-attention", "A cat was sitting on a mat", nil),
            ("all-MiniLM-L6-v2", "The cat sat on the mat", 1, 4, "cat", "raw", nil, nil),
            ("tiny-gpt", "de fe ge bi do pa de fe ge", nil, nil, nil, "grad-attention", nil, "bi"),
            ("tiny-gpt", "na ro zi li bo si va ba na ro zi", 1, nil, "7", "rollout", nil, nil),
            ("tiny-translator", "the small dog sees the red car", 1, nil, nil, "rollout", nil, nil),
            ("tiny-translator", "the small dog sees the red car", nil, nil, nil, "value-norm", nil, nil),
            ("tiny-translator", "the small dog sees the red car", 2, 3, nil, "value-norm", nil, nil),
        ]
        try await withAllModelsServer { port, _ in
            for c in cases {
                var args = ["explain", c.text, "--model", c.model, "--format", "json", "--method", c.method]
                var body: [String: Any] = ["text": c.text, "model": c.model, "method": c.method]
                if let l = c.layer { args += ["--layer=\(l)"]; body["layer"] = l }
                if let h = c.head { args += ["--head=\(h)"]; body["head"] = h }
                if let t = c.token { args += ["--token", t]; body["token"] = Int(t) ?? t as Any }
                if let t = c.target { args += ["--target", t]; body["target"] = t }
                if let t = c.targetToken { args += ["--target-token", t]; body["target_token"] = t }
                let cli = try await runAttend(args)
                #expect(cli.status == 0, "\(c): \(cli.stderr)")
                let reply = try await HTTP.post(port: port, "/v1/explain", json: body)
                #expect(reply.status == 200, "\(c): \(reply.text.prefix(300))")
                #expect(reply.text == cli.stdout, "\(c): server \(reply.text.prefix(400)) vs CLI \(cli.stdout.prefix(400))")
                #expect(reply.object["method"] as? String == c.method, "\(c)")
            }
        }
    }

    /// The served matrices equal the library's own computation on a model loaded by the test.
    @Test func methodsEqualTheLibrary() async throws {
        let text = "The animal didn't cross the street because it was too tired"
        let folder = installedModelFolder("all-MiniLM-L6-v2")
        let loaded = try ModelRegistry.load(folder: folder, name: "all-MiniLM-L6-v2")
        let trace = try ExplainTrace.capture(loaded, text: text)
        let target = "An animal was too tired to cross the road"
        let cases: [(ExplainMethod, layer: Int, head: Int?, atol: Float, rtol: Float)] = [
            (.rollout, 5, nil, 1e-6, 1e-5), (.rollout, 0, nil, 1e-6, 1e-5), (.valueNorm, 4, 7, 1e-6, 1e-5),
            (.valueNorm, 5, nil, 1e-6, 1e-5), (.gradAttention, 5, nil, 1e-5, 1e-4),
        ]
        try await withAllModelsServer { port, _ in
            for c in cases {
                let direct = try ExplainMethods.result(c.0, trace: trace, layer: c.layer, head: c.head, model: loaded.model, text: text,
                                                       target: c.0 == .gradAttention ? .similarity(to: target) : nil)
                var body: [String: Any] = ["text": text, "method": c.0.rawValue, "layer": c.layer]
                if let h = c.head { body["head"] = h }
                if c.0 == .gradAttention { body["target"] = target }
                let reply = try await HTTP.post(port: port, "/v1/explain", json: body)
                #expect(reply.status == 200, "\(c.0): \(reply.text.prefix(300))")
                let served = matrix(reply.object["matrix"])
                #expect(served.count == direct.matrix.count, "\(c.0) rows")
                expectNear(served.flatMap { $0 }, direct.matrix.flatMap { $0 }, atol: c.atol, rtol: c.rtol, "\(c.0) layer \(c.layer) head \(String(describing: c.head))")
                #expect(reply.object["query_tokens"] as? [String] == direct.queryTokens)
            }
            // Rollout's rows sum to 1 (its definition), as served.
            let rollout = try await HTTP.post(port: port, "/v1/explain", json: ["text": text, "method": "rollout"])
            for (i, row) in matrix(rollout.object["matrix"]).enumerated() {
                #expect(abs(row.reduce(0, +) - 1) <= 1e-5, "rollout row \(i) sums to \(row.reduce(0, +))")
            }
        }
    }

    /// SmolLM2 (grouped-query attention, quantized matrices) through the same seam: value-norm per head and for the
    /// whole layer answers what the CLI prints, byte for byte, and grad-attention is still served.
    @Test(.enabled(if: isCI || DecoderFixture.installed, "install the model: swift run attend models install smollm2-135m"))
    func decoderMethodsEqualTheCLI() async throws {
        let text = "The cat sat on the mat"
        let cases: [(layer: Int, head: Int?)] = [(17, 4), (3, nil)]
        try await withDecoderServer { port, _ in
            for c in cases {
                var args = ["explain", text, "--model", DecoderFixture.name, "--format", "json", "--method", "value-norm", "--layer=\(c.layer)"]
                var body: [String: Any] = ["text": text, "model": DecoderFixture.name, "method": "value-norm", "layer": c.layer]
                if let h = c.head { args += ["--head=\(h)"]; body["head"] = h }
                let cli = try await runAttend(args)
                #expect(cli.status == 0, "\(c): \(cli.stderr)")
                let reply = try await HTTP.post(port: port, "/v1/explain", json: body)
                #expect(reply.status == 200, "\(c): \(reply.text.prefix(300))")
                #expect(reply.text == cli.stdout, "\(c): server \(reply.text.prefix(400)) vs CLI \(cli.stdout.prefix(400))")
                let m = matrix(reply.object["matrix"])
                #expect(m.count == 6 && m.indices.allSatisfy { i in m[i].indices.allSatisfy { j in j <= i || m[i][j] == 0 } }, "causal")
            }
            let bad = try await HTTP.post(port: port, "/v1/explain", json: ["text": text, "model": DecoderFixture.name,
                                                                            "method": "value-norm", "head": 9])
            #expect(bad.status == 422 && (bad.openAIError?["message"] as? String ?? "").contains("head 9 is out of range"), "\(bad.text.prefix(200))")
        }
    }

    @Test func methodErrors() async throws {
        let long = Array(repeating: "word", count: 60).joined(separator: " ")   // 62 tokens: over flow's 40
        let longer = Array(repeating: "word", count: 80).joined(separator: " ") // 82 tokens: over grad-attention's 64
        try await withAllModelsServer { port, _ in
            let cases: [([String: Any], Int, String, String?)] = [
                (["text": "The cat sat", "method": "attention-flow"], 400, "unknown method \"attention-flow\"", "method"),
                (["text": "The cat sat", "method": 3], 400, "\"method\" must be a string", "method"),
                (["text": "The cat sat", "target": "A cat"], 400, "\"target\" belongs to \"method\": \"grad-attention\"", "target"),
                (["text": "The cat sat", "method": "rollout", "target_token": "x"], 400, "\"target_token\" belongs to", "target_token"),
                (["text": "The cat sat", "method": "grad-attention"], 400, "explains one output", "target"),
                (["text": "The cat sat", "method": "grad-attention", "target": "a", "target_token": "b"], 400, "not both", "target_token"),
                (["text": "The cat sat", "method": "grad-attention", "target": " "], 400, "\"target\" is empty", "target"),
                (["text": long, "method": "flow"], 422, "at most 40 tokens", "text"),
                (["text": longer, "method": "grad-attention", "target": "a cat"], 422, "at most 64 tokens, the text has 82", "text"),
                (["text": "a cat", "method": "grad-attention", "target": longer], 422, "at most 64 tokens, the target has 82", "target"),
                (["text": "the dog", "model": "tiny-translator", "method": "value-norm", "head": 4], 422, "head 4 is out of range", "head"),
                (["text": "the dog", "model": "tiny-translator", "method": "rollout", "layer": 3], 422, "is cross-attention", "method"),
                (["text": "na ro", "model": "tiny-gpt", "method": "grad-attention", "target_token": "zebra"], 422, "zebra", nil),
                (["text": "The cat sat", "method": "rollout", "model": "nope"], 404, "the model \"nope\" is not served here", "model"),
                (["text": "The cat sat", "method": "value-norm", "head": 12], 422, "head 12 is out of range", "head"),
            ]
            for (body, status, needle, param) in cases {
                let r = try await HTTP.post(port: port, "/v1/explain", json: body)
                let error = r.openAIError
                let message = error?["message"] as? String ?? ""
                #expect(r.status == status && message.contains(needle), "\(body): \(r.status) \(r.text.prefix(300))")
                #expect(error?["type"] as? String == "invalid_request_error", "\(body): \(r.text.prefix(200))")
                if let param { #expect(error?["param"] as? String == param, "\(body): param \(String(describing: error?["param"]))") }
            }
            // The size refusals say so in `code`, and the server still answers.
            let flow = try await HTTP.post(port: port, "/v1/explain", json: ["text": long, "method": "flow"])
            #expect(flow.openAIError?["code"] as? String == "too_large")
            let ok = try await HTTP.post(port: port, "/v1/explain", json: ["text": long, "method": "rollout"])
            #expect(ok.status == 200, "\(ok.text.prefix(200))")
        }
    }

    @Test func similarityExplanationEqualsTheCLI() async throws {
        let a = "The cat sat on the mat", b = "A cat was sitting on a rug"
        try await withAllModelsServer { port, _ in
            let cli = try await runAttend(["similarity", a, b, "--explain", "--json", "--steps", "8", "--model", "all-MiniLM-L6-v2"])
            #expect(cli.status == 0, "\(cli.stderr)")
            let reply = try await HTTP.post(port: port, "/v1/similarity/explain", json: ["a": a, "b": b, "steps": 8, "model": "all-MiniLM-L6-v2"])
            #expect(reply.status == 200, "\(reply.text.prefix(300))")
            #expect(reply.text == cli.stdout, "server \(reply.text.prefix(400)) vs CLI \(cli.stdout.prefix(400))")
            let cosine = try #require(reply.object["cosine"] as? Double)
            let cells = ((reply.object["contributions"] as? [[Double]]) ?? []).flatMap { $0 }
            #expect(abs(cells.reduce(0, +) - cosine) <= 1e-5, "Σ contributions \(cells.reduce(0, +)) vs cosine \(cosine)")
            // The library directly, on the test's own model.
            let direct = try SimilarityExplanation.explain(embedder: try SharedModels.miniLM(), a, b)
            #expect(abs(direct.cosine - cosine) <= 1e-9, "cosine \(cosine) vs library \(direct.cosine)")
            expectNear(cells.map(Float.init), direct.contributions.flatMap { $0 }.map(Float.init), atol: 1e-7, rtol: 1e-6, "contributions")
            #expect(reply.object["tokens_a"] as? [String] == direct.tokensA && reply.object["tokens_b"] as? [String] == direct.tokensB)
            // …and the embedding route's cosine (TEI /similarity), in Float32.
            let sim = try await HTTP.request(port: port, "POST", "/similarity",
                                             body: try JSONSerialization.data(withJSONObject: ["inputs": ["source_sentence": a, "sentences": [b]]]),
                                             headers: ["Content-Type": "application/json"])
            let teiCosine = try #require((try? JSONSerialization.jsonObject(with: Data(sim.text.utf8))) as? [Double]).first ?? .nan
            #expect(abs(teiCosine - cosine) <= 1e-5, "/similarity \(teiCosine) vs \(cosine)")
            // Input attributions: the completeness error reported is |Σ attributions − (score − baseline score)|, and
            // the score is the cosine (8 steps here, for time: the library's tests hold the default 32 steps to 1%).
            let ia = try #require(reply.object["input_attributions"] as? [String: Any])
            for side in ["a", "b"] {
                let s = try #require(ia[side] as? [String: Any])
                let attributions = try #require(s["attributions"] as? [Double])
                let score = try #require(s["score"] as? Double), baseline = try #require(s["baseline_score"] as? Double)
                let reported = try #require(s["completeness_error"] as? Double)
                #expect(abs(reported - abs(attributions.reduce(0, +) - (score - baseline))) <= 1e-12, "\(side): \(s)")
                #expect(abs(score - cosine) <= 1e-5 && reported < 0.1 * abs(score), "\(side): \(s)")
                #expect(s["steps"] as? Int == 8 && (s["tokens"] as? [String])?.count == attributions.count)
            }
            // Without input attributions: the table alone, as `--no-input-attribution`.
            let bare = try await HTTP.post(port: port, "/v1/similarity/explain", json: ["a": a, "b": b, "input_attribution": false])
            let bareCLI = try await runAttend(["similarity", a, b, "--explain", "--json", "--no-input-attribution"])
            #expect(bare.status == 200 && bare.object["input_attributions"] == nil, "\(bare.text.prefix(300))")
            #expect(bare.text == bareCLI.stdout, "server \(bare.text.prefix(300)) vs CLI \(bareCLI.stdout.prefix(300))")
        }
    }

    @Test func similarityExplanationErrors() async throws {
        let longer = Array(repeating: "word", count: 80).joined(separator: " ")
        try await withAllModelsServer { port, _ in
            let cases: [([String: Any], Int, String, String?)] = [
                (["a": "The cat"], 400, "\"b\" is required", "b"),
                (["b": "The cat"], 400, "\"a\" is required", "a"),
                (["a": "", "b": "x"], 400, "\"a\" is empty", "a"),
                (["a": "x", "b": "y", "steps": 0], 400, "\"steps\" must be between 1 and 64, got 0", "steps"),
                (["a": "x", "b": "y", "steps": 65], 400, "\"steps\" must be between 1 and 64, got 65", "steps"),
                (["a": "x", "b": "y", "steps": 2.5], 400, "\"steps\" must be an integer", "steps"),
                (["a": "x", "b": "y", "input_attribution": "no"], 400, "\"input_attribution\" must be true or false", "input_attribution"),
                (["a": "x", "b": "y", "colour": 1], 400, "unknown field \"colour\"", "colour"),
                (["a": "x", "b": "y", "model": "nope"], 404, "the model \"nope\" is not served here", "model"),
                (["a": "x", "b": "y", "model": "tiny-gpt"], 400, "model tiny-gpt does not produce embeddings", "model"),
                (["a": longer, "b": "y"], 422, "(82 + 3) × 33 = 2805 token-steps", "steps"),
                (["a": Array(repeating: "word", count: 30).joined(separator: " "), "b": "y", "steps": 64], 422, "(32 + 3) × 65 = 2275 token-steps", "steps"),
            ]
            for (body, status, needle, param) in cases {
                let r = try await HTTP.post(port: port, "/v1/similarity/explain", json: body)
                let error = r.openAIError
                #expect(r.status == status && (error?["message"] as? String ?? "").contains(needle), "\(body): \(r.status) \(r.text.prefix(300))")
                if let param { #expect(error?["param"] as? String == param, "\(body): param \(String(describing: error?["param"]))") }
            }
            let notJSON = try await HTTP.post(port: port, "/v1/similarity/explain", raw: "{\"a\": ")
            #expect(notJSON.status == 400 && notJSON.openAIError?["code"] as? String == "invalid_json", "\(notJSON.text)")
            // A long text without input attributions is fine: the token × token table is one forward pass per text.
            let bare = try await HTTP.post(port: port, "/v1/similarity/explain", json: ["a": longer, "b": "a word", "input_attribution": false])
            #expect(bare.status == 200, "\(bare.text.prefix(300))")
            #expect((bare.object["tokens_a"] as? [String])?.count == 82)
        }
    }
}

// Attend's own routes over a real socket: /v1/attention answers byte for byte what `attend attention FILE --json`
// prints, /v1/explain what `attend explain … --format json` prints, on the sentence encoder and on both embedded demo
// models; bad layers, heads and tokens are 422s that say what is wrong; a demo model on an embedding route is a
// 400 (422 on TEI's routes, TEI's status for a well-formed request it cannot do) that says it does not embed.
import AttendModels
@testable import AttendServer
import AttendTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A server with the encoder, both demo models and the demo corpus index, as `attend serve` runs by default.
func withAllModelsServer(_ body: (Int, AttendServer) async throws -> Void) async throws {
    var options = ServerOptions()
    options.port = 0
    let demos = try AttendServer.defaultDemos.map { name in
        try ModelRegistry.load(folder: try #require(DemoModels.folder(named: name)), name: name)
    }
    let server = try AttendServer(embedders: [("all-MiniLM-L6-v2", try ServedFixture.embedder())], demos: demos,
                                  indexes: [(ServedIndex.demoName, try ServedFixture.demoIndex())], options: options, logger: ServedFixture.quietLogger)
    let running = try await server.start()
    do { try await body(running.port, server) } catch {
        try? await running.stop()
        throw error
    }
    try await running.stop()
}

/// Runs the built `attend` binary off the task pool.
func runAttend(_ args: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    let attend = try #require(OpenAIPython.attend, "the attend binary was not built")
    return try await withCheckedThrowingContinuation { done in
        DispatchQueue.global().async { done.resume(with: Result { try OpenAIPython.run(attend, args) }) }
    }
}

@Suite("Server: Attend's own routes (/v1/attention, /v1/explain)",
       .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct AttendRouteTests {
    @Test func attentionEqualsTheCLI() async throws {
        let files = ["numpy-example.json", "hello-world-score-matrix.json", "hello-world-step2.json"].map {
            sharedDirectory.appendingPathComponent("seeds/examples/\($0)").path
        } + ["tutorial.json", "causal-two-heads.json", "padding-mask.json", "i-am-fine.json"].map {
            packageRoot.appendingPathComponent("Examples/\($0)").path
        }
        try await withAllModelsServer { port, _ in
            for file in files {
                let cli = try await runAttend(["attention", file, "--json"])
                #expect(cli.status == 0, "\(file): \(cli.stderr)")
                let reply = try await HTTP.request(port: port, "POST", "/v1/attention", body: try Data(contentsOf: URL(fileURLWithPath: file)),
                                                   headers: ["Content-Type": "application/json"])
                #expect(reply.status == 200, "\(file): \(reply.text)")
                #expect(reply.text == cli.stdout, "\(file): server \(reply.text.prefix(300)) vs CLI \(cli.stdout.prefix(300))")
            }
            // The numpy example's true weights.
            let numpy = try await HTTP.post(port: port, "/v1/attention", json: ["q": [[1, 0, 1]], "k": [[1, 0, 1], [0, 1, 0], [1, 1, 1]],
                                                                              "v": [[10, 20, 30], [1, 2, 3], [5, 10, 15]], "scale": 1])
            expectNear(floats(numpy.object["weights"]), [0.4683, 0.0634, 0.4683], atol: 5e-5, "numpy example weights")
        }
    }

    @Test func attentionErrors() async throws {
        try await withAllModelsServer { port, _ in
            let notJSON = try await HTTP.post(port: port, "/v1/attention", raw: "{\"q\": [[1")
            #expect(notJSON.status == 400 && notJSON.openAIError?["code"] as? String == "invalid_json", "\(notJSON.text)")
            let cases: [(Any, String)] = [
                (["q": [[1, 0]], "k": [[1, 0, 1]], "v": [[1]]], "same width"),
                (["q": [[1]], "k": [[1]]], "missing key \"v\""),
                (["q": [[1]], "k": [[1]], "v": [[1]], "extra": 1], "unknown key \"extra\""),
                (["q": [[1]], "k": [[1], [2]], "v": [[1]]], "one value row per key"),
                (["q": Array(repeating: [1], count: 1100), "k": Array(repeating: [1], count: 1000), "v": Array(repeating: [1], count: 1000)], "1048576"),
            ]
            for (body, needle) in cases {
                let r = try await HTTP.post(port: port, "/v1/attention", json: body)
                let message = r.openAIError?["message"] as? String ?? ""
                #expect(r.status == 422 && message.contains(needle), "\(needle): \(r.status) \(r.text.prefix(300))")
            }
        }
    }

    @Test func explainEqualsTheCLI() async throws {
        let cases: [(model: String, text: String, layer: Int?, head: Int?, token: String?)] = [
            ("all-MiniLM-L6-v2", "The animal didn't cross the street because it was too tired", 5, 11, "it"),
            ("all-MiniLM-L6-v2", "The cat sat on the mat", nil, nil, nil),
            ("all-MiniLM-L6-v2", "The cat sat on the mat", -2, -1, "3"),
            ("tiny-translator", "the small dog sees the red car", 5, 0, nil),
            ("tiny-translator", "the small dog sees the red car", 0, 2, "dog"),
            ("tiny-gpt", "na ro zi li bo si va ba na ro zi", 1, 0, "7"),
        ]
        try await withAllModelsServer { port, _ in
            for c in cases {
                var args = ["explain", c.text, "--model", c.model, "--format", "json"]
                var body: [String: Any] = ["text": c.text, "model": c.model]
                if let l = c.layer { args += ["--layer=\(l)"]; body["layer"] = l }
                if let h = c.head { args += ["--head=\(h)"]; body["head"] = h }
                if let t = c.token { args += ["--token", t]; body["token"] = Int(t) ?? t as Any }
                let cli = try await runAttend(args)
                #expect(cli.status == 0, "\(c): \(cli.stderr)")
                let reply = try await HTTP.post(port: port, "/v1/explain", json: body)
                #expect(reply.status == 200, "\(c): \(reply.text.prefix(300))")
                #expect(reply.text == cli.stdout, "\(c): server \(reply.text.prefix(400)) vs CLI \(cli.stdout.prefix(400))")
            }
        }
    }

    @Test func explainErrorsAndDemoModels() async throws {
        try await withAllModelsServer { port, server in
            #expect(server.modelNames == ["all-MiniLM-L6-v2", "tiny-translator", "tiny-gpt"])
            let cases: [([String: Any], Int, String)] = [
                (["text": "The cat sat", "layer": 6], 422, "layer 6 is out of range: this model has 6 layers"),
                (["text": "The cat sat", "head": 12], 422, "head 12 is out of range: this layer has 12 heads"),
                (["text": "The cat sat", "head": -13], 422, "head -13 is out of range"),
                (["text": "The cat sat", "token": "zebra"], 422, "token \"zebra\" is not among the tokens"),
                (["text": "The cat sat", "token": 40], 422, "token index 40 is out of range"),
                (["text": "na ro", "model": "tiny-gpt", "layer": 2], 422, "layer 2 is out of range: this model has 2 layers"),
                (["text": "The cat sat", "model": "nope"], 404, "the model \"nope\" is not served here"),
                (["text": ""], 400, "\"text\" is empty"),
                (["layer": 1], 400, "\"text\" is required"),
                (["text": "x", "layer": "1"], 400, "\"layer\" must be an integer"),
                (["text": "x", "token": [1]], 400, "\"token\" must be a token"),
                (["text": "x", "colour": 1], 400, "unknown field \"colour\""),
            ]
            for (body, status, needle) in cases {
                let r = try await HTTP.post(port: port, "/v1/explain", json: body)
                let message = r.openAIError?["message"] as? String ?? ""
                #expect(r.status == status && message.contains(needle), "\(body): \(r.status) \(r.text.prefix(300))")
            }
            // The demos do not embed: the embedding routes say so.
            let openAI = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "na ro", "model": "tiny-gpt"])
            #expect(openAI.status == 400 && (openAI.openAIError?["message"] as? String ?? "").contains("model tiny-gpt does not produce embeddings"), "\(openAI.text)")
            let tei = try await HTTP.post(port: port, "/embed", json: ["inputs": "the dog", "model": "tiny-translator"])
            #expect(tei.status == 422 && (tei.object["error"] as? String ?? "").contains("model tiny-translator does not produce embeddings"), "\(tei.text)")
            // /v1/models lists all three, with their layers.
            let list = try await HTTP.get(port: port, "/v1/models")
            let data = try #require(list.object["data"] as? [[String: Any]])
            #expect(data.map { $0["id"] as? String } == ["all-MiniLM-L6-v2", "tiny-translator", "tiny-gpt"])
            let translator = try #require(data[1]["attend"] as? [String: Any])
            #expect(translator["embeddings"] as? Bool == false)
            #expect((translator["layers"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["self", "self", "causal", "cross", "causal", "cross"])
            #expect((data[0]["attend"] as? [String: Any])?["dimension"] as? Int == 384)
        }
    }

    /// On a machine without the encoder, `attend serve` says how to install it and serves the demos.
    @Test func defaultServerWithoutTheEncoder() async throws {
        let attend = try #require(OpenAIPython.attend)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("attend-empty-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: attend)
        p.arguments = ["serve", "--port", "0"]
        p.environment = ProcessInfo.processInfo.environment.merging(["ATTEND_HOME": home.path]) { $1 }
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        let (port, text): (Int, String) = try await withCheckedThrowingContinuation { done in
            DispatchQueue.global().async {
                var text = ""
                while true {
                    let chunk = err.fileHandleForReading.availableData
                    if chunk.isEmpty { done.resume(throwing: HTTPClientError(description: "attend serve exited: \(text)")); return }
                    text += String(decoding: chunk, as: UTF8.self)
                    if let r = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                       let port = Int(text[r].split(separator: ":").last ?? "") {
                        done.resume(returning: (port, text))
                        return
                    }
                }
            }
        }
        #expect(text.contains("all-MiniLM-L6-v2 is not installed") && text.contains("attend models install all-MiniLM-L6-v2"), "\(text)")
        #expect(text.contains("serving tiny-translator, tiny-gpt on"), "\(text)")
        let explain = try await HTTP.post(port: port, "/v1/explain", json: ["text": "na ro zi li na ro", "model": "tiny-gpt", "layer": 1])
        #expect(explain.status == 200 && explain.object["model"] as? String == "tiny-gpt", "\(explain.text.prefix(300))")
        let embed = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "hello"])
        #expect(embed.status == 400 && (embed.openAIError?["message"] as? String ?? "").contains("serves no embedding model"), "\(embed.text)")
        #expect(try await HTTP.get(port: port, "/info").status == 200)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}

@Suite("Server: keep-alive", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct KeepAliveTests {
    /// Three POSTs on one connection (HTTP/1.1 keep-alive, as load generators and browsers send them) each get
    /// their own answer, and the connection stays open between them.
    @Test func postsShareOneConnection() async throws {
        try await withServer { port, _ in
            let replies: [HTTPReply] = try await withCheckedThrowingContinuation { done in
                DispatchQueue.global().async {
                    done.resume(with: Result {
                        let fd = try HTTP.connect(port: port)
                        defer { close(fd) }
                        var tv = timeval(tv_sec: 900, tv_usec: 0)
                        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                        var out: [HTTPReply] = []
                        var pending = Data()
                        for text in ["one", "two", "three"] {
                            let body = try JSONSerialization.data(withJSONObject: ["input": text])
                            let head = "POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
                            try HTTP.send(fd, Data(head.utf8) + body)
                            // Read until one whole answer (Content-Length) is in.
                            var buffer = [UInt8](repeating: 0, count: 65_536)
                            while true {
                                if let split = pending.range(of: Data("\r\n\r\n".utf8)) {
                                    let reply = try HTTP.parse(Data(pending[..<split.upperBound]))
                                    let length = Int(reply.headers["content-length"] ?? "") ?? -1
                                    if length >= 0 && pending.count - split.upperBound >= length {
                                        let end = split.upperBound + length
                                        out.append(try HTTP.parse(Data(pending[..<end])))
                                        pending = Data(pending[end...])
                                        break
                                    }
                                }
                                let n = recv(fd, &buffer, buffer.count, 0)
                                if n <= 0 { throw HTTPClientError(description: "the server closed the connection after \(out.count) answers") }
                                pending.append(contentsOf: buffer[0..<n])
                            }
                        }
                        return out
                    })
                }
            }
            #expect(replies.map(\.status) == [200, 200, 200])
            let reference = try ServedFixture.reference(["one", "two", "three"])
            for (i, r) in replies.enumerated() {
                expectNear(floats((r.object["data"] as? [[String: Any]])?.first?["embedding"]), reference[i], "answer \(i) on one connection")
                #expect(r.headers["connection"]?.lowercased() != "close")
            }
        }
    }
}

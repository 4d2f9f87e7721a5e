// The official `openai` Python package (PyPI) as a real client: its embeddings equal `attend embed --json`'s to
// 1e-6. Python finds `openai` in $ATTEND_OPENAI_PYTHON (set by .ci/run, which pip-installs it into a venv) or in
// ~/.cache/attend-baselines/venv; under CI a missing client is a failure, not a skip.
@testable import AttendServer
import AttendTestSupport
import Foundation
import Testing

enum OpenAIPython {
    static let path: String? = {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["ATTEND_OPENAI_PYTHON"] { candidates.append(env) }
        candidates.append(NSHomeDirectory() + "/.cache/attend-baselines/venv/bin/python")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) && canImportOpenAI($0) }
    }()

    static func canImportOpenAI(_ python: String) -> Bool {
        (try? run(python, ["-c", "import openai"]).status) == 0
    }

    static func run(_ executable: String, _ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.currentDirectoryURL = packageRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { box.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: box.data, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// The `attend` executable built beside the tests.
    static let attend: String? = {
        var candidates: [String] = []
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent("attend").path)
        }
        for bundle in Bundle.allBundles {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("attend").path)
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/attend").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
}

@Suite("Server: the official openai Python client",
       .enabled(if: (OpenAIPython.path != nil && modelTestsEnabled()) || isCI,
                "pip install openai into ~/.cache/attend-baselines/venv (or set ATTEND_OPENAI_PYTHON) and install the model"))
struct OpenAIClientTests {
    @Test func embeddingsEqualAttendEmbed() async throws {
        let python = try #require(OpenAIPython.path, "no Python with the openai package: .ci/run installs one and sets ATTEND_OPENAI_PYTHON")
        let attend = try #require(OpenAIPython.attend, "the attend binary was not built")
        let texts = Array(sentences.prefix(6))
        let embed = try OpenAIPython.run(attend, ["embed", "--json"] + texts)
        #expect(embed.status == 0, "attend embed: \(embed.stderr)")
        let expected = FileManager.default.temporaryDirectory.appendingPathComponent("attend-openai-\(UUID().uuidString).jsonl")
        try Data(embed.stdout.utf8).write(to: expected)
        defer { try? FileManager.default.removeItem(at: expected) }
        let script = packageRoot.appendingPathComponent("Tests/AttendServerTests/openai_client.py").path
        try await withServer({ $0.apiKey = "test-key" }) { port, _ in
            let result = try await withCheckedThrowingContinuation { done in
                DispatchQueue.global().async {
                    done.resume(with: Result { try OpenAIPython.run(python, [script, "http://127.0.0.1:\(port)/v1", "test-key", expected.path]) })
                }
            }
            #expect(result.status == 0, "openai client: \(result.stdout) \(result.stderr.suffix(2000))")
            let report = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
            #expect(report?["texts"] as? Int == texts.count, "\(result.stdout)")
            #expect((report?["problems"] as? [Any])?.isEmpty == true, "\(result.stdout)")
        }
    }

    /// Chat completions through the client, streamed and not, answer what `attend chat --temperature 0 --json` prints.
    @Test(.enabled(if: isCI || DecoderFixture.installed, "install the model: swift run attend models install smollm2-135m"))
    func chatCompletionsEqualAttendChat() async throws {
        let python = try #require(OpenAIPython.path, "no Python with the openai package: .ci/run installs one and sets ATTEND_OPENAI_PYTHON")
        let attend = try #require(OpenAIPython.attend, "the attend binary was not built")
        let message = "What is the capital of France?"
        let cli = try OpenAIPython.run(attend, ["chat", "--model", "smollm2-135m", "--temperature", "0", "--max-tokens", "12", "--json", message])
        #expect(cli.status == 0, "attend chat: \(cli.stderr)")
        var expected = try #require((try? JSONSerialization.jsonObject(with: Data(cli.stdout.utf8))) as? [String: Any], "\(cli.stdout)")
        expected["message"] = message
        expected["max_tokens"] = 12
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("attend-openai-chat-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: expected).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = packageRoot.appendingPathComponent("Tests/AttendServerTests/openai_client.py").path
        try await withDecoderServer({ $0.apiKey = "test-key" }) { port, _ in
            let result = try await withCheckedThrowingContinuation { done in
                DispatchQueue.global().async {
                    done.resume(with: Result { try OpenAIPython.run(python, [script, "http://127.0.0.1:\(port)/v1", "test-key", "--chat", file.path]) })
                }
            }
            #expect(result.status == 0, "openai client: \(result.stdout) \(result.stderr.suffix(2000))")
            let report = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
            #expect(report?["text"] as? String == expected["text"] as? String, "\(result.stdout)")
            #expect((report?["problems"] as? [Any])?.isEmpty == true, "\(result.stdout)")
        }
    }
}

// `attend serve --index` as a user runs it: an index built by `attend index build` is served under its file's name and
// POST /v1/search answers byte for byte what `attend search --index FILE --json [--explain]` prints; an index that no
// served model built, or a file that is not an index, stops the start with one line on stderr and exit 1.
import AttendTestSupport
import Foundation
import Testing

/// Starts the built `attend serve --port 0 ARGS…` and returns it with the port it prints.
func startAttendServe(_ args: [String]) async throws -> (Process, Int) {
    let attend = try #require(OpenAIPython.attend, "the attend binary was not built")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: attend)
    p.arguments = ["serve", "--port", "0"] + args
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    let port: Int = try await withCheckedThrowingContinuation { done in
        DispatchQueue.global().async {
            var text = ""
            while true {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { done.resume(throwing: HTTPClientError(description: "attend serve exited: \(text)")); return }
                text += String(decoding: chunk, as: UTF8.self)
                if let r = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                   let port = Int(text[r].split(separator: ":").last ?? "") {
                    done.resume(returning: port)
                    return
                }
            }
        }
    }
    return (p, port)
}

@Suite("attend serve --index (the binary)", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct SearchServeCommandTests {
    @Test func servesAnIndexAsTheCLISearchesIt() async throws {
        let folder = try scratchFolder("serve-index")
        defer { try? FileManager.default.removeItem(at: folder) }
        let index = folder.appendingPathComponent("corpus.attendindex").path
        let corpus = packageRoot.appendingPathComponent("Examples/corpus.txt").path
        let built = try await runAttend(["index", "build", "--input", corpus, "--out", index])
        try #require(built.status == 0, "index build: \(built.stderr)")
        let query = "a pet sleeping indoors"
        let plain = try await runAttend(["search", "--index", index, "--json", "--top", "4", "--temperature", "0.1", query])
        let explained = try await runAttend(["search", "--index", index, "--json", "--top", "2", "--explain", query])
        try #require(plain.status == 0 && explained.status == 0, "search: \(plain.stderr) \(explained.stderr)")

        let (p, port) = try await startAttendServe(["--model", "all-MiniLM-L6-v2", "--index", index])
        defer { if p.isRunning { p.terminate() } }
        let r = try await HTTP.post(port: port, "/v1/search", json: ["query": query, "top_k": 4, "temperature": 0.1, "index": "corpus"])
        #expect(r.status == 200)
        #expect(String(decoding: r.body, as: UTF8.self) == plain.stdout, "the route's answer differs from attend search --json")
        let x = try await HTTP.post(port: port, "/v1/search", json: ["query": query, "top_k": 2, "explain": true])
        #expect(x.status == 200)
        #expect(String(decoding: x.body, as: UTF8.self) == explained.stdout, "the route's explained answer differs from attend search --json --explain")
        // With --index given, no demo corpus is added.
        #expect(try await HTTP.post(port: port, "/v1/search", json: ["query": query, "index": "demo"]).status == 404)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 0)
    }

    @Test func refusesAnIndexNoServedModelBuilt() async throws {
        let folder = try scratchFolder("serve-foreign")
        defer { try? FileManager.default.removeItem(at: folder) }
        let foreign = try foreignIndex(in: folder)
        let notAnIndex = folder.appendingPathComponent("notes.attendindex").path
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: notAnIndex))
        for (args, needle) in [(["--model", "all-MiniLM-L6-v2", "--index", foreign], "was built with model some-other-model"),
                               (["--index", notAnIndex], "not a valid Attend index"),
                               (["--index", folder.appendingPathComponent("missing.attendindex").path], "cannot be opened")] {
            let r = try await runAttend(["serve", "--port", "0"] + args)
            #expect(r.status == 1, "\(args): exit \(r.status)")
            // One error line, the last (the log lines of the models loaded before the check come first).
            let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("attend: error: ") }
            #expect(errors.count == 1 && errors[0].contains(needle) && r.stderr.hasSuffix(errors[0] + "\n"), "\(args): \(r.stderr)")
        }
    }
}

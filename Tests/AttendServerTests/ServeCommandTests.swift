// `attend serve` as a user runs it: bad options are one line on stderr and exit 1; the real binary listens on the
// port it prints, answers, and exits 0 on SIGTERM (graceful shutdown through swift-service-lifecycle).
import AttendTestSupport
import Foundation
import Testing

@Suite("attend serve (the binary)", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct ServeCommandTests {
    @Test func badOptionsAreOneLineAndExit1() throws {
        let attend = try #require(OpenAIPython.attend)
        for args in [["--port", "70000"], ["--max-batch-tokens", "0"], ["--model", "/nonexistent/model"], ["--api-key", ""]] {
            let r = try OpenAIPython.run(attend, ["serve"] + args)
            #expect(r.status == 1, "\(args)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("attend: error: "), "\(args): \(r.stderr)")
        }
    }

    @Test func servesAndStopsOnSIGTERM() async throws {
        let attend = try #require(OpenAIPython.attend)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: attend)
        p.arguments = ["serve", "--port", "0"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        // Read stderr until the line that names the port.
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
        #expect(try await HTTP.get(port: port, "/health").status == 200)
        let r = try await HTTP.post(port: port, "/v1/embeddings", json: ["input": "The cat sat on the mat."])
        expectNear(floats((r.object["data"] as? [[String: Any]])?.first?["embedding"]), try ServedFixture.reference(["The cat sat on the mat."])[0],
                   "the binary's embedding")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 0)
    }
}

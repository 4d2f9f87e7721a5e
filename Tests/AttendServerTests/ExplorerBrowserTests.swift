// The explorer at / in real headless Chromium against a running server: the page asks the API for the default
// sentence, draws the heatmap, switches to layer 1 · head 3 through its selects, and writes what it shows into
// `<pre id="explorer-selftest">` (with `#selftest` in the URL); the numbers must equal the library's attention.
@testable import AttendServer
import AttendTestSupport
import Foundation
import Testing

enum HeadlessChromium {
    static let path: String? = {
        let env = ProcessInfo.processInfo.environment
        if let p = env["ATTEND_CHROMIUM"], FileManager.default.isExecutableFile(atPath: p) { return p }
        let dirs = (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for dir in dirs where FileManager.default.isExecutableFile(atPath: dir + "/" + name) { return dir + "/" + name }
        }
        return nil
    }()

    /// The DOM after the page settled (`--dump-dom`), killed after `timeout` seconds.
    static func dumpDOM(_ url: String, timeout: TimeInterval = 90) throws -> String {
        guard let path else { throw CocoaError(.fileNoSuchFile) }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("attend-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                       "--user-data-dir=\(profile.path)", "--virtual-time-budget=60000", "--dump-dom", url]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let timer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        timer.cancel()
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite("Server: the explorer in headless Chromium",
       .enabled(if: (HeadlessChromium.path != nil && modelTestsEnabled()) || isCI, "install Chromium: apt-get install -y chromium"))
struct ExplorerBrowserTests {
    @Test func explorerShowsTheAPIsAttention() async throws {
        try await withServer { port, _ in
            let dom = try await withCheckedThrowingContinuation { done in
                DispatchQueue.global().async { done.resume(with: Result { try HeadlessChromium.dumpDOM("http://127.0.0.1:\(port)/#selftest") }) }
            }
            let start = try #require(dom.range(of: "id=\"explorer-selftest\""), "no self-test output in the page: \(dom.prefix(2000))")
            let open = try #require(dom[start.upperBound...].range(of: ">"))
            let rest = dom[open.upperBound...]
            let end = try #require(rest.range(of: "</pre>"))
            let json = String(rest[..<end.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
            #expect((report["errors"] as? [Any])?.isEmpty == true, "\(report)")
            let sentence = try #require(report["sentence"] as? String)
            let (encoding, weights) = try SharedModels.miniLM().attentions(sentence)
            #expect(report["tokens"] as? [String] == encoding.tokens)
            #expect(report["layer"] as? Int == 1 && report["head"] as? Int == 3)
            #expect(report["title"] as? String == "Layer 1 · head 3")
            // The row of query 1 the page holds equals the library's layer 1, head 3, row 1.
            let n = encoding.count
            let want = Array(weights[1].scalars[(3 * n + 1) * n ..< (3 * n + 2) * n])
            expectNear(floats(report["row"]), want, atol: 1e-5, "page row vs library")
            #expect((report["canvasWidth"] as? Int ?? 0) > 90 + n * 18 - 1)
            #expect((report["inkedCells"] as? Int ?? 0) == n * n, "every heatmap cell is painted")
        }
    }
}

import AttendTestSupport
import AttendViz
import Foundation
import Testing

/// Headless Chromium (Debian's `chromium` package; `ATTEND_CHROMIUM` overrides the path).
enum Chromium {
    static let path: String? = {
        let env = ProcessInfo.processInfo.environment
        if let p = env["ATTEND_CHROMIUM"], FileManager.default.isExecutableFile(atPath: p) { return p }
        let dirs = (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for dir in dirs where FileManager.default.isExecutableFile(atPath: dir + "/" + name) { return dir + "/" + name }
        }
        return nil
    }()

    /// Runs Chromium headless with a throwaway profile; kills it after `timeout` seconds.
    static func run(_ args: [String], timeout: TimeInterval = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        guard let path else { throw CocoaError(.fileNoSuchFile) }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("attend-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                       "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let timer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        // Read both pipes at once so a full pipe cannot block Chromium.
        let outData = Mutex(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            let d = out.fileHandleForReading.readDataToEndOfFile()
            outData.withLock { $0 = d }
            group.leave()
        }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        timer.cancel()
        return (p.terminationStatus, String(decoding: outData.withLock { $0 }, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Messages the page wrote to the console (Chromium logs them as `INFO:CONSOLE…` on stderr).
    static func consoleLines(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE") }
    }
}

/// The HTML views in a real browser: the page loads without console errors, its canvases are drawn, and clicking a
/// head (and a model-view cell) changes what is drawn. Runs wherever `chromium` is installed; under CI a missing
/// Chromium is a failure (`.ci/run` installs it: `apt-get install -y chromium`).
@Suite("HTML views in headless Chromium", .enabled(if: Chromium.path != nil || isCI, "install Chromium: apt-get install -y chromium"))
struct BrowserTests {
    struct Checksum: Decodable { var hash: UInt32; var inked: Int; var pixels: Int }
    struct SelfTest: Decodable {
        struct Before: Decodable { var headview: Checksum; var heatmap: Checksum; var modelview: Checksum }
        struct AfterChip: Decodable { var headview: Checksum; var heatmap: Checksum; var state: State }
        struct AfterModel: Decodable { var heatmap: Checksum; var state: State }
        struct State: Decodable { var layer: Int; var heads: [Int] }
        var before: Before
        var afterChip: AfterChip
        var afterModel: AfterModel
        var errors: [String]
    }

    /// Writes the page into a fresh temporary folder (removed by the caller).
    func page(_ html: String, name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(html.utf8).write(to: url)
        return url
    }

    /// Loads the page with `#selftest`, which draws, clicks a head chip and a model-view thumbnail, and reports.
    func selfTest(_ url: URL) throws -> SelfTest? {
        guard Chromium.path != nil else {
            Issue.record("CI is set but chromium is not installed: add `apt-get install -y chromium` to .ci/run")
            return nil
        }
        let r = try Chromium.run(["--dump-dom", "--virtual-time-budget=10000", url.absoluteString + "#selftest"])
        #expect(r.status == 0, "chromium exited with \(r.status): \(r.stderr.suffix(500))")
        #expect(Chromium.consoleLines(r.stderr).isEmpty, "console output: \(Chromium.consoleLines(r.stderr))")
        guard let start = r.stdout.range(of: "<pre id=\"attend-selftest\""),
              let open = r.stdout[start.upperBound...].range(of: ">"),
              let end = r.stdout[open.upperBound...].range(of: "</pre>") else {
            Issue.record("no self-test result in the page: \(r.stdout.prefix(300)) \(r.stderr.suffix(500))")
            return nil
        }
        let json = String(r.stdout[open.upperBound..<end.lowerBound])
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        do {
            return try JSONDecoder().decode(SelfTest.self, from: Data(json.utf8))
        } catch {
            Issue.record("self-test result is not what was expected: \(json.prefix(500))")
            return nil
        }
    }

    func expectInteractive(_ t: SelfTest, _ label: String) {
        #expect(t.errors.isEmpty, "\(label): script errors \(t.errors)")
        // Drawn: every canvas has many non-background pixels.
        #expect(t.before.headview.inked > 500, "\(label): head view is blank")
        #expect(t.before.heatmap.inked > 500, "\(label): heatmap is blank")
        #expect(t.before.modelview.inked > 500, "\(label): model view is blank")
        // Clicking a head chip adds that head to the head view, in another colour.
        #expect(t.afterChip.state.heads.count == 2, "\(label): \(t.afterChip.state.heads)")
        #expect(t.afterChip.headview.hash != t.before.headview.hash, "\(label): clicking a head did not change the head view")
        // Clicking a model-view thumbnail opens that head in the heatmap.
        #expect(t.afterModel.state.layer == 0 && t.afterModel.state.heads.count == 1)
        #expect(t.afterModel.heatmap.hash != t.afterChip.heatmap.hash, "\(label): clicking the model view did not change the heatmap")
    }

    @Test func encoderDecoderPageIsDrawnAndInteractive() throws {
        let html = try HTMLReport(trace: try Synthetic.trace(), layer: 2, head: 0, focus: 2).render()
        let url = try page(html, name: "synthetic.html")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        guard let t = try selfTest(url) else { return }
        expectInteractive(t, "encoder-decoder")
        // A screenshot of the page is not blank: a blank page's PNG at this size is about 4 KB.
        let shot = url.deletingLastPathComponent().appendingPathComponent("shot.png")
        let r = try Chromium.run(["--screenshot=\(shot.path)", "--window-size=1200,900", "--virtual-time-budget=5000", url.absoluteString])
        let size = (try? FileManager.default.attributesOfItem(atPath: shot.path)[.size] as? Int) ?? 0
        #expect(r.status == 0 && size > 20_000, "screenshot of \(size) bytes looks blank")
        let png = (try? Data(contentsOf: shot)) ?? Data()
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
    }

    /// 256 tokens × 4 heads: still one canvas per view, drawn and clickable.
    @Test func pageWith256TokensStaysUsable() throws {
        let html = try HTMLReport(trace: try Synthetic.patterned(n: 256), layer: 0, head: 0).render()
        let started = Date()
        let url = try page(html, name: "long.html")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        guard let t = try selfTest(url) else { return }
        expectInteractive(t, "256 tokens")
        #expect(Date().timeIntervalSince(started) < 30)
    }
}

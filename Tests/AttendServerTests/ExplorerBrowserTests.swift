// The explorer at / in real headless Chromium (selenium from PyPI driving Debian's chromium and chromium-driver)
// against a running server with the encoder and both demo models: explorer_browser.py types a sentence, picks a
// model, layer and head, clicks a token, and checks every number of the four steps against POST /v1/explain; the
// playground with the seeds' numbers shows their true values; compare equals /similarity; the demo buttons open
// the translator's cross-attention and TinyGPT's induction head; the method picker, the flow diagram and the similarity
// explanation show the API's numbers; the corpus panel (the demo corpus) shows POST /v1/search's hits, scores,
// soft-lookup weights and matching words; a 256-token sentence draws every view. Screenshots go to a temporary folder.
@testable import AttendServer
import AttendTestSupport
import Foundation
import Testing

enum SeleniumPython {
    /// A Python with selenium: $ATTEND_SELENIUM_PYTHON, the CI venv ($ATTEND_OPENAI_PYTHON) or the baselines venv.
    static let path: String? = {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["ATTEND_SELENIUM_PYTHON"], env["ATTEND_OPENAI_PYTHON"],
                          NSHomeDirectory() + "/.cache/attend-baselines/venv/bin/python"].compactMap { $0 }
        return candidates.first {
            FileManager.default.isExecutableFile(atPath: $0) && (try? OpenAIPython.run($0, ["-c", "import selenium"]).status) == 0
        }
    }()
    static var driverInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") }
}

@Suite("Server: the explorer in headless Chromium",
       .enabled(if: (SeleniumPython.path != nil && SeleniumPython.driverInstalled && modelTestsEnabled()) || isCI,
                "install chromium and chromium-driver (apt) and selenium (pip) into ~/.cache/attend-baselines/venv"))
struct ExplorerBrowserTests {
    @Test func explorerShowsTheAPIsNumbers() async throws {
        let python = try #require(SeleniumPython.path, "no Python with selenium: .ci/run installs one")
        let script = packageRoot.appendingPathComponent("Tests/AttendServerTests/explorer_browser.py").path
        let shots = FileManager.default.temporaryDirectory.appendingPathComponent("attend-explorer-\(UUID().uuidString)").path
        try await withAllModelsServer { port, _ in
            let result = try await withCheckedThrowingContinuation { done in
                DispatchQueue.global().async {
                    done.resume(with: Result { try OpenAIPython.run(python, [script, "http://127.0.0.1:\(port)", shots]) })
                }
            }
            #expect(result.status == 0, "explorer_browser.py: \(result.stdout) \(result.stderr.suffix(3000))")
            let report = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
            #expect((report?["problems"] as? [Any])?.isEmpty == true, "\(result.stdout)")
            #expect((report?["checked"] as? Int ?? 0) >= 50, "\(result.stdout)")
            let saved = report?["screenshots"] as? [String] ?? []
            #expect(saved.count >= 7 && saved.allSatisfy { FileManager.default.fileExists(atPath: $0) }, "screenshots: \(saved)")
            #expect(saved.contains { $0.hasSuffix("/search.png") }, "no screenshot of the corpus panel: \(saved)")
            print("explorer screenshots: \(shots)")
        }
    }
}

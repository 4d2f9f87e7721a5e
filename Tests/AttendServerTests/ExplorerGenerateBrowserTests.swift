// The explorer's generation panel in real headless Chromium: explorer_browser.py --generate streams a greedy chat
// answer from a server with SmolLM2 and checks that the page shows the same text, token ids, prompt tokens and
// attention lists as the non-streamed POST /v1/chat/completions answer, and lights up each token's top positions.
@testable import AttendServer
import AttendTestSupport
import Foundation
import Testing

@Suite("Server: the explorer's generation panel in headless Chromium",
       .enabled(if: (SeleniumPython.path != nil && SeleniumPython.driverInstalled && DecoderFixture.installed && modelTestsEnabled()) || isCI,
                "install chromium and chromium-driver (apt), selenium (pip) and the model smollm2-135m"))
struct ExplorerGenerateBrowserTests {
    @Test func generationPanelShowsTheAPIsTokensAndAttention() async throws {
        let python = try #require(SeleniumPython.path, "no Python with selenium: .ci/run installs one")
        let script = packageRoot.appendingPathComponent("Tests/AttendServerTests/explorer_browser.py").path
        let shots = FileManager.default.temporaryDirectory.appendingPathComponent("attend-explorer-generate-\(UUID().uuidString)").path
        try await withDecoderServer { port, _ in
            let result = try await withCheckedThrowingContinuation { done in
                DispatchQueue.global().async {
                    done.resume(with: Result { try OpenAIPython.run(python, [script, "http://127.0.0.1:\(port)", shots, "--generate"]) })
                }
            }
            #expect(result.status == 0, "explorer_browser.py --generate: \(result.stdout) \(result.stderr.suffix(3000))")
            let report = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
            #expect((report?["problems"] as? [Any])?.isEmpty == true, "\(result.stdout)")
            #expect((report?["checked"] as? Int ?? 0) >= 20, "\(result.stdout)")
            let saved = report?["screenshots"] as? [String] ?? []
            #expect(saved.count == 1 && saved.allSatisfy { FileManager.default.fileExists(atPath: $0) }, "screenshots: \(saved)")
        }
    }
}

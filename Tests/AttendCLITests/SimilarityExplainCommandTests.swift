import AttendTestSupport
import Foundation
import Testing

/// `attend similarity --explain` run as a built binary against the installed all-MiniLM-L6-v2.
@Suite("attend similarity --explain with all-MiniLM-L6-v2", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct SimilarityExplainCommandTests {
    static let a = "The cat sat on the mat", b = "The cat that I saw yesterday sat on the mat"

    /// JSON: the contributions are n × m and sum to the cosine, which is PyTorch's (fixture pair 0, 4);
    /// the input attributions are complete within 1% of the score.
    @Test func jsonSumsToTheCosine() throws {
        let r = try CLI.run(["similarity", Self.a, Self.b, "--explain", "--json", "--steps", "32"])
        #expect(r.status == 0 && !r.crashed, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let cosine = try #require(json["cosine"] as? Double)
        #expect(abs(cosine - 0.9027772) < 1e-4)
        let ta = try #require(json["tokens_a"] as? [String]), tb = try #require(json["tokens_b"] as? [String])
        #expect(ta == ["[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]"] && tb.count == 12)
        let c = try #require(json["contributions"] as? [[Double]])
        #expect(c.count == ta.count && c.allSatisfy { $0.count == tb.count })
        #expect(abs(c.flatMap { $0 }.reduce(0, +) - cosine) < 1e-5)
        let ig = try #require(json["input_attributions"] as? [String: Any])
        for side in ["a", "b"] {
            let s = try #require(ig[side] as? [String: Any])
            #expect(try #require(s["relative_completeness_error"] as? Double) < 0.01)
            #expect(s["steps"] as? Int == 32)
        }
    }

    @Test func textSVGAndHTML() throws {
        let text = try CLI.run(["similarity", Self.a, Self.b, "--explain", "--no-input-attribution"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("cosine 0.9028") && text.stdout.contains("mat · mat"))
        #expect(!text.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let svg = dir.appendingPathComponent("why.svg").path, html = dir.appendingPathComponent("why.html").path
        #expect(try CLI.run(["similarity", Self.a, Self.b, "--explain", "--format", "svg", "--out", svg]).status == 0)
        #expect(try CLI.run(["similarity", Self.a, Self.b, "--explain", "--format", "html", "--out", html, "--steps", "4"]).status == 0)
        let s = try String(contentsOfFile: svg, encoding: .utf8), h = try String(contentsOfFile: html, encoding: .utf8)
        #expect(s.hasPrefix("<?xml") && s.contains("</svg>") && s.components(separatedBy: "<rect x=").count > 8 * 12)
        #expect(h.contains("<svg") && h.contains("integrated gradients") && !h.contains("<script src"))
    }

    @Test func badInputIsOneLineOnStderr() throws {
        for args in [["similarity", "only one", "--explain"], ["similarity", "a", "b", "c", "--explain"],
                     ["similarity", "a", "b", "--explain", "--format", "png"], ["similarity", "a", "b", "--explain", "--steps", "0"]] {
            let r = try CLI.run(args)
            #expect(r.status != 0 && !r.crashed && r.stderr.hasPrefix("attend: error:"), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
    }
}

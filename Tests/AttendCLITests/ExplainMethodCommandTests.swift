import AttendTestSupport
import Foundation
import Testing

/// `attend explain --method …` run as a built binary.
@Suite("attend explain --method")
struct ExplainMethodCommandTests {
    static let animal = "The animal didn't cross the street because it was too tired"
    static let induction = "de fe ge bi do pa de fe ge"

    /// The embedded TinyGPT (always available): every method in JSON, and grad-attention's row in words.
    @Test(arguments: ["raw", "rollout", "flow", "value-norm"])
    func everyMethodOnTinyGPT(_ method: String) throws {
        let r = try CLI.run(["explain", Self.induction, "--model", "tiny-gpt", "--method", method, "--layer", "1", "--format", "json"])
        #expect(r.status == 0 && !r.crashed, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["method"] as? String == method && json["model"] as? String == "tiny-gpt" && json["layer"] as? Int == 1)
        let m = try #require(json["matrix"] as? [[Double]])
        #expect(m.count == 9 && m.allSatisfy { $0.count == 9 })
        #expect((json["query_tokens"] as? [String]) == Self.induction.split(separator: " ").map(String.init))
        if method == "rollout" || method == "raw" { for row in m { #expect(abs(row.reduce(0, +) - 1) < 1e-4) } }
        for i in 0..<9 { for j in (i + 1)..<9 where method != "flow" { #expect(m[i][j] == 0, "causal: \(i) never reads \(j)") } }
    }

    @Test func gradAttentionOnTinyGPTInEveryFormat() throws {
        let text = try CLI.run(["explain", Self.induction, "--model", "tiny-gpt", "--method", "grad-attention", "--target-token", "bi", "--token", "8"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("log p(bi) at the last position") && text.stdout.contains("“ge” (token 8) draws relevance"))
        #expect(text.stdout.contains("“bi” 0.126"), "the induction target: \(text.stdout)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-method-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for format in ["svg", "html"] {
            let path = dir.appendingPathComponent("g.\(format)").path
            let r = try CLI.run(["explain", Self.induction, "--model", "tiny-gpt", "--method", "grad-attention", "--target-token", "bi",
                                 "--format", format, "--out", path])
            #expect(r.status == 0, "\(r.stderr)")
            let s = try String(contentsOfFile: path, encoding: .utf8)
            #expect(s.contains("grad-attention · tiny-gpt · layer 1") && s.contains("</svg>"))
        }
    }

    @Test func badCombinationsAreOneLineErrors() throws {
        for args in [["explain", Self.induction, "--model", "tiny-gpt", "--method", "grad-attention"],
                     ["explain", Self.induction, "--model", "tiny-gpt", "--method", "rollout", "--target-token", "bi"],
                     ["explain", Self.induction, "--model", "tiny-gpt", "--method", "grad-attention", "--target-token", "xyz"],
                     ["explain", Self.induction, "--model", "tiny-gpt", "--method", "sideways"],
                     ["explain", "the red car", "--model", "tiny-translator", "--method", "rollout", "--layer", "3"],
                     ["explain", "the red car", "--model", "tiny-translator", "--method", "value-norm", "--target-token", "voiture"]] {
            let r = try CLI.run(args)
            #expect(r.status != 0 && !r.crashed && r.stderr.lowercased().contains("error"), "\(args): \(r.stderr)")
        }
    }

    /// Value-norm on SmolLM2 (grouped-query attention) in every format: the text row in words, JSON with a causal
    /// matrix, SVG and HTML titled by method, model and layer.
    @Test(.enabled(if: isCI || FileManager.default.fileExists(atPath: installedModelFolder("smollm2-135m").appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path),
                   "install with `attend models install smollm2-135m`"))
    func valueNormOnSmolLM2InEveryFormat() throws {
        let base = ["explain", "The cat sat on the mat", "--model", "smollm2-135m", "--method", "value-norm", "--layer", "17"]
        let text = try CLI.run(base + ["--head", "4", "--token", "5"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("head 4 reads value head 1, as heads 3–5 do") && text.stdout.contains("“ mat” (token 5) is moved most (‖α·f(x)‖) by “The”"),
                "\(text.stdout)")
        let json = try CLI.run(base + ["--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let m = try #require(object["matrix"] as? [[Double]])
        #expect(object["method"] as? String == "value-norm" && object["layer"] as? Int == 17 && object["head"] == nil)
        #expect((object["key_tokens"] as? [String]) == ["The", " cat", " sat", " on", " the", " mat"] && m.count == 6)
        for i in 0..<6 { for j in 0..<6 { #expect(j <= i ? m[i][j] > 0 : m[i][j] == 0, "causal: \(i), \(j)") } }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-vn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for format in ["svg", "html"] {
            let path = dir.appendingPathComponent("vn.\(format)").path
            let r = try CLI.run(base + ["--head", "8", "--format", format, "--out", path])
            #expect(r.status == 0, "\(r.stderr)")
            let s = try String(contentsOfFile: path, encoding: .utf8)
            #expect(s.contains("value-norm · smollm2-135m · layer 17") && s.contains("</svg>"))
        }
    }

    @Test func rolloutOnTheTranslatorsEncoder() throws {
        let r = try CLI.run(["explain", "the red car", "--model", "tiny-translator", "--method", "rollout", "--layer", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((json["query_tokens"] as? [String]) == ["the", "red", "car"])
    }

    @Test(.enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
    func methodsOnMiniLM() throws {
        let r = try CLI.run(["explain", Self.animal, "--method", "value-norm", "--layer", "5", "--head", "11", "--token", "it"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("“it” (token 10) is moved most (‖α·f(x)‖) by “animal” 4.059"))
        let g = try CLI.run(["explain", "The cat sat on the mat", "--method", "grad-attention", "--target", "A cat was sitting on a mat", "--json"])
        #expect(g.status == 0, "\(g.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(g.stdout.utf8)) as? [String: Any])
        #expect(json["method"] as? String == "grad-attention" && (json["target"] as? String)?.contains("cosine similarity") == true)
        let raw = try CLI.run(["explain", Self.animal, "--layer", "5", "--head", "11", "--token", "it"])
        #expect(raw.stdout.contains("“it” gives 0.65 of its attention to “animal”"), "the default stays raw")
    }
}

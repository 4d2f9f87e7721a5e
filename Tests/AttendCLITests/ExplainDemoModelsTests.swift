import AttendTestSupport
import Foundation
import Testing

/// `attend explain` on the embedded demo models: offline, no installed model needed.
@Suite("attend explain on the embedded demo models")
struct ExplainDemoModelsTests {
    static let english = "the small dog sees the red car"
    static let repeated = "na ro zi li bo si va ba na ro zi"

    @Test func translatorText() throws {
        let r = try CLI.run(["explain", Self.english, "--model", "tiny-translator", "--token", "chien"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("model tiny-translator") && r.stdout.contains("decoder 1 · cross (layers 0…5), head 0"))
        #expect(r.stdout.contains("0 <bos>  1 le  2 petit  3 chien  4 voit  5 la  6 voiture  7 rouge"), "target tokens")
        #expect(r.stdout.contains("0 the  1 small  2 dog  3 sees  4 the  5 red  6 car"), "source tokens")
        #expect(r.stdout.contains("Output of “chien”"), "the step-by-step output of a target word")
    }

    @Test func translatorJSON() throws {
        let r = try CLI.run(["explain", Self.english, "--model", "tiny-translator", "--layer", "2", "--head", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["model"] as? String == "tiny-translator" && json["layers"] as? Int == 6 && json["heads"] as? Int == 4)
        #expect(json["kind"] as? String == "causal" && json["layer"] as? Int == 2 && json["head"] as? Int == 1)
        let rows = try #require(json["query_tokens"] as? [String])
        #expect(rows.first == "<bos>" && json["key_tokens"] as? [String] == rows)
        let weights = try #require(json["weights"] as? [[Double]])
        #expect(weights.count == rows.count && weights[0].dropFirst().allSatisfy { $0 == 0 }, "causal: <bos> sees only itself")
        for row in weights { #expect(abs(row.reduce(0, +) - 1) <= 1e-5) }
    }

    @Test func translatorHTML() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("attend-t-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLI.run(["explain", Self.english, "--model", "tiny-translator", "--format", "html", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOf: out, encoding: .utf8)
        #expect(html.contains("<html") && html.contains("\"cross\"") && html.contains("voiture") && !html.contains("http://") )
        #expect(r.stderr.contains("HTML views of tiny-translator (6 layers × 4 heads)"))
    }

    @Test func tinyGPTText() throws {
        let r = try CLI.run(["explain", Self.repeated, "--model", "tiny-gpt"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("model tiny-gpt") && r.stdout.contains("layer 1 (layers 0…1), head 0 (heads 0…3)"))
        #expect(r.stdout.contains("0 na  1 ro  2 zi  3 li  4 bo  5 si  6 va  7 ba  8 na  9 ro  10 zi"))
        #expect(r.stdout.contains("Masked scores"), "causal")
        #expect(r.stdout.contains("q and k are shown after the rotary position embedding (RoPE)"), "the site's note")
    }

    /// The induction head: the second "na" (8) attends most to "ro" (1), the token after the first "na".
    @Test func tinyGPTJSONShowsTheInductionHead() throws {
        let r = try CLI.run(["explain", Self.repeated, "--model", "tiny-gpt", "--layer", "1", "--head", "0", "--token", "8", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["kind"] as? String == "causal" && json["tokens"] as? [String] == Self.repeated.split(separator: " ").map(String.init))
        let weights = try #require(json["weights"] as? [[Double]])
        let row = weights[8]
        #expect(row.indices.max { row[$0] < row[$1] } == 1, "\(row)")
        #expect(json["q"] != nil && json["k"] != nil && json["v"] != nil, "the step-by-step vectors")
    }

    @Test(arguments: [
        (["the smal dog", "--model", "tiny-translator"], "unknown word \"smal\" (did you mean \"small\""),
        (["na xx", "--model", "tiny-gpt"], "\"xx\" is not a token of this model"),
        (["na ro", "--model", "tiny-gpt", "--layer", "2"], "layer 2 is out of range: this model has 2 layers, numbered 0…1"),
        (["the dog", "--model", "tiny-translator", "--head", "4"], "head 4 is out of range: this layer has 4 heads"),
        (["the dog", "--model", "tiny-translator", "--token", "zebra"], "token \"zebra\" is not among the tokens"),
    ])
    func errorsAreOneLine(_ args: [String], _ message: String) throws {
        let r = try CLI.run(["explain"] + args)
        #expect(r.status == 1 && !r.crashed)
        #expect(r.stderr.hasPrefix("attend: error: ") && r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
    }
}

import AttendTestSupport
import Foundation
import Testing

@Suite("attend attention")
struct AttentionCommandTests {
    func json(_ result: CLIResult) throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return try #require(obj, "stdout was not a JSON object: \(result.stdout) \(result.stderr)")
    }

    @Test func tutorialExampleJSON() throws {
        let r = try CLI.run(["attention", "Examples/tutorial.json", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r)
        expectClose(flatNumbers(o["scores"]), [2, 0, 2], atol: 0, rtol: 0)
        expectClose(flatNumbers(o["scaled_scores"]), [2, 0, 2], atol: 0, rtol: 0)
        expectClose(flatNumbers(o["weights"]), [0.4683, 0.0634, 0.4683], atol: 1e-4, rtol: 0)
        expectClose(flatNumbers(o["output"]), [7.088, 14.176, 21.264], atol: 1e-3, rtol: 0)
        #expect(jsonShape(o["weights"]) == [3])
    }

    @Test func tutorialExampleTrace() throws {
        let r = try CLI.run(["attention", "Examples/tutorial.json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("0.468 × v0 + 0.063 × v1 + 0.468 × v2"), "\(r.stdout)")
        #expect(r.stdout.contains("[7.0880, 14.1761, 21.2641]"))
        #expect(r.stdout.contains("1.0000"))       // the Σ column
        #expect(!r.stdout.contains("\u{1B}["))     // no colour when not a terminal
    }

    @Test func headsAndCausalMaskShapes() throws {
        let r = try CLI.run(["attention", "Examples/causal-two-heads.json", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r)
        #expect(jsonShape(o["scores"]) == [2, 4, 4])
        #expect(jsonShape(o["weights"]) == [2, 4, 4])
        #expect(jsonShape(o["output"]) == [4, 4])
        let w = flatNumbers(o["weights"])
        // Causal: the first query of each head attends only to itself; rows sum to 1.
        #expect(w[0] == 1 && w[16] == 1)
        for row in 0..<8 { #expect(abs(w[(row * 4)..<(row * 4 + 4)].reduce(0, +) - 1) < 1e-5) }
        for i in 0..<4 { for j in (i + 1)..<4 where j < 4 { #expect(w[i * 4 + j] == 0) } }
        // Head 0's output fills features 0..<2, head 1's features 2..<4; the first row copies v0.
        #expect(Array(flatNumbers(o["output"]).prefix(4)) == [1, 2, 3, 4])
    }

    @Test func booleanAndAdditiveMasks() throws {
        let bool = try CLI.run(["attention", "Examples/padding-mask.json", "--json"])
        let o = try json(bool)
        expectClose(flatNumbers(o["weights"]), [0.66976, 0.33024, 0, 0.33024, 0.66976, 0, 0.5, 0.5, 0], atol: 1e-5, rtol: 0)
        let additive = """
        {"q": [[1, 0], [0, 1]], "k": [[1, 0], [0, 1]], "v": [[1, 2], [3, 4]], "mask": [[0, -1e9], [0, 0]], "scale": 1}
        """
        let r = try CLI.run(["attention", try CLI.tempFile(additive), "--json"])
        let a = try json(r)
        let e = Float(M_E)
        expectClose(flatNumbers(a["weights"]), [1, 0, 1 / (1 + e), e / (1 + e)], atol: 1e-6, rtol: 0)
        // A fully masked row gives zero weights and zero output, never NaN.
        let masked = """
        {"q": [[1, 0], [0, 1]], "k": [[1, 0], [0, 1]], "v": [[1, 2], [3, 4]], "mask": [[false, false], [true, true]]}
        """
        let m = try json(try CLI.run(["attention", try CLI.tempFile(masked), "--json"]))
        #expect(Array(flatNumbers(m["weights"]).prefix(2)) == [0, 0])
        #expect(Array(flatNumbers(m["output"]).prefix(2)) == [0, 0])
    }

    @Test func crossAttentionDifferentLengths() throws {
        let text = """
        {"q": [[1, 0, 0, 1]], "k": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 1, 1]],
         "v": [[1], [2], [3], [4], [5]], "heads": 1}
        """
        let r = try CLI.run(["attention", try CLI.tempFile(text), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r)
        #expect(jsonShape(o["weights"]) == [1, 5])
        // scores [1, 0, 0, 1, 2] / 2
        let s = [0.5, 0, 0, 0.5, 1].map { Foundation.exp($0) }
        let w = s.map { Float($0 / s.reduce(0, +)) }
        expectClose(flatNumbers(o["weights"]), w, atol: 1e-6, rtol: 1e-5)
    }

    @Test(arguments: [
        ("{\"q\": [[1, 2], [3]], \"k\": [[1, 2]], \"v\": [[1]]}", "ragged"),
        ("{\"q\": [[1, 2]], \"k\": [[1, 2, 3]], \"v\": [[1]]}", "same width"),
        ("{\"q\": [[1, 2]], \"k\": [[1, 2]], \"v\": [[1], [2]]}", "one value row per key"),
        ("{\"q\": [[1, 2, 3]], \"k\": [[1, 2, 3]], \"v\": [[1, 2, 3]], \"heads\": 2}", "does not divide"),
        ("{\"q\": [[1, 2]], \"k\": [[1, 2]], \"v\": [[1]], \"mask\": [[true, false]]}", "mask[0] has 2 entries"),
        ("{\"q\": [[1, 2]], \"k\": [[1, 2]], \"v\": [[1]], \"mask\": \"diagonal\"}", "causal"),
        ("{\"q\": [[1, 2]], \"k\": [[1, 2]], \"v\": [[1]], \"mask\": [[true, 1]]}", "expected 1"),
        ("{\"q\": [[1, 2]], \"k\": [[1, 2]]}", "missing key \"v\""),
        ("{\"q\": [[1, \"x\"]], \"k\": [[1, 2]], \"v\": [[1]]}", "q[0][1] is a string"),
        ("{\"q\": [[1, 2]], \"k\": [[1, 2]], \"v\": [[1]], \"heads\": 0}", "positive integer"),
        ("{\"q\": [[1, 2]], \"k\": [[1, 2]], \"v\": [[1]], \"extra\": 1}", "unknown key \"extra\""),
        ("{\"q\": [[1e39, 2]], \"k\": [[1, 2]], \"v\": [[1]]}", "Float32 range"),
        ("{\"q\": [], \"k\": [[1, 2]], \"v\": [[1]]}", "\"q\" is empty"),
        ("[1, 2, 3]", "expected a JSON object"),
        ("{\"q\": [[1, 2]], ", "not valid JSON"),
    ])
    func badInputsGiveOneLineErrors(_ c: (String, String)) throws {
        let (text, expected) = c
        let r = try CLI.run(["attention", try CLI.tempFile(text)])
        #expect(!r.crashed)
        #expect(r.status == 1, "exit \(r.status) for \(text)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("attend: error: "), "\(r.stderr)")
        #expect(r.stderr.contains(expected), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    @Test func missingFileAndDirectory() throws {
        let r = try CLI.run(["attention", "/nonexistent/attn.json"])
        #expect(r.status == 1 && r.stderr.contains("no such file"), "\(r.stderr)")
        let d = try CLI.run(["attention", "Examples"])
        #expect(d.status == 1 && d.stderr.contains("is a directory"), "\(d.stderr)")
        let none = try CLI.run(["attention"])
        #expect(none.status != 0 && !none.crashed)
    }

    @Test func helpHasExamples() throws {
        let r = try CLI.run(["attention", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Examples:"))
        #expect(r.stdout.contains("--json"))
    }
}

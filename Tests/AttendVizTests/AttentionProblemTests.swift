import AttendTensor
import AttendTestSupport
import AttendViz
import Foundation
import Testing

@Suite("Attention problem format")
struct AttentionProblemTests {
    func parse(_ text: String) throws -> AttentionProblem {
        try AttentionProblem.parse(Data(text.utf8), source: "p.json")
    }

    @Test func readsMatricesMaskScaleAndHeads() throws {
        let p = try parse(#"{"q": [[1, 0, 1, 0]], "k": [[1, 0, 0, 0], [0, 1, 0, 0]], "v": [[1, 2], [3, 4]], "mask": [[true, false]], "scale": 0.5, "heads": 2}"#)
        #expect(p.lq == 1 && p.lk == 2 && p.dModel == 4 && p.dValue == 2 && p.headDim == 2)
        #expect(p.mask == .boolean([[true, false]]))
        #expect(p.scale == 0.5)
        #expect(!p.queryIsVector)
        let vector = try parse(#"{"q": [1, 0], "k": [[1, 0]], "v": [[1]], "mask": [0], "heads": 1.0}"#)
        #expect(vector.queryIsVector && vector.mask == .additive([[0]]))
        #expect(try parse(#"{"q": [[1]], "k": [[1]], "v": [[1]], "mask": "causal"}"#).mask == .causal)
    }

    /// The JSON report of a problem computed by hand: q·k = [1, 0], softmax with scale 1 → [e/(e+1), 1/(e+1)].
    @Test func reportJSONMatchesHandComputation() throws {
        let p = try parse(#"{"q": [1, 0], "k": [[1, 0], [0, 1]], "v": [[2, 0], [0, 2]], "scale": 1}"#)
        let json = try AttentionReport.json(input: p, trace: p.run())
        let e = Float(M_E)
        let w0 = e / (e + 1), w1 = 1 / (e + 1)
        func floats(_ key: String) -> [Float] { (json[key]?.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
        #expect(floats("scores") == [1, 0])
        #expect(closeness(floats("weights"), [w0, w1], atol: 1e-6, rtol: 1e-6).ok)
        #expect(closeness(floats("output"), [2 * w0, 2 * w1], atol: 1e-6, rtol: 1e-6).ok)
        #expect(json.objectValue?.keys == ["scores", "scaled_scores", "weights", "output", "scale"])
        let text = try AttentionReport.text(input: p, trace: p.run(), decimals: 4, style: TextStyle(color: .none))
        #expect(text.hasPrefix("Attention: 1 query × 2 keys, d_k = 2, d_v = 2, 1 head, scale = 1.0000 (given), mask: none\n"))
        #expect(!text.contains("\u{1B}["))
    }

    @Test(arguments: [
        ("[1]", "p.json: expected a JSON object with keys \"q\", \"k\", \"v\", got an array"),
        (#"{"q": [[1]], "#, "p.json: not valid JSON: unexpected end of input, expected a string key at line 1, column 14"),
        (#"{"q": [[1]], "k": [[1]], "v": [[1]], "Q": 1}"#, "p.json: unknown key \"Q\" (allowed: q, k, v, mask, scale, heads)"),
        (#"{"q": [[1]], "k": [[1]]}"#, "p.json: missing key \"v\""),
        (#"{"q": [], "k": [[1]], "v": [[1]]}"#, "p.json: \"q\" is empty"),
        (#"{"q": [[1, 2], [3]], "k": [[1, 2]], "v": [[1]]}"#, "p.json: ragged \"q\": row 1 has 1 values, row 0 has 2"),
        (#"{"q": [[1, true]], "k": [[1, 2]], "v": [[1]]}"#, "p.json: q[0][1] is a boolean, expected a number"),
        (#"{"q": [[1, 2]], "k": [[1]], "v": [[1]]}"#, "p.json: \"k\" rows have 1 values but \"q\" rows have 2: queries and keys need the same width d_k"),
        (#"{"q": [[1]], "k": [[1]], "v": [[1], [2]]}"#, "p.json: \"v\" has 2 rows but \"k\" has 1: one value row per key"),
        (#"{"q": [[1e39]], "k": [[1]], "v": [[1]]}"#, "p.json: q[0][0] = 1e+39 is outside the Float32 range"),
        (#"{"q": [[1, 2, 3]], "k": [[1, 2, 3]], "v": [[1, 2]], "heads": 2}"#, "p.json: \"heads\" = 2 does not divide the width of \"q\" and \"k\" (3)"),
        (#"{"q": [[1]], "k": [[1]], "v": [[1]], "heads": true}"#, "p.json: \"heads\" must be a positive integer, got a boolean"),
        (#"{"q": [[1]], "k": [[1]], "v": [[1]], "heads": 1.5}"#, "p.json: \"heads\" must be a positive integer, got 1.5"),
        (#"{"q": [[1]], "k": [[1]], "v": [[1]], "scale": "x"}"#, "p.json: \"scale\" must be a finite number, got \"x\""),
        (#"{"q": [[1]], "k": [[1]], "v": [[1]], "mask": "full"}"#, "p.json: \"mask\" string must be \"causal\", got \"full\""),
        (#"{"q": [[1], [2]], "k": [[1]], "v": [[1]], "mask": [[true]]}"#, "p.json: \"mask\" has 1 rows, expected 2 (one per query) × 1 (one per key)"),
        (#"{"q": [[1]], "k": [[1], [2]], "v": [[1], [2]], "mask": [[true, 0]]}"#, "p.json: \"mask\" mixes booleans and numbers; use booleans (true = may attend) or numbers (added to the scaled scores)"),
        (#"{"q": [[1]], "k": [[1]], "v": [[1]], "mask": [["yes"]]}"#, "p.json: mask[0][0] is a string, expected a boolean or a number"),
    ])
    func badProblemsAreOneLineErrors(text: String, message: String) {
        #expect(throws: AttentionProblemError(message)) { try parse(text) }
    }

    @Test func missingFileAndDirectoryAreErrors() {
        #expect(throws: AttentionProblemError("/nonexistent/p.json: no such file")) { try AttentionProblem.load(path: "/nonexistent/p.json") }
        let dir = FileManager.default.temporaryDirectory.path
        #expect(throws: AttentionProblemError("\(dir): is a directory, expected a JSON file")) { try AttentionProblem.load(path: dir) }
    }
}

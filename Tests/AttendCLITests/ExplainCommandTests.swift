import AttendTestSupport
import Foundation
import Testing

/// Runs of the built `attend explain` against the installed all-MiniLM-L6-v2.
@Suite("attend explain with all-MiniLM-L6-v2", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct ExplainCommandTests {
    static let animal = "The animal didn't cross the street because it was too tired"

    /// The "Done when" example, word for word.
    @Test func tutorialExampleSaysItInWords() throws {
        let r = try CLI.run(["explain", Self.animal, "--model", "all-MiniLM-L6-v2", "--layer", "5", "--head", "11", "--token", "it"])
        #expect(r.status == 0 && !r.crashed, "\(r.stderr)")
        #expect(r.stdout.contains("model all-MiniLM-L6-v2"), "says which model is used")
        #expect(r.stdout.contains("layer 5") && r.stdout.contains("head 11"))
        #expect(r.stdout.contains("“it” gives 0.65 of its attention to “animal”"))
        #expect(r.stdout.contains("0.02 to “street”"))
        // The weight row of "it" as printed equals PyTorch's, to the 4 decimals shown.
        let lines = r.stdout.split(separator: "\n")
        let weightsHeader = try #require(lines.firstIndex { $0.hasPrefix("6. Weights") })
        let row = try #require(lines[weightsHeader...].first { $0.hasPrefix("   ▸10 it ") })
        let printed = row.split(separator: " ").compactMap { Float($0) }   // "▸10" is not a number
        let expected = try fixtureWeights(layer: 5, head: 11)[10]
        #expect(printed.count == 16, "15 weights and the row sum: \(row)")
        for (p, e) in zip(printed, expected) { #expect(abs(p - e) <= 0.00005 + 1e-6, "\(p) vs \(e)") }
        #expect(!r.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
    }

    /// `--format json`: every intermediate; the weights are the reference weights of that layer and head.
    @Test func jsonCarriesEveryIntermediate() throws {
        let r = try CLI.run(["explain", Self.animal, "--layer", "5", "--head", "11", "--token", "it", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["model"] as? String == "all-MiniLM-L6-v2")
        #expect(json["layer"] as? Int == 5 && json["head"] as? Int == 11 && json["d_k"] as? Int == 32)
        #expect((json["tokens"] as? [String])?.count == 15)
        for key in ["q", "k", "v", "output"] { #expect(jsonShape(json[key]) == [15, 32], "\(key)") }
        for key in ["scores", "scaled_scores", "weights"] { #expect(jsonShape(json[key]) == [15, 15], "\(key)") }
        #expect(jsonShape(json["embeddings"]) == [15, 384])
        expectClose(flatNumbers(json["weights"]), try fixtureWeights(layer: 5, head: 11).flatMap { $0 }, atol: 1e-5, rtol: 1e-4, "weights")
        let scale = try #require(json["scale"] as? Double)
        expectClose(flatNumbers(json["scores"]).map { $0 * Float(scale) }, flatNumbers(json["scaled_scores"]), atol: 1e-5, rtol: 1e-5)
        let token = try #require(json["token"] as? [String: Any])
        let top = try #require(token["top"] as? [[String: Any]])
        #expect(token["index"] as? Int == 10 && top.first?["token"] as? String == "animal")
        #expect(json["mask"] is NSNull)
    }

    @Test func svgAndHTMLFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-explain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let svg = dir.appendingPathComponent("it.svg").path, flow = dir.appendingPathComponent("flow.svg").path
        let html = dir.appendingPathComponent("it.html").path
        let a = try CLI.run(["explain", Self.animal, "--layer", "5", "--head", "11", "--format", "svg", "--values", "--out", svg])
        #expect(a.status == 0 && a.stderr.contains("wrote \(svg)"), "\(a.stderr)")
        let svgText = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(svgText.hasPrefix("<?xml") && svgText.contains("all-MiniLM-L6-v2 · layer 5 · head 11"))
        let b = try CLI.run(["explain", Self.animal, "--layer", "5", "--head", "11", "--token", "it", "--format", "svg", "--view", "flow", "--out", flow])
        let flowText = try String(contentsOfFile: flow, encoding: .utf8)
        #expect(b.status == 0 && flowText.contains("Attention flow"))
        let c = try CLI.run(["explain", Self.animal, "--layer=-1", "--format", "html", "--out", html])
        #expect(c.status == 0, "\(c.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<canvas id=\"modelview\"") && !page.contains("https://"))
        // Piped (not a terminal), SVG goes to stdout.
        let d = try CLI.run(["explain", "The cat sat on the mat", "--format", "svg"])
        #expect(d.status == 0 && d.stdout.hasPrefix("<?xml"))
    }

    @Test func valuesAndNegativeIndices() throws {
        let r = try CLI.run(["explain", "The cat sat on the mat", "--layer=-1", "--head=-1", "--values", "--token", "cat"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("layer 5 (layers 0…5), head 11 (heads 0…11)"))
        #expect(r.stdout.contains("cells: weight, 2 decimals"))
    }

    @Test(arguments: [
        (["--layer", "6"], "layer 6 is out of range: this model has 6 layers, numbered 0…5"),
        (["--head", "12"], "head 12 is out of range"),
        (["--token", "zebra"], "token \"zebra\" is not among the tokens"),
        (["--token", "99"], "token index 99 is out of range"),
    ])
    func outOfRangeIsOneLine(_ extra: [String], _ message: String) throws {
        let r = try CLI.run(["explain", "The cat sat on the mat"] + extra)
        #expect(r.status == 1 && !r.crashed)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("attend: error: ") && r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
    }

    func fixtureWeights(layer: Int, head: Int) throws -> [[Float]] {
        let sentences = try #require(minilmFixture?["sentences"] as? [[String: Any]], "../shared/fixtures/minilm-public.json is missing")
        let att = try #require(sentences[1]["attentions"] as? [[[[NSNumber]]]])
        return att[layer][head].map { $0.map(\.floatValue) }
    }
}

/// Errors that need no model: each is one line on stderr and exit status 1, never a crash.
@Suite("attend explain: errors")
struct ExplainCommandTestsWithoutModel {
    @Test(arguments: [
        (["--format", "pdf"], "unknown format 'pdf': use text, json, svg or html"),
        (["--format", "svg", "--view", "pie"], "unknown view 'pie'"),
        (["--model", "/nonexistent/model-folder"], "no model folder at /nonexistent/model-folder"),
        (["--model", "no-such-model"], "unknown model 'no-such-model'"),
        (["--out", "/nonexistent-dir/x.svg"], "cannot write /nonexistent-dir/x.svg"),
        (["--out", "/tmp"], "cannot write /tmp: it is a directory"),
    ])
    func errorIsOneLine(_ extra: [String], _ message: String) throws {
        let r = try CLI.run(["explain", "The cat sat on the mat"] + extra)
        #expect(r.status == 1 && !r.crashed)
        #expect(r.stderr.hasPrefix("attend: error: ") && r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
    }

    @Test func missingDefaultModelSaysHowToInstall() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("attend-empty-\(UUID().uuidString)")
        let r = try CLI.run(["explain", "The cat sat on the mat"], env: ["ATTEND_HOME": home.path])
        #expect(r.status == 1 && !r.crashed)
        #expect(r.stderr.contains("default model all-MiniLM-L6-v2") && r.stderr.contains("attend models install all-MiniLM-L6-v2"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func helpHasExamples() throws {
        let r = try CLI.run(["explain", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("--token") && r.stdout.contains("attend explain \"The animal didn't cross the street"))
    }
}

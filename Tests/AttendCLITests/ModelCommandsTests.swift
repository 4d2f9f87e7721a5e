import AttendTestSupport
import Foundation
import Testing

/// The pretrained-model commands, run through the built binary against the PyTorch fixtures.
@Suite("attend tokenize / embed / similarity / search / neighbors",
       .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct ModelCommandsTests {
    func jsonLines(_ s: String) throws -> [[String: Any]] {
        try s.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "not JSON: \($0)")
        }
    }

    func fixtureSentences() throws -> [[String: Any]] {
        try #require(minilmFixture?["sentences"] as? [[String: Any]])
    }

    @Test func tokenizeJSON() throws {
        let r = try CLI.run(["tokenize", "naïve café Zürich didn't", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try jsonLines(r.stdout)[0]
        #expect(o["tokens"] as? [String] == ["[CLS]", "naive", "cafe", "zurich", "didn", "'", "t", "[SEP]"])
        #expect((o["offsets"] as? [[Int]])?[1] == [0, 5])
        #expect((o["ids"] as? [Int])?.first == 101)
    }

    /// `attend embed --json` with `options` over the fixture sentences matches PyTorch's texts, tokens and embeddings.
    func expectEmbedMatchesPyTorch(_ options: [String]) throws {
        let sentences = try fixtureSentences()
        let texts = sentences.compactMap { $0["text"] as? String }
        let r = try CLI.run(["embed", "--json"] + options + texts)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try jsonLines(r.stdout)
        #expect(lines.count == texts.count)
        for (line, s) in zip(lines, sentences) {
            #expect(line["text"] as? String == s["text"] as? String)
            #expect(line["tokens"] as? [String] == s["tokens"] as? [String])
            expectClose(flattenFloats(line["embedding"]), flattenFloats(s["embedding"]), atol: 1e-5, rtol: 1e-4, "\(options) \(s["text"] ?? "")")
        }
    }

    @Test func embedMatchesPyTorch() throws {
        try expectEmbedMatchesPyTorch([])
    }

    /// A token budget of 8 runs every fixture sentence in a pass of its own (no padding); the embeddings still match
    /// PyTorch's, and a budget below 1 is refused naming the option.
    @Test func embedWithATokenBudget() throws {
        try expectEmbedMatchesPyTorch(["--max-batch-tokens", "8"])
        let bad = try CLI.run(["embed", "--max-batch-tokens", "0", "x"])
        #expect(bad.status != 0 && bad.stderr.contains("--max-batch-tokens must be at least 1, got 0"), "\(bad.stderr)")
        #expect(bad.stderr.split(separator: "\n").count == 1, "one line: \(bad.stderr)")
    }

    @Test func embedInBF16() throws {
        let sentences = try fixtureSentences()
        let texts = sentences.compactMap { $0["text"] as? String }
        let r = try CLI.run(["embed", "--json", "--precision", "bf16"] + texts)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try jsonLines(r.stdout)
        #expect(lines.count == texts.count)
        for (line, s) in zip(lines, sentences) {
            let got = flattenFloats(line["embedding"]), want = flattenFloats(s["embedding"])
            let dot = zip(got, want).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(got.count == want.count && dot >= 0.999, "\(s["text"] ?? ""): cosine \(dot) (both unit length)")
        }
        let bad = try CLI.run(["embed", "--precision", "fp16", "x"])
        #expect(bad.status != 0 && bad.stderr.contains("fp16"), "\(bad.stderr)")
    }

    @Test func embedAttentions() throws {
        let s = try fixtureSentences()[2]
        let r = try CLI.run(["embed", "--json", "--attentions", try #require(s["text"] as? String)])
        #expect(r.status == 0, "\(r.stderr)")
        let line = try jsonLines(r.stdout)[0]
        let attn = try #require(line["attentions"] as? [Any])
        #expect(attn.count == 6 && (attn[0] as? [Any])?.count == 12)
        expectClose(flattenFloats(attn), flattenFloats(s["attentions"]), atol: 1e-5, rtol: 1e-4, "attentions")
        let bad = try CLI.run(["embed", "--attentions", "x"])
        #expect(bad.status == 1 && bad.stderr.contains("--json"))
    }

    @Test func embedStdinEdgeCases() throws {
        var input = Data("The cat sat on the mat\n\n".utf8)
        input.append(contentsOf: [0x66, 0xFF, 0xFE, 0x6F, 0x0A])          // invalid UTF-8 line
        input.append(Data((String(repeating: "word ", count: 2000) + "\n").utf8))   // 10,000 characters
        let r = try CLI.run(["embed", "--json"], stdin: String(decoding: input, as: UTF8.self))
        // (Swift's String(decoding:) already repaired the bytes; send the raw bytes through a file too.)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try jsonLines(r.stdout).count == 4)
        #expect(r.stderr.contains("blank"))
        #expect(r.stderr.contains("truncated to 256 tokens"))
        let long = try jsonLines(r.stdout)[3]
        #expect((long["tokens"] as? [String])?.count == 256)
        let empty = try CLI.run(["embed", "--json", ""])
        #expect(empty.status == 0)
        #expect((try jsonLines(empty.stdout)[0]["tokens"] as? [String]) == ["[CLS]", "[SEP]"])
    }

    @Test func similarityMatchesFixture() throws {
        let texts = try fixtureSentences().compactMap { $0["text"] as? String }
        let r = try CLI.run(["similarity", "--json"] + texts)
        #expect(r.status == 0, "\(r.stderr)")
        let o = try jsonLines(r.stdout)[0]
        let expected = try #require(minilmFixture?["cosine_similarity"])
        expectClose(flattenFloats(o["matrix"]), flattenFloats(expected), atol: 1e-5, rtol: 0)
        let one = try CLI.run(["similarity", "only one"])
        #expect(one.status == 1 && one.stderr.contains("at least two"))
    }

    @Test func searchSoftLookup() throws {
        let r = try CLI.run(["search", "--corpus", "Examples/corpus.txt", "--json", "--top", "3", "stock market crash"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try jsonLines(r.stdout)[0]
        let results = try #require(o["results"] as? [[String: Any]])
        #expect((results[0]["line"] as? String)?.contains("Stock markets") == true)
        let weights = flattenFloats(o["weights"])
        #expect(weights.count == 40)
        #expect(abs(weights.reduce(0, +) - 1) < 1e-5)
        let cos = results.compactMap { ($0["cosine"] as? NSNumber)?.floatValue }
        #expect(cos == cos.sorted(by: >))
        let missing = try CLI.run(["search", "--corpus", "/nonexistent.txt", "q"])
        #expect(missing.status == 1 && missing.stderr.contains("no such file"))
        let temp = try CLI.run(["search", "--corpus", "Examples/corpus.txt", "--temperature", "0", "q"])
        #expect(temp.status == 1 && temp.stderr.contains("temperature"))
    }

    @Test func neighborsArithmetic() throws {
        let r = try CLI.run(["neighbors", "king - man + woman", "--top", "3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try jsonLines(r.stdout)[0]
        let tokens = (o["neighbors"] as? [[String: Any]])?.compactMap { $0["token"] as? String } ?? []
        #expect(tokens.contains("queen"), "\(tokens)")
        #expect(!tokens.contains("king"))
        let bad = try CLI.run(["neighbors", "king - - man"])
        #expect(bad.status == 1 && !bad.crashed)
    }
}

@Suite("attend models and model errors")
struct ModelErrorTests {
    @Test func unknownAndBrokenModels() throws {
        let unknown = try CLI.run(["embed", "--model", "no-such-model", "hello"])
        #expect(unknown.status == 1 && unknown.stderr.contains("attend models install"), "\(unknown.stderr)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let empty = try CLI.run(["tokenize", "--model", dir.path, "hello"])
        #expect(empty.status == 1 && !empty.crashed)
        #expect(empty.stderr.contains("config.json") || empty.stderr.contains("tokenizer"), "\(empty.stderr)")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("attend-home-\(UUID().uuidString)")
        let notInstalled = try CLI.run(["models", "path", "all-MiniLM-L6-v2"], env: ["ATTEND_HOME": home.path])
        #expect(notInstalled.status == 1 && notInstalled.stderr.contains("attend models install all-MiniLM-L6-v2"), "\(notInstalled.stderr)")
        let list = try CLI.run(["models", "list", "--json"], env: ["ATTEND_HOME": home.path])
        #expect(list.status == 0 && list.stdout.contains("\"installed\":false"), "\(list.stdout)")
    }
}

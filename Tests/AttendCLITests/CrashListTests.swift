// The crash list of issue #17 (a black-box mutation run of the CLI): each input runs through the built `attend`
// binary and must give one line on stderr naming the file and field, a non-zero exit and no signal.
import AttendTestSupport
import Foundation
import Testing

@Suite("Crash list (issue #17)") struct CrashListTests {
    /// A model folder of symlinks to `source`'s files with `config.json` (and optionally more files) replaced.
    static func folder(from source: URL, replacing files: [String: String]) throws -> URL {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("attend-crash-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        for item in try fm.contentsOfDirectory(atPath: source.path) where files[item] == nil {
            try fm.createSymbolicLink(at: dir.appendingPathComponent(item), withDestinationURL: source.appendingPathComponent(item))
        }
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    /// `oneLine: false` for option validation, where ArgumentParser adds the usage after the error line.
    static func expectCleanFailure(_ r: CLIResult, mentions parts: [String], oneLine: Bool = true,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!r.crashed, "attend crashed: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.status != 0, sourceLocation: sourceLocation)
        let line = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!oneLine || !line.contains("\n"), "more than one line on stderr: \(line)", sourceLocation: sourceLocation)
        for part in parts { #expect(line.contains(part), "\(part) not in: \(line)", sourceLocation: sourceLocation) }
        for swiftism in ["Index ", "DecodingError", "Dictionary<String", "Expected to decode"] {
            #expect(!line.contains(swiftism), "Swift internals in: \(line)", sourceLocation: sourceLocation)
        }
    }

    static let bertConfig: [String: Any] = [
        "model_type": "bert", "hidden_size": 384, "intermediate_size": 1536, "num_hidden_layers": 6,
        "num_attention_heads": 12, "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2,
        "layer_norm_eps": 1e-12, "hidden_act": "gelu", "pad_token_id": 0,
    ]

    static func json(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("BERT config sizes of 2^31, 2^62 and 2^63−1 are refused naming config.json and the field",
          .enabled(if: modelTestsEnabled()))
    func hugeBertSizes() throws {
        let minilm = installedModelFolder("all-MiniLM-L6-v2")
        for field in ["hidden_size", "intermediate_size", "max_position_embeddings", "num_hidden_layers", "vocab_size"] {
            for value in [1 << 31, 1 << 62, Int.max] {
                var config = Self.bertConfig
                config[field] = value
                let dir = try Self.folder(from: minilm, replacing: ["config.json": try Self.json(config)])
                let r = try CLI.run(["embed", "--model", dir.path, "hello"])
                Self.expectCleanFailure(r, mentions: ["config.json", field])
            }
        }
    }

    @Test("sentence_bert_config.json max_seq_length of −2^63 is refused naming the file",
          .enabled(if: modelTestsEnabled()))
    func negativeMaxSeqLength() throws {
        let minilm = installedModelFolder("all-MiniLM-L6-v2")
        let dir = try Self.folder(from: minilm, replacing: ["sentence_bert_config.json": #"{"max_seq_length": -9223372036854775808}"#])
        let r = try CLI.run(["embed", "--model", dir.path, "hello"])
        Self.expectCleanFailure(r, mentions: ["sentence_bert_config.json", "max_seq_length"])
    }

    @Test("A demo GPT whose training provenance names a head the model lacks fails cleanly in attend generate")
    func gptInductionHead() throws {
        let demo = packageRoot.appendingPathComponent("Sources/AttendModels/Resources/tiny-gpt-induction")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: demo.appendingPathComponent("config.json"))) as? [String: Any])
        var training = config["training"] as? [String: Any] ?? [:]
        for bad in ["99", "-5", "x", "9223372036854775807"] {
            training["induction_head"] = bad
            config["training"] = training
            let dir = try Self.folder(from: demo, replacing: ["config.json": try Self.json(config)])
            let r = try CLI.run(["generate", "--model", dir.path, "--explain"])
            #expect(!r.crashed, "attend generate crashed on induction_head \(bad): \(r.stderr)")
        }
        training["induction_head"] = 99
        config["training"] = training
        let dir = try Self.folder(from: demo, replacing: ["config.json": try Self.json(config)])
        let r = try CLI.run(["generate", "--model", dir.path])
        #expect(!r.crashed, "attend generate crashed on a number where a string is expected: \(r.stderr)")
    }

    @Test("attend translate --evaluate beyond the held-out set is refused at once")
    func evaluateBounds() throws {
        for value in ["9223372036854775807", "2001"] {
            let r = try CLI.run(["translate", "--evaluate", value])
            Self.expectCleanFailure(r, mentions: ["--evaluate", "2000"], oneLine: false)
        }
    }

    @Test("attend attention refuses a 2000×2000 × 8-head input before computing it")
    func attentionBound() throws {
        let row = "[" + Array(repeating: "0.5", count: 64).joined(separator: ",") + "]"
        let matrix = "[" + Array(repeating: row, count: 2000).joined(separator: ",") + "]"
        let path = try CLI.tempFile(#"{"q": \#(matrix), "k": \#(matrix), "v": \#(matrix), "heads": 8, "mask": "causal"}"#)
        let r = try CLI.run(["attention", path, "--json"])
        Self.expectCleanFailure(r, mentions: [path, "32000000 attention scores", "1048576"])
    }

    @Test("A translator vocab.json with 100,000 extra entries gets its error without quadratic work")
    func hugeTranslatorVocab() throws {
        let demo = packageRoot.appendingPathComponent("Sources/AttendModels/Resources/tiny-translator")
        let vocab = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: demo.appendingPathComponent("vocab.json"))) as? [String: [String]])
        var bigger = vocab
        bigger["target"] = (vocab["target"] ?? []) + (0..<100_000).map { "w\($0)" }
        let dir = try Self.folder(from: demo, replacing: ["vocab.json": try Self.json(bigger)])
        let r = try CLI.run(["translate", "--model", dir.path, "the cat"])
        Self.expectCleanFailure(r, mentions: ["vocab"])
    }

    @Test("config.json messages name the file and the field as a user writes it")
    func configMessages() throws {
        let demo = packageRoot.appendingPathComponent("Sources/AttendModels/Resources/tiny-translator")
        let top = try Self.folder(from: demo, replacing: ["config.json": "[1, 2]"])
        Self.expectCleanFailure(try CLI.run(["translate", "--model", top.path, "the cat"]),
                                mentions: ["config.json", "the top level", "expected an object"])
        let vocab = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: demo.appendingPathComponent("vocab.json"))) as? [String: [String]])
        var broken: [String: Any] = vocab
        var target: [Any] = vocab["target"] ?? []
        target[7] = 5
        broken["target"] = target
        let index = try Self.folder(from: demo, replacing: ["vocab.json": try Self.json(broken)])
        Self.expectCleanFailure(try CLI.run(["translate", "--model", index.path, "the cat"]),
                                mentions: ["vocab.json", "\"target[7]\"", "expected a string"])
    }

    @Test("search --corpus on a directory says it is a directory; --out \"\" says the name is empty")
    func pathMessages() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let r = try CLI.run(["search", "cat", "--corpus", dir])
        Self.expectCleanFailure(r, mentions: [dir, "is a directory"])
        let out = try CLI.run(["explain", "The cat sat", "--format", "svg", "--out", ""])
        Self.expectCleanFailure(out, mentions: ["--out", "empty"])
    }
}

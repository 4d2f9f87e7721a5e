// Loader fixes from issue #17: vocabularies build in linear time with the same ids as before; config decoding
// errors name fields as a user writes them.
import AttendModels
import Foundation
import Testing

@Suite("Loader robustness") struct LoaderRobustnessTests {
    @Test("WordVocabulary keeps the first occurrence of each word, after the four specials")
    func vocabularyDeduplicates() {
        let v = WordVocabulary(words: ["b", "a", "b", "<unk>", "c", "a"])
        #expect(v.tokens == ["<pad>", "<bos>", "<eos>", "<unk>", "b", "a", "c"])
        #expect(v.id("b") == 4 && v.id("a") == 5 && v.id("c") == 6 && v.id("<unk>") == 3)
        let big = WordVocabulary(words: (0..<100_000).map { "w\($0 % 60_000)" })
        #expect(big.count == 60_004)
        #expect(big.id("w59999") == 60_003)
    }

    @Test("readJSON names list positions as [i], the top level as such, and the type expected")
    func decodingMessages() throws {
        struct Shape: Decodable { var target: [String]; var size: Int }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-msg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("vocab.json")
        let cases: [(String, String)] = [
            ("[1]", "wrong type at the top level: expected an object"),
            (#"{"target": ["a", 3], "size": 1}"#, #"wrong type at "target[1]": expected a string"#),
            (#"{"target": [], "size": "9"}"#, #"wrong type at "size": expected a whole number"#),
            (#"{"target": []}"#, #"missing key "size""#),
        ]
        let cases2 = cases + [("", "the file is empty, expected a JSON object"),   // Fuzz/regressions/model_config/empty-config
                              (String(repeating: "[", count: 513), "arrays and objects nested deeper than 512 levels")]   // …/nesting-513
        for (text, message) in cases2 {
            try Data(text.utf8).write(to: url)
            do {
                _ = try ModelFolder.readJSON(Shape.self, from: url)
                Issue.record("\(text) was accepted")
            } catch let ModelError.invalidConfig(file, reason) {
                #expect(file == url.path)
                #expect(reason.hasPrefix(message), "\(reason)")
                #expect(!reason.contains("Index "))
            }
        }
    }

    /// Fuzz/regressions/model_config/tiny-gpt-oversized: a tiny-gpt config asking for far more parameters than its
    /// weights hold was built (and randomly initialised, 12 s in a debug build) before the shapes were compared.
    @Test("A TinyGPT config larger than its weights is refused from the safetensors header, naming the fields")
    func tinyGPTConfigLargerThanWeights() throws {
        let demo = try #require(DemoModels.folder(DemoModels.inductionGPT))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-gpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: demo.appendingPathComponent("model.safetensors"), to: dir.appendingPathComponent("model.safetensors"))
        let base = try JSONSerialization.jsonObject(with: Data(contentsOf: demo.appendingPathComponent("config.json"))) as! [String: Any]
        for (changes, needle) in [(["vocab_size": 30527, "hidden_size": 536, "num_heads": 4], "vocab_size 30527 and hidden_size 536"),
                                  (["num_layers": 4000, "intermediate_size": 4096], "need at least")] as [([String: Int], String)] {
            var config = base
            for (k, v) in changes { config[k] = v }
            try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
            do {
                _ = try TinyGPT.load(folder: dir)
                Issue.record("\(changes) was accepted")
            } catch let ModelError.invalidConfig(file, reason) {
                #expect(file.hasSuffix("config.json"))
                #expect(reason.contains(needle), "\(reason)")
            }
        }
    }

    /// Fuzz/regressions/model_config/tiny-translator-oversized (session 8's campaign): a translator config of d_model
    /// 968, 7 encoder layers and ffn_dim 656 over the demo's weights was built and initialised (19–25 s in the fuzz
    /// build) before the weights refused it; a position table of 2^24 rows was computed at load.
    @Test("A translator config larger than its weights, or with a huge position table, is refused before building")
    func translatorConfigLargerThanWeights() throws {
        let demo = try #require(DemoModels.folder(DemoModels.translator))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-tr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in ["model.safetensors", "vocab.json"] {
            try FileManager.default.copyItem(at: demo.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        let base = try JSONSerialization.jsonObject(with: Data(contentsOf: demo.appendingPathComponent("config.json"))) as! [String: Any]
        let d = try #require(base["d_model"] as? Int)
        let cases: [([String: Int], String)] = [
            (["d_model": 968, "encoder_layers": 7, "ffn_dim": 656], "source_vocab_size 420 and d_model 968 disagree with model.safetensors"),
            (["encoder_layers": 40], "encoder_layers is 40, but model.safetensors holds 2 such layers"),
            (["decoder_layers": 3], "decoder_layers is 3, but model.safetensors holds 2 such layers"),
            (["ffn_dim": 4096], "ffn_dim 4096 and d_model \(d) disagree with model.safetensors"),
            (["max_position_embeddings": (1 << 24) / d + 1], "values of the sinusoidal position table computed at load"),
        ]
        for (changes, needle) in cases {
            var config = base
            for (k, v) in changes { config[k] = v }
            try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
            do {
                _ = try TinyTranslator.load(folder: dir)
                Issue.record("\(changes) was accepted")
            } catch let ModelError.invalidConfig(file, reason) {
                #expect(file.hasSuffix("config.json"))
                #expect(reason.contains(needle), "\(reason)")
            }
        }
        // The demo's own config still loads.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: demo.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        #expect(try TinyTranslator.load(folder: dir).config.dModel == d)
    }
}

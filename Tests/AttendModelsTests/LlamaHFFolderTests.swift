import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels
import AttendNN

/// The tiny random Llama folders and reference outputs made with transformers by
/// `Tests/Fixtures/llama-hf/make_tiny_llama.py` (float16 untied, bfloat16 tied and sharded).
enum TinyLlamaFixture {
    static let root = packageRoot.appendingPathComponent("Tests/Fixtures/llama-hf")
    static let names = ["tiny-untied-f16", "tiny-tied-bf16"]

    static let fixture: [String: Any]? = {
        guard let data = try? Data(contentsOf: root.appendingPathComponent("tiny-llama-fixtures.json")) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }()

    static func folder(_ name: String) -> URL { root.appendingPathComponent(name) }

    static func prompts(_ name: String) throws -> [[String: Any]] {
        let models = try #require(fixture?["models"] as? [String: Any], "Tests/Fixtures/llama-hf/tiny-llama-fixtures.json is missing")
        return try #require((models[name] as? [String: Any])?["prompts"] as? [[String: Any]])
    }

    /// Checks `model` against the fixture of `name`: input ids, logits within 1e-4, attention within 1e-5, the same
    /// 16 greedy tokens. Returns the largest logit and attention differences.
    @discardableResult
    static func expectMatches(_ model: LlamaModel, _ name: String) throws -> (logits: Float, attention: Float) {
        var worstLogit: Float = 0, worstAttention: Float = 0
        for p in try prompts(name) {
            let text = try #require(p["text"] as? String)
            let ids = try #require(p["input_ids"] as? [Int])
            #expect(model.tokenizer.encode(text) == ids, "\(name): ids of \(text.debugDescription)")
            let recorder = IntermediateRecorder { $0.hasSuffix(".weights") }
            let cache = LlamaCache(config: model.config)
            let logits = try model.forward(ids, cache: cache, observer: recorder).scalars             // [V]
            let want = flattenFloats(p["logits"])
            let c = closeness(logits, want, atol: 1e-4, rtol: 0)
            worstLogit = max(worstLogit, zip(logits, want).map { abs($0 - $1) }.max() ?? .infinity)
            #expect(want.count == model.config.vocabSize && c.ok, "\(name), \(ids.count) tokens: logits \(c)")
            let layers = try #require(p["attention"] as? [Any])                                        // [layer][head][query][key]
            let t = ids.count
            for (l, heads) in layers.enumerated() {
                let weights = try #require(recorder.values["L\(l).weights"])                           // [1, H, T, T]
                for (h, rows) in try #require(heads as? [Any]).enumerated() {
                    let rows = try #require(rows as? [Any])
                    for (r, row) in rows.enumerated() {
                        let q = t - rows.count + r
                        let got = Array(weights.scalars[((h * t + q) * t)..<((h * t + q + 1) * t)])
                        let expected = flattenFloats(row)
                        let c = closeness(got, expected, atol: 1e-5, rtol: 0)
                        worstAttention = max(worstAttention, zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity)
                        #expect(c.ok, "\(name), \(t) tokens: layer \(l) head \(h) query \(q): \(c)")
                    }
                }
            }
            var greedy = [SamplingOptions.argmax(logits)]
            while greedy.count < 16 { greedy.append(SamplingOptions.argmax(try model.forward([greedy[greedy.count - 1]], cache: cache).scalars)) }
            #expect(greedy == (p["greedy_ids"] as? [Int]), "\(name): greedy continuation of the \(t)-token prompt")
        }
        return (worstLogit, worstAttention)
    }

    /// A copy of `name`'s folder in a new temporary folder, its weights rewritten as one float32
    /// `model.safetensors` after `edit` (rename, drop or replace tensors).
    static func float32Copy(of name: String, edit: (inout [String: Tensor]) throws -> Void = { _ in }) throws -> URL {
        let source = folder(name)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-llama-hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var tensors: [String: Tensor] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path).sorted() {
            if file.hasSuffix(".safetensors") {
                let weights = try SafetensorsFile(url: source.appendingPathComponent(file))
                for n in weights.names { tensors[n] = try weights.tensor(n) }
            } else if !file.hasSuffix(".index.json") {
                try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: dir.appendingPathComponent(file))
            }
        }
        try edit(&tensors)
        try Safetensors.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }

    /// Rewrites `config.json` of `folder` through `edit` (a JSON object).
    static func editConfig(_ folder: URL, file: String = "config.json", _ edit: (inout [String: Any]) -> Void) throws {
        let url = folder.appendingPathComponent(file)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }
}

@Suite("Llama from a Hugging Face folder against transformers")
struct LlamaHFFolderTests {
    /// Both tiny models give transformers' logits, attention and greedy tokens (float16 single file, untied head;
    /// bfloat16 shards, tied head).
    @Test(arguments: TinyLlamaFixture.names)
    func matchesTransformers(_ name: String) throws {
        let model = try LlamaModel.load(TinyLlamaFixture.folder(name))
        #expect(model.path == .reference)
        #expect((model.lmHead == nil) == name.hasPrefix("tiny-tied"))
        let worst = try TinyLlamaFixture.expectMatches(model, name)
        print("\(name) vs transformers: largest logit difference \(worst.logits), largest attention difference \(worst.attention)")
    }

    /// The same weights written as float32 in one file give the same numbers.
    @Test func float32WeightsMatch() throws {
        let dir = try TinyLlamaFixture.float32Copy(of: "tiny-tied-bf16")
        defer { try? FileManager.default.removeItem(at: dir) }
        try TinyLlamaFixture.expectMatches(try LlamaModel.load(dir), "tiny-tied-bf16")
    }

    /// The config, tokenizer ids (BOS/EOS) and chat template read from the folder.
    @Test func configTokenizerAndTemplate() throws {
        let model = try LlamaModel.load(TinyLlamaFixture.folder("tiny-untied-f16"))
        #expect(model.config == LlamaConfig(vocabSize: 512, hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4,
                                            numKeyValueHeads: 2, ropeTheta: 10_000, rmsNormEps: 1e-5, contextLength: 256))
        #expect(model.tokenizer.eosTokenId == model.tokenizer.id(for: "<|im_end|>"))
        #expect(model.tokenizer.bosTokenId == model.tokenizer.id(for: "<|im_start|>"))
        let template = try #require(model.chatTemplate)
        let chat = try #require(try TinyLlamaFixture.prompts("tiny-untied-f16").first { $0["kind"] as? String == "chat" })
        #expect(template.render([ChatMessage(role: "user", content: "What is the capital of France?")]) == chat["text"] as? String)
        #expect(model.endOfTurnIds.contains(try #require(model.tokenizer.id(for: "<|im_end|>"))))
    }

    /// The tokenizer gives transformers' ids on hard text (code, whitespace runs, emoji, CJK, accents, specials),
    /// and decoding gives the text back.
    @Test func tokenizerMatchesTransformers() throws {
        let model = try LlamaModel.load(TinyLlamaFixture.folder("tiny-tied-bf16"))
        let cases = try #require(TinyLlamaFixture.fixture?["tokenizer"] as? [[String: Any]])
        #expect(cases.count >= 10)
        for c in cases {
            let text = try #require(c["text"] as? String)
            let ids = model.tokenizer.encode(text)
            #expect(ids == (c["ids"] as? [Int]), "ids of \(text.debugDescription)")
            #expect(model.tokenizer.decode(ids) == text)
        }
    }

    /// The model seam and the command line's resolution take the folders (the sharded one has no model.safetensors).
    @Test func registryAndStoreAcceptFolders() throws {
        for name in TinyLlamaFixture.names {
            let folder = try ModelStore.resolve(TinyLlamaFixture.folder(name).path)
            #expect(LlamaModel.isHuggingFaceLanguageModel(folder))
            let loaded = try ModelRegistry.load(folder: folder)
            #expect(loaded.model is LlamaModel)
            #expect(loaded.model.family == "llama")
        }
    }
}

@Suite("Llama Hugging Face folders: bad input")
struct LlamaHFFolderErrorTests {
    /// The error message of loading `folder`, which must fail.
    func failure(_ folder: URL) -> String {
        do {
            _ = try LlamaModel.load(folder)
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    func expectFailure(_ message: String, contains parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for part in parts {
            #expect(message.contains(part), "\(message.debugDescription) should name \(part.debugDescription)", sourceLocation: sourceLocation)
        }
        #expect(!message.contains("\n"), "one line: \(message.debugDescription)", sourceLocation: sourceLocation)
    }

    func withCopy(_ edit: (inout [String: Tensor]) throws -> Void = { _ in }, config: ((inout [String: Any]) -> Void)? = nil,
                  _ body: (URL) throws -> Void) throws {
        let dir = try TinyLlamaFixture.float32Copy(of: "tiny-untied-f16", edit: edit)
        defer { try? FileManager.default.removeItem(at: dir) }
        if let config { try TinyLlamaFixture.editConfig(dir, config) }
        try body(dir)
    }

    @Test func missingConfigField() throws {
        try withCopy(config: { $0["hidden_size"] = nil }) {
            expectFailure(failure($0), contains: ["config.json", "hidden_size"])
        }
        try withCopy(config: { $0["num_hidden_layers"] = "two" }) {
            expectFailure(failure($0), contains: ["config.json", "num_hidden_layers"])
        }
    }

    @Test func unsupportedConfigs() throws {
        try withCopy(config: { $0["model_type"] = "mistral" }) { expectFailure(failure($0), contains: ["config.json", "model_type", "mistral"]) }
        try withCopy(config: { $0["architectures"] = ["LlamaForSequenceClassification"] }) {
            expectFailure(failure($0), contains: ["config.json", "architectures"])
        }
        try withCopy(config: { $0["rope_scaling"] = ["rope_type": "llama3", "factor": 8.0] }) {
            expectFailure(failure($0), contains: ["config.json", "rope_scaling", "llama3"])
        }
        try withCopy(config: { $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 10000.0] }) {
            expectFailure(failure($0), contains: ["config.json", "rope_parameters.rope_type", "yarn"])
        }
        try withCopy(config: { $0["head_dim"] = 32 }) { expectFailure(failure($0), contains: ["config.json", "head_dim"]) }
        try withCopy(config: { $0["num_key_value_heads"] = 3 }) {
            expectFailure(failure($0), contains: ["config.json", "num_key_value_heads"])
        }
        try withCopy(config: { $0["num_hidden_layers"] = 1 << 40 }) {
            expectFailure(failure($0), contains: ["config.json", "num_hidden_layers"])
        }
        try withCopy(config: { $0["attention_bias"] = true }) { expectFailure(failure($0), contains: ["config.json", "attention_bias"]) }
    }

    /// rope_theta at the top level (transformers 4) is read as rope_parameters.rope_theta (transformers 5) is.
    @Test func ropeThetaEitherPlace() throws {
        try withCopy(config: { $0["rope_parameters"] = nil; $0["rope_theta"] = 500_000.0 }) {
            let model = try LlamaModel.load($0)
            #expect(model.config.ropeTheta == 500_000)
        }
        try withCopy(config: { $0["rope_parameters"] = ["rope_type": "default", "rope_theta": 250_000.0] }) {
            let model = try LlamaModel.load($0)
            #expect(model.config.ropeTheta == 250_000)
        }
    }

    @Test func wrongShapeMissingAndExtraTensors() throws {
        try withCopy({ $0["model.layers.1.self_attn.k_proj.weight"] = try Tensor(shape: [16, 64], scalars: [Float](repeating: 0, count: 1024)) }) {
            expectFailure(failure($0), contains: ["model.safetensors", "model.layers.1.self_attn.k_proj.weight", "[32, 64]", "[16, 64]"])
        }
        try withCopy({ $0["model.layers.0.mlp.up_proj.weight"] = nil }) {
            expectFailure(failure($0), contains: ["model.safetensors", "model.layers.0.mlp.up_proj.weight"])
        }
        try withCopy({ $0["lm_head.weight"] = nil }) {
            expectFailure(failure($0), contains: ["lm_head.weight", "tie_word_embeddings"])
        }
        try withCopy({ $0["model.layers.0.self_attn.q_proj.bias"] = try Tensor(shape: [64], scalars: [Float](repeating: 0, count: 64)) }) {
            expectFailure(failure($0), contains: ["model.safetensors", "model.layers.0.self_attn.q_proj.bias"])
        }
        // vocab_size larger than the tensors: the embedding's shape is named.
        try withCopy(config: { $0["vocab_size"] = 600 }) {
            expectFailure(failure($0), contains: ["model.embed_tokens.weight", "[600, 64]", "[512, 64]"])
        }
        // vocab_size smaller than the tokenizer.
        try withCopy(config: { $0["vocab_size"] = 100 }) {
            expectFailure(failure($0), contains: ["config.json", "vocab_size", "tokenizer.json"])
        }
    }

    @Test func missingFiles() throws {
        try withCopy {
            try FileManager.default.removeItem(at: $0.appendingPathComponent("tokenizer.json"))
            expectFailure(failure($0), contains: ["tokenizer.json"])
        }
        try withCopy {
            try FileManager.default.removeItem(at: $0.appendingPathComponent("model.safetensors"))
            expectFailure(failure($0), contains: ["model.safetensors"])
        }
        try withCopy {
            try "{\"weight_map\": {\"model.norm.weight\": \"model-00009-of-00009.safetensors\"}}"
                .write(to: $0.appendingPathComponent("model.safetensors.index.json"), atomically: true, encoding: .utf8)
            try FileManager.default.removeItem(at: $0.appendingPathComponent("model.safetensors"))
            expectFailure(failure($0), contains: ["model.safetensors.index.json", "model-00009-of-00009.safetensors"])
        }
        try withCopy {
            try "{% for m in messages %}{{ m['content'] }}{% endfor %}".write(to: $0.appendingPathComponent("chat_template.jinja"), atomically: true, encoding: .utf8)
            expectFailure(failure($0), contains: ["chat_template.jinja", "ChatML"])
        }
        // The template in tokenizer_config.json (transformers 4's place for it) is read when there is no .jinja file.
        try withCopy {
            let jinja = $0.appendingPathComponent("chat_template.jinja")
            let text = try String(contentsOf: jinja, encoding: .utf8)
            try FileManager.default.removeItem(at: jinja)
            try TinyLlamaFixture.editConfig($0, file: "tokenizer_config.json") { $0["chat_template"] = text }
            let model = try LlamaModel.load($0)
            #expect(model.chatTemplate?.source == text)
            #expect(model.chatTemplate?.defaultSystemMessage == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        }
        // No chat template anywhere: the model loads without one.
        try withCopy {
            try FileManager.default.removeItem(at: $0.appendingPathComponent("chat_template.jinja"))
            let model = try LlamaModel.load($0)
            #expect(model.chatTemplate == nil)
        }
    }
}

/// The real model, not on CI: a folder written from the installed GGUF by `Tests/Fixtures/llama-hf/gguf_to_hf.py`
/// (transformers' float32 dequantization, 540 MB), named by `ATTEND_LLAMA_HF_FOLDER`, gives the GGUF reference
/// path's config, ids, chat prompt and logits.
@Suite("SmolLM2 from a Hugging Face folder against its GGUF reference path", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["ATTEND_LLAMA_HF_FOLDER"] != nil && SmolLM2Fixture.enabled,
                "set ATTEND_LLAMA_HF_FOLDER to a folder written by Tests/Fixtures/llama-hf/gguf_to_hf.py"))
struct LlamaHFRealFolderTests {
    @Test func equalsTheGGUFReferencePath() throws {
        let path = try #require(ProcessInfo.processInfo.environment["ATTEND_LLAMA_HF_FOLDER"])
        let hf = try LlamaModel.load(URL(fileURLWithPath: path))
        let gguf = try SmolLM2Fixture.model(.reference)
        #expect(hf.config == gguf.config)
        let hfTemplate = try #require(hf.chatTemplate), ggufTemplate = try #require(gguf.chatTemplate)
        let messages = [ChatMessage(role: "user", content: "What is 2+2?")]
        #expect(hfTemplate.render(messages) == ggufTemplate.render(messages))
        var worst: Float = 0
        for text in ["The capital of France is", ggufTemplate.render(messages)] {
            let ids = gguf.tokenizer.encode(text)
            #expect(hf.tokenizer.encode(text) == ids)
            let a = try hf.forward(ids, cache: LlamaCache(config: hf.config)).scalars                // [V]
            let b = try gguf.forward(ids, cache: LlamaCache(config: gguf.config)).scalars            // [V]
            let c = closeness(a, b, atol: 1e-4, rtol: 0)
            worst = max(worst, zip(a, b).map { abs($0 - $1) }.max() ?? .infinity)
            #expect(c.ok, "\(ids.count) tokens: \(c)")
            #expect(SamplingOptions.argmax(a) == SamplingOptions.argmax(b))
        }
        print("SmolLM2 HF folder vs GGUF reference path: largest logit difference \(worst)")
    }
}

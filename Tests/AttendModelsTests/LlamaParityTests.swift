import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels
import AttendNN

/// SmolLM2-135M-Instruct (installed with `attend models install smollm2-135m`) and the fixtures made with
/// transformers by `Tests/Fixtures/smollm2/make_fixtures.py`; both weight paths are loaded once per test process.
enum SmolLM2Fixture {
    static let name = "smollm2-135m"
    static let gguf = installedModelFolder(name).appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")

    /// On CI always (a missing model fails there); elsewhere when the GGUF is installed.
    static var enabled: Bool { isCI || FileManager.default.fileExists(atPath: gguf.path) }

    static let fixture: [String: Any]? = {
        let url = packageRoot.appendingPathComponent("Tests/Fixtures/smollm2/smollm2-fixtures.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }()

    static func prompts() throws -> [[String: Any]] {
        try #require(fixture?["prompts"] as? [[String: Any]], "Tests/Fixtures/smollm2/smollm2-fixtures.json is missing")
    }

    private static let reference = Result { try LlamaModel.load(gguf, path: .reference) }
    private static let quantized = Result { try LlamaModel.load(gguf, path: .quantized) }

    static func model(_ path: LlamaWeightPath) throws -> LlamaModel {
        do { return try (path == .reference ? reference : quantized).get() } catch {
            throw MissingModel(description: "\(name) is not usable (\(error)); install it with `swift run attend models install \(name)`")
        }
    }

    struct MissingModel: Error, CustomStringConvertible { var description: String }

    /// The conversations the fixture's chat prompts were made from (as in make_fixtures.py).
    static let conversations: [[ChatMessage]] = [
        [ChatMessage(role: "user", content: "What is the capital of France?")],
        [ChatMessage(role: "user", content: "I have two cats called Miso and Tofu. They love sleeping on the radiator."),
         ChatMessage(role: "assistant", content: "They sound adorable! Cats do love warm places."),
         ChatMessage(role: "user", content: "What did I say about cats earlier?")],
    ]

    /// Runs `ids` in one pass, recording the fixture's attention maps; returns the last position's logits and the
    /// cache (which holds `ids`), so a greedy continuation can go on from it without a second prefill.
    static func run(_ model: LlamaModel, _ ids: [Int]) throws -> (logits: [Float], recorder: IntermediateRecorder, cache: LlamaCache) {
        let layers = Set(((fixture?["meta"] as? [String: Any])?["layers"] as? [Int] ?? []).map { "L\($0).weights" })
        let recorder = IntermediateRecorder { layers.contains($0) }
        let cache = LlamaCache(config: model.config)
        let logits = try model.forward(ids, cache: cache, observer: recorder)
        return (logits.scalars, recorder, cache)
    }

    /// `count` greedy tokens from the logits of a prefilled cache (no stop on end of turn, as the fixture).
    static func greedy(_ model: LlamaModel, first logits: [Float], cache: LlamaCache, count: Int) throws -> [Int] {
        var tokens = [SamplingOptions.argmax(logits)]
        while tokens.count < count {
            tokens.append(SamplingOptions.argmax(try model.forward([tokens.last!], cache: cache).scalars))
        }
        return tokens
    }
}

@Suite("SmolLM2 (Llama) against transformers", .serialized, .enabled(if: SmolLM2Fixture.enabled, "install with `attend models install smollm2-135m`"))
struct LlamaParityTests {
    /// The config read from the GGUF metadata is the model's (issue 12's facts).
    @Test func configFromMetadata() throws {
        let c = try SmolLM2Fixture.model(.quantized).config
        #expect(c == LlamaConfig(vocabSize: 49_152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9,
                                 numKeyValueHeads: 3, ropeTheta: 100_000, rmsNormEps: 1e-5, contextLength: 8192))
    }

    /// The tokenizer gives transformers' ids and the chat template its text, on every fixture prompt.
    @Test func tokenizerAndChatTemplateMatch() throws {
        let model = try SmolLM2Fixture.model(.quantized)
        let template = try #require(model.chatTemplate)
        var chatIndex = 0
        for p in try SmolLM2Fixture.prompts() {
            let text = try #require(p["text"] as? String)
            if p["kind"] as? String == "chat" {
                try #require(chatIndex < SmolLM2Fixture.conversations.count)
                #expect(template.render(SmolLM2Fixture.conversations[chatIndex]) == text)
                chatIndex += 1
            }
            #expect(model.tokenizer.encode(text) == (p["input_ids"] as? [Int]))
        }
        #expect(template.defaultSystemMessage == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }

    /// Reference path: last-position logits within 1e-3 (top 64, strided, log-sum-exp), attention within 1e-4,
    /// the same greedy 24 tokens.
    @Test func referencePathEqualsTransformers() throws {
        let model = try SmolLM2Fixture.model(.reference)
        var worstLogit: Float = 0, worstAttention: Float = 0
        for p in try SmolLM2Fixture.prompts() {
            let ids = try #require(p["input_ids"] as? [Int])
            let (logits, recorder, cache) = try SmolLM2Fixture.run(model, ids)
            for pair in try #require(p["top_logits"] as? [[Any]]) {
                let (id, want) = (try #require(pair[0] as? Int), try #require((pair[1] as? NSNumber)?.floatValue))
                worstLogit = max(worstLogit, abs(logits[id] - want))
                #expect(abs(logits[id] - want) <= 1e-3, "prompt of \(ids.count) tokens: logit of \(id) is \(logits[id]), expected \(want)")
            }
            let strided = flattenFloats(p["strided_logits"])
            for (i, want) in strided.enumerated() {
                worstLogit = max(worstLogit, abs(logits[i * 97] - want))
                #expect(abs(logits[i * 97] - want) <= 1e-3, "prompt of \(ids.count) tokens: logit of \(i * 97)")
            }
            let m = logits.max()!
            let lse = Double(m) + log(logits.reduce(0.0) { $0 + exp(Double($1 - m)) })
            #expect(abs(Float(lse) - ((p["logsumexp"] as? NSNumber)?.floatValue ?? .nan)) <= 1e-3)
            // Attention of layers 0/14/29, heads 0/4/8: all rows, or the last 4 for long prompts.
            let maps = try #require(p["attention"] as? [String: Any])
            for (key, rows) in maps {
                let parts = key.split(separator: ".").compactMap { Int($0) }
                let weights = try #require(recorder.values["L\(parts[0]).weights"])                      // [1, H, T, T]
                let (t, h) = (ids.count, parts[1])
                let want = try #require(rows as? [[Any]])
                for (r, row) in want.enumerated() {
                    let q = t - want.count + r
                    let got = Array(weights.scalars[((h * t + q) * t)..<((h * t + q + 1) * t)])
                    let c = closeness(got, flattenFloats(row), atol: 1e-4, rtol: 0)
                    worstAttention = max(worstAttention, zip(got, flattenFloats(row)).map { abs($0 - $1) }.max() ?? 0)
                    #expect(c.ok, "layer \(parts[0]) head \(h) query \(q) of \(t): \(c)")
                }
            }
            let greedy = try SmolLM2Fixture.greedy(model, first: logits, cache: cache, count: 24)
            #expect(greedy == (p["greedy_ids"] as? [Int]), "greedy continuation of the \(ids.count)-token prompt")
        }
        print("SmolLM2 reference path vs transformers: largest logit difference \(worstLogit), largest attention difference \(worstAttention)")
    }

    /// Quantized path, with each activation scheme: the same greedy tokens as the reference path (the fixture's,
    /// which the reference path reproduces), or a difference only where the reference's top two logits are within
    /// 0.05 (issue 12's bar, for fp32 and int16 activations) or 0.35 (int8 activations: llama.cpp's scheme, which fails the
    /// 0.05 bar the same way: llama-cpp-python 0.3 on this GGUF leaves transformers' greedy tokens at the same steps,
    /// step 11 of the 1-token prompt and step 0 of the 37-token one, where the margins are 0.29 and 0.08); reports
    /// top-1 agreement and the largest logit difference from transformers. (Prompts up to 100 tokens: the
    /// 762-token one costs minutes in a debug build.)
    @Test(arguments: LlamaActivations.allCases)
    func quantizedPathFollowsTheReference(_ activations: LlamaActivations) throws {
        let fast = try SmolLM2Fixture.model(.quantized).with(activations: activations)
        #expect(fast.activations == activations)
        var agree = 0, steps = 0
        var worst: Float = 0
        for p in try SmolLM2Fixture.prompts() {
            let ids = try #require(p["input_ids"] as? [Int])
            guard ids.count <= 100 else { continue }
            let cache = LlamaCache(config: fast.config)
            let logits = try fast.forward(ids, cache: cache).scalars                                  // [V]
            for pair in try #require(p["top_logits"] as? [[Any]]) {
                let (id, want) = (try #require(pair[0] as? Int), try #require((pair[1] as? NSNumber)?.floatValue))
                worst = max(worst, abs(logits[id] - want))
            }
            for (i, want) in flattenFloats(p["strided_logits"]).enumerated() { worst = max(worst, abs(logits[i * 97] - want)) }
            let greedy = try SmolLM2Fixture.greedy(fast, first: logits, cache: cache, count: 24)
            let want = try #require(p["greedy_ids"] as? [Int])
            let same = zip(greedy, want).prefix { $0 == $1 }.count
            agree += same
            steps += min(same + 1, want.count)
            if same < want.count {
                // The first difference: allowed only where the reference path's top two logits are within 0.05.
                let reference = try SmolLM2Fixture.model(.reference)
                let r = try reference.forward(ids + want[..<same], cache: LlamaCache(config: reference.config)).scalars
                let margin = r[want[same]] - r[greedy[same]]
                #expect(margin <= (activations == .int8 ? 0.35 : 0.05), "\(activations) activations, prompt of \(ids.count) tokens, step \(same): quantized path picked \(greedy[same]), reference \(want[same]) by \(margin)")
            }
        }
        print("SmolLM2 quantized path, \(activations) activations: top-1 agreement with the reference path \(agree)/\(steps) greedy steps, largest last-position logit difference from transformers \(worst)")
    }

    /// The int8 activations take effect in decoding (one-token steps) where the CPU has the kernels, and stay
    /// near the float32 activations: the same top token, every decode-step logit within 1.5 (the 8-bit rounding
    /// of each block, `|x − d·q| ≤ d/2`, is coarse where a block holds an outlier, through 30 layers; 1.03 measured
    /// here, and llama.cpp's logits on the fixture prompts are up to 1.52 from transformers'). The prefill's
    /// products (more than 16 rows) are float32 in both.
    @Test func int8ActivationsStayCloseToFloat32() throws {
        let int8 = try SmolLM2Fixture.model(.quantized).with(activations: .int8)
        let fp32 = int8.with(activations: .fp32)
        let prompt = int8.tokenizer.encode("The capital of France is Paris. The capital of Germany is")   // > 1 token
        let (c8, c32) = (LlamaCache(config: int8.config), LlamaCache(config: fp32.config))
        var (l8, l32) = (try int8.forward(prompt, cache: c8).scalars, try fp32.forward(prompt, cache: c32).scalars)   // [V]
        var largest: Float = 0
        for step in 0..<4 {
            let next = SamplingOptions.argmax(l32)
            (l8, l32) = (try int8.forward([next], cache: c8).scalars, try fp32.forward([next], cache: c32).scalars)  // [V]
            let c = closeness(l8, l32, atol: 1.5, rtol: 0)
            #expect(c.ok, "decode step \(step): \(c)")
            #expect(SamplingOptions.argmax(l8) == SamplingOptions.argmax(l32), "decode step \(step)")
            largest = max(largest, zip(l8, l32).map { abs($0 - $1) }.max() ?? 0)
        }
        if Kernels.int8ActivationsAvailable {
            #expect(largest > 0, "int8 activations gave the float32 logits bit for bit: the int8 kernels did not run")
        } else {
            #expect(largest == 0, "no int8 kernel on this CPU, so both schemes should be the float32 path")
        }
        print("SmolLM2 decode, int8 vs fp32 activations (int8 kernels \(Kernels.int8ActivationsAvailable ? "on" : "absent")): largest logit difference \(largest)")
    }

    /// Decoding on the key/value cache gives the logits of recomputing the whole sequence.
    @Test func cachedDecodingEqualsRecomputation() throws {
        let model = try SmolLM2Fixture.model(.quantized)
        let prompt = model.tokenizer.encode("The cat sat on the")
        let run = try model.generate(prompt: prompt, options: GenerationOptions(maxTokens: 6, stopOnEndOfTurn: false))
        let cache = LlamaCache(config: model.config)
        var cached = try model.forward(prompt, cache: cache).scalars
        for (i, next) in run.outputIds.enumerated() {
            let full = try model.forward(prompt + run.outputIds[..<i], cache: LlamaCache(config: model.config)).scalars
            let c = closeness(cached, full, atol: 1e-3, rtol: 1e-4)
            #expect(c.ok, "step \(i): \(c)")
            #expect(SamplingOptions.argmax(full) == next)
            cached = try model.forward([next], cache: cache).scalars
        }
        #expect(cache.count == prompt.count + run.outputIds.count)
    }
}

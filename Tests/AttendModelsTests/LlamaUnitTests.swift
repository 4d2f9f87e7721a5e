import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels
import AttendNN

/// The Llama family's pieces that need no model file: chat template, row un-permutation, sampler, stop strings, config bounds.
@Suite("Llama pieces")
struct LlamaUnitTests {
    /// SmolLM2's `tokenizer.chat_template`, as stored in its GGUF file.
    static let smolTemplate = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

    @Test func chatMLWithDefaultSystemMessage() throws {
        let t = try ChatTemplate(source: Self.smolTemplate)
        #expect(t.defaultSystemMessage == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        #expect(t.render([ChatMessage(role: "user", content: "Hi")]) ==
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        // A system message of one's own replaces the default.
        #expect(t.render([ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: false) ==
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
        // Escaped newlines in the literals read the same.
        let escaped = try ChatTemplate(source: Self.smolTemplate.replacingOccurrences(of: "\n", with: "\\n"))
        #expect(escaped.defaultSystemMessage == t.defaultSystemMessage)
    }

    @Test func otherTemplatesAreAClearError() {
        #expect(throws: ModelError.self) { try ChatTemplate(source: "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}") }
    }

    /// transformers' `_reverse_permute_weights`: row (h, half, i) of the result is GGUF row h·d + 2i + half.
    @Test func unpermutedRowsUndoLlamaCppsPermutation() {
        #expect(LlamaModel.unpermutedRows(rows: 8, heads: 2) == [0, 2, 1, 3, 4, 6, 5, 7])
        // llama.cpp's permute, applied to 0..<n, then un-permuted, is the identity.
        for (rows, heads) in [(8, 1), (12, 3), (64 * 3, 3)] {
            let d = rows / heads
            let permuted = (0..<rows).map { r -> Int in       // GGUF row r holds HF row: (h, i, half) ← (h, half, i)
                let (h, rest) = (r / d, r % d)
                return h * d + (rest % 2) * (d / 2) + rest / 2
            }
            #expect(LlamaModel.unpermutedRows(rows: rows, heads: heads).map { permuted[$0] } == Array(0..<rows))
        }
    }

    @Test func samplerIsGreedyAtZeroAndSeededOtherwise() {
        let logits: [Float] = [0.1, 2.0, 1.9, -1, 0.5]
        var rng = SeededRNG(seed: 1)
        #expect(SamplingOptions().pick(logits, rng: &rng) == 1)
        let warm = SamplingOptions(temperature: 1, seed: 5)
        func draws(_ s: SamplingOptions) -> [Int] { var r = SeededRNG(seed: s.seed); return (0..<50).map { _ in s.pick(logits, rng: &r) } }
        #expect(draws(warm) == draws(warm))
        #expect(Set(draws(SamplingOptions(temperature: 1, topK: 2, seed: 3))).isSubset(of: [1, 2]))
        // top-p 0.5: 2.0 alone has p ≈ 0.41 < 0.5, so 1.9 joins; nothing else.
        #expect(Set(draws(SamplingOptions(temperature: 1, topP: 0.5, seed: 3))) == [1, 2])
    }

    @Test func stopStringPrefixesAreHeldBack() {
        #expect(LlamaModel.pendingStopPrefix("Hello wor", ["world"]) == 3)
        #expect(LlamaModel.pendingStopPrefix("Hello", ["world"]) == 0)
        #expect(LlamaModel.pendingStopPrefix("a\n", ["\n\n", "xyz"]) == 1)
    }

    @Test func configBoundsNameTheKey() {
        var c = LlamaConfig(vocabSize: 49_152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9,
                            numKeyValueHeads: 3, ropeTheta: 100_000, rmsNormEps: 1e-5, contextLength: 8192)
        #expect(throws: Never.self) { try c.validate(source: "m.gguf") }
        c.numKeyValueHeads = 4
        #expect(throws: ModelError.invalidConfig("m.gguf", "llama.attention.head_count 9 must be divisible by llama.attention.head_count_kv 4")) {
            try c.validate(source: "m.gguf")
        }
        c.numKeyValueHeads = 3
        c.numLayers = 1 << 40
        #expect(throws: ModelError.self) { try c.validate(source: "m.gguf") }
    }
}

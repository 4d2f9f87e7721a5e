import AttendTestSupport
import Foundation
import Testing
@testable import AttendTensor

/// The installed SmolLM2 GGUF (`attend models install smollm2-135m`).
private let smolLM2URL = installedModelFolder("smollm2-135m").appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")

/// Runs on CI always (and fails there if the model is missing); elsewhere only when the model is installed.
private let smolLM2Available = isCI || FileManager.default.fileExists(atPath: smolLM2URL.path)

/// `Tests/Fixtures/smollm2/dequant.json`, made by `make_dequant_fixture.py` with the `gguf` Python package.
private func dequantFixture() throws -> [String: Any] {
    let url = packageRoot.appendingPathComponent("Tests/Fixtures/smollm2/dequant.json")
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    guard let dict = object as? [String: Any] else { throw FixtureError(message: "\(url.path) is not a JSON object") }
    return dict
}

private struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

private func openSmolLM2() throws -> GGUFFile {
    guard FileManager.default.fileExists(atPath: smolLM2URL.path) else {
        throw FixtureError(message: "\(smolLM2URL.path) is missing; install it with `swift run attend models install smollm2-135m`")
    }
    return try GGUFFile(url: smolLM2URL)
}

@Suite(.enabled(if: smolLM2Available, "SmolLM2 not installed: swift run attend models install smollm2-135m"))
struct GGUFSmolLM2Tests {
    @Test func metadataMatchesTheFixtureAndTheIssue() throws {
        let file = try openSmolLM2()
        let meta = try #require(try dequantFixture()["metadata"] as? [String: Any])
        #expect(file.version == 3)
        #expect(file.tensorInfos.count == 272)
        #expect(file.alignment == 32)
        #expect(try file.string("general.architecture") == "llama")
        #expect(try file.int("llama.block_count") == 30)
        #expect(try file.int("llama.embedding_length") == 576)
        #expect(try file.int("llama.feed_forward_length") == 1536)
        #expect(try file.int("llama.attention.head_count") == 9)
        #expect(try file.int("llama.attention.head_count_kv") == 3)
        #expect(try file.int("llama.context_length") == 8192)
        #expect(try file.double("llama.rope.freq_base") == 100000)
        #expect(try file.float("llama.attention.layer_norm_rms_epsilon") == Float(meta["rms_eps"] as? Double ?? 0))
        #expect(try file.string("tokenizer.ggml.model") == "gpt2")
        #expect(try file.string("tokenizer.ggml.pre") == "smollm")
        #expect(try file.string("tokenizer.chat_template").contains("<|im_start|>"))
        let tokens = try file.stringArray("tokenizer.ggml.tokens")
        let merges = try file.stringArray("tokenizer.ggml.merges")
        #expect(tokens.count == 49152 && merges.count == 48900)
        #expect(Array(tokens.prefix(5)) == meta["tokens_head"] as? [String])
        #expect(Array(tokens.suffix(3)) == meta["tokens_tail"] as? [String])
        #expect(Array(merges.prefix(5)) == meta["merges_head"] as? [String])
        #expect(try file.intArray("tokenizer.ggml.token_type").count == 49152)
        #expect(!file.contains(tensor: "output.weight"))   // the LM head is the token embedding
        var counts: [String: Int] = [:]
        for t in file.tensorInfos { counts[t.type.description, default: 0] += 1 }
        #expect(counts == meta["type_counts"] as? [String: Int])
        #expect(try file.info("token_embd.weight").shape == [49152, 576])
        #expect(try file.info("token_embd.weight").type == .q8_0)
        #expect(try file.info("blk.0.ffn_down.weight").shape == [576, 1536])
        #expect(try file.info("blk.0.ffn_up.weight").shape == [1536, 576])
        #expect(try file.info("blk.0.attn_k.weight").shape == [192, 576])
        #expect(try file.info("blk.0.attn_k.weight").dimensions == [576, 192])
    }

    /// The Swift twins give exactly the values of `gguf.quants.dequantize` (bit for bit) on real tensors.
    @Test func dequantizedRowsEqualTheGGUFPackage() throws {
        let file = try openSmolLM2()
        let tensors = try #require(try dequantFixture()["tensors"] as? [[String: Any]])
        #expect(tensors.count == 4)
        for entry in tensors {
            let name = try #require(entry["name"] as? String)
            let info = try file.info(name)
            #expect(info.type.description == entry["type"] as? String, "\(name)")
            #expect(info.shape == entry["shape"] as? [Int], "\(name)")
            let rows = try #require(entry["rows"] as? [String: Any])
            let width = info.shape.last ?? 0
            for (key, value) in rows {
                let r = try #require(Int(key))
                let expected = flattenFloats(value)
                let actual: [Float]
                if info.type.isQuantized {
                    actual = try file.quantizedMatrix(name).dequantizedRow(r)
                } else {
                    actual = Array(try file.tensor(name).scalars[(r * width)..<((r + 1) * width)])
                }
                #expect(actual.count == expected.count, "\(name) row \(r)")
                let mismatches = zip(actual, expected).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
                #expect(mismatches.isEmpty, "\(name) row \(r): \(mismatches.count) values differ, first \(mismatches.prefix(3).map { "[\($0.offset)] \($0.element.0) vs \($0.element.1)" })")
            }
        }
    }

    /// The fast kernel on a real Q4_1 matrix and the Q8_0 embedding equals the twin within the stated tolerance.
    @Test func quantizedKernelOnRealWeights() throws {
        let file = try openSmolLM2()
        var rng = SeededRNG(seed: 5)
        for name in ["blk.3.attn_q.weight", "blk.3.ffn_down.weight", "token_embd.weight"] {
            let w = try file.quantizedMatrix(name)
            for m in (name == "token_embd.weight" ? [1] : [1, 3, 20]) {
                let x = (0..<(m * w.columns)).map { _ in rng.float() }
                let (fast, reference, scale) = QuantKernelCheck.run(weight: w, x: x, m: m, isa: KernelISA.best)
                QuantKernelCheck.expectWithin(fast, reference, scale, label: "\(name) m=\(m)")
                if QuantGEMM.ukernel(.avx512).dot_q8 != nil {
                    var int8 = [Float](repeating: .nan, count: m * w.rows)
                    x.withUnsafeBufferPointer { xp in
                        int8.withUnsafeMutableBufferPointer {
                            QuantGEMM.run(m: m, a: xp.baseAddress!, lda: w.columns, weight: w, c: $0.baseAddress!, ldc: w.rows,
                                          isa: .avx512, threads: 2, int8: true)
                        }
                    }
                    let diff = zip(int8, reference).map { Double(abs($0 - $1)) }.max() ?? 0
                    let size = reference.map { Double(abs($0)) }.max() ?? 0
                    // Activation rounding (|x − d·q| ≤ d/2, d = max|x|/127 per block) costs about 0.5 % of the
                    // largest output here; a wrong kernel is off by the size of the outputs.
                    #expect(diff <= 0.02 * size, "\(name) m=\(m) int8: max |diff| \(diff), max |y| \(size)")
                    print("QuantGEMM real int8 \(name) m=\(m): max |diff| \(diff) against the float32 twin, max |y| \(size)")
                }
                print("QuantGEMM real \(name) m=\(m): worst error \(QuantKernelCheck.worst(fast, reference, scale).ratio) × the bound, max |diff| \(zip(fast, reference).map { abs($0 - $1) }.max() ?? 0)")
            }
        }
    }
}

/// The synthetic part of the fixture (no model needed): ggml's quantizers and dequantizers, via the `gguf`
/// Python package, on a row of 128 values, for every type Attend reads.
@Suite struct GGUFPythonParityTests {
    private func synthetic() throws -> (values: [Float], types: [String: [String: Any]]) {
        let s = try #require(try dequantFixture()["synthetic"] as? [String: Any])
        let types = try #require(s["types"] as? [String: [String: Any]])
        return (flattenFloats(s["values"]), types)
    }

    private func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16) ?? 0) }
        return out
    }

    /// Dequantizing ggml's bytes gives the `gguf` package's values bit for bit.
    @Test func dequantizationEqualsTheGGUFPackage() throws {
        let (values, types) = try synthetic()
        #expect(values.count == 128)
        #expect(Set(types.keys) == ["Q4_0", "Q4_1", "Q8_0", "F16", "BF16"])
        for type in [GGMLType.q4_0, .q4_1, .q8_0, .f16, .bf16] {
            let entry = try #require(types[type.description])
            let raw = bytes(hex: try #require(entry["hex"] as? String))
            #expect(raw.count == type.rowBytes(128), "\(type) byte count")
            let expected = flattenFloats(entry["dequantized"])
            let actual = GGUFDequantize.dequantize(type, raw, count: 128)
            #expect(actual.map(\.bitPattern) == expected.map(\.bitPattern), "\(type): \(zip(actual, expected).filter { $0 != $1 }.prefix(3))")
        }
    }

    /// Attend's reference quantizers write the same bytes as ggml's (`gguf.quants.quantize`).
    @Test func referenceQuantizersEqualGGML() throws {
        let (values, types) = try synthetic()
        for type in [GGMLType.q4_0, .q4_1, .q8_0, .f16, .bf16] {
            let expected = bytes(hex: try #require(types[type.description]?["hex"] as? String))
            let actual = GGUFQuantize.quantize(values, as: type)
            let firstDiff = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(actual == expected, "\(type): first differing byte \(String(describing: firstDiff))")
        }
    }
}

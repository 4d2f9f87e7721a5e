import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels
@testable import AttendNN

/// `--precision bf16`: the linear layers on bfloat16 weights and activations (Float32 sums). Embeddings must
/// stay within cosine 0.999 of PyTorch's fp32 ones (the fixture), and the default must stay fp32.
@Suite("MiniLM in bf16", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct BERTPrecisionTests {
    static let bf16: Result<SentenceEmbedder, Error> = Result {
        try SentenceEmbedder.load(folder: installedModelFolder("all-MiniLM-L6-v2"), precision: .bf16)
    }

    @Test func defaultIsFP32AndBF16IsAskedFor() throws {
        #expect(try MiniLM.embedder().model.inferencePrecision == .fp32)
        #expect(try Self.bf16.get().model.inferencePrecision == .bf16)
    }

    @Test func embeddingsStayWithinCosine0999OfPyTorch() throws {
        let (texts, got, worst) = try fixtureCosines(try Self.bf16.get(), atLeast: 0.999)
        // bf16 is not fp32: the embeddings do move (a check that this test exercises the bf16 path at all).
        let fp32 = try MiniLM.embedder().embed(texts).map(\.vector)
        let moved = zip(fp32, got).map { a, b in zip(a, b).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
        #expect(moved > 1e-5, "bf16 embeddings equal fp32 ones to 1e-5: the bf16 path did not run")
        #expect(worst > 0.999)
    }
}

/// Embeds the MiniLM fixture's sentences with `embedder` and expects each embedding within cosine `bound` of
/// PyTorch's fp32 one; returns the texts, the embeddings and the worst cosine.
private func fixtureCosines(_ embedder: SentenceEmbedder, atLeast bound: Float) throws -> (texts: [String], embeddings: [[Float]], worst: Float) {
    let sentences = try MiniLM.sentences()
    let texts = try sentences.map { try #require($0["text"] as? String) }
    let got = try embedder.embed(texts).map(\.vector)
    var worst: Float = 1
    for (s, v) in zip(sentences, got) {
        let expected = flattenFloats(s["embedding"])
        #expect(expected.count == v.count)
        let cos = cosineSimilarity(v, expected)
        worst = min(worst, cos)
        #expect(cos >= bound, "\(s["text"] ?? ""): cosine \(cos) to PyTorch fp32")
    }
    return (texts, got, worst)
}

/// `prepack: false` (what `attend embed` with a batch or less of texts uses): the weights stay in the mapped file and
/// each product packs its panels as it goes. It must give the packed model's embeddings (the same kernels on the same
/// values in the same order), and must really skip the packing.
@Suite("Sentence encoders loaded without prepacking", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct PrepackTests {
    static let texts = ["A man is eating food.", "x", "The quick brown fox jumps over the lazy dog near the riverbank today.",
                        "Ça coûte 12,50 € — naïve café?", ""]

    @Test(arguments: ["all-MiniLM-L6-v2", "all-mpnet-base-v2"])
    func unpackedEqualsPacked(model: String) throws {
        let folder = installedModelFolder(model)
        guard isCI || FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) else { return }
        let packed = try SentenceEmbedder.load(folder: folder)
        let unpacked = try SentenceEmbedder.load(folder: folder, prepack: false)
        // The packed model fused Q/K/V and holds packings; the unpacked one holds neither.
        let layer = { (e: SentenceEmbedder) in (e.model as? BertModel)?.layers[0] ?? (e.model as? MPNetModel)?.layers[0] }
        #expect(try #require(layer(packed)).attention.fusedQKV != nil)
        #expect(try #require(layer(unpacked)).attention.fusedQKV == nil)
        #expect(try #require(layer(unpacked)).output.packedWeight == nil)
        let a = try packed.embed(Self.texts, batchSize: 3).map(\.vector)
        let b = try unpacked.embed(Self.texts, batchSize: 3).map(\.vector)
        // |b − a| ≤ atol + rtol·|a|, atol 1e-6, rtol 1e-5 (unit vectors; the fused Q/K/V product may block k differently).
        for (text, (x, y)) in zip(Self.texts, zip(a, b)) {
            #expect(x.count == y.count)
            var bad = 0
            for (u, v) in zip(x, y) where abs(v - u) > Float(1e-6) + Float(1e-5) * abs(u) { bad += 1 }
            #expect(bad == 0, "\(model) “\(text)”: \(bad) of \(x.count) values differ beyond atol 1e-6 / rtol 1e-5")
        }
        // bf16 always packs (its products need the rounded copy); checked on the smaller model only.
        if model == "all-MiniLM-L6-v2" {
            let bf16 = try SentenceEmbedder.load(folder: folder, precision: .bf16, prepack: false)
            #expect(bf16.model.inferencePrecision == .bf16)
        }
    }
}

/// `--precision int8`: the linear layers on int8 weights (per output channel) and activations (per row), exact int32
/// sums. Embeddings must stay within cosine 0.99 of PyTorch's fp32 ones (the fixture) on every sentence, for both
/// sentence encoders; the attention itself (scores, softmax, weighted sum) stays fp32.
@Suite("Sentence encoders in int8", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct Int8PrecisionTests {
    @Test func miniLMStaysWithinCosine099OfPyTorch() throws {
        let e = try SentenceEmbedder.load(folder: installedModelFolder("all-MiniLM-L6-v2"), precision: .int8)
        #expect(e.model.inferencePrecision == .int8)
        let worst = try fixtureCosines(e, atLeast: 0.99).worst
        // int8 is not fp32: the embeddings do move (a check that the int8 path ran at all).
        #expect(worst < 0.99999, "int8 embeddings within cosine 0.99999 of fp32 on every sentence: the int8 path did not run")
    }

    @Test func mpnetStaysWithinCosine099OfFP32() throws {
        let folder = installedModelFolder("all-mpnet-base-v2")
        guard isCI || FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) else { return }
        let texts = PrepackTests.texts + ["What did I say about cats earlier?", "The animal didn't cross the street because it was too tired."]
        let fp32 = try SentenceEmbedder.load(folder: folder).embed(texts).map(\.vector)
        let int8 = try SentenceEmbedder.load(folder: folder, precision: .int8)
        #expect(int8.model.inferencePrecision == .int8)
        let got = try int8.embed(texts).map(\.vector)
        for (text, (a, b)) in zip(texts, zip(fp32, got)) {
            let cos = cosineSimilarity(a, b)
            #expect(cos >= 0.99 && cos < 0.99999, "“\(text)”: cosine \(cos) to fp32")
        }
    }
}

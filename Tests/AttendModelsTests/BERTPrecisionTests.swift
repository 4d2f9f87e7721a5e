import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels
import AttendNN

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
        let e = try Self.bf16.get()
        let sentences = try MiniLM.sentences()
        let texts = try sentences.map { try #require($0["text"] as? String) }
        let got = try e.embed(texts).map(\.vector)
        var worst: Float = 1
        for (s, v) in zip(sentences, got) {
            let expected = flattenFloats(s["embedding"])
            #expect(expected.count == v.count)
            let cos = cosineSimilarity(v, expected)
            worst = min(worst, cos)
            #expect(cos >= 0.999, "\(s["text"] ?? ""): cosine \(cos) to PyTorch fp32")
        }
        // bf16 is not fp32: the embeddings do move (a check that this test exercises the bf16 path at all).
        let fp32 = try MiniLM.embedder().embed(texts).map(\.vector)
        let moved = zip(fp32, got).map { a, b in zip(a, b).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
        #expect(moved > 1e-5, "bf16 embeddings equal fp32 ones to 1e-5: the bf16 path did not run")
        #expect(worst > 0.999)
    }
}

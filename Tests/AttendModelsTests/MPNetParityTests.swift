import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels
import AttendNN
import AttendTokenizers

/// The installed all-mpnet-base-v2 and the fixtures made by `Tests/Fixtures/mpnet/make_fixtures.py`.
enum MPNetFixture {
    static let fixture: [String: Any]? = {
        let url = packageRoot.appendingPathComponent("Tests/Fixtures/mpnet/mpnet-fixtures.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }()

    static func sentences() throws -> [[String: Any]] {
        try #require(fixture?["sentences"] as? [[String: Any]], "Tests/Fixtures/mpnet/mpnet-fixtures.json is missing")
    }

    private static let loaded: Result<(MPNetModel, Tokenizer), Error> = Result {
        let folder = installedModelFolder("all-mpnet-base-v2")
        return (try MPNetModel.load(folder: folder), try Tokenizer(folder: folder))
    }

    static func model() throws -> (MPNetModel, Tokenizer) { try loaded.get() }

    /// Mean pooling over the mask, then L2 normalisation (the model's modules.json: Transformer, Pooling, Normalize).
    static func embed(_ hidden: Tensor, batch b: Int, mask: [Int]) -> [Float] {
        let (t, h) = (hidden.shape[1], hidden.shape[2])
        var v = [Float](repeating: 0, count: h)
        var n: Float = 0
        for ti in 0..<t where mask[ti] != 0 {
            n += 1
            for d in 0..<h { v[d] += hidden.scalars[(b * t + ti) * h + d] }
        }
        for d in 0..<h { v[d] /= Swift.max(n, 1e-9) }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / Swift.max(norm, 1e-12) }
    }
}

@Suite("MPNet's relative-position buckets")
struct MPNetBucketTests {
    /// Every relative position from −600 to 600 lands in PyTorch's bucket (boundaries included).
    @Test func bucketsEqualPyTorch() throws {
        let table = try #require(MPNetFixture.fixture?["relative_position_buckets"] as? [String: Any])
        let first = try #require(table["first"] as? Int)
        let expected = try #require(table["buckets"] as? [Int])
        for (i, want) in expected.enumerated() {
            let rel = first + i
            #expect(mpnetRelativePositionBucket(rel) == want, "relative position \(rel)")
        }
    }

    /// A plain restatement of the rule: exact buckets near the diagonal, the sign in the upper half.
    @Test func nearDistancesHaveTheirOwnBucket() {
        for d in 0..<8 {
            #expect(mpnetRelativePositionBucket(-d) == d)          // key before the query
            #expect(mpnetRelativePositionBucket(d) == (d == 0 ? 0 : 16 + d))
        }
        #expect(mpnetRelativePositionBucket(-10_000) == 15)
        #expect(mpnetRelativePositionBucket(10_000) == 31)
    }
}

@Suite("MPNet parity with PyTorch (all-mpnet-base-v2)",
       .enabled(if: modelTestsEnabled("all-mpnet-base-v2"), "install the model: swift run attend models install all-mpnet-base-v2"))
struct MPNetParityTests {
    @Test func configIsReadFromTheFolder() throws {
        let (m, _) = try MPNetFixture.model()
        #expect(m.config.hiddenSize == 768 && m.layerCount == 12 && m.heads == 12)
        #expect(m.config.relativeAttentionNumBuckets == 32 && m.config.padTokenId == 1)
    }

    /// The position bias of the first sentence, and the first rows of every hidden state.
    @Test func positionBiasAndHiddenStatesMatch() throws {
        let (m, _) = try MPNetFixture.model()
        let s = try MPNetFixture.sentences()[0]
        let ids = try #require(s["input_ids"] as? [Int])
        let recorder = IntermediateRecorder { $0 == "embeddings" || $0 == "position_bias" || $0.hasSuffix(".hidden") }
        let last = try m(ids: [ids], observer: recorder)                                   // [1, T, 768]
        let bias = try #require(recorder["position_bias"])
        expectClose(bias.scalars, flattenFloats(s["position_bias"]), atol: 1e-6, rtol: 1e-6, "position bias")
        let rows = try #require(s["hidden_states_rows"] as? [Any])
        for layer in 0..<13 {
            let name = layer == 0 ? "embeddings" : "L\(layer - 1).hidden"
            let got = try #require(recorder[name]).slice(axis: 1, 0..<3)                   // [1, 3, 768]
            expectClose(got.scalars, flattenFloats(rows[layer]), atol: 1e-4, rtol: 1e-4, "hidden state \(layer) (\(name))")
        }
        expectClose(last.scalars, flattenFloats(s["last_hidden_state"]), atol: 1e-4, rtol: 1e-4, "last_hidden_state")
    }

    /// Tokens, every layer's and head's attention weights and the sentence embedding, each sentence alone.
    @Test(arguments: 0..<7)
    func tokensAttentionsAndEmbeddingsMatch(_ index: Int) throws {
        let (m, tok) = try MPNetFixture.model()
        let s = try MPNetFixture.sentences()[index]
        let text = try #require(s["text"] as? String)
        let encoding = tok.encode(text, maxLength: 384)
        #expect(encoding.tokens == (s["tokens"] as? [String]), "tokens of \(text.prefix(40))")
        #expect(encoding.ids == (s["input_ids"] as? [Int]))
        let recorder = IntermediateRecorder { $0.hasSuffix(".weights") }
        let hidden = try m(ids: [encoding.ids], observer: recorder)                         // [1, T, 768]
        if let expected = s["attentions"] as? [Any] {
            for layer in 0..<12 {
                let w = try #require(recorder["L\(layer).weights"])                         // [1, H, T, T]
                expectClose(w.scalars, flattenFloats(expected[layer]), atol: 1e-5, rtol: 1e-4, "\(text.prefix(30)): layer \(layer) attentions")
            }
        }
        if let rows = s["attention_rows"] as? [String: Any] {
            for (key, value) in rows {
                let parts = key.split(separator: ".").compactMap { Int($0) }
                let w = try #require(recorder["L\(parts[0]).weights"]).select(axis: 0, 0).select(axis: 0, parts[1])   // [T, T]
                expectClose(try w.slice(axis: 0, 0..<6).scalars, flattenFloats(value), atol: 1e-5, rtol: 1e-4, "long sentence: layer.head \(key), rows 0..<6")
            }
        }
        let v = MPNetFixture.embed(hidden, batch: 0, mask: encoding.attentionMask)
        expectClose(v, flattenFloats(s["embedding"]), atol: 1e-5, rtol: 1e-4, "\(text.prefix(30)): embedding")
    }

    /// The sentence-transformers folder loads through SentenceEmbedder (family from model_type, pooling, normalisation
    /// and max_seq_length from its files) and `embed` — length-sorted padded batches — gives PyTorch's embeddings.
    @Test func sentenceEmbedderGivesSentenceTransformersEmbeddings() throws {
        let folder = installedModelFolder("all-mpnet-base-v2")
        let loaded = try ModelRegistry.load(folder: folder)
        #expect(loaded.family == "mpnet")
        let e = try #require(loaded.model as? SentenceEmbedder)
        #expect(e.model.modelType == "mpnet" && e.maxSeqLength == 384 && e.pooling == [.mean] && e.normalize && e.dimension == 768)
        let sentences = try MPNetFixture.sentences()
        let texts = sentences.compactMap { $0["text"] as? String }
        let vectors = try e.embed(texts, batchSize: 3)
        for (v, s) in zip(vectors, sentences) {
            expectClose(v.vector, flattenFloats(s["embedding"]), atol: 1e-5, rtol: 1e-4, "\(v.text.prefix(30)): embedding in a batch")
        }
        let cosine = try #require(MPNetFixture.fixture?["cosine_similarity"] as? [[Double]])
        #expect(abs(Double(cosineSimilarity(vectors[0].vector, vectors[2].vector)) - cosine[0][2]) < 1e-5)
        #expect(e.attentionSites.count == 12 && e.attentionSites.allSatisfy { $0.heads == 12 })
    }

    /// Sentences padded into one batch give what each gives alone.
    @Test func paddedBatchEqualsSingles() throws {
        let (m, tok) = try MPNetFixture.model()
        let texts = try MPNetFixture.sentences().prefix(6).compactMap { $0["text"] as? String }
        let encodings = texts.map { tok.encode($0, maxLength: 384) }
        let t = encodings.map(\.count).max() ?? 0
        let ids = encodings.map { $0.ids + Array(repeating: 1, count: t - $0.count) }
        let mask = encodings.map { $0.attentionMask + Array(repeating: 0, count: t - $0.count) }
        let batch = try m(ids: ids, attentionMask: mask)                                     // [B, T, 768]
        for (i, e) in encodings.enumerated() {
            let alone = try m(ids: [e.ids])
            let v = MPNetFixture.embed(batch, batch: i, mask: mask[i])
            let w = MPNetFixture.embed(alone, batch: 0, mask: e.attentionMask)
            expectClose(v, w, atol: 1e-5, rtol: 1e-4, "sentence \(i) in a padded batch")
        }
    }
}

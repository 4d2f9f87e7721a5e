import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels
import AttendNN

/// The installed all-MiniLM-L6-v2 (shared by every suite) and the PyTorch fixtures.
enum MiniLM {
    static func embedder() throws -> SentenceEmbedder { try SharedModels.miniLM() }
    static func sentences() throws -> [[String: Any]] {
        try #require(minilmFixture?["sentences"] as? [[String: Any]], "../shared/fixtures/minilm-public.json is missing")
    }
}

@Suite("BERT parity with PyTorch (all-MiniLM-L6-v2)", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct BERTParityTests {
    @Test func configAndPoolingAreReadFromTheFolder() throws {
        let e = try MiniLM.embedder()
        #expect(e.model.hiddenSize == 384 && e.model.layerCount == 6 && e.model.heads == 12 && e.model.modelType == "bert")
        #expect(e.pooling == [.mean])
        #expect(e.normalize)
        #expect(e.maxSeqLength == 256)
        #expect((e.model as? BertModel)?.pooler != nil)
    }

    /// Hidden states of every layer for the first sentence, from the fixture's input ids.
    @Test func hiddenStatesMatchLayerByLayer() throws {
        let e = try MiniLM.embedder()
        let s = try MiniLM.sentences()[0]
        let ids = try #require(s["input_ids"] as? [Int])
        let first = try #require(minilmFixture?["first_sentence"] as? [String: Any])
        let expected = try #require(first["hidden_states"] as? [Any])
        let recorder = IntermediateRecorder { $0 == "embeddings" || $0.hasSuffix(".hidden") }
        let last = try e.model.encode(ids: [ids], typeIds: nil, attentionMask: nil, observer: recorder)
        for layer in 0..<7 {
            let name = layer == 0 ? "embeddings" : "L\(layer - 1).hidden"
            let got = try #require(recorder[name])
            expectClose(got.scalars, flattenFloats(expected[layer]), atol: 1e-4, rtol: 1e-4, "hidden state \(layer) (\(name))")
        }
        expectClose(last.scalars, flattenFloats(first["last_hidden_state"]), atol: 1e-4, rtol: 1e-4, "last_hidden_state")
    }

    /// Sentence embeddings and every layer's and head's attention weights, each sentence alone.
    @Test(arguments: 0..<5)
    func embeddingsAndAttentionsMatch(_ index: Int) throws {
        let e = try MiniLM.embedder()
        let s = try MiniLM.sentences()[index]
        let text = try #require(s["text"] as? String)
        let (encoding, weights) = try e.attentions(text)
        #expect(encoding.tokens == (s["tokens"] as? [String]), "tokens of \(text)")
        #expect(encoding.ids == (s["input_ids"] as? [Int]))
        let expectedAttn = try #require(s["attentions"] as? [Any])
        for layer in 0..<6 {
            expectClose(weights[layer].scalars, flattenFloats(expectedAttn[layer]), atol: 1e-5, rtol: 1e-4, "\(text): layer \(layer) attentions")
        }
        let v = try e.embed([text])[0].vector
        expectClose(v, flattenFloats(s["embedding"]), atol: 1e-5, rtol: 1e-4, "\(text): embedding")
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(norm - 1) < 1e-5)
    }

    /// A padded batch gives the same embeddings as each sentence alone, and the cosine matrix matches.
    @Test func paddedBatchEqualsAlone() throws {
        let e = try MiniLM.embedder()
        let sentences = try MiniLM.sentences()
        let texts = sentences.compactMap { $0["text"] as? String }
        let batch = try e.embedBatch(texts.map { e.tokenizer.encode($0, maxLength: e.maxSeqLength) })
        for (i, s) in sentences.enumerated() {
            expectClose(batch[i], flattenFloats(s["embedding"]), atol: 1e-5, rtol: 1e-4, "batched sentence \(i)")
        }
        let cos = try #require(minilmFixture?["cosine_similarity"] as? [[Double]])
        for i in 0..<texts.count { for j in 0..<texts.count {
            #expect(abs(Double(cosineSimilarity(batch[i], batch[j])) - cos[i][j]) < 1e-5, "cosine \(i),\(j)")
        } }
    }

    /// "it" → "animal" in layer 5, head 11: the tutorials' example from a real model.
    @Test func itAttendsToAnimal() throws {
        let e = try MiniLM.embedder()
        let (encoding, weights) = try e.attentions("The animal didn't cross the street because it was too tired")
        let it = try #require(encoding.tokens.firstIndex(of: "it"))
        let animal = try #require(encoding.tokens.firstIndex(of: "animal"))
        let street = try #require(encoding.tokens.firstIndex(of: "street"))
        let w = weights[5]
        #expect(abs(w[11, it, animal] - 0.65) < 0.05, "it→animal \(w[11, it, animal])")
        #expect(w[11, it, street] < 0.05)
    }
}

@Suite("BERT loading errors")
struct BERTLoadingTests {
    func tempFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-bert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func tinyConfig() -> BertConfig {
        BertConfig(vocabSize: 11, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 12)
    }

    func write(_ model: BertModel, to dir: URL, drop: String? = nil, reshape: String? = nil, extra: Bool = false) throws {
        try JSONEncoder().encode(model.config).write(to: dir.appendingPathComponent("config.json"))
        var tensors: [String: Tensor] = [:]
        for (name, p) in model.namedParameters() where name != drop { tensors[name] = p.value }
        if let reshape { tensors[reshape] = .zeros([3]) }
        if extra { tensors["mystery.weight"] = .zeros([2]) }
        try Safetensors.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
    }

    @Test func roundTripThroughSafetensors() throws {
        let dir = try tempFolder()
        let model = try BertModel(config: tinyConfig(), seed: 3)
        try write(model, to: dir)
        let loaded = try BertModel.load(folder: dir)
        let ids = [[1, 5, 7, 2], [1, 3, 2, 0]]
        let mask = [[1, 1, 1, 1], [1, 1, 1, 0]]
        // The loaded model fuses Q/K/V into one GEMM; same numbers up to summation order.
        expectClose(try loaded(ids: ids, attentionMask: mask), try model(ids: ids, attentionMask: mask), atol: 1e-5, rtol: 1e-5)
    }

    @Test func strictLoadingNamesTensorsAndShapes() throws {
        let model = try BertModel(config: tinyConfig(), seed: 4)
        let missing = try tempFolder()
        try write(model, to: missing, drop: "encoder.layer.1.attention.self.key.bias")
        #expect(throws: WeightLoadingError.missing(source: "model.safetensors", tensor: "encoder.layer.1.attention.self.key.bias", shape: [8])) {
            try BertModel.load(folder: missing)
        }
        let wrong = try tempFolder()
        try write(model, to: wrong, reshape: "encoder.layer.0.output.LayerNorm.weight")
        #expect(throws: WeightLoadingError.shapeMismatch(source: "model.safetensors", tensor: "encoder.layer.0.output.LayerNorm.weight", expected: [8], actual: [3])) {
            try BertModel.load(folder: wrong)
        }
        let extra = try tempFolder()
        try write(model, to: extra, extra: true)
        #expect(throws: WeightLoadingError.unused(source: "model.safetensors", tensors: ["mystery.weight"])) {
            try BertModel.load(folder: extra)
        }
        let empty = try tempFolder()
        #expect(throws: ModelError.self) { try BertModel.load(folder: empty) }
        try Data("{\"hidden_size\": 8}".utf8).write(to: empty.appendingPathComponent("config.json"))
        #expect(throws: ModelError.self) { try BertModel.load(folder: empty) }
    }

    @Test func tooLongSequencesAreErrors() throws {
        let model = try BertModel(config: tinyConfig())
        #expect(throws: ModelError.sequenceTooLong(length: 13, max: 12)) { try model(ids: [Array(repeating: 1, count: 13)]) }
        #expect(throws: TensorError.self) { try model(ids: [[1, 99]]) }
    }
}

// Sentence embeddings as sentence-transformers computes them: Transformer → Pooling → (Normalize),
// with the modules read from the model folder (`modules.json`, `1_Pooling/config.json`,
// `sentence_bert_config.json`), never assumed.
import AttendNN
import AttendTokenizers
import Foundation

/// How token vectors become one sentence vector (sentence-transformers' `Pooling` module).
public enum PoolingMode: String, Sendable, CaseIterable {
    case cls, max, mean, meanSqrtLen = "mean_sqrt_len"
}

/// `1_Pooling/config.json`.
public struct PoolingConfig: Codable, Sendable {
    public var wordEmbeddingDimension: Int?
    public var poolingModeClsToken: Bool?
    public var poolingModeMeanTokens: Bool?
    public var poolingModeMaxTokens: Bool?
    public var poolingModeMeanSqrtLenTokens: Bool?

    enum CodingKeys: String, CodingKey {
        case wordEmbeddingDimension = "word_embedding_dimension"
        case poolingModeClsToken = "pooling_mode_cls_token", poolingModeMeanTokens = "pooling_mode_mean_tokens"
        case poolingModeMaxTokens = "pooling_mode_max_tokens", poolingModeMeanSqrtLenTokens = "pooling_mode_mean_sqrt_len_tokens"
    }

    /// The enabled modes in sentence-transformers' concatenation order.
    public var modes: [PoolingMode] {
        var m: [PoolingMode] = []
        if poolingModeClsToken == true { m.append(.cls) }
        if poolingModeMaxTokens == true { m.append(.max) }
        if poolingModeMeanTokens == true { m.append(.mean) }
        if poolingModeMeanSqrtLenTokens == true { m.append(.meanSqrtLen) }
        return m
    }
}

/// One embedded text.
public struct SentenceEmbedding: Sendable {
    public var text: String
    public var encoding: Encoding
    /// `[dimension]`, unit length when the model lists a Normalize module.
    public var vector: [Float]
}

/// A sentence-transformers model folder, ready to embed text.
public final class SentenceEmbedder: @unchecked Sendable {
    public let folder: URL
    /// The encoder: a ``BertModel`` or an ``MPNetModel`` (from config.json's `model_type`).
    public let model: any SentenceEncoder
    public let tokenizer: Tokenizer
    public let pooling: [PoolingMode]
    public let normalize: Bool
    /// Token limit including [CLS] and [SEP] (`max_seq_length` of `sentence_bert_config.json`, else the tokenizer's).
    public let maxSeqLength: Int

    public init(folder: URL, model: any SentenceEncoder, tokenizer: Tokenizer, pooling: [PoolingMode], normalize: Bool, maxSeqLength: Int) {
        self.folder = folder
        self.model = model
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.normalize = normalize
        self.maxSeqLength = maxSeqLength
    }

    /// Loads a model folder in Hugging Face / sentence-transformers layout.
    /// - Parameter precision: ``InferencePrecision/fp32`` (default: PyTorch's embeddings), ``InferencePrecision/bf16``
    ///   (faster on CPUs with AVX-512 BF16; embeddings within cosine 0.999 of fp32) or ``InferencePrecision/int8``
    ///   (fastest with AVX-512 VNNI or AVX-VNNI; embeddings within cosine 0.99 of fp32).
    /// - Parameter prepack: pack the weights once at load (default; see ``SentenceEncoders/load(folder:precision:prepack:)``).
    public static func load(folder: URL, precision: InferencePrecision = .fp32, prepack: Bool = true) throws -> SentenceEmbedder {
        let model = try SentenceEncoders.load(folder: folder, precision: precision, prepack: prepack)
        let tokenizer = try Tokenizer(folder: folder)
        var pooling: [PoolingMode] = [.mean]
        var normalize = false
        let modulesURL = folder.appendingPathComponent("modules.json")
        if FileManager.default.fileExists(atPath: modulesURL.path) {
            struct ModuleEntry: Decodable { var path: String; var type: String }
            guard let data = try? Data(contentsOf: modulesURL), JSONLexer.nestingBeyond(in: data) == nil,
                  let modules = try? JSONDecoder().decode([ModuleEntry].self, from: data) else {
                throw ModelError.invalidConfig(modulesURL.path, "expected a list of {\"path\", \"type\"} modules")
            }
            for m in modules {
                switch m.type {
                case "sentence_transformers.models.Transformer": break
                case "sentence_transformers.models.Pooling":
                    let url = folder.appendingPathComponent(m.path).appendingPathComponent("config.json")
                    guard let data = try? Data(contentsOf: url) else { throw ModelError.missingFile(url.path) }
                    guard JSONLexer.nestingBeyond(in: data) == nil, let config = try? JSONDecoder().decode(PoolingConfig.self, from: data) else {
                        throw ModelError.invalidConfig(url.path, "not a pooling config")
                    }
                    pooling = config.modes
                    guard !pooling.isEmpty else { throw ModelError.invalidConfig(url.path, "no pooling mode is enabled") }
                case "sentence_transformers.models.Normalize": normalize = true
                default:
                    throw ModelError.invalidConfig(modulesURL.path, "module type \"\(m.type)\" is not supported (Transformer, Pooling, Normalize)")
                }
            }
        }
        var maxSeq = min(model.maxTokens, tokenizer.modelMaxLength ?? 512)
        let stURL = folder.appendingPathComponent("sentence_bert_config.json")
        if let data = try? Data(contentsOf: stURL),
           let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let value = obj["max_seq_length"] {
            // A count of tokens including the two special ones; anything else is a broken file, not a length.
            guard let m = value as? Int, !(value is Bool), m >= 2 else {
                throw ModelError.invalidConfig(stURL.path, "max_seq_length is \(value), expected a whole number of tokens ≥ 2")
            }
            maxSeq = min(m, model.maxTokens)
        }
        return SentenceEmbedder(folder: folder, model: model, tokenizer: tokenizer, pooling: pooling,
                                normalize: normalize, maxSeqLength: maxSeq)
    }

    /// Embedding width.
    public var dimension: Int { model.hiddenSize * pooling.count }

    /// Texts per forward pass when the caller does not say: `embed`'s default, and the CLI's `--batch-size`.
    public static let defaultBatchSize = 32

    /// Texts × padded length per forward pass at most, when the caller does not say: `embed`'s default. In passes of
    /// 8 texts of 128 tokens instead of 32, the long set ran 157.7–161.3 sentences/s against 152.2–155.5 on two
    /// threads of a Zen 5 VM (one thread: 80.0 against 79.1), likely because two threads each with 32 texts move
    /// 2 × 25 MB of activations (the feed-forward block's 4,096 × 1,536 floats) through a 32 MB L3. Short texts are
    /// not affected: 32 × 12 tokens is 384.
    public static let defaultMaxBatchTokens = 1024

    /// Embeds texts in batches of similar length (padding costs little); the order of the result is the input's.
    /// A batch holds at most `batchSize` texts and at most `maxBatchTokens` tokens counted with padding (one text
    /// longer than that still runs alone); texts that allow the same batch size are split into batches of equal
    /// size, differing by at most one.
    ///
    /// With several batches and several threads (``Kernels/settings``), the threads run whole batches side by
    /// side, each with single-threaded kernels, longest batches first: nothing waits at a barrier between two
    /// small ops and no activation crosses cores. Splitting every op between two cores instead gave from 1,450 to
    /// 1,890 short sentences/s on one Zen 5 VM, changing from minute to minute, against 950 on one thread. A single
    /// batch still gets every thread. `progress` may be called from any of the threads, one call at a time.
    public func embed(_ texts: [String], batchSize: Int = SentenceEmbedder.defaultBatchSize,
                      maxBatchTokens: Int = SentenceEmbedder.defaultMaxBatchTokens,
                      progress: ((Int, Int) -> Void)? = nil) throws -> [SentenceEmbedding] {
        let encodings = texts.map { tokenizer.encode($0, maxLength: maxSeqLength) }
        let order = encodings.indices.sorted { encodings[$0].count < encodings[$1].count }
        let batches = Self.batches(order.map { encodings[$0].count }, batchSize: batchSize,
                                   maxTokens: maxBatchTokens).map { $0.map { order[$0] } }
        let settings = Kernels.settings
        let workers = min(settings.maxThreads, batches.count)
        let results = BatchResults(count: texts.count, batches: batches.count, progress: progress)
        if workers <= 1 {
            for idx in batches { results.store(idx, try embedBatch(idx.map { encodings[$0] })) }
        } else {
            var single = settings
            single.maxThreads = 1
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                Kernels.withSettings(single) {
                    while let b = results.claim() {
                        let idx = batches[b]
                        do { results.store(idx, try embedBatch(idx.map { encodings[$0] })) } catch { results.fail(error) }
                    }
                }
            }
        }
        let vectors = try results.vectors()
        return texts.indices.map { SentenceEmbedding(text: texts[$0], encoding: encodings[$0], vector: vectors[$0]) }
    }

    /// Batches over texts of `lengths` tokens, sorted shortest first: positions into `lengths`. A text of length L
    /// allows min(batchSize, maxTokens / L) texts per batch (at least one); each run of texts that allow the same
    /// number is cut into as few batches as that allows, their sizes differing by at most one. (1,000 texts in
    /// thirty-one batches of 32 and one of 8 left one thread 24 texts behind the other at the end: `perf sched`
    /// showed it idle 20–26 ms of every 0.57 s on two threads.)
    static func batches(_ lengths: [Int], batchSize: Int, maxTokens: Int) -> [[Int]] {
        func allowed(_ length: Int) -> Int { max(1, min(batchSize, maxTokens / max(1, length))) }
        var batches: [[Int]] = []
        var start = 0
        while start < lengths.count {
            let cap = allowed(lengths[start])
            var end = start + 1
            while end < lengths.count && allowed(lengths[end]) == cap { end += 1 }
            let n = end - start, count = (n + cap - 1) / cap
            for b in 0..<count { batches.append(Array(start + b * n / count..<start + (b + 1) * n / count)) }
            start = end
        }
        return batches
    }

    /// Runs one padded batch and pools it: `[B][dimension]`.
    public func embedBatch(_ encodings: [Encoding], observer: (any IntermediateObserver)? = nil) throws -> [[Float]] {
        guard !encodings.isEmpty else { return [] }
        let t = encodings.map(\.count).max() ?? 0
        let pad = tokenizer.padTokenId ?? 0
        let ids = encodings.map { $0.ids + Array(repeating: pad, count: t - $0.count) }
        let types = encodings.map { $0.typeIds + Array(repeating: 0, count: t - $0.count) }
        let mask = encodings.map { $0.attentionMask + Array(repeating: 0, count: t - $0.count) }
        let hidden = try model.encode(ids: ids, typeIds: types, attentionMask: mask, observer: observer)   // [B, T, H]
        return pool(hidden, mask: mask)
    }

    /// Pooling (and normalisation) of `[B, T, H]` hidden states under a `[B][T]` mask.
    public func pool(_ hidden: Tensor, mask: [[Int]]) -> [[Float]] {
        let (b, t, h) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
        let x = hidden.scalars
        return (0..<b).map { bi in
            var out: [Float] = []
            let count = Float(mask[bi].reduce(0) { $0 + ($1 != 0 ? 1 : 0) })
            for mode in pooling {
                var v = [Float](repeating: 0, count: h)
                switch mode {
                case .cls:
                    for d in 0..<h { v[d] = x[(bi * t) * h + d] }
                case .max:
                    v = [Float](repeating: -1e9, count: h)
                    for ti in 0..<t where mask[bi][ti] != 0 { for d in 0..<h { v[d] = Swift.max(v[d], x[(bi * t + ti) * h + d]) } }
                case .mean, .meanSqrtLen:
                    for ti in 0..<t where mask[bi][ti] != 0 { for d in 0..<h { v[d] += x[(bi * t + ti) * h + d] } }
                    let denom = mode == .mean ? Swift.max(count, 1e-9) : Swift.max(count, 1e-9).squareRoot()
                    for d in 0..<h { v[d] /= denom }
                }
                out += v
            }
            if normalize {
                let norm = out.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                let inv = 1 / Swift.max(norm, 1e-12)
                for d in out.indices { out[d] *= inv }
            }
            return out
        }
    }

    /// Every layer's and head's attention weights for one text run alone: `[layer][head][query][key]`.
    public func attentions(_ text: String) throws -> (encoding: Encoding, weights: [Tensor]) {
        let encoding = tokenizer.encode(text, maxLength: maxSeqLength)
        let recorder = IntermediateRecorder { $0.hasSuffix(".weights") }
        _ = try embedBatch([encoding], observer: recorder)
        let weights = try (0..<model.layerCount).map { i -> Tensor in
            guard let w = recorder["L\(i).weights"] else { throw ModelError.invalidInput("layer \(i) reported no attention weights") }
            return try w.select(axis: 0, 0)                                       // [H, T, T]
        }
        return (encoding, weights)
    }
}

/// Cosine similarity of two vectors (0 when either is zero).
public func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Float {
    var dot = 0.0, na = 0.0, nb = 0.0
    for i in 0..<min(a.count, b.count) {
        dot += Double(a[i]) * Double(b[i]); na += Double(a[i]) * Double(a[i]); nb += Double(b[i]) * Double(b[i])
    }
    return na == 0 || nb == 0 ? 0 : Float(dot / (na.squareRoot() * nb.squareRoot()))
}

/// The vectors of ``SentenceEmbedder/embed(_:batchSize:maxBatchTokens:progress:)`` as its threads fill them: which batch is next
/// (the last, longest, first), the first error (after which no batch is handed out), progress reports.
private final class BatchResults: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [[Float]]
    private var next: Int
    private var done = 0
    private var error: (any Error)?
    private let progress: ((Int, Int) -> Void)?

    /// `count` texts in `batches` batches.
    init(count: Int, batches: Int, progress: ((Int, Int) -> Void)?) {
        stored = [[Float]](repeating: [], count: count)
        next = batches - 1
        self.progress = progress
    }

    /// The next batch to run, or nil when none is left or one failed.
    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard error == nil, next >= 0 else { return nil }
        next -= 1
        return next + 1
    }

    /// Stores the vectors of the texts at `indices` and reports progress.
    func store(_ indices: [Int], _ vectors: [[Float]]) {
        lock.lock()
        defer { lock.unlock() }
        for (i, v) in zip(indices, vectors) { stored[i] = v }
        done += indices.count
        progress?(done, stored.count)
    }

    func fail(_ e: any Error) {
        lock.lock()
        if error == nil { error = e }
        lock.unlock()
    }

    /// Every vector, or the first error.
    func vectors() throws -> [[Float]] {
        lock.lock()
        defer { lock.unlock() }
        if let error { throw error }
        return stored
    }
}

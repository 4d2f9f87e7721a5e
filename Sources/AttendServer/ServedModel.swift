// The models a server answers for: loaded once at start (weights memory-mapped), shared by every request, each
// with its own batcher. A request names a model; it never names a folder.
import AttendModels
import AttendTokenizers
import Foundation

/// One loaded embedding model.
public final class ServedModel: Sendable {
    /// The name clients use (`model` in requests): the folder's name.
    public let name: String
    public let embedder: SentenceEmbedder
    /// The effective token limit per input (special tokens included).
    public let maxInputTokens: Int
    /// Widths a client may ask for with `dimensions` (Matryoshka models); empty = only the full width.
    /// all-MiniLM-L6-v2 was not trained for shortened embeddings, so its list is empty.
    public let matryoshkaDimensions: [Int]
    /// Unix time of loading, for `/v1/models`.
    public let created: Int
    let batcher: EmbeddingBatcher

    public init(name: String, embedder: SentenceEmbedder, maxInputTokens: Int?, matryoshkaDimensions: [Int] = [],
                batcher options: BatcherOptions, metrics: ServerMetrics) {
        self.name = name
        self.embedder = embedder
        self.maxInputTokens = min(maxInputTokens ?? embedder.maxSeqLength, embedder.maxSeqLength)
        self.matryoshkaDimensions = matryoshkaDimensions
        self.created = Int(Date().timeIntervalSince1970)
        self.batcher = EmbeddingBatcher(model: name, embedder: embedder, options: options, metrics: metrics)
    }

    public var dimension: Int { embedder.dimension }
    var tokenizer: Tokenizer { embedder.tokenizer }
    var layers: Int { embedder.model.layerCount }
    var heads: Int { embedder.model.heads }
}

/// How a text longer than the limit is cut (TEI's `truncation_direction`).
enum TruncationDirection: String { case right = "Right", left = "Left" }

/// Why an input cannot be tokenized as asked.
enum InputProblem: Error {
    case tooLong(tokens: Int, limit: Int)
    case tokenOutOfRange(Int, vocabulary: Int)
}

extension ServedModel {
    /// Tokenizes a text with special tokens. Over the limit: cut from `direction` when `truncate`, else an error.
    func encode(_ text: String, truncate: Bool, direction: TruncationDirection = .right) throws -> Encoding {
        let full = tokenizer.encode(text)
        guard full.count > maxInputTokens else { return full }
        guard truncate else { throw InputProblem.tooLong(tokens: full.count, limit: maxInputTokens) }
        switch direction {
        case .right: return tokenizer.encode(text, maxLength: maxInputTokens)
        case .left: return Self.cutFromLeft(full, to: maxInputTokens)
        }
    }

    /// Token ids without special tokens (OpenAI's token-array input), wrapped with the model's special tokens
    /// exactly as the tokenizer wraps a text, so ids from `/tokenize` with `add_special_tokens: false` embed like
    /// the text itself.
    func encode(ids: [Int], truncate: Bool) throws -> Encoding {
        let vocab = tokenizer.vocabularySize
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocab }) { throw InputProblem.tokenOutOfRange(bad, vocabulary: vocab) }
        let added = tokenizer.postProcessor?.addedTokenCount(isPair: false) ?? 0
        var body = ids
        if body.count + added > maxInputTokens {
            guard truncate else { throw InputProblem.tooLong(tokens: body.count + added, limit: maxInputTokens) }
            body = Array(body.prefix(max(0, maxInputTokens - added)))
        }
        let raw = Encoding(ids: body, tokens: body.map { tokenizer.token(for: $0) ?? "" },
                           typeIds: Array(repeating: 0, count: body.count), attentionMask: Array(repeating: 1, count: body.count),
                           specialTokensMask: Array(repeating: 0, count: body.count),
                           offsets: Array(repeating: TokenOffset(start: 0, end: 0), count: body.count),
                           wordIds: Array(repeating: nil, count: body.count), sequenceIds: Array(repeating: 0, count: body.count),
                           wasTruncated: body.count < ids.count)
        return tokenizer.postProcessor?.process(raw, pair: nil, addSpecialTokens: true) ?? raw
    }

    /// Keeps the special tokens and the last text tokens: `[CLS] … [SEP]` with the start of the text dropped.
    static func cutFromLeft(_ e: Encoding, to limit: Int) -> Encoding {
        var drop = e.count - limit
        var keep: [Int] = []
        for i in 0..<e.count {
            if drop > 0 && e.specialTokensMask[i] == 0 { drop -= 1; continue }
            keep.append(i)
        }
        func pick<T>(_ a: [T]) -> [T] { a.count == e.count ? keep.map { a[$0] } : a }
        return Encoding(ids: pick(e.ids), tokens: pick(e.tokens), typeIds: pick(e.typeIds), attentionMask: pick(e.attentionMask),
                        specialTokensMask: pick(e.specialTokensMask), offsets: pick(e.offsets), wordIds: pick(e.wordIds),
                        sequenceIds: pick(e.sequenceIds), wasTruncated: true)
    }
}

extension ServedModel {
    /// Test hooks: hold the batcher's worker so the queue fills on purpose, and read how many inputs wait.
    func pauseForTests() async { await batcher.pause() }
    func resumeForTests() async { await batcher.resume() }
    func queuedInputsForTests() async -> Int { await batcher.queuedInputs }
}

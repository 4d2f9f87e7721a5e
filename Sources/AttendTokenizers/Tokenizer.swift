import Foundation

/// A text tokenizer read from a Hugging Face `tokenizer.json` (or a BERT
/// `vocab.txt`): Normalizer → PreTokenizer → Model → PostProcessor, plus a
/// Decoder for the way back, each built from its entry of the file.
///
///     let tokenizer = try Tokenizer(folder: modelFolder)
///     let e = tokenizer.encode("Hello world", maxLength: 256)
///     e.tokens   // ["[CLS]", "hello", "world", "[SEP]"]
///     e.ids      // [101, 7592, 2088, 102]
///
/// Encoding matches `tokenizers` (Rust/Python) token for token; offsets are in
/// Unicode scalars of the input (see `TokenOffset`). The truncation and padding
/// written in `tokenizer.json` are *not* applied: pass `maxLength` (and choose the
/// batch `padding`) yourself; the file's value is `configuredMaxLength`.
///
/// `Tokenizer` is an immutable value, safe to share between threads.
public struct Tokenizer: Sendable {
    public let normalizer: (any Normalizer)?
    public let preTokenizer: (any PreTokenizer)?
    public let model: any TokenizerModel
    public let postProcessor: (any PostProcessor)?
    public let decoder: (any TokenDecoder)?
    public let addedTokens: [AddedToken]

    /// Token → id, including added tokens.
    public let vocabulary: [String: Int]

    public let clsTokenId: Int?
    public let sepTokenId: Int?
    public let padTokenId: Int?
    public let unkTokenId: Int?
    public let maskTokenId: Int?
    /// The padding token used by `encodeBatch` (falls back to id 0 if there is none).
    public let padToken: String
    /// The type id given to padding.
    public let padTypeId: Int

    /// `truncation.max_length` of `tokenizer.json` (128 for all-MiniLM-L6-v2), for
    /// information only: `encode` truncates only at the `maxLength` it is given.
    public let configuredMaxLength: Int?
    /// `model_max_length` of `tokenizer_config.json`, when there is one and it is finite.
    public let modelMaxLength: Int?

    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    private let addedById: [Int: String]
    private let addedByContent: [String: Int]
    private let specialIds: Set<Int>

    /// Names of the special tokens, used to look up their ids.
    public struct SpecialTokenNames: Sendable, Hashable {
        public var cls: String
        public var sep: String
        public var pad: String
        public var unk: String
        public var mask: String
        public init(cls: String = "[CLS]", sep: String = "[SEP]", pad: String = "[PAD]", unk: String = "[UNK]", mask: String = "[MASK]") {
            self.cls = cls
            self.sep = sep
            self.pad = pad
            self.unk = unk
            self.mask = mask
        }
    }

    /// Assembles a tokenizer from its stages.
    public init(normalizer: (any Normalizer)?, preTokenizer: (any PreTokenizer)?, model: any TokenizerModel,
                postProcessor: (any PostProcessor)?, decoder: (any TokenDecoder)?,
                addedTokens: [AddedToken] = [], specialTokens names: SpecialTokenNames = SpecialTokenNames(),
                padTokenId: Int? = nil, padTypeId: Int = 0,
                configuredMaxLength: Int? = nil, modelMaxLength: Int? = nil) {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.addedTokens = addedTokens
        self.configuredMaxLength = configuredMaxLength
        self.modelMaxLength = modelMaxLength
        self.padTypeId = padTypeId

        var vocabulary = model.vocabulary
        var addedById: [Int: String] = [:], addedByContent: [String: Int] = [:]
        var raw: [AddedTokenMatcher.Pattern] = [], normalized: [AddedTokenMatcher.Pattern] = []
        for t in addedTokens where !t.content.isEmpty {
            vocabulary[t.content] = t.id
            addedById[t.id] = t.content
            addedByContent[t.content] = t.id
            var scalars = Array(t.content.unicodeScalars)
            if t.normalized, let normalizer {
                var n = NormalizedString(t.content)
                normalizer.normalize(&n)
                scalars = n.scalars
            }
            let pattern = AddedTokenMatcher.Pattern(scalars: scalars, id: t.id, singleWord: t.singleWord, lstrip: t.lstrip, rstrip: t.rstrip)
            if t.normalized { normalized.append(pattern) } else { raw.append(pattern) }
        }
        self.vocabulary = vocabulary
        self.addedById = addedById
        self.addedByContent = addedByContent
        self.rawMatcher = AddedTokenMatcher(raw)
        self.normalizedMatcher = AddedTokenMatcher(normalized)
        self.specialIds = Set(addedTokens.filter(\.special).map(\.id))

        func lookup(_ token: String) -> Int? { addedByContent[token] ?? model.id(for: token) }
        clsTokenId = lookup(names.cls)
        sepTokenId = lookup(names.sep)
        maskTokenId = lookup(names.mask)
        unkTokenId = (model as? WordPiece)?.unkTokenId ?? lookup(names.unk)
        let padId = padTokenId ?? lookup(names.pad)
        self.padTokenId = padId
        padToken = padId.flatMap { id in addedById[id] ?? model.token(for: id) } ?? names.pad
    }

    // MARK: - Vocabulary

    /// The id of `token` (added tokens first, then the model's vocabulary).
    public func id(for token: String) -> Int? {
        addedByContent[token] ?? model.id(for: token)
    }

    /// The token with id `id`, or nil if no token has it.
    public func token(for id: Int) -> String? {
        addedById[id] ?? model.token(for: id)
    }

    /// Number of entries of `vocabulary`.
    public var vocabularySize: Int { vocabulary.count }

    // MARK: - Encoding

    /// Tokenizes `text` (and `pair`, the second text of a sentence pair).
    ///
    /// - Parameters:
    ///   - addSpecialTokens: wrap with the post-processor's special tokens (`[CLS] … [SEP]`).
    ///   - maxLength: at most this many tokens, special tokens included; text tokens are
    ///     dropped from the end (for a pair, from the longer text first, as `tokenizers`'
    ///     LongestFirst does). If `maxLength` is smaller than the number of special
    ///     tokens, all text tokens are dropped and only the special tokens remain.
    public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true, maxLength: Int? = nil) -> Encoding {
        var first = encodeSequence(text, sequenceId: 0)
        var second = pair.map { encodeSequence($0, sequenceId: 1) }
        if let maxLength {
            let added = addSpecialTokens ? (postProcessor?.addedTokenCount(isPair: second != nil) ?? 0) : 0
            Self.truncate(&first, &second, to: max(0, maxLength - added))
        }
        if let postProcessor {
            return postProcessor.process(first, pair: second, addSpecialTokens: addSpecialTokens)
        }
        if let second { first.append(contentsOf: second, typeId: 1) }
        return first
    }

    /// `tokenizers`' LongestFirst truncation of one or two sequences to `budget` tokens in total.
    static func truncate(_ first: inout Encoding, _ second: inout Encoding?, to budget: Int) {
        guard var pair = second else {
            first.truncate(to: budget)
            return
        }
        var n1 = first.count, n2 = pair.count
        guard n1 + n2 > budget else { return }
        let swapped = n1 > n2
        if swapped { swap(&n1, &n2) }  // n1 is the shorter
        n2 = n1 > budget ? n1 : max(n1, budget - n1)
        if n1 + n2 > budget {
            n1 = budget / 2
            n2 = n1 + budget % 2
        }
        if swapped { swap(&n1, &n2) }
        first.truncate(to: n1)
        pair.truncate(to: n2)
        second = pair
    }

    /// The model tokens of one text, without special tokens; type id = sequence id.
    func encodeSequence(_ text: String, sequenceId: Int) -> Encoding {
        let scalars = Array(text.unicodeScalars)
        var encoding = Encoding()
        encoding.reserveCapacity(scalars.count / 3 + 4)
        var wordIndex = 0
        var modelTokens: [ModelToken] = []
        var words: [Range<Int>] = []

        func appendAddedToken(id: Int, offset: TokenOffset) {
            encoding.append(id: id, token: token(for: id) ?? "", typeId: sequenceId, special: 0,
                            offset: offset, wordId: wordIndex, sequenceId: sequenceId)
            wordIndex += 1
        }

        func tokenize(_ normalized: NormalizedString, _ piece: Range<Int>) {
            guard !piece.isEmpty else { return }
            words.removeAll(keepingCapacity: true)
            words.append(piece)
            preTokenizer?.preTokenize(normalized, words: &words)
            for word in words where !word.isEmpty {
                modelTokens.removeAll(keepingCapacity: true)
                model.tokenize(normalized, word: word, into: &modelTokens)
                for t in modelTokens {
                    let span = normalized.originalSpan(of: t.range)
                    encoding.append(id: t.id, token: model.token(for: t.id) ?? "", typeId: sequenceId, special: 0,
                                    offset: TokenOffset(start: span.lowerBound, end: span.upperBound),
                                    wordId: wordIndex, sequenceId: sequenceId)
                }
                wordIndex += 1
            }
        }

        func normalizeAndTokenize(_ range: Range<Int>) {
            var normalized = range.count == scalars.count
                ? NormalizedString(scalars, firstOffset: 0)
                : NormalizedString(scalars[range], firstOffset: range.lowerBound)
            normalizer?.normalize(&normalized)
            guard !normalizedMatcher.isEmpty else {
                tokenize(normalized, 0..<normalized.count)
                return
            }
            var position = 0
            for m in normalizedMatcher.matches(in: normalized.scalars, range: 0..<normalized.count) {
                tokenize(normalized, position..<m.range.lowerBound)
                let span = normalized.originalSpan(of: m.range)
                appendAddedToken(id: m.id, offset: TokenOffset(start: span.lowerBound, end: span.upperBound))
                position = m.range.upperBound
            }
            tokenize(normalized, position..<normalized.count)
        }

        var position = 0
        for m in rawMatcher.matches(in: scalars, range: 0..<scalars.count) {
            if position < m.range.lowerBound { normalizeAndTokenize(position..<m.range.lowerBound) }
            appendAddedToken(id: m.id, offset: TokenOffset(start: m.range.lowerBound, end: m.range.upperBound))
            position = m.range.upperBound
        }
        if position < scalars.count { normalizeAndTokenize(position..<scalars.count) }
        return encoding
    }

    // MARK: - Batches

    /// Tokenizes every text and pads the results on the right with the pad token
    /// (attention mask 0, type id `padTypeId`). Large batches are encoded on
    /// several threads; the result does not depend on it.
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool = true, maxLength: Int? = nil,
                            padding: Padding = .longest) -> BatchEncoding {
        let encodings = Self.parallelMap(texts) { encode($0, addSpecialTokens: addSpecialTokens, maxLength: maxLength) }
        return pad(encodings, padding: padding)
    }

    /// Sentence pairs: `[CLS] a [SEP] b [SEP]` per row, padded like `encodeBatch(_:)`.
    public func encodeBatch(pairs: [(String, String)], addSpecialTokens: Bool = true, maxLength: Int? = nil,
                            padding: Padding = .longest) -> BatchEncoding {
        let encodings = Self.parallelMap(pairs) { encode($0.0, pair: $0.1, addSpecialTokens: addSpecialTokens, maxLength: maxLength) }
        return pad(encodings, padding: padding)
    }

    private func pad(_ encodings: [Encoding], padding: Padding) -> BatchEncoding {
        let longest = encodings.map(\.count).max() ?? 0
        let length: Int
        switch padding {
        case .longest: length = longest
        case .fixed(let n): length = max(n, longest)
        case .disabled: return BatchEncoding(encodings: encodings)
        }
        let padId = padTokenId ?? 0
        return BatchEncoding(encodings: encodings.map { e in
            var e = e
            e.pad(to: length, id: padId, token: padToken, typeId: padTypeId)
            return e
        })
    }

    /// `transform` over `items`, on all cores when there are enough items to pay for it.
    static func parallelMap<T: Sendable>(_ items: [T], _ transform: @Sendable (T) -> Encoding) -> [Encoding] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard items.count >= 64, cores > 1 else { return items.map(transform) }
        let chunks = min(items.count / 16, cores * 4)
        var results = [Encoding](repeating: Encoding(), count: items.count)
        results.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let lo = items.count * chunk / chunks, hi = items.count * (chunk + 1) / chunks
                for i in lo..<hi { out[i] = transform(items[i]) }
            }
        }
        return results
    }

    // MARK: - Decoding

    /// Turns ids back into text with the decoder (WordPiece: joins `##` pieces,
    /// English clean-up). Unknown ids are ignored; with `skipSpecialTokens`, so are
    /// the special added tokens (`[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]` for BERT).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if skipSpecialTokens && specialIds.contains(id) { continue }
            if let t = token(for: id) { tokens.append(t) }
        }
        return decoder?.decode(tokens) ?? tokens.joined(separator: " ")
    }
}

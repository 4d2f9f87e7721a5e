import Foundation

/// One token produced by a model: its id and the normalized scalars it covers.
public struct ModelToken: Sendable, Hashable {
    public var id: Int
    /// Range of `NormalizedString.scalars`.
    public var range: Range<Int>
    public init(id: Int, range: Range<Int>) {
        self.id = id
        self.range = range
    }
}

/// The third stage of a tokenizer: turns one pre-tokenized word into tokens.
public protocol TokenizerModel: Sendable {
    /// Appends the tokens of the word `text.scalars[word]` to `tokens`.
    func tokenize(_ text: NormalizedString, word: Range<Int>, into tokens: inout [ModelToken])
    func id(for token: String) -> Int?
    func token(for id: Int) -> String?
    /// Token → id for the whole vocabulary.
    var vocabulary: [String: Int] { get }
}

/// `{"type": "WordPiece", "unk_token", "continuing_subword_prefix", "max_input_chars_per_word", "vocab"}`.
///
/// Greedy longest-match-first, per word:
///
///     if word.count > maxInputCharsPerWord { return [unk] }
///     start = 0
///     while start < word.count:
///         end = word.count
///         while end > start and vocab lacks (start > 0 ? prefix : "") + word[start..<end]: end -= 1
///         if end == start { return [unk] }        // any unmatched piece: the whole word is one [UNK]
///         emit(word[start..<end]); start = end
///
/// Candidates are looked up as UTF-8 bytes in a hash table (no `String` per
/// candidate) and `end` starts at `start + longest vocabulary entry`, which skips
/// only lookups that cannot succeed.
public struct WordPiece: TokenizerModel {
    public let unkToken: String
    public let unkTokenId: Int
    public let continuingSubwordPrefix: String
    public let maxInputCharsPerWord: Int
    public let vocabulary: [String: Int]

    private let idToToken: [String?]
    /// Every vocabulary entry, for the first piece of a word.
    private let initial: ByteTable
    /// Entries starting with the prefix, keyed without it, for the later pieces.
    private let continuing: ByteTable

    /// - Throws: `TokenizerError.missingToken` if `unkToken` is not in `vocabulary`,
    ///   `TokenizerError.invalidVocabulary` for negative or very sparse ids.
    public init(vocabulary: [String: Int], unkToken: String = "[UNK]",
                continuingSubwordPrefix: String = "##", maxInputCharsPerWord: Int = 100) throws {
        try self.init(entries: vocabulary.map { ($0.key, $0.value) }, unkToken: unkToken,
                      continuingSubwordPrefix: continuingSubwordPrefix, maxInputCharsPerWord: maxInputCharsPerWord)
    }

    /// Reads a `vocab.txt` (one token per line, id = line number).
    public init(vocabFile: URL, unkToken: String = "[UNK]",
                continuingSubwordPrefix: String = "##", maxInputCharsPerWord: Int = 100) throws {
        let data = try readFile(vocabFile)
        guard String(data: data, encoding: .utf8) != nil else {
            throw TokenizerError.malformedFile(vocabFile, reason: "not UTF-8 text")
        }
        // Split the bytes (a `String` would treat "\r\n" as one character).
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw TokenizerError.invalidVocabulary(reason: "no tokens", file: vocabFile) }
        do {
            try self.init(entries: lines.enumerated().map { ($0.element, $0.offset) }, unkToken: unkToken,
                          continuingSubwordPrefix: continuingSubwordPrefix, maxInputCharsPerWord: maxInputCharsPerWord)
        } catch let error as TokenizerError {
            throw error.attributed(to: vocabFile)
        }
    }

    /// `entries` in file order; for a repeated token the last id wins (as Python's
    /// `load_vocab` does), while `token(for:)` still answers for every id.
    init(entries: [(String, Int)], unkToken: String, continuingSubwordPrefix: String, maxInputCharsPerWord: Int) throws {
        guard !entries.isEmpty else { throw TokenizerError.invalidVocabulary(reason: "no tokens", file: nil) }
        var maxId = 0
        for (token, id) in entries {
            guard id >= 0 else { throw TokenizerError.invalidVocabulary(reason: "negative id \(id) for '\(token)'", file: nil) }
            maxId = max(maxId, id)
        }
        guard maxId < 2 * entries.count + 1024 else {
            throw TokenizerError.invalidVocabulary(reason: "ids up to \(maxId) for only \(entries.count) tokens", file: nil)
        }
        var idToToken = [String?](repeating: nil, count: maxId + 1)
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(entries.count)
        for (token, id) in entries {
            if idToToken[id] == nil { idToToken[id] = token }
            vocabulary[token] = id
        }
        let prefix = Array(continuingSubwordPrefix.utf8)
        // Last occurrence wins: insert in reverse, the table keeps the first insertion.
        var initialEntries: [(key: [UInt8], id: Int)] = []
        var continuingEntries: [(key: [UInt8], id: Int)] = []
        initialEntries.reserveCapacity(entries.count)
        for (token, id) in entries.reversed() {
            let bytes = Array(token.utf8)
            initialEntries.append((bytes, id))
            if bytes.count > prefix.count && bytes.starts(with: prefix) {
                continuingEntries.append((Array(bytes[prefix.count...]), id))
            }
        }
        let initial = ByteTable(initialEntries)
        guard let unkId = initial.lookup(Array(unkToken.utf8)) else {
            throw TokenizerError.missingToken(unkToken, role: "unk_token", file: nil)
        }
        self.unkToken = unkToken
        self.unkTokenId = unkId
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.vocabulary = vocabulary
        self.idToToken = idToToken
        self.initial = initial
        self.continuing = prefix.isEmpty ? initial : ByteTable(continuingEntries)
    }

    public func id(for token: String) -> Int? { initial.lookup(Array(token.utf8)) }

    public func token(for id: Int) -> String? {
        guard id >= 0 && id < idToToken.count else { return nil }
        return idToToken[id]
    }

    public func tokenize(_ text: NormalizedString, word: Range<Int>, into tokens: inout [ModelToken]) {
        let n = word.count
        guard n > 0 else { return }
        guard n <= maxInputCharsPerWord else {
            tokens.append(ModelToken(id: unkTokenId, range: word))
            return
        }
        let first = tokens.count
        text.scalars.withUnsafeBufferPointer { scalars in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4 * n) { bytes in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: n + 1) { position in
                    guard let base = bytes.baseAddress else { return }
                    // UTF-8 of the word; position[k] = byte offset of scalar k.
                    var b = 0
                    for k in 0..<n {
                        position[k] = b
                        let v = scalars[word.lowerBound + k].value
                        if v < 0x80 {
                            bytes[b] = UInt8(v); b += 1
                        } else if v < 0x800 {
                            bytes[b] = UInt8(0xC0 | (v >> 6)); bytes[b + 1] = UInt8(0x80 | (v & 0x3F)); b += 2
                        } else if v < 0x10000 {
                            bytes[b] = UInt8(0xE0 | (v >> 12)); bytes[b + 1] = UInt8(0x80 | ((v >> 6) & 0x3F))
                            bytes[b + 2] = UInt8(0x80 | (v & 0x3F)); b += 3
                        } else {
                            bytes[b] = UInt8(0xF0 | (v >> 18)); bytes[b + 1] = UInt8(0x80 | ((v >> 12) & 0x3F))
                            bytes[b + 2] = UInt8(0x80 | ((v >> 6) & 0x3F)); bytes[b + 3] = UInt8(0x80 | (v & 0x3F)); b += 4
                        }
                    }
                    position[n] = b

                    var start = 0
                    while start < n {
                        let table = start == 0 ? initial : continuing
                        var end = min(n, start + table.maxKeyScalars)
                        var found: Int? = nil
                        while end > start {
                            if let id = table.lookup(base + position[start], position[end] - position[start]) {
                                found = id
                                break
                            }
                            end -= 1
                        }
                        guard let id = found else {
                            tokens.removeSubrange(first...)
                            tokens.append(ModelToken(id: unkTokenId, range: word))
                            return
                        }
                        tokens.append(ModelToken(id: id, range: (word.lowerBound + start)..<(word.lowerBound + end)))
                        start = end
                    }
                }
            }
        }
    }
}

/// Reads a whole file, mapping failures to `TokenizerError` cases that name it.
func readFile(_ url: URL) throws -> Data {
    guard FileManager.default.fileExists(atPath: url.path) else { throw TokenizerError.fileNotFound(url) }
    do {
        return try Data(contentsOf: url)
    } catch {
        throw TokenizerError.unreadableFile(url, reason: error.localizedDescription)
    }
}

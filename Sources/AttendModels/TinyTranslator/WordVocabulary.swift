import Foundation

/// A word-level vocabulary: ids 0–3 are `<pad>`, `<bos>`, `<eos>`, `<unk>`, then the words in order.
public struct WordVocabulary: Sendable, Equatable, Codable {
    public static let pad = 0, bos = 1, eos = 2, unk = 3
    public static let specials = ["<pad>", "<bos>", "<eos>", "<unk>"]

    public let tokens: [String]
    private let index: [String: Int]

    public init(words: [String]) {
        // One dictionary look-up per word (a linear `contains` made 100,000 words take half a minute).
        var tokens = Self.specials
        var index = Dictionary(uniqueKeysWithValues: tokens.enumerated().map { ($1, $0) })
        for w in words where index[w] == nil {
            index[w] = tokens.count
            tokens.append(w)
        }
        self.tokens = tokens
        self.index = index
    }

    public init(from decoder: Decoder) throws {
        let tokens = try decoder.singleValueContainer().decode([String].self)
        guard Array(tokens.prefix(4)) == Self.specials else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "a vocabulary must start with \(Self.specials)"))
        }
        self.init(words: Array(tokens.dropFirst(4)))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(tokens)
    }

    public static func == (a: WordVocabulary, b: WordVocabulary) -> Bool { a.tokens == b.tokens }

    public var count: Int { tokens.count }
    public func id(_ word: String) -> Int? { index[word] }
    public func contains(_ word: String) -> Bool { index[word] != nil }
    public func word(_ id: Int) -> String { id >= 0 && id < tokens.count ? tokens[id] : "<unk>" }

    /// Ids of `words`; unknown words become `<unk>`.
    public func encode(_ words: [String]) -> [Int] { words.map { index[$0] ?? Self.unk } }

    /// Words of `ids`, stopping at `<eos>` and skipping `<pad>`/`<bos>`.
    public func decode(_ ids: [Int]) -> [String] {
        var out: [String] = []
        for id in ids {
            if id == Self.eos { break }
            if id == Self.pad || id == Self.bos { continue }
            out.append(word(id))
        }
        return out
    }

    /// Known words closest in spelling to `word` (for "unknown word" messages).
    public func suggestions(for word: String, limit: Int = 3) -> [String] {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var prev = Array(0...b.count)
            for i in 1...Swift.max(a.count, 1) where !a.isEmpty {
                var cur = [i] + [Int](repeating: 0, count: b.count)
                for j in 1..<(b.count + 1) {
                    let substitution: Int = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                    let insertion: Int = cur[j - 1] + 1, deletion: Int = prev[j] + 1
                    cur[j] = Swift.min(substitution, insertion, deletion)
                }
                prev = cur
            }
            return prev[b.count]
        }
        let w = Array(word)
        let limitDistance = Swift.max(2, w.count / 3)
        var scored: [(word: String, distance: Int)] = []
        for t in tokens.dropFirst(4) {
            let d = distance(w, Array(t))
            if d <= limitDistance { scored.append((t, d)) }
        }
        scored.sort { $0.distance == $1.distance ? $0.word < $1.word : $0.distance < $1.distance }
        return scored.prefix(limit).map(\.word)
    }
}

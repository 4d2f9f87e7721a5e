import Foundation

/// `{"type": "BPE", "vocab", "merges", "ignore_merges", …}`: byte-pair encoding.
///
/// A word starts as one symbol per UTF-8 byte (`byteLevel`, GPT-2 style: the
/// vocabulary spells byte `b` as `ByteLevelAlphabet.scalars[b]`) or per Unicode
/// scalar. Then, as in `tokenizers`:
///
///     while some adjacent pair (a, b) is in merges:
///         take the pair with the lowest rank (the leftmost one on a tie)
///         replace a, b by the token a+b
///
/// with a min-heap of candidate pairs keyed by (rank, position), so a word of
/// n symbols costs O(n log n). With `ignoreMerges`, a word that is itself in the
/// vocabulary is one token. Results are cached per word (up to `cacheCapacity`
/// words, then the cache starts afresh), safely across threads.
public struct BytePairEncoding: TokenizerModel {
    public let vocabulary: [String: Int]
    /// Whether words are split into UTF-8 bytes spelled in the byte-level alphabet.
    public var byteLevel: Bool
    public let ignoreMerges: Bool
    /// Number of merges (rank = index in the merge list).
    public let mergeCount: Int
    /// The id used for a symbol not in the vocabulary (nil: such symbols are dropped, as in `tokenizers`).
    public let unkTokenId: Int?

    private let idToToken: [String?]
    /// Vocabulary ids of the 256 single-byte tokens (−1 when missing).
    private let byteIds: [Int32]
    /// (left id << 32 | right id) → (rank << 32 | merged id).
    private let merges: [UInt64: UInt64]
    private let cache: WordCache

    public static let cacheCapacity = 10_000

    /// - Parameters:
    ///   - merges: pairs of tokens, in rank order (first = merged first).
    /// - Throws: `TokenizerError.invalidVocabulary` when ids are negative or very
    ///   sparse, or a merge names a token (or yields a token) not in the vocabulary.
    public init(vocabulary: [String: Int], merges: [(String, String)], byteLevel: Bool = true,
                ignoreMerges: Bool = false, unkToken: String? = nil) throws {
        guard !vocabulary.isEmpty else { throw TokenizerError.invalidVocabulary(reason: "no tokens", file: nil) }
        let maxId = vocabulary.values.max() ?? 0
        if let negative = vocabulary.first(where: { $0.value < 0 }) {
            throw TokenizerError.invalidVocabulary(reason: "token '\(negative.key)' has negative id \(negative.value)", file: nil)
        }
        guard maxId < max(4 * vocabulary.count, 1024) && maxId < Int(Int32.max) else {
            throw TokenizerError.invalidVocabulary(reason: "largest id \(maxId) for \(vocabulary.count) tokens", file: nil)
        }
        var idToToken = [String?](repeating: nil, count: maxId + 1)
        for (token, id) in vocabulary {
            // Two tokens with one id (malformed, but seen): keep the smaller, deterministically.
            if let existing = idToToken[id], existing <= token { continue }
            idToToken[id] = token
        }
        var byteIds = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = vocabulary[String(ByteLevelAlphabet.scalars[b])] { byteIds[b] = Int32(id) }
        }
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let ia = vocabulary[a] else {
                throw TokenizerError.invalidVocabulary(reason: "merge \(rank) ('\(a) \(b)'): '\(a)' is not in the vocabulary", file: nil)
            }
            guard let ib = vocabulary[b] else {
                throw TokenizerError.invalidVocabulary(reason: "merge \(rank) ('\(a) \(b)'): '\(b)' is not in the vocabulary", file: nil)
            }
            guard let merged = vocabulary[a + b] else {
                throw TokenizerError.invalidVocabulary(reason: "merge \(rank) ('\(a) \(b)'): '\(a + b)' is not in the vocabulary", file: nil)
            }
            table[UInt64(ia) << 32 | UInt64(ib)] = UInt64(rank) << 32 | UInt64(merged)
        }
        if let unkToken, vocabulary[unkToken] == nil {
            throw TokenizerError.missingToken(unkToken, role: "unk_token", file: nil)
        }
        self.vocabulary = vocabulary
        self.byteLevel = byteLevel
        self.ignoreMerges = ignoreMerges
        self.mergeCount = merges.count
        self.unkTokenId = unkToken.flatMap { vocabulary[$0] }
        self.idToToken = idToToken
        self.byteIds = byteIds
        self.merges = table
        self.cache = WordCache(capacity: Self.cacheCapacity)
    }

    /// Merges written as `tokenizer.json` and GGUF have them: `"a b"`, split at the
    /// first space that is not the first character (tokens never contain a raw space
    /// in byte-level vocabularies; `tokenizers` splits at the first space too).
    public static func parseMerge(_ line: String) -> (String, String)? {
        guard let space = line.dropFirst().firstIndex(of: " ") else { return nil }
        return (String(line[..<space]), String(line[line.index(after: space)...]))
    }

    public func id(for token: String) -> Int? { vocabulary[token] }

    public func token(for id: Int) -> String? {
        id >= 0 && id < idToToken.count ? idToToken[id] : nil
    }

    // MARK: - Tokenizing

    public func tokenize(_ text: NormalizedString, word: Range<Int>, into tokens: inout [ModelToken]) {
        guard !word.isEmpty else { return }
        // Symbols: UTF-8 bytes (byte level) or scalars, with the scalar each starts in.
        var units: [UInt32] = []
        var unitScalar: [Int32] = []
        units.reserveCapacity(word.count * 2)
        unitScalar.reserveCapacity(word.count * 2)
        for i in word {
            let s = text.scalars[i]
            if byteLevel {
                for b in s.utf8 { units.append(UInt32(b)); unitScalar.append(Int32(i)) }
            } else {
                units.append(s.value)
                unitScalar.append(Int32(i))
            }
        }
        let pieces: [Piece]
        if let cached = cache.get(units) {
            pieces = cached
        } else {
            pieces = encodeUnits(units)
            cache.put(units, pieces)
        }
        for p in pieces {
            let lo = Int(unitScalar[Int(p.start)]), hi = Int(unitScalar[Int(p.end) - 1]) + 1
            tokens.append(ModelToken(id: Int(p.id), range: lo..<hi))
        }
    }

    /// One output token: id and the units `start..<end` it covers.
    struct Piece: Sendable {
        var id: Int32
        var start: Int32
        var end: Int32
    }

    private func initialId(_ unit: UInt32) -> Int32 {
        if byteLevel { return byteIds[Int(unit)] }
        guard let s = Unicode.Scalar(unit), let id = vocabulary[String(s)] else { return -1 }
        return Int32(id)
    }

    /// BPE over one word's units (bytes or scalar values).
    func encodeUnits(_ units: [UInt32]) -> [Piece] {
        if ignoreMerges, let id = vocabulary[wordString(units)] {
            return [Piece(id: Int32(id), start: 0, end: Int32(units.count))]
        }
        // Symbols as a doubly linked list over the initial units.
        let n = units.count
        var ids = [Int32](repeating: -1, count: n)
        var starts = [Int32](repeating: 0, count: n)
        var ends = [Int32](repeating: 0, count: n)
        var prev = [Int32](repeating: -1, count: n)
        var next = [Int32](repeating: -1, count: n)
        var alive = [Bool](repeating: false, count: n)
        // Units unknown to the vocabulary become unk (consecutive ones stay separate, fuse_unk false) or are dropped.
        var last: Int32 = -1
        for i in 0..<n {
            var id = initialId(units[i])
            if id < 0, let unk = unkTokenId { id = Int32(unk) }
            guard id >= 0 else { continue }
            ids[i] = id
            starts[i] = Int32(i)
            ends[i] = Int32(i + 1)
            alive[i] = true
            prev[i] = last
            if last >= 0 { next[Int(last)] = Int32(i) }
            last = Int32(i)
        }
        // Candidate merges, min-heap by (rank << 32 | position).
        var heap = MergeHeap()
        var p = alive.firstIndex(of: true) ?? n
        while p < n {
            let q = Int(next[p])
            guard q >= 0 else { break }
            if let m = merges[UInt64(UInt32(bitPattern: ids[p])) << 32 | UInt64(UInt32(bitPattern: ids[q]))] {
                heap.push(key: (m >> 32) << 32 | UInt64(p), newId: Int32(truncatingIfNeeded: m & 0xFFFF_FFFF))
            }
            p = q
        }
        while let top = heap.pop() {
            let pos = Int(top.key & 0xFFFF_FFFF)
            guard alive[pos], next[pos] >= 0 else { continue }
            let right = Int(next[pos])
            // Skip stale entries: the pair at `pos` must still merge into `newId`.
            guard let m = merges[UInt64(UInt32(bitPattern: ids[pos])) << 32 | UInt64(UInt32(bitPattern: ids[right]))],
                  Int32(truncatingIfNeeded: m & 0xFFFF_FFFF) == top.newId else { continue }
            ids[pos] = top.newId
            ends[pos] = ends[right]
            alive[right] = false
            let after = next[right]
            next[pos] = after
            if after >= 0 { prev[Int(after)] = Int32(pos) }
            let before = prev[pos]
            if before >= 0,
               let m = merges[UInt64(UInt32(bitPattern: ids[Int(before)])) << 32 | UInt64(UInt32(bitPattern: ids[pos]))] {
                heap.push(key: (m >> 32) << 32 | UInt64(before), newId: Int32(truncatingIfNeeded: m & 0xFFFF_FFFF))
            }
            if after >= 0,
               let m = merges[UInt64(UInt32(bitPattern: ids[pos])) << 32 | UInt64(UInt32(bitPattern: ids[Int(after)]))] {
                heap.push(key: (m >> 32) << 32 | UInt64(pos), newId: Int32(truncatingIfNeeded: m & 0xFFFF_FFFF))
            }
        }
        var out: [Piece] = []
        var i = alive.firstIndex(of: true) ?? n
        while i < n && i >= 0 {
            out.append(Piece(id: ids[i], start: starts[i], end: ends[i]))
            i = Int(next[i])
        }
        return out
    }

    private func wordString(_ units: [UInt32]) -> String {
        var s = String.UnicodeScalarView()
        for u in units {
            if byteLevel { s.append(ByteLevelAlphabet.scalars[Int(u)]) } else if let c = Unicode.Scalar(u) { s.append(c) }
        }
        return String(s)
    }
}

/// A binary min-heap of (key, new id) merge candidates.
struct MergeHeap {
    private var keys: [UInt64] = []
    private var newIds: [Int32] = []

    mutating func push(key: UInt64, newId: Int32) {
        keys.append(key)
        newIds.append(newId)
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard keys[i] < keys[parent] else { break }
            keys.swapAt(i, parent)
            newIds.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (key: UInt64, newId: Int32)? {
        guard let first = keys.first else { return nil }
        let top = (first, newIds[0])
        let lastKey = keys.removeLast(), lastId = newIds.removeLast()
        if !keys.isEmpty {
            keys[0] = lastKey
            newIds[0] = lastId
            var i = 0
            let n = keys.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n && keys[l] < keys[m] { m = l }
                if r < n && keys[r] < keys[m] { m = r }
                if m == i { break }
                keys.swapAt(i, m)
                newIds.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}

/// Word (units) → BPE pieces, shared by all copies of a model and all threads.
final class WordCache: @unchecked Sendable {
    private let lock = NSLock()
    private var table: [[UInt32]: [BytePairEncoding.Piece]] = [:]
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func get(_ key: [UInt32]) -> [BytePairEncoding.Piece]? {
        lock.lock()
        defer { lock.unlock() }
        return table[key]
    }

    func put(_ key: [UInt32], _ value: [BytePairEncoding.Piece]) {
        // Very long words (whitespace runs, base64) would only fill the cache.
        guard key.count <= 256 else { return }
        lock.lock()
        defer { lock.unlock() }
        if table.count >= capacity { table.removeAll(keepingCapacity: true) }
        table[key] = value
    }
}

/// Where a token came from in the input text: `start..<end` counted in **Unicode
/// scalars** (code points) of the original string — the `char` offsets Hugging Face
/// `tokenizers` reports in Python. Special and padding tokens have `0..<0`.
///
/// Use `Encoding.stringRange(ofToken:in:)` to get a `Range<String.Index>`.
public struct TokenOffset: Sendable, Hashable, CustomStringConvertible {
    public var start: Int
    public var end: Int
    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }
    public var range: Range<Int> { start..<max(start, end) }
    public var description: String { "(\(start), \(end))" }
    static let none = TokenOffset(start: 0, end: 0)
}

/// The result of tokenizing one text (or one pair of texts): parallel arrays,
/// one element per token, like Hugging Face `tokenizers`' `Encoding`.
public struct Encoding: Sendable, Hashable {
    public var ids: [Int]
    public var tokens: [String]
    /// Segment ids: 0 for the first sequence (and its [CLS]/[SEP]), 1 for the second.
    public var typeIds: [Int]
    /// 1 for real tokens, 0 for padding.
    public var attentionMask: [Int]
    /// 1 for tokens added by the post-processor or padding, 0 for tokens of the text.
    public var specialTokensMask: [Int]
    /// Offsets in Unicode scalars of the text the token came from (the pair's second
    /// text for tokens of sequence 1).
    public var offsets: [TokenOffset]
    /// Index of the pre-tokenized word each token belongs to (per sequence); nil for special tokens.
    public var wordIds: [Int?]
    /// 0 or 1 for tokens of the first or second text; nil for special tokens and padding.
    public var sequenceIds: [Int?]
    /// Whether tokens of the text were dropped to respect `maxLength`.
    public var wasTruncated: Bool

    public init(ids: [Int] = [], tokens: [String] = [], typeIds: [Int] = [], attentionMask: [Int] = [],
                specialTokensMask: [Int] = [], offsets: [TokenOffset] = [], wordIds: [Int?] = [],
                sequenceIds: [Int?] = [], wasTruncated: Bool = false) {
        self.ids = ids
        self.tokens = tokens
        self.typeIds = typeIds
        self.attentionMask = attentionMask
        self.specialTokensMask = specialTokensMask
        self.offsets = offsets
        self.wordIds = wordIds
        self.sequenceIds = sequenceIds
        self.wasTruncated = wasTruncated
    }

    public var count: Int { ids.count }
    public var isEmpty: Bool { ids.isEmpty }

    /// The part of `text` token `index` came from, as string indices (nil for
    /// special tokens, padding, or an offset outside `text`). `text` must be the
    /// string this token was encoded from.
    public func stringRange(ofToken index: Int, in text: String) -> Range<String.Index>? {
        guard offsets.indices.contains(index) else { return nil }
        let o = offsets[index]
        let scalars = text.unicodeScalars
        guard o.end > o.start, o.start >= 0,
              let lo = scalars.index(scalars.startIndex, offsetBy: o.start, limitedBy: scalars.endIndex),
              let hi = scalars.index(lo, offsetBy: o.end - o.start, limitedBy: scalars.endIndex)
        else { return nil }
        return lo..<hi
    }

    mutating func reserveCapacity(_ n: Int) {
        ids.reserveCapacity(n); tokens.reserveCapacity(n); typeIds.reserveCapacity(n)
        attentionMask.reserveCapacity(n); specialTokensMask.reserveCapacity(n); offsets.reserveCapacity(n)
        wordIds.reserveCapacity(n); sequenceIds.reserveCapacity(n)
    }

    mutating func append(id: Int, token: String, typeId: Int, attention: Int = 1, special: Int,
                         offset: TokenOffset, wordId: Int?, sequenceId: Int?) {
        ids.append(id); tokens.append(token); typeIds.append(typeId); attentionMask.append(attention)
        specialTokensMask.append(special); offsets.append(offset); wordIds.append(wordId); sequenceIds.append(sequenceId)
    }

    /// Appends all tokens of `other` (a sequence without special tokens), giving them `typeId`.
    mutating func append(contentsOf other: Encoding, typeId: Int) {
        ids += other.ids; tokens += other.tokens
        typeIds += repeatElement(typeId, count: other.count)
        attentionMask += other.attentionMask; specialTokensMask += other.specialTokensMask
        offsets += other.offsets; wordIds += other.wordIds; sequenceIds += other.sequenceIds
        wasTruncated = wasTruncated || other.wasTruncated
    }

    /// Keeps the first `n` tokens.
    mutating func truncate(to n: Int) {
        guard n < count else { return }
        let k = max(n, 0)
        ids.removeSubrange(k...); tokens.removeSubrange(k...); typeIds.removeSubrange(k...)
        attentionMask.removeSubrange(k...); specialTokensMask.removeSubrange(k...); offsets.removeSubrange(k...)
        wordIds.removeSubrange(k...); sequenceIds.removeSubrange(k...)
        wasTruncated = true
    }

    /// Appends padding up to `length` tokens.
    mutating func pad(to length: Int, id: Int, token: String, typeId: Int) {
        let n = length - count
        guard n > 0 else { return }
        ids += repeatElement(id, count: n); tokens += repeatElement(token, count: n)
        typeIds += repeatElement(typeId, count: n); attentionMask += repeatElement(0, count: n)
        specialTokensMask += repeatElement(1, count: n); offsets += repeatElement(.none, count: n)
        wordIds += repeatElement(nil, count: n); sequenceIds += repeatElement(nil, count: n)
    }
}

/// How `encodeBatch` pads.
public enum Padding: Sendable, Hashable {
    /// Pad every encoding to the longest one of the batch.
    case longest
    /// Pad to this length (or to the longest encoding if that is longer, so the
    /// batch stays rectangular; use `maxLength` to bound it).
    case fixed(Int)
    /// No padding: rows keep their own lengths.
    case disabled
}

/// The encodings of a batch of texts, padded on the right with the pad token.
public struct BatchEncoding: Sendable, Hashable {
    /// One padded encoding per text.
    public var encodings: [Encoding]
    /// `ids[i]` = `encodings[i].ids`.
    public var ids: [[Int]]
    public var typeIds: [[Int]]
    public var attentionMask: [[Int]]
    /// The length of the longest row (every row's length when padded).
    public var sequenceLength: Int

    public init(encodings: [Encoding]) {
        self.encodings = encodings
        ids = encodings.map(\.ids)
        typeIds = encodings.map(\.typeIds)
        attentionMask = encodings.map(\.attentionMask)
        sequenceLength = encodings.map(\.count).max() ?? 0
    }

    public var count: Int { encodings.count }
}

/// An entry of `added_tokens` in `tokenizer.json`: a token found in the text
/// *before* the model runs (e.g. `[MASK]` in "the [MASK] sat"), so it is never
/// split or lowercased. `normalized == false` tokens are matched in the raw text,
/// `normalized == true` ones in the normalized text.
public struct AddedToken: Sendable, Hashable, Codable {
    public var id: Int
    public var content: String
    /// Only match when not inside a word.
    public var singleWord: Bool
    /// Also swallow the whitespace to the left / right of a match.
    public var lstrip: Bool
    public var rstrip: Bool
    public var normalized: Bool
    /// Special tokens are dropped by `decode(_:skipSpecialTokens: true)`.
    public var special: Bool

    enum CodingKeys: String, CodingKey {
        case id, content, lstrip, rstrip, normalized, special
        case singleWord = "single_word"
    }

    public init(id: Int, content: String, singleWord: Bool = false, lstrip: Bool = false, rstrip: Bool = false,
                normalized: Bool = false, special: Bool = true) {
        self.id = id
        self.content = content
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
        self.special = special
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        content = try c.decode(String.self, forKey: .content)
        singleWord = try c.decodeIfPresent(Bool.self, forKey: .singleWord) ?? false
        lstrip = try c.decodeIfPresent(Bool.self, forKey: .lstrip) ?? false
        rstrip = try c.decodeIfPresent(Bool.self, forKey: .rstrip) ?? false
        special = try c.decodeIfPresent(Bool.self, forKey: .special) ?? false
        normalized = try c.decodeIfPresent(Bool.self, forKey: .normalized) ?? !special
    }
}

/// Finds added tokens in a run of scalars: leftmost match first, and the longest
/// token among those starting there (`tokenizers`' LeftmostLongest).
struct AddedTokenMatcher: Sendable {
    struct Pattern: Sendable {
        var scalars: [Unicode.Scalar]
        var id: Int
        var singleWord: Bool
        var lstrip: Bool
        var rstrip: Bool
    }

    struct Match {
        var range: Range<Int>
        var id: Int
    }

    /// Patterns by first scalar, longest first.
    private let byFirstScalar: [Unicode.Scalar: [Pattern]]
    /// Bit `v` set when some pattern starts with ASCII scalar `v`.
    private let asciiFirst: (UInt64, UInt64)
    let isEmpty: Bool

    init(_ patterns: [Pattern]) {
        var map: [Unicode.Scalar: [Pattern]] = [:]
        var low: UInt64 = 0, high: UInt64 = 0
        for p in patterns {
            guard let first = p.scalars.first else { continue }
            map[first, default: []].append(p)
            if first.value < 64 { low |= 1 << UInt64(first.value) } else if first.value < 128 { high |= 1 << UInt64(first.value - 64) }
        }
        for key in map.keys { map[key]?.sort { $0.scalars.count > $1.scalars.count } }
        byFirstScalar = map
        asciiFirst = (low, high)
        isEmpty = map.isEmpty
    }

    @inline(__always)
    private func mayStart(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 64 { return asciiFirst.0 & (1 << UInt64(v)) != 0 }
        if v < 128 { return asciiFirst.1 & (1 << UInt64(v - 64)) != 0 }
        return byFirstScalar[s] != nil
    }

    /// Matches inside `scalars[range]`, in order, not overlapping.
    func matches(in scalars: [Unicode.Scalar], range: Range<Int>) -> [Match] {
        guard !isEmpty else { return [] }
        var out: [Match] = []
        var i = range.lowerBound
        var floor = range.lowerBound  // lstrip may not reach back past the previous match
        while i < range.upperBound {
            guard mayStart(scalars[i]), let candidates = byFirstScalar[scalars[i]] else {
                i += 1
                continue
            }
            var matched = false
            for p in candidates where i + p.scalars.count <= range.upperBound {
                var k = 1
                while k < p.scalars.count && scalars[i + k] == p.scalars[k] { k += 1 }
                guard k == p.scalars.count else { continue }
                let end = i + k
                if p.singleWord {
                    if i > range.lowerBound && Self.isWordCharacter(scalars[i - 1]) { continue }
                    if end < range.upperBound && Self.isWordCharacter(scalars[end]) { continue }
                }
                var lo = i, hi = end
                if p.lstrip { while lo > floor && UnicodeClass.isWhitespace(scalars[lo - 1]) { lo -= 1 } }
                if p.rstrip { while hi < range.upperBound && UnicodeClass.isWhitespace(scalars[hi]) { hi += 1 } }
                out.append(Match(range: lo..<hi, id: p.id))
                i = hi
                floor = hi
                matched = true
                break
            }
            if !matched { i += 1 }
        }
        return out
    }

    /// Rust's `char::is_alphanumeric() || c == '_'`, the word test of `single_word`.
    private static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        if s == "_" { return true }
        let p = s.properties
        if p.isAlphabetic { return true }
        switch p.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }
}

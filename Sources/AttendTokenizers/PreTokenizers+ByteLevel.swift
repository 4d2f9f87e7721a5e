// The pre-tokenizers of byte-level BPE models (GPT-2, SmolLM2, StarCoder…):
// ByteLevel's regex split, Digits, and Split on a literal string. The regex is a
// hand-written scanner over Unicode scalars rather than a regex engine.

/// The GPT-2 split pattern of `tokenizers`' ByteLevel pre-tokenizer, applied left to right:
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// Every scalar lands in exactly one piece. `\s` is `White_Space`; `\p{L}` and
/// `\p{N}` are the general categories L* and N*; the optional prefix is U+0020 only;
/// contractions are ASCII and case-sensitive. `\s+(?!\S)` takes a whitespace run
/// but leaves its last scalar to the next piece when a non-space follows it (so
/// `"a   b"` → `a`, `"  "`, `" b"`).
public enum GPT2Split {
    /// Classes of the pattern, with an ASCII fast path.
    enum Class: UInt8 { case letter, number, space, other }

    @inline(__always)
    static func classify(_ s: Unicode.Scalar) -> Class {
        let v = s.value
        if v < 0x80 {
            if (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) { return .letter }
            if v >= 0x30 && v <= 0x39 { return .number }
            if v == 0x20 || (v >= 0x09 && v <= 0x0D) { return .space }
            return .other
        }
        if UnicodeClass.isWhitespace(s) { return .space }
        switch BPEUnicode.category(s) {
        case .letter: return .letter
        case .number: return .number
        default: return .other
        }
    }

    /// Appends the pieces of `scalars[range]` to `out`.
    public static func split(_ scalars: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, into out: inout [Range<Int>]) {
        let end = range.upperBound
        var i = range.lowerBound
        while i < end {
            let start = i
            let c = scalars[i]
            // Contractions: 's 't 're 've 'm 'll 'd
            if c == "'" && i + 1 < end {
                let a = scalars[i + 1]
                if a == "s" || a == "t" || a == "m" || a == "d" {
                    out.append(i..<(i + 2)); i += 2; continue
                }
                if i + 2 < end {
                    let b = scalars[i + 2]
                    if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") {
                        out.append(i..<(i + 3)); i += 3; continue
                    }
                }
            }
            // An optional single space before a letter, number or other run.
            var j = i
            if c == " " && i + 1 < end { j = i + 1 }
            let k = classify(scalars[j])
            if j > i || k != .space {
                if k != .space {
                    j += 1
                    while j < end && classify(scalars[j]) == k { j += 1 }
                    out.append(start..<j)
                    i = j
                    continue
                }
                // " " followed by whitespace: fall through to the whitespace rules.
                j = i
            }
            // Whitespace run: \s+(?!\S) then \s+.
            j = i + 1
            while j < end && classify(scalars[j]) == .space { j += 1 }
            if j < end && j - i >= 2 { j -= 1 }  // leave the last space to the next piece
            out.append(start..<j)
            i = j
        }
    }
}

/// The general-category classes the split patterns use, as the regex engine of
/// `tokenizers` 0.23 (Oniguruma) and Rust's `char` know them: Unicode 16. Scalars
/// assigned later (Unicode 17: Sidetic, Tolong Siki, CJK extension J…) are
/// unassigned there, hence neither letters nor numbers (checked by the
/// `pre_tokenize` goldens of make_bpe_goldens.py).
enum BPEUnicode {
    enum Category { case letter, number, mark, other }

    /// The newest Unicode major version the reference implementation knows.
    static let maxUnicodeMajor = 16

    @inline(__always)
    static func category(_ s: Unicode.Scalar) -> Category {
        let p = s.properties
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return isKnown(p) ? .letter : .other
        case .decimalNumber, .letterNumber, .otherNumber:
            return isKnown(p) ? .number : .other
        case .nonspacingMark, .spacingMark, .enclosingMark:
            return .mark
        default:
            return .other
        }
    }

    @inline(__always)
    private static func isKnown(_ p: Unicode.Scalar.Properties) -> Bool {
        guard let age = p.age else { return false }
        return age.major <= maxUnicodeMajor
    }

    /// Rust's `char::is_numeric` (N*), used by the Digits pre-tokenizer.
    @inline(__always)
    static func isNumeric(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 { return v >= 0x30 && v <= 0x39 }
        let p = s.properties
        switch p.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return isKnown(p)
        default: return false
        }
    }
}

/// `{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}`: splits
/// with `GPT2Split` (when `useRegex`). The mapping of each word's UTF-8 bytes to
/// the byte-level alphabet happens in the BPE model (`BytePairEncoding.byteLevel`),
/// since pre-tokenizers here only split.
public struct ByteLevelPreTokenizer: PreTokenizer, Hashable {
    public var useRegex: Bool
    public init(useRegex: Bool = true) { self.useRegex = useRegex }

    public func preTokenize(_ text: NormalizedString, words: inout [Range<Int>]) {
        guard useRegex else { return }
        var out: [Range<Int>] = []
        out.reserveCapacity(text.count / 3 + 4)
        text.scalars.withUnsafeBufferPointer { s in
            for word in words { GPT2Split.split(s, word, into: &out) }
        }
        words = out
    }
}

/// `{"type": "Digits", "individual_digits": …}`: isolates numeric scalars (Rust's
/// `char::is_numeric`, N*) — each on its own, or as runs when `individualDigits` is false.
public struct DigitsPreTokenizer: PreTokenizer, Hashable {
    public var individualDigits: Bool
    public init(individualDigits: Bool) { self.individualDigits = individualDigits }

    public func preTokenize(_ text: NormalizedString, words: inout [Range<Int>]) {
        var out: [Range<Int>] = []
        out.reserveCapacity(words.count + text.count / 4)
        text.scalars.withUnsafeBufferPointer { s in
            for word in words {
                var start = word.lowerBound
                var i = word.lowerBound
                while i < word.upperBound {
                    guard BPEUnicode.isNumeric(s[i]) else { i += 1; continue }
                    if start < i { out.append(start..<i) }
                    var j = i + 1
                    if !individualDigits { while j < word.upperBound && BPEUnicode.isNumeric(s[j]) { j += 1 } }
                    out.append(i..<j)
                    i = j
                    start = j
                }
                if start < word.upperBound { out.append(start..<word.upperBound) }
            }
        }
        words = out
    }
}

/// `{"type": "Split", "pattern": {"String": s} or {"Regex": GPT-2's pattern}, "behavior": …, "invert": false}`.
///
/// A literal string pattern supports every behaviour (`Removed`, `Isolated`,
/// `MergedWithPrevious`, `MergedWithNext`, `Contiguous`); the only regex accepted
/// is the GPT-2 pattern with `Isolated` (it covers the whole text, so that equals
/// `GPT2Split`). Other regexes are refused when loading, naming the pattern.
public struct SplitPreTokenizer: PreTokenizer, Hashable {
    public enum Behavior: String, Sendable, Hashable {
        case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
        case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
    }
    public enum Pattern: Sendable, Hashable {
        case string([Unicode.Scalar])
        case gpt2
    }

    public static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    public var pattern: Pattern
    public var behavior: Behavior

    public init(pattern: Pattern, behavior: Behavior) {
        self.pattern = pattern
        self.behavior = behavior
    }

    public func preTokenize(_ text: NormalizedString, words: inout [Range<Int>]) {
        var out: [Range<Int>] = []
        out.reserveCapacity(words.count * 2)
        text.scalars.withUnsafeBufferPointer { s in
            for word in words {
                switch pattern {
                case .gpt2:
                    GPT2Split.split(s, word, into: &out)
                case .string(let p):
                    split(s, word, literal: p, into: &out)
                }
            }
        }
        words = out
    }

    private func split(_ s: UnsafeBufferPointer<Unicode.Scalar>, _ word: Range<Int>, literal p: [Unicode.Scalar], into out: inout [Range<Int>]) {
        // Matches of the literal, left to right, not overlapping.
        var matches: [Range<Int>] = []
        var i = word.lowerBound
        if !p.isEmpty {
            while i + p.count <= word.upperBound {
                var k = 0
                while k < p.count && s[i + k] == p[k] { k += 1 }
                if k == p.count { matches.append(i..<(i + k)); i += k } else { i += 1 }
            }
        }
        // Pieces as (range, isMatch), covering the word.
        var pieces: [(Range<Int>, Bool)] = []
        var position = word.lowerBound
        for m in matches {
            if position < m.lowerBound { pieces.append((position..<m.lowerBound, false)) }
            pieces.append((m, true))
            position = m.upperBound
        }
        if position < word.upperBound { pieces.append((position..<word.upperBound, false)) }

        switch behavior {
        case .removed:
            for (r, isMatch) in pieces where !isMatch { out.append(r) }
        case .isolated:
            for (r, _) in pieces { out.append(r) }
        case .mergedWithPrevious:
            var pending: Range<Int>? = nil
            for (r, isMatch) in pieces {
                if isMatch, let p = pending { out.append(p.lowerBound..<r.upperBound); pending = nil }
                else { if let p = pending { out.append(p) }; pending = r }
            }
            if let p = pending { out.append(p) }
        case .mergedWithNext:
            var pending: Range<Int>? = nil
            for (r, isMatch) in pieces {
                if let p = pending {
                    if isMatch { out.append(p); pending = r } else { out.append(p.lowerBound..<r.upperBound); pending = nil }
                } else {
                    if isMatch { pending = r } else { out.append(r) }
                }
            }
            if let p = pending { out.append(p) }
        case .contiguous:
            var pending: (Range<Int>, Bool)? = nil
            for (r, isMatch) in pieces {
                if let p = pending, p.1 == isMatch { pending = (p.0.lowerBound..<r.upperBound, isMatch) }
                else { if let p = pending { out.append(p.0) }; pending = (r, isMatch) }
            }
            if let p = pending { out.append(p.0) }
        }
    }
}

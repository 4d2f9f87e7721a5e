/// Character classes and the canonical decomposition used by the normalizers and
/// pre-tokenizers, each matching the definition in Hugging Face `tokenizers`
/// (Rust), which is what `tokenizer.json` files are written for.
///
/// Every predicate has an ASCII fast path. Beyond ASCII, the classes that
/// `tokenizers` takes from its own (older, frozen) Unicode tables — control,
/// punctuation, marks, NFD — are read from `HFUnicodeTables`, generated from
/// `tokenizers` itself, so that characters added to Unicode since then tokenize
/// as they do in Python; whitespace, lowercase and the `\w` class come from the
/// Swift standard library, as `tokenizers` takes them from Rust's (current) tables.
enum UnicodeClass {

    /// Rust's `char::is_whitespace`: the Unicode `White_Space` property
    /// (space, `\t \n \v \f \r`, U+0085, category Zs, U+2028, U+2029).
    /// Used by BertNormalizer's clean_text, BertPreTokenizer and WhitespaceSplit.
    @inline(__always)
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
        return s.properties.isWhitespace
    }

    /// BertNormalizer's `is_control`: general category C* (Cc, Cf, Co — *not*
    /// unassigned Cn), except `\t \n \r`, which count as whitespace.
    @inline(__always)
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 { return (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || v == 0x7F }
        return HFUnicode.control.contains(v)
    }

    /// BertPreTokenizer's `is_bert_punc`: ASCII punctuation (33–47, 58–64,
    /// 91–96, 123–126) or Unicode general category P*.
    @inline(__always)
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (v >= 33 && v <= 47) || (v >= 58 && v <= 64) || (v >= 91 && v <= 96) || (v >= 123 && v <= 126)
        }
        return HFUnicode.punctuation.contains(v)
    }

    /// BertNormalizer's `is_chinese_char`: the CJK ideograph blocks of the
    /// original BERT, with the ranges exactly as in `tokenizers`
    /// (which start the Extension E range at U+2B920, not U+2B820).
    @inline(__always)
    static func isChinese(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x3400 { return false }
        return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v)
            || (0x20000...0x2A6DF).contains(v) || (0x2A700...0x2B73F).contains(v)
            || (0x2B740...0x2B81F).contains(v) || (0x2B920...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }

    /// General category Mn (what BertNormalizer's strip_accents drops after NFD).
    @inline(__always)
    static func isNonspacingMark(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x300 { return false }
        return HFUnicode.nonspacingMark.contains(s.value)
    }

    /// General category M* (Mn, Mc, Me): what the standalone StripAccents drops.
    @inline(__always)
    static func isMark(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x300 { return false }
        return HFUnicode.mark.contains(s.value)
    }

    /// The regex class `\w` of Rust's `regex` crate (used by the Whitespace
    /// pre-tokenizer, `\w+|[^\w\s]+`): Alphabetic, M*, Nd, Pc, Join_Control.
    /// That crate has Unicode 16 tables, so characters new in Unicode 17+ are not `\w`.
    @inline(__always)
    static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        let p = s.properties
        if let age = p.age, age.major > 16 { return false }
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    // MARK: - Lowercase

    /// Appends the full lowercase mapping of `s` (Rust's `char::to_lowercase`,
    /// no locale, no context: `İ` → `i̇`, `Σ` → `σ`).
    @inline(__always)
    static func appendLowercase(_ s: Unicode.Scalar, to emit: (Unicode.Scalar) -> Void) {
        let v = s.value
        if v < 0x80 {
            emit((v >= 0x41 && v <= 0x5A) ? Unicode.Scalar(UInt8(v + 32)) : s)
            return
        }
        let p = s.properties
        if !p.changesWhenLowercased { emit(s); return }
        for l in p.lowercaseMapping.unicodeScalars { emit(l) }
    }

    // MARK: - Canonical decomposition (NFD)

    /// Appends the full canonical decomposition of `s` as `tokenizers`' NFD has it
    /// (without reordering; see `NormalizedString.reorderCanonically`).
    @inline(__always)
    static func appendDecomposition(_ s: Unicode.Scalar, to emit: (Unicode.Scalar) -> Void) {
        let v = s.value
        if v < 0xC0 { emit(s); return }
        // Hangul syllables decompose algorithmically (Unicode §3.12).
        if v >= 0xAC00 && v <= 0xD7A3 {
            let index = v - 0xAC00
            let t = index % 28
            if let l = Unicode.Scalar(0x1100 + index / 588), let vowel = Unicode.Scalar(0x1161 + (index % 588) / 28) {
                emit(l)
                emit(vowel)
                if t != 0, let trailing = Unicode.Scalar(0x11A7 + t) { emit(trailing) }
                return
            }
        }
        guard let parts = HFUnicode.decompositions[v] else { emit(s); return }
        for p in parts { emit(p) }
    }
}

/// Sorted, disjoint ranges of scalar values, with a binary-search membership test.
struct ScalarRanges: Sendable {
    private let lows: [UInt32]
    private let highs: [UInt32]

    /// Parses whitespace-separated hex `A` or `A-B` items (sorted, disjoint).
    init(_ table: String) {
        var lows: [UInt32] = [], highs: [UInt32] = []
        for item in table.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let bounds = item.split(separator: "-")
            guard let lo = bounds.first.flatMap({ UInt32($0, radix: 16) }),
                  let hi = bounds.last.flatMap({ UInt32($0, radix: 16) }) else { continue }
            lows.append(lo)
            highs.append(hi)
        }
        self.lows = lows
        self.highs = highs
    }

    var count: Int { lows.count }

    @inline(__always)
    func contains(_ v: UInt32) -> Bool {
        // Last range whose low bound is <= v.
        var lo = 0, hi = lows.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if lows[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && v <= highs[lo - 1]
    }
}

/// The parsed `HFUnicodeTables` (each parsed once, on first use, thread-safely).
enum HFUnicode {
    static let control = ScalarRanges(HFUnicodeTables.control)
    static let nonspacingMark = ScalarRanges(HFUnicodeTables.nonspacingMark)
    static let mark = ScalarRanges(HFUnicodeTables.mark)
    static let punctuation = ScalarRanges(HFUnicodeTables.punctuation)
    static let decompositions: [UInt32: [Unicode.Scalar]] = {
        var table: [UInt32: [Unicode.Scalar]] = [:]
        for item in HFUnicodeTables.decomposition.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let sides = item.split(separator: ">")
            guard sides.count == 2, let key = UInt32(sides[0], radix: 16) else { continue }
            let parts = sides[1].split(separator: ".").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
            table[key] = parts
        }
        return table
    }()
}

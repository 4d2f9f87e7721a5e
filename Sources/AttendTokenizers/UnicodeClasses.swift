import Foundation

/// Character classes and the canonical decomposition used by the normalizers and
/// pre-tokenizers, each matching the definition in Hugging Face `tokenizers`
/// (Rust), which is what `tokenizer.json` files are written for.
///
/// Every predicate has an ASCII fast path; anything else asks the Unicode
/// properties shipped with the Swift standard library.
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

    /// BertNormalizer's `is_control`: general category C* (Cc, Cf, Co, Cs — *not*
    /// unassigned Cn), except `\t \n \r`, which count as whitespace.
    @inline(__always)
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 { return (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || v == 0x7F }
        if HFUnicodeExceptions.notControl(v) { return false }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// BertPreTokenizer's `is_bert_punc`: ASCII punctuation (33–47, 58–64,
    /// 91–96, 123–126) or Unicode general category P*.
    @inline(__always)
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (v >= 33 && v <= 47) || (v >= 58 && v <= 64) || (v >= 91 && v <= 96) || (v >= 123 && v <= 126)
        }
        if HFUnicodeExceptions.notPunctuation(v) { return false }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
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
        return s.properties.generalCategory == .nonspacingMark
    }

    /// General category M* (Mn, Mc, Me): what the standalone StripAccents drops.
    @inline(__always)
    static func isMark(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x300 { return false }
        switch s.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// The regex class `\w` of Rust's `regex` crate (used by the Whitespace
    /// pre-tokenizer, `\w+|[^\w\s]+`): Alphabetic, M*, Nd, Pc, Join_Control.
    @inline(__always)
    static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        let p = s.properties
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

    /// Appends the full canonical decomposition of `s` (without reordering;
    /// see `NormalizedString.reorderCanonically`).
    @inline(__always)
    static func appendDecomposition(_ s: Unicode.Scalar, to emit: (Unicode.Scalar) -> Void) {
        let v = s.value
        if v < 0xC0 { emit(s); return }
        if v < DecompositionTable.limit {
            DecompositionTable.shared.append(s, to: emit)
            return
        }
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
        if hasNoDecomposition(v) { emit(s); return }
        for d in String(Character(s)).decomposedStringWithCanonicalMapping.unicodeScalars { emit(d) }
    }

    /// Ranges known to hold no canonically decomposable scalar (checked by a test
    /// against Foundation), so the common CJK and emoji cases skip Foundation.
    @inline(__always)
    static func hasNoDecomposition(_ v: UInt32) -> Bool {
        (0x3400..<0xAC00).contains(v) || (0xD7A4..<0xF900).contains(v) || (0x1F000..<0x1FB00).contains(v)
            || (0x20000..<0x2F800).contains(v) || (0x30000..<0x110000).contains(v)
    }
}

/// Canonical decompositions of U+00C0..<U+3000 (Latin, Greek, Cyrillic, Indic, …),
/// computed once from Foundation on first use so per-character NFD is a table read.
final class DecompositionTable: @unchecked Sendable {
    static let limit: UInt32 = 0x3000
    static let shared = DecompositionTable()

    /// For scalar `v`: `(start, count)` into `pool`; count 0 means "decomposes to itself".
    private let entries: [(start: UInt32, count: UInt32)]
    private let pool: [Unicode.Scalar]

    private init() {
        var entries = [(start: UInt32, count: UInt32)](repeating: (0, 0), count: Int(Self.limit))
        var pool: [Unicode.Scalar] = []
        for v in UInt32(0xC0)..<Self.limit {
            guard let s = Unicode.Scalar(v) else { continue }
            let d = Array(String(Character(s)).decomposedStringWithCanonicalMapping.unicodeScalars)
            if d.count == 1 && d[0] == s { continue }
            entries[Int(v)] = (UInt32(pool.count), UInt32(d.count))
            pool.append(contentsOf: d)
        }
        self.entries = entries
        self.pool = pool
    }

    @inline(__always)
    func append(_ s: Unicode.Scalar, to emit: (Unicode.Scalar) -> Void) {
        let e = entries[Int(s.value)]
        if e.count == 0 {
            emit(s)
            return
        }
        for i in Int(e.start)..<Int(e.start + e.count) { emit(pool[i]) }
    }
}

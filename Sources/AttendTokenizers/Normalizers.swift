/// The first stage of a tokenizer: rewrites the text (lowercasing, accent
/// stripping, clean-up) while keeping every scalar aligned to the original text.
///
/// Built from the `normalizer` entry of `tokenizer.json`; see `NormalizerConfig`
/// for the `type`s understood.
public protocol Normalizer: Sendable {
    func normalize(_ text: inout NormalizedString)
}

/// `{"type": "BertNormalizer", "clean_text", "handle_chinese_chars", "strip_accents", "lowercase"}`.
///
/// Applies, in the order of `tokenizers`:
/// 1. clean_text: delete NUL, U+FFFD and control/format characters (category C*
///    except `\t \n \r`, and not unassigned code points); turn every whitespace
///    character (`White_Space`) into a space;
/// 2. handle_chinese_chars: put a space on each side of every CJK ideograph;
/// 3. strip_accents (`nil` means "same as lowercase"): NFD, then drop category Mn;
/// 4. lowercase: full Unicode lowercase mapping, per scalar.
///
/// `normalize` does all four in one pass over the scalars (ASCII takes a short
/// path); `normalizeStepByStep` is the plain twin that runs them as separate
/// passes, kept as the specification and as the test oracle.
public struct BertNormalizer: Normalizer, Codable, Hashable {
    public var cleanText: Bool
    public var handleChineseChars: Bool
    public var stripAccents: Bool?
    public var lowercase: Bool

    enum CodingKeys: String, CodingKey {
        case cleanText = "clean_text"
        case handleChineseChars = "handle_chinese_chars"
        case stripAccents = "strip_accents"
        case lowercase
    }

    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cleanText = try c.decodeIfPresent(Bool.self, forKey: .cleanText) ?? true
        handleChineseChars = try c.decodeIfPresent(Bool.self, forKey: .handleChineseChars) ?? true
        stripAccents = try c.decodeIfPresent(Bool.self, forKey: .stripAccents)
        lowercase = try c.decodeIfPresent(Bool.self, forKey: .lowercase) ?? true
    }

    /// Whether accents are stripped: `strip_accents`, or `lowercase` when it is null.
    public var stripsAccents: Bool { stripAccents ?? lowercase }

    public func normalize(_ text: inout NormalizedString) {
        let clean = cleanText, chinese = handleChineseChars, strip = stripsAccents, lower = lowercase
        var sawNonASCII = false
        text.transform { s, emit in
            let v = s.value
            if v < 0x80 {
                if clean {
                    if UnicodeClass.isControl(s) { return }
                    if UnicodeClass.isWhitespace(s) { emit(" "); return }
                }
                emit(lower && v >= 0x41 && v <= 0x5A ? Unicode.Scalar(UInt8(v + 32)) : s)
                return
            }
            sawNonASCII = true
            var c = s
            if clean {
                if v == 0xFFFD || UnicodeClass.isControl(c) { return }
                if UnicodeClass.isWhitespace(c) { c = " " }
            }
            let isCJK = chinese && UnicodeClass.isChinese(c)
            if isCJK { emit(" ") }
            if strip {
                UnicodeClass.appendDecomposition(c) { d in
                    if UnicodeClass.isNonspacingMark(d) { return }
                    if lower { UnicodeClass.appendLowercase(d, to: emit) } else { emit(d) }
                }
            } else if lower {
                UnicodeClass.appendLowercase(c, to: emit)
            } else {
                emit(c)
            }
            if isCJK { emit(" ") }
        }
        // NFD ends with canonical ordering; only marks that survive stripping (Mc
        // with a non-zero class, rare) can be affected.
        if strip && sawNonASCII { text.reorderCanonically() }
    }

    /// The plain twin of `normalize`: the same steps as separate passes, exactly
    /// in the order of `tokenizers`' `BertNormalizer::normalize`.
    public func normalizeStepByStep(_ text: inout NormalizedString) {
        if cleanText {
            text.filter { s in !(s.value == 0 || s.value == 0xFFFD || UnicodeClass.isControl(s)) }
            text.transform { s, emit in emit(UnicodeClass.isWhitespace(s) ? " " : s) }
        }
        if handleChineseChars {
            text.transform { s, emit in
                if UnicodeClass.isChinese(s) {
                    emit(" "); emit(s); emit(" ")
                } else {
                    emit(s)
                }
            }
        }
        if stripsAccents {
            NFDNormalizer().normalize(&text)
            text.filter { !UnicodeClass.isNonspacingMark($0) }
        }
        if lowercase { LowercaseNormalizer().normalize(&text) }
    }
}

/// `{"type": "Lowercase"}`: full Unicode lowercase mapping of every scalar.
public struct LowercaseNormalizer: Normalizer, Codable, Hashable {
    public init() {}
    public func normalize(_ text: inout NormalizedString) {
        text.transform { s, emit in UnicodeClass.appendLowercase(s, to: emit) }
    }
}

/// `{"type": "NFD"}`: canonical decomposition followed by canonical ordering.
public struct NFDNormalizer: Normalizer, Codable, Hashable {
    public init() {}
    public func normalize(_ text: inout NormalizedString) {
        text.transform { s, emit in UnicodeClass.appendDecomposition(s, to: emit) }
        text.reorderCanonically()
    }
}

/// `{"type": "StripAccents"}`: drops every combining mark (category M*: Mn, Mc, Me),
/// as `tokenizers` does. Only removes accents from text already in NFD, so it is
/// normally preceded by `NFDNormalizer` in a `SequenceNormalizer`.
public struct StripAccentsNormalizer: Normalizer, Codable, Hashable {
    public init() {}
    public func normalize(_ text: inout NormalizedString) {
        text.filter { !UnicodeClass.isMark($0) }
    }
}

/// `{"type": "Sequence", "normalizers": [...]}`: applies each normalizer in turn.
public struct SequenceNormalizer: Normalizer {
    public var normalizers: [any Normalizer]
    public init(_ normalizers: [any Normalizer]) { self.normalizers = normalizers }
    public func normalize(_ text: inout NormalizedString) {
        for n in normalizers { n.normalize(&text) }
    }
}

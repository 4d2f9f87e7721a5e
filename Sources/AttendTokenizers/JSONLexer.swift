import Foundation

/// The lexical pieces of JSON (RFC 8259) read straight from bytes: whitespace, strings with their escapes, integers
/// and the literals. The fast readers that run ahead of Foundation's `JSONDecoder` share it: ``VocabularyScanner``
/// (a `tokenizer.json`'s `model.vocab`) and the server's request-body scanner. Each method reads at ``at`` and answers
/// nil (or false) for anything it does not read cleanly, leaving the position undefined: the callers then give the
/// whole document to the decoder, which stays the reference and writes every error message.
public struct JSONLexer {
    /// What ``string(surrogates:)`` does with a `\uD800`…`\uDFFF` escape.
    public enum Surrogates: Sendable {
        /// A high surrogate followed by `\u` and a low one is one scalar; a lone surrogate answers nil.
        case pair
        /// Any surrogate escape answers nil (the caller leaves such strings to the decoder).
        case decline
    }

    /// The document.
    public let bytes: UnsafeBufferPointer<UInt8>
    /// The read position.
    public var at = 0

    public init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Whether the position is past the last byte.
    public var atEnd: Bool { at >= bytes.count }

    /// Skips JSON whitespace (space, tab, line feed, carriage return).
    public mutating func skipSpace() {
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
    }

    /// The next byte after whitespace (the position moves past the whitespace), nil at the end.
    public mutating func peek() -> UInt8? {
        skipSpace()
        return at < bytes.count ? bytes[at] : nil
    }

    /// Consumes `byte` after whitespace; false (nothing consumed but whitespace) when the next byte is another.
    public mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        at += 1
        return true
    }

    /// The string whose opening quote is at the position, unescaped; nil when it is malformed (an unknown escape, a
    /// raw control character, no closing quote), not valid UTF-8, or holds a surrogate escape `surrogates` refuses.
    public mutating func string(surrogates: Surrogates = .pair) -> String? {
        guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
        at += 1
        let start = at
        // The common case: no escape, no control character, one slice.
        while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\"), bytes[at] >= 0x20 { at += 1 }
        guard at < bytes.count else { return nil }
        if bytes[at] == UInt8(ascii: "\"") {
            at += 1
            return String(validating: UnsafeBufferPointer(rebasing: bytes[start..<(at - 1)]), as: UTF8.self)
        }
        var out = Array(bytes[start..<at])
        while at < bytes.count {
            let b = bytes[at]
            if b == UInt8(ascii: "\"") {
                at += 1
                return String(validating: out, as: UTF8.self)
            }
            guard b >= 0x20 else { return nil }   // control characters must be escaped
            if b != UInt8(ascii: "\\") { out.append(b); at += 1; continue }
            guard at + 1 < bytes.count else { return nil }
            let e = bytes[at + 1]
            at += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if (0xD800..<0xE000).contains(scalar) {
                    // A high surrogate must be followed by \u and a low one.
                    guard surrogates == .pair, scalar < 0xDC00,
                          at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { return nil }
                    at += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: String(Character(u)).utf8)
            default: return nil
            }
        }
        return nil
    }

    /// Four hexadecimal digits at the position, as a number.
    mutating func hex4() -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[at]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
            at += 1
        }
        return v
    }

    /// A JSON integer `-?(0|[1-9][0-9]*)` at the position (after whitespace) with no fraction or exponent after it,
    /// of at most `maxDigits` digits and within Int; nil otherwise, and for `-0` unless `allowNegativeZero`.
    public mutating func integer(maxDigits: Int = .max, allowNegativeZero: Bool = true) -> Int? {
        skipSpace()
        var negative = false
        if at < bytes.count, bytes[at] == UInt8(ascii: "-") { negative = true; at += 1 }
        let start = at
        var v = 0
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
            guard at - start < maxDigits else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(bytes[at] - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            v = a
            at += 1
        }
        let digits = at - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        guard allowNegativeZero || !(negative && v == 0) else { return nil }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") || bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") { return nil }
        return negative ? -v : v
    }

    /// Consumes `word` (`true`, `false`, `null`) at the position; false when the bytes there are another.
    public mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard at + n <= bytes.count else { return false }
        for k in 0..<n where bytes[at + k] != word.utf8Start[k] { return false }
        at += n
        return true
    }

    /// Foundation's limit on the nesting of arrays and objects (deeper JSON is an error for its decoders).
    public static let foundationMaximumDepth = 512

    /// The byte offset of the first `[` or `{` (outside strings) that opens level `limit + 1`, or nil when `data`
    /// nests no deeper than `limit`. Every reader that hands untrusted bytes to Foundation's `JSONDecoder` asks this
    /// first: on this toolchain the decoder traps (SIGILL, inside `JSONError.SourceLocation`) instead of throwing when
    /// the text ends right after its 513th opening bracket (found by the `tokenizer_json` fuzz target; `[` × 513 is
    /// enough), so such input must be refused before the decoder sees it.
    public static func nestingBeyond(_ limit: Int = foundationMaximumDepth, in data: Data) -> Int? {
        data.withUnsafeBytes { raw -> Int? in
            var depth = 0, inString = false, escaped = false
            for (i, b) in raw.enumerated() {
                if inString {
                    if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                    continue
                }
                switch b {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    if depth > limit { return i }
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                default: break
                }
            }
            return nil
        }
    }
}

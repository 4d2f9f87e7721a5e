/// GPT-2's byte-level alphabet: every byte 0…255 is written as one printable
/// Unicode scalar so that BPE vocabularies are plain strings. The printable
/// bytes `!`…`~`, `¡`…`¬`, `®`…`ÿ` stand for themselves; the other 68 bytes
/// (controls, space, DEL, NBSP, soft hyphen…) get U+0100, U+0101, … in byte
/// order — so a space is `Ġ` (U+0120) and a newline is `Ċ` (U+010A).
///
///     for b in 0..<256 { scalar[b] = printable(b) ? b : 256 + n; n += 1 when not printable }
public enum ByteLevelAlphabet {
    /// `scalars[b]` is the scalar that stands for byte `b`.
    public static let scalars: [Unicode.Scalar] = {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(256)
        var n: UInt32 = 0
        for b in UInt32(0)..<256 {
            if isPrintable(b) {
                out.append(Unicode.Scalar(b) ?? "?")
            } else {
                out.append(Unicode.Scalar(256 + n) ?? "?")
                n += 1
            }
        }
        return out
    }()

    /// The byte a scalar of the alphabet stands for (scalar values 0…323 only; else nil).
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < inverse.count else { return nil }
        let b = inverse[v]
        return b < 0 ? nil : UInt8(b)
    }

    /// Scalar value → byte, or −1 (scalar values 0…323).
    private static let inverse: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (b, s) in scalars.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    private static func isPrintable(_ b: UInt32) -> Bool {
        (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
    }

    /// `bytes` written in the alphabet (what a byte-level vocabulary entry looks like).
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalars[Int(b)]) }
        return String(s)
    }

    /// The bytes a token written in the alphabet stands for; nil if some scalar of
    /// `token` is not in the alphabet (e.g. an added token such as `<|im_start|>`
    /// is in it, but one with a real space is not).
    public static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = byte(for: s) else { return nil }
            out.append(b)
        }
        return out
    }

    /// The bytes of a token as the ByteLevel decoder of `tokenizers` produces them:
    /// through the alphabet when every scalar is in it, else the token's own UTF-8.
    public static func bytes(ofToken token: String) -> [UInt8] {
        decode(token) ?? Array(token.utf8)
    }
}

// MARK: - Decoding

/// `{"type": "ByteLevel"}` decoder: maps each token back to its bytes
/// (`ByteLevelAlphabet.bytes(ofToken:)`), joins them and reads the result as UTF-8,
/// invalid sequences becoming U+FFFD (one per maximal invalid subpart, as Rust's
/// `String::from_utf8_lossy`).
public struct ByteLevelDecoder: TokenDecoder, Hashable {
    public init() {}
    public func decode(_ tokens: [String]) -> String {
        var bytes: [UInt8] = []
        for t in tokens { bytes += ByteLevelAlphabet.bytes(ofToken: t) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Decodes bytes that arrive in pieces (one token at a time) into text, holding
/// back an incomplete UTF-8 sequence at the end until its last byte arrives, so a
/// character split across tokens (an emoji is often 2–4 byte tokens) is never
/// shown as U+FFFD halfway. Invalid bytes become U+FFFD exactly as in a decode of
/// all bytes at once: the concatenation of everything `append` and `finish`
/// return equals `String(decoding: allBytes, as: UTF8.self)`.
public struct UTF8StreamDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Bytes received but not yet returned as text (an incomplete character).
    public var pendingBytes: [UInt8] { pending }

    /// Adds `bytes`; returns the text that is now complete (possibly empty).
    public mutating func append<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        pending.append(contentsOf: bytes)
        let keep = Self.incompleteSuffixLength(pending)
        let ready = pending.count - keep
        guard ready > 0 else { return "" }
        let text = String(decoding: pending[0..<ready], as: UTF8.self)
        pending.removeFirst(ready)
        return text
    }

    /// Returns whatever is left (an unfinished character becomes U+FFFD) and resets.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Length of the trailing bytes that begin a valid UTF-8 sequence but end before it does.
    static func incompleteSuffixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // A lead byte at most 3 bytes from the end.
        var p = n - 1
        while p >= 0 && p >= n - 3 && bytes[p] & 0xC0 == 0x80 { p -= 1 }
        guard p >= 0, p >= n - 3 else { return 0 }
        let lead = bytes[p]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return 0
        }
        let have = n - p
        guard have < need else { return 0 }
        // The second byte's range depends on the lead (no overlongs, surrogates, > U+10FFFF).
        if have >= 2 {
            let second = bytes[p + 1]
            let ok: Bool
            switch lead {
            case 0xE0: ok = (0xA0...0xBF).contains(second)
            case 0xED: ok = (0x80...0x9F).contains(second)
            case 0xF0: ok = (0x90...0xBF).contains(second)
            case 0xF4: ok = (0x80...0x8F).contains(second)
            default: ok = (0x80...0xBF).contains(second)
            }
            if !ok { return 0 }
        }
        return have
    }
}

// MARK: - Post-processing

/// `{"type": "ByteLevel", "trim_offsets": …, "add_prefix_space": …}` post-processor:
/// adds no tokens; with `trimOffsets`, each token's offsets leave out its leading
/// and trailing spaces (`Ġ`), as `tokenizers` does — except a single leading space
/// of the text's first token when `addPrefixSpace` (that space was added, not typed).
public struct ByteLevelPostProcessor: PostProcessor, Hashable {
    public var trimOffsets: Bool
    public var addPrefixSpace: Bool

    public init(trimOffsets: Bool = true, addPrefixSpace: Bool = true) {
        self.trimOffsets = trimOffsets
        self.addPrefixSpace = addPrefixSpace
    }

    public func addedTokenCount(isPair: Bool) -> Int { 0 }

    public func process(_ first: Encoding, pair second: Encoding?, addSpecialTokens: Bool) -> Encoding {
        var out = trimmed(first)
        if let second { out.append(contentsOf: trimmed(second), typeId: 1) }
        return out
    }

    private func trimmed(_ encoding: Encoding) -> Encoding {
        guard trimOffsets else { return encoding }
        var e = encoding
        let space = ByteLevelAlphabet.scalars[0x20]
        func isSpace(_ c: Unicode.Scalar) -> Bool { c == space || UnicodeClass.isWhitespace(c) }
        for i in e.offsets.indices {
            let scalars = e.tokens[i].unicodeScalars
            var leading = scalars.prefix(while: isSpace).count
            let trailing = scalars.reversed().prefix(while: isSpace).count
            var o = e.offsets[i]
            if leading > 0 {
                if (i == 0 || o.start == 0) && addPrefixSpace && leading == 1 { leading = 0 }
                o.start = min(o.start + leading, o.end)
            }
            if trailing > 0 && o.end >= trailing { o.end = max(o.end - trailing, o.start) }
            e.offsets[i] = o
        }
        return e
    }
}

import Foundation

/// A fast reader for the one large object of a `tokenizer.json`, `model.vocab` (`{"token": id, …}`: 30,522 entries for
/// BERT, 49,152 for SmolLM2). Foundation's `JSONDecoder` decodes a dictionary that size through Codable one key at a
/// time, which was half of `attend embed "one sentence"`'s start-up; this scans the bytes once.
///
/// It is only a shortcut: it answers nil for anything it does not read cleanly (no `model.vocab` object, a non-integer
/// id, a duplicate token, invalid UTF-8, an escape it does not know, truncated input), and the Codable path then
/// decodes the vocabulary itself and reports any error as before.
enum VocabularyScanner {
    /// The `model.vocab` object at the top level of `data`, or nil (see above).
    static func modelVocabulary(in data: Data) -> [String: Int]? {
        data.withUnsafeBytes { raw -> [String: Int]? in
            var s = Scanner(bytes: raw.bindMemory(to: UInt8.self))
            return s.topLevelModelVocabulary()
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func topLevelModelVocabulary() -> [String: Int]? {
            var found: [String: Int]?
            let ok = eachMember { s, key in
                guard key == "model", s.peek() == UInt8(ascii: "{") else { return s.skipValue() }
                return s.eachMember { s, key in
                    guard key == "vocab", s.peek() == UInt8(ascii: "{"), found == nil else { return s.skipValue() }
                    found = s.vocabulary()
                    return found != nil
                }
            }
            return ok ? found : nil
        }

        /// `{ "token": id, … }` → the dictionary; nil on a duplicate token or a value that is not an integer.
        mutating func vocabulary() -> [String: Int]? {
            var vocab: [String: Int] = [:]
            vocab.reserveCapacity(65_536)
            let ok = eachMember { s, key in
                guard let id = s.integer(), vocab.updateValue(id, forKey: key) == nil else { return false }
                return true
            }
            return ok ? vocab : nil
        }

        // MARK: - The grammar, as far as it is needed

        mutating func skipWhitespace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func peek() -> UInt8? {
            skipWhitespace()
            return i < bytes.count ? bytes[i] : nil
        }

        /// Calls `body` with each member's key, positioned at its value; `body` must consume the value and answer
        /// whether it could. False when the object is malformed or `body` said so.
        mutating func eachMember(_ body: (inout Scanner, String) -> Bool) -> Bool {
            guard peek() == UInt8(ascii: "{") else { return false }
            i += 1
            if peek() == UInt8(ascii: "}") { i += 1; return true }
            while true {
                guard peek() == UInt8(ascii: "\""), let key = string(), peek() == UInt8(ascii: ":") else { return false }
                i += 1
                guard peek() != nil, body(&self, key) else { return false }
                switch peek() {
                case UInt8(ascii: ","): i += 1
                case UInt8(ascii: "}"): i += 1; return true
                default: return false
                }
            }
        }

        /// A JSON string at `i` (the opening quote), unescaped; nil when malformed or not valid UTF-8.
        mutating func string() -> String? {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            let start = i
            // The common case: no escapes, one slice.
            while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "\"") {
                i += 1
                return String(validating: UnsafeBufferPointer(rebasing: bytes[start..<(i - 1)]), as: UTF8.self)
            }
            var out = Array(bytes[start..<i])
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    return String(validating: out, as: UTF8.self)
                }
                guard b >= 0x20 else { return nil }   // control characters must be escaped
                if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
                guard i + 1 < bytes.count else { return nil }
                let e = bytes[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by \u and a low one.
                        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { return nil }
                        i += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        return nil
                    }
                    guard let u = Unicode.Scalar(scalar) else { return nil }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: return nil
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[i]
                let d: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            return v
        }

        /// A JSON integer (no fraction or exponent) that fits in Int; nil otherwise.
        mutating func integer() -> Int? {
            skipWhitespace()
            var negative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            let start = i
            var v = 0
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(bytes[i] - UInt8(ascii: "0")))
                guard !o1, !o2 else { return nil }
                v = a
                i += 1
            }
            guard i > start, i - start == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") { return nil }
            return negative ? -v : v
        }

        /// Skips one value of any kind; false when it is malformed.
        mutating func skipValue(depth: Int = 0) -> Bool {
            guard depth < 512, let b = peek() else { return false }
            switch b {
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "{"): return eachMember { s, _ in s.skipValue(depth: depth + 1) }
            case UInt8(ascii: "["):
                i += 1
                if peek() == UInt8(ascii: "]") { i += 1; return true }
                while true {
                    guard skipValue(depth: depth + 1) else { return false }
                    switch peek() {
                    case UInt8(ascii: ","): i += 1
                    case UInt8(ascii: "]"): i += 1; return true
                    default: return false
                    }
                }
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default:
                // A number: the characters a number may hold (the Codable pass validates the rest of the file).
                let start = i
                while i < bytes.count, let c = Optional(bytes[i]),
                      (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                        || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { i += 1 }
                return i > start
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count else { return false }
            for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
            i += n
            return true
        }
    }
}

/// The pre-read `model.vocab` handed to the Codable pass through `JSONDecoder.userInfo`.
final class PreparsedVocabulary: Sendable {
    static let key = CodingUserInfoKey(rawValue: "attend.preparsedVocabulary")!
    let vocab: [String: Int]
    init(_ vocab: [String: Int]) { self.vocab = vocab }
}

// A fast path for reading request bodies. Foundation's JSONDecoder reads `RequestJSON` by trying each type in turn
// (Bool, Int, Double, String, …) and every failed try builds and throws a DecodingError: a one-sentence
// `{"input": "…"}` costs eight thrown errors. This scanner reads the common, plain shapes in one pass over the
// bytes and gives up (returns nil) on anything whose reading it does not own, so the decoder stays the reference
// twin: it reads whatever the scanner declines and writes every error message. When the scanner answers, its value
// equals the decoder's (tested over generated documents).
//
// Owned: objects (no repeated key), arrays, strings whose escapes are \" \\ \/ \b \f \n \r \t or \uXXXX outside
// the surrogate range, integers -?(0|[1-9][0-9]*) of at most 18 digits (not -0), true, false, null, JSON whitespace,
// nesting up to 64 levels. Declined: numbers with a fraction or exponent, longer integers, surrogate escapes,
// repeated keys, deeper nesting, and everything that is not valid JSON.
import Foundation

struct RequestJSONScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var at = 0
    private var depth = 0

    /// The document in `data` (already checked to be UTF-8), or nil when the decoder must read it.
    static func scan(_ data: Data) -> RequestJSON? {
        data.withUnsafeBytes { raw in
            var scanner = RequestJSONScanner(bytes: raw.bindMemory(to: UInt8.self))
            guard let value = scanner.value() else { return nil }
            scanner.skipSpace()
            return scanner.at == scanner.bytes.count ? value : nil
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    private mutating func value() -> RequestJSON? {
        skipSpace()
        guard at < bytes.count else { return nil }
        switch bytes[at] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(RequestJSON.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return integer()
        }
    }

    private mutating func literal(_ word: StaticString, _ value: RequestJSON) -> RequestJSON? {
        let n = word.utf8CodeUnitCount
        guard at + n <= bytes.count else { return nil }
        for i in 0..<n where bytes[at + i] != word.utf8Start[i] { return nil }
        at += n
        return value
    }

    private mutating func integer() -> RequestJSON? {
        var negative = false
        if bytes[at] == UInt8(ascii: "-") { negative = true; at += 1 }
        let start = at
        var magnitude = 0
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
            guard at - start < 18 else { return nil }   // 18 digits fit in Int; longer ones are the decoder's
            magnitude = magnitude * 10 + Int(bytes[at] - UInt8(ascii: "0"))
            at += 1
        }
        let digits = at - start
        guard digits > 0, !(digits > 1 && bytes[start] == UInt8(ascii: "0")), !(negative && magnitude == 0) else { return nil }
        if at < bytes.count {
            switch bytes[at] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil   // the decoder reads fractions
            default: break
            }
        }
        return .int(negative ? -magnitude : magnitude)
    }

    private mutating func string() -> String? {
        at += 1   // the opening quote
        let start = at
        // Plain run: no escape, no control character.
        while at < bytes.count {
            let b = bytes[at]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
                at += 1
                return s
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { break }
            at += 1
        }
        guard at < bytes.count, bytes[at] == UInt8(ascii: "\\") else { return nil }
        var out = Array(bytes[start..<at])
        while at < bytes.count {
            let b = bytes[at]
            if b == UInt8(ascii: "\"") {
                at += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { return nil }
            guard b == UInt8(ascii: "\\") else { out.append(b); at += 1; continue }
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
                guard at + 4 <= bytes.count else { return nil }
                var code: UInt32 = 0
                for i in 0..<4 {
                    guard let h = Self.hex(bytes[at + i]) else { return nil }
                    code = code << 4 | h
                }
                at += 4
                guard let scalar = Unicode.Scalar(code) else { return nil }   // a surrogate: the decoder pairs them
                out.append(contentsOf: String(Character(scalar)).utf8)
            default: return nil
            }
        }
        return nil
    }

    private static func hex(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private mutating func array() -> RequestJSON? {
        depth += 1
        guard depth <= 64 else { return nil }
        defer { depth -= 1 }
        at += 1
        var items: [RequestJSON] = []
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
        while true {
            guard let v = value() else { return nil }
            items.append(v)
            skipSpace()
            guard at < bytes.count else { return nil }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            if bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
            return nil
        }
    }

    private mutating func object() -> RequestJSON? {
        depth += 1
        guard depth <= 64 else { return nil }
        defer { depth -= 1 }
        at += 1
        var fields: [String: RequestJSON] = [:]
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(fields) }
        while true {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { return nil }
            at += 1
            guard let v = value(), fields.updateValue(v, forKey: key) == nil else { return nil }   // a repeated key: the decoder's call
            skipSpace()
            guard at < bytes.count else { return nil }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            if bytes[at] == UInt8(ascii: "}") { at += 1; return .object(fields) }
            return nil
        }
    }
}

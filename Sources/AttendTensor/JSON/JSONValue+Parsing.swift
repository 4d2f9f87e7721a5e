// The strict JSON parser. Hand-written rather than Foundation's: JSONSerialization on Linux reads `true` as the
// number 1, JSONDecoder cannot say where an error is, and neither rejects duplicate keys or keeps integers
// beyond 2^53 exact, all of which a safetensors header or an attention problem needs.
import Foundation

/// Text that is not valid JSON: what is wrong and where, in one line.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file or other input the text came from (empty when unnamed).
    public var source: String
    /// What is wrong: "expected ':' after an object key", "unexpected end of input", …
    public var reason: String
    /// 1-based line and column (in Unicode scalars) of the offending character.
    public var line: Int
    public var column: Int
    /// 0-based byte offset of the offending character.
    public var offset: Int

    public init(source: String, reason: String, line: Int, column: Int, offset: Int) {
        self.source = source
        self.reason = reason
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// "`reason` at line L, column C" (no source): for messages that name the source themselves.
    public var detail: String { "\(reason) at line \(line), column \(column)" }

    /// "`source`: not valid JSON: `reason` at line L, column C"
    public var description: String { (source.isEmpty ? "" : "\(source): ") + "not valid JSON: \(detail)" }
}

extension JSONValue {
    /// Deepest nesting of arrays and objects accepted (deeper input is an error, never a stack overflow).
    public static let maximumDepth = 512

    /// Parses UTF-8 JSON text; `source` names it in errors.
    public static func parse(_ data: Data, source: String = "") throws -> JSONValue {
        try data.withUnsafeBytes { try parse($0, source: source) }
    }

    /// Parses UTF-8 JSON text; `source` names it in errors.
    public static func parse(_ text: String, source: String = "") throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0), source: source) }
    }

    /// Parses UTF-8 JSON text in `bytes`; `source` names it in errors.
    public static func parse(_ bytes: UnsafeRawBufferPointer, source: String = "") throws -> JSONValue {
        var parser = JSONParser(bytes: bytes, source: source)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected \(parser.describeCurrent()) after the JSON value") }
        return value
    }
}

private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    let source: String
    var index = 0

    init(bytes: UnsafeRawBufferPointer, source: String) {
        self.bytes = bytes
        self.source = source
    }

    func error(_ reason: String, at position: Int? = nil) -> JSONSyntaxError {
        let at = min(position ?? index, bytes.count)
        var line = 1, column = 1
        for i in 0..<at {
            let b = bytes[i]
            if b == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {   // count scalars, not UTF-8 continuation bytes
                column += 1
            }
        }
        return JSONSyntaxError(source: source, reason: reason, line: line, column: column, offset: at)
    }

    /// The current character for messages: `'x'`, "end of input".
    func describeCurrent() -> String {
        guard index < bytes.count else { return "end of input" }
        let b = bytes[index]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return String(format: "byte 0x%02X", b)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    mutating func literal(_ word: String) throws {
        let start = index
        for b in word.utf8 {
            guard index < bytes.count, bytes[index] == b else { throw error("invalid literal, expected '\(word)'", at: start) }
            index += 1
        }
    }

    mutating func object(depth: Int) throws -> JSONValue {
        guard depth <= JSONValue.maximumDepth else { throw error("nested deeper than \(JSONValue.maximumDepth) levels") }
        index += 1   // {
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("unexpected \(describeCurrent()), expected a string key")
            }
            let keyStart = index
            let key = try string()
            guard object[key] == nil else { throw error("duplicate key \"\(key)\"", at: keyStart) }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error("unexpected \(describeCurrent()), expected ':' after the key \"\(key)\"")
            }
            index += 1
            skipWhitespace()
            object[key] = try value(depth: depth)
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input, expected ',' or '}'") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(object)
            default: throw error("unexpected \(describeCurrent()), expected ',' or '}'")
            }
        }
    }

    mutating func array(depth: Int) throws -> JSONValue {
        guard depth <= JSONValue.maximumDepth else { throw error("nested deeper than \(JSONValue.maximumDepth) levels") }
        index += 1   // [
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input, expected ',' or ']'") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(items)
            default: throw error("unexpected \(describeCurrent()), expected ',' or ']'")
            }
        }
    }

    /// A number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() throws -> JSONValue {
        let start = index
        func digits() -> Int {
            let from = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - from
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
            throw error("invalid number: expected a digit after '-'")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                throw error("invalid number: leading zero", at: start)
            }
        } else {
            _ = digits()
        }
        var integer = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integer = false
            index += 1
            guard digits() > 0 else { throw error("invalid number: expected a digit after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integer = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("invalid number: expected a digit in the exponent") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if integer, let i = Int(text) { return .int(i) }
        guard let d = Double(text), d.isFinite else { throw error("number \(text) is out of the range of a Double", at: start) }
        return .double(d)
    }

    /// A string literal, escapes decoded; the bytes between escapes must be valid UTF-8 without control characters.
    mutating func string() throws -> String {
        let open = index
        index += 1   // "
        var out = ""
        var runStart = index
        func flushRun(_ end: Int) throws {
            guard end > runStart else { return }
            guard let s = String(validating: UnsafeRawBufferPointer(rebasing: bytes[runStart..<end]), as: UTF8.self) else {
                throw error("string is not valid UTF-8", at: runStart)
            }
            out += s
        }
        while true {
            guard index < bytes.count else { throw error("unterminated string", at: open) }
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                try flushRun(index)
                index += 1
                return out
            case UInt8(ascii: "\\"):
                try flushRun(index)
                index += 1
                out.unicodeScalars.append(try escape())
                runStart = index
            case 0..<0x20:
                throw error("control character \(String(format: "0x%02X", b)) in a string (escape it)")
            default:
                index += 1
            }
        }
    }

    /// The character after a backslash (index is past the backslash).
    mutating func escape() throws -> Unicode.Scalar {
        guard index < bytes.count else { throw error("unterminated string") }
        let b = bytes[index]
        index += 1
        switch b {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let start = index - 2
            let high = try hex4()
            if (0xD800..<0xDC00).contains(high) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired surrogate \\u\(String(high, radix: 16, uppercase: true))", at: start)
                }
                index += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else {
                    throw error("unpaired surrogate \\u\(String(high, radix: 16, uppercase: true))", at: start)
                }
                let combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                return Unicode.Scalar(combined) ?? "\u{FFFD}"
            }
            guard let scalar = Unicode.Scalar(high) else {
                throw error("unpaired surrogate \\u\(String(high, radix: 16, uppercase: true))", at: start)
            }
            return scalar
        default:
            throw error("invalid escape '\\\(describeByte(b))'", at: index - 2)
        }
    }

    func describeByte(_ b: UInt8) -> String {
        b >= 0x21 && b < 0x7F ? String(Character(Unicode.Scalar(b))) : String(format: "0x%02X", b)
    }

    mutating func hex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count, let d = hexDigit(bytes[index]) else { throw error("invalid \\u escape: expected 4 hex digits") }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}

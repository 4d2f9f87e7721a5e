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
import AttendTokenizers
import Foundation

struct RequestJSONScanner {
    /// The bytes, the position and the lexical pieces (shared with the tokenizer's vocabulary scanner).
    private var lexer: JSONLexer
    private var depth = 0

    /// The document in `data` (already checked to be UTF-8), or nil when the decoder must read it.
    static func scan(_ data: Data) -> RequestJSON? {
        data.withUnsafeBytes { raw in
            var scanner = RequestJSONScanner(bytes: raw.bindMemory(to: UInt8.self))
            guard let value = scanner.value() else { return nil }
            scanner.lexer.skipSpace()
            return scanner.lexer.atEnd ? value : nil
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { lexer = JSONLexer(bytes: bytes) }

    private mutating func value() -> RequestJSON? {
        guard let b = lexer.peek() else { return nil }
        switch b {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(RequestJSON.string)
        case UInt8(ascii: "t"): return lexer.literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return lexer.literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return lexer.literal("null") ? .null : nil
        // 18 digits fit in Int; longer integers, -0 and fractions are the decoder's.
        default: return lexer.integer(maxDigits: 18, allowNegativeZero: false).map(RequestJSON.int)
        }
    }

    /// A string; surrogate escapes are left to the decoder, which pairs them.
    private mutating func string() -> String? { lexer.string(surrogates: .decline) }

    private mutating func array() -> RequestJSON? {
        depth += 1
        guard depth <= 64 else { return nil }
        defer { depth -= 1 }
        lexer.at += 1
        var items: [RequestJSON] = []
        if lexer.consume(UInt8(ascii: "]")) { return .array(items) }
        while true {
            guard let v = value() else { return nil }
            items.append(v)
            if lexer.consume(UInt8(ascii: ",")) { continue }
            return lexer.consume(UInt8(ascii: "]")) ? .array(items) : nil
        }
    }

    private mutating func object() -> RequestJSON? {
        depth += 1
        guard depth <= 64 else { return nil }
        defer { depth -= 1 }
        lexer.at += 1
        var fields: [String: RequestJSON] = [:]
        if lexer.consume(UInt8(ascii: "}")) { return .object(fields) }
        while true {
            guard lexer.peek() == UInt8(ascii: "\""), let key = string(), lexer.consume(UInt8(ascii: ":")) else { return nil }
            guard let v = value(), fields.updateValue(v, forKey: key) == nil else { return nil }   // a repeated key: the decoder's call
            if lexer.consume(UInt8(ascii: ",")) { continue }
            return lexer.consume(UInt8(ascii: "}")) ? .object(fields) : nil
        }
    }
}

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
        var lexer: JSONLexer

        init(bytes: UnsafeBufferPointer<UInt8>) { lexer = JSONLexer(bytes: bytes) }

        mutating func topLevelModelVocabulary() -> [String: Int]? {
            var found: [String: Int]?
            let ok = eachMember { s, key in
                guard key == "model", s.lexer.peek() == UInt8(ascii: "{") else { return s.skipValue() }
                return s.eachMember { s, key in
                    guard key == "vocab", s.lexer.peek() == UInt8(ascii: "{"), found == nil else { return s.skipValue() }
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
                guard let id = s.lexer.integer(), vocab.updateValue(id, forKey: key) == nil else { return false }
                return true
            }
            return ok ? vocab : nil
        }

        // MARK: - The grammar, as far as it is needed (the lexical pieces are ``JSONLexer``'s)

        /// Calls `body` with each member's key, positioned at its value; `body` must consume the value and answer
        /// whether it could. False when the object is malformed or `body` said so.
        mutating func eachMember(_ body: (inout Scanner, String) -> Bool) -> Bool {
            guard lexer.consume(UInt8(ascii: "{")) else { return false }
            if lexer.consume(UInt8(ascii: "}")) { return true }
            while true {
                guard lexer.peek() == UInt8(ascii: "\""), let key = lexer.string(), lexer.consume(UInt8(ascii: ":")) else { return false }
                guard lexer.peek() != nil, body(&self, key) else { return false }
                if lexer.consume(UInt8(ascii: ",")) { continue }
                return lexer.consume(UInt8(ascii: "}"))
            }
        }

        /// Skips one value of any kind; false when it is malformed.
        mutating func skipValue(depth: Int = 0) -> Bool {
            guard depth < 512, let b = lexer.peek() else { return false }
            switch b {
            case UInt8(ascii: "\""): return lexer.string() != nil
            case UInt8(ascii: "{"): return eachMember { s, _ in s.skipValue(depth: depth + 1) }
            case UInt8(ascii: "["):
                lexer.at += 1
                if lexer.consume(UInt8(ascii: "]")) { return true }
                while true {
                    guard skipValue(depth: depth + 1) else { return false }
                    if lexer.consume(UInt8(ascii: ",")) { continue }
                    return lexer.consume(UInt8(ascii: "]"))
                }
            case UInt8(ascii: "t"): return lexer.literal("true")
            case UInt8(ascii: "f"): return lexer.literal("false")
            case UInt8(ascii: "n"): return lexer.literal("null")
            default:
                // A number: the characters a number may hold (the Codable pass validates the rest of the file).
                let start = lexer.at
                while !lexer.atEnd, let c = Optional(lexer.bytes[lexer.at]),
                      (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                        || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { lexer.at += 1 }
                return lexer.at > start
            }
        }
    }
}

/// The pre-read `model.vocab` handed to the Codable pass through `JSONDecoder.userInfo`.
final class PreparsedVocabulary: Sendable {
    static let key = CodingUserInfoKey(rawValue: "attend.preparsedVocabulary")!
    let vocab: [String: Int]
    init(_ vocab: [String: Int]) { self.vocab = vocab }
}

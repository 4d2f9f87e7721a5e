import Foundation
import Testing
import AttendTokenizers

/// ``JSONLexer`` against Foundation's `JSONSerialization` (the reference) on strings and integers, and its refusals.
@Suite
struct JSONLexerTests {
    private func lexString(_ json: String, _ surrogates: JSONLexer.Surrogates = .pair) -> String? {
        Array(json.utf8).withUnsafeBufferPointer { b in
            var lexer = JSONLexer(bytes: b)
            guard let s = lexer.string(surrogates: surrogates), lexer.atEnd else { return nil }
            return s
        }
    }

    private func lexInteger(_ json: String, maxDigits: Int = .max, allowNegativeZero: Bool = true) -> Int? {
        Array(json.utf8).withUnsafeBufferPointer { b in
            var lexer = JSONLexer(bytes: b)
            guard let v = lexer.integer(maxDigits: maxDigits, allowNegativeZero: allowNegativeZero), lexer.atEnd else { return nil }
            return v
        }
    }

    @Test("strings: every escape, UTF-8, surrogate pairs equal JSONSerialization's reading", arguments: [
        #""plain""#, #""""#, #""tab\tnew\nline\r\f\b""#, #""q\"b\\s\/""#, #""\u00e9\u4e2d\u0000""#, #""héllo 中文 😀""#,
        #""\ud83d\ude00 smile""#, #""mixed \u0041 and raw é""#,
    ])
    func strings(_ json: String) throws {
        let reference = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed) as? String
        #expect(lexString(json) == reference)
    }

    @Test("strings it refuses: malformed, raw control characters, lone surrogates, and any surrogate when declining")
    func refusedStrings() {
        for bad in [#""open"#, #""bad \x escape""#, "\"raw\u{01}control\"", #""\ud83d alone""#, #""\ude00 low""#, #""\u12g4""#, "noquote"] {
            #expect(lexString(bad) == nil, "\(bad)")
        }
        #expect(lexString(#""\ud83d\ude00""#, .decline) == nil)
        #expect(lexString(#""\u00e9""#, .decline) == "é")
        // Invalid UTF-8 inside the quotes.
        let invalid: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        let got = invalid.withUnsafeBufferPointer { b -> String? in var l = JSONLexer(bytes: b); return l.string() }
        #expect(got == nil)
    }

    @Test("integers: the grammar, Int's range, the digit limit and -0")
    func integers() {
        #expect(lexInteger("0") == 0 && lexInteger("-17") == -17 && lexInteger("  42") == 42)
        #expect(lexInteger("9223372036854775807") == Int.max && lexInteger("-9223372036854775807") == -Int.max)
        #expect(lexInteger("9223372036854775808") == nil, "past Int")
        #expect(lexInteger("007") == nil && lexInteger("-") == nil && lexInteger("1.5") == nil && lexInteger("2e3") == nil)
        #expect(lexInteger("123456789012345678", maxDigits: 18) == 123_456_789_012_345_678)
        #expect(lexInteger("1234567890123456789", maxDigits: 18) == nil)
        #expect(lexInteger("-0") == 0 && lexInteger("-0", allowNegativeZero: false) == nil)
    }

    /// Fuzz/regressions/tokenizer_json/nesting-513: Foundation's JSONDecoder traps (SIGILL) instead of throwing when
    /// the text ends right after its 513th opening bracket; every reader asks ``JSONLexer/nestingBeyond(_:in:)`` first.
    @Test("nesting deeper than Foundation's 512 levels is found (strings ignored) and refused by the tokenizer reader")
    func nesting() throws {
        let deep = Data(String(repeating: "[", count: 513).utf8)
        #expect(JSONLexer.nestingBeyond(in: deep) == 512)
        #expect(JSONLexer.nestingBeyond(in: Data(String(repeating: "[", count: 512).utf8)) == nil)
        #expect(JSONLexer.nestingBeyond(in: Data(("{\"a\": \"" + String(repeating: "[", count: 600) + "\\\"[\"}").utf8)) == nil)
        #expect(JSONLexer.nestingBeyond(2, in: Data(#"[[1], [2, [3]]]"#.utf8)) == 10)
        let regression = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/regressions/tokenizer_json/nesting-513")
        for data in [deep, try Data(contentsOf: regression)] {
            do {
                _ = try Tokenizer(tokenizerJSONData: data)
                Issue.record("a 513-deep document was accepted")
            } catch {
                #expect("\(error)".contains("nested deeper than 512 levels"), "\(error)")
            }
        }
    }
}

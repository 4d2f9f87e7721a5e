@testable import AttendServer
import Foundation
import Testing

/// The request scanner and the byte writer against their reference twins (JSONDecoder and the String writer), over
/// hand-picked edge cases and generated documents. No model needed.
@Suite("Server: JSON fast paths equal their reference twins")
struct JSONFastPathTests {
    /// What the decoder reads, or nil when it refuses the document.
    static func decoded(_ text: String) -> RequestJSON? {
        try? JSONDecoder().decode(RequestJSON.self, from: Data(text.utf8))
    }

    @Test(arguments: [
        #"{"input": "The cat sat on the mat."}"#, #"{"input":["a","b"],"model":"all-MiniLM-L6-v2"}"#,
        #"{"input": [101, 2023, 0, 7]}"#, #"{"input": [[1,2],[3]]}"#, #"  {"a": true, "b": false, "c": null}  "#,
        #"{"s": "tab\there \"quoted\" back\\slash \/ \b\f\n\r"}"#, #"{"u": "\u00e9\u4e2d\u0000\u001f"}"#,
        #"{"x": -42, "y": 0, "z": 999999999999999999}"#, #"{"empty": {}, "list": [], "nested": [[[{"k": [1]}]]]}"#,
        #"{"é": "naïve café 😀"}"#, "{\"nl\":\n\t\"v\"\r\n}", #"[1, "two", [3]]"#, #""just a string""#, "17", "true", "null",
    ])
    func scannerEqualsDecoder(_ text: String) throws {
        let scanned = try #require(RequestJSONScanner.scan(Data(text.utf8)), "the scanner declined \(text)")
        #expect(scanned == Self.decoded(text), "\(text)")
    }

    /// Documents the scanner leaves to the decoder: fractions, exponents, long integers, -0, surrogate escapes,
    /// repeated keys, and everything that is not JSON (the decoder writes those errors).
    @Test(arguments: [
        #"{"d": 1.5}"#, #"{"d": 1e3}"#, #"{"d": 2E-2}"#, #"{"big": 12345678901234567890}"#, #"{"big": 99999999999999999999}"#,
        #"{"big": -9999999999999999999}"#, #"{"n": -0}"#,
        #"{"emoji": "\ud83d\ude00"}"#, #"{"k": 1, "k": 2}"#, #"{"input": "#, #"{"a" 1}"#, #"{"a": 1,}"#, #"[1 2]"#,
        #"{"a": 01}"#, #"{"a": tru}"#, #"{"a": "\x"}"#, "{\"a\": \"raw\u{1}control\"}", #"{} {}"#, "", "   ",
        #"{"a": +1}"#, #"{"a": .5}"#, #"{"a": -}"#, #"{"a": "unterminated}"#,
    ])
    func scannerDeclines(_ text: String) {
        #expect(RequestJSONScanner.scan(Data(text.utf8)) == nil, "\(text)")
    }

    /// Random documents of the owned shapes: the scanner reads every one, equal to the decoder.
    /// Fuzz/regressions/server_request/nesting-513: a 513-byte body of `[` crashed the decoder (SIGILL in Foundation);
    /// it is now a 400 naming the nesting, and 512 levels still reach the decoder.
    @Test func nestingBeyondFoundationsLimitIsA400() throws {
        do {
            _ = try JSONBody(Data(String(repeating: "[", count: 513).utf8))
            Issue.record("a 513-deep body was accepted")
        } catch let error as APIError {
            #expect("\(error)".contains("nested deeper than 512 levels"), "\(error)")
        }
        #expect(throws: APIError.self) { try JSONBody(Data(String(repeating: "[", count: 512).utf8)) }
    }

    @Test func scannerEqualsDecoderOnGeneratedDocuments() throws {
        var rng = SplitMix(seed: 11)
        let pieces = ["a", "é", "中", "😀", "\\n", "\\\"", "\\\\", "\\u0041", "\\u00e9", " ", "<", "\\/", "\\t", "z9"]
        func string() -> String { "\"" + (0..<rng.below(6)).map { _ in pieces[rng.below(pieces.count)] }.joined() + "\"" }
        func value(_ depth: Int) -> String {
            switch rng.below(depth > 3 ? 4 : 7) {
            case 0: return string()
            case 1: return String(Int(rng.below(2_000_001)) - 1_000_000)
            case 2: return ["true", "false", "null"][rng.below(3)]
            case 3: return String(rng.below(10))
            case 4, 5:
                return "[" + (0..<rng.below(4)).map { _ in value(depth + 1) }.joined(separator: rng.below(2) == 0 ? "," : " , ") + "]"
            default:
                var seen = Set<String>()
                var fields: [String] = []
                for i in 0..<rng.below(4) {
                    let key = "\"k\(i)\(pieces[rng.below(4)])\""
                    guard seen.insert(key).inserted else { continue }
                    fields.append(key + (rng.below(2) == 0 ? ":" : " :\n ") + value(depth + 1))
                }
                return "{" + fields.joined(separator: ",") + "}"
            }
        }
        for i in 0..<2_000 {
            let text = value(0)
            let scanned = try #require(RequestJSONScanner.scan(Data(text.utf8)), "case \(i): the scanner declined \(text)")
            #expect(scanned == Self.decoded(text), "case \(i): \(text)")
        }
    }

    /// Every float class (zeros, subnormals, integral values, the extremes, 2²⁴ + …, non-finite) and random bit
    /// patterns: the byte writer's text equals the reference's, and parses back to the same Float.
    @Test func floatsEqualTheReferenceWriter() throws {
        var values: [Float] = [0, -0, 1, -1, 2, 10, 100, 1e7, 16_777_216, 16_777_217, 1e-5, 1e-45, -1e-45,
                               .leastNormalMagnitude, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                               -.greatestFiniteMagnitude, 0.1, 1.0 / 3, 123_456.79, .nan, .infinity, -.infinity, .ulpOfOne]
        var rng = SplitMix(seed: 7)
        for _ in 0..<20_000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for _ in 0..<2_000 { values.append(Float(Double(rng.below(2_000_001)) / 1_000_000 - 1)) }   // embedding-like
        let doc = ResponseJSON.floats(values)
        #expect(doc.text == doc.referenceText)
        for v in values {
            let text = ResponseJSON.float(v).text
            #expect(text == ResponseJSON.float(v).referenceText, "\(v.bitPattern)")
            if v.isFinite { #expect(Float(text)?.bitPattern == v.bitPattern, "\(text) does not parse back to \(v)") }
        }
    }

    @Test func documentsEqualTheReferenceWriter() {
        let strings = ["", "plain", "quote \" and \\ backslash", "lines\n\r\t", "<tag> & 'apos'", "\u{0}\u{1}\u{1f}\u{7f}",
                       "é中😀", "👩‍👩‍👧 family", "e\u{301} combining"]
        let doc = ResponseJSON.object([
            ("object", .string("list")), ("strings", .array(strings.map { .string($0) })),
            ("ints", .array([.int(0), .int(-7), .int(Int.max), .int(Int.min)])),
            ("doubles", .array([.double(0.5), .double(1), .double(-2.5e-300), .double(.nan), .double(1e300)])),
            ("float", .float(0.25)), ("bools", .array([.bool(true), .bool(false), .null])),
            ("raw", .raw(#"{"already":"json"}"#)), ("floats", .floats([0.1, -2, 3.5e-8])),
            ("nested", .object([("k\"<", .array([.floats([]), .array([]), .object([])]))])),
        ])
        #expect(doc.text == doc.referenceText)
        #expect(Array(doc.byteBuffer.readableBytesView) == Array(doc.referenceText.utf8))
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

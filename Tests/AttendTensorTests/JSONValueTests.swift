import AttendTensor
import AttendTestSupport
import Foundation
import Testing

@Suite("JSON value: reading")
struct JSONReadingTests {
    @Test func readsEveryKindAndKeepsBooleansApartFromNumbers() throws {
        let v = try JSONValue.parse(#" {"t": true, "f": false, "one": 1, "n": null, "x": -2.5e3, "s": "a\"b\\c\u00e9\ud83d\ude00", "a": [1, [2]], "o": {}} "#)
        #expect(v["t"] == .bool(true))
        #expect(v["f"] == .bool(false))
        #expect(v["one"] == .int(1))
        #expect(v["one"]?.boolValue == nil)
        #expect(v["t"]?.doubleValue == nil)
        #expect(v["n"] == .null)
        #expect(v["x"] == .double(-2500))
        #expect(v["s"] == .string("a\"b\\cé😀"))
        #expect(v["a"] == .array([.int(1), .array([.int(2)])]))
        #expect(v["o"] == .object(JSONObject()))
        #expect(v.objectValue?.keys == ["t", "f", "one", "n", "x", "s", "a", "o"])
    }

    @Test func integersStayExactAndFractionsAreNotIntegers() throws {
        #expect(try JSONValue.parse("9223372036854775807") == .int(Int.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(Int.min))
        #expect(try JSONValue.parse("9007199254740993") == .int(9_007_199_254_740_993))   // 2^53 + 1, not representable as Double
        #expect(try JSONValue.parse("9223372036854775808") == .double(9223372036854775808))
        #expect(try JSONValue.parse("1.0").intValue == nil)
        #expect(try JSONValue.parse("1e2").intValue == nil)
        #expect(try JSONValue.parse("[1, 2, 3]").intArray == [1, 2, 3])
        #expect(try JSONValue.parse("[1, 2.5]").intArray == nil)
        #expect(try JSONValue.parse("-0") == .int(0))
    }

    /// Each malformed text fails with a one-line message naming the source, the problem and the position.
    @Test(arguments: [
        ("", "empty.json: not valid JSON: unexpected end of input, expected a value at line 1, column 1"),
        (#"{"q": [[1, 2]], "#, "f.json: not valid JSON: unexpected end of input, expected a string key at line 1, column 17"),
        ("{\"a\": 1,\n \"a\": 2}", "f.json: not valid JSON: duplicate key \"a\" at line 2, column 2"),
        ("[1, 2,]", "f.json: not valid JSON: unexpected ']', expected a value at line 1, column 7"),
        ("[01]", "f.json: not valid JSON: invalid number: leading zero at line 1, column 2"),
        ("[1.]", "f.json: not valid JSON: invalid number: expected a digit after '.' at line 1, column 4"),
        ("[.5]", "f.json: not valid JSON: unexpected '.', expected a value at line 1, column 2"),
        ("[1e400]", "f.json: not valid JSON: number 1e400 is out of the range of a Double at line 1, column 2"),
        ("[NaN]", "f.json: not valid JSON: unexpected 'N', expected a value at line 1, column 2"),
        ("[tru]", "f.json: not valid JSON: invalid literal, expected 'true' at line 1, column 2"),
        ("{'a': 1}", "f.json: not valid JSON: unexpected ''', expected a string key at line 1, column 2"),
        ("{\"a\" 1}", "f.json: not valid JSON: unexpected '1', expected ':' after the key \"a\" at line 1, column 6"),
        ("\"tab\there\"", "f.json: not valid JSON: control character 0x09 in a string (escape it) at line 1, column 5"),
        (#""\x""#, "f.json: not valid JSON: invalid escape '\\x' at line 1, column 2"),
        (#""\ud800""#, "f.json: not valid JSON: unpaired surrogate \\uD800 at line 1, column 2"),
        ("\"open", "f.json: not valid JSON: unterminated string at line 1, column 1"),
        ("{} {}", "f.json: not valid JSON: unexpected '{' after the JSON value at line 1, column 4"),
        ("// c\n{}", "f.json: not valid JSON: unexpected '/', expected a value at line 1, column 1"),
    ])
    func malformedTextIsAOneLineError(text: String, message: String) {
        let source = text.isEmpty ? "empty.json" : "f.json"
        do {
            _ = try JSONValue.parse(text, source: source)
            Issue.record("accepted \(text)")
        } catch let e as JSONSyntaxError {
            #expect(e.description == message)
            #expect(!e.description.contains("\n"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func invalidUTF8InAStringIsAnError() {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x22]   // "a\xFF"
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(Data(bytes)) }
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        let ok = String(repeating: "[", count: JSONValue.maximumDepth) + String(repeating: "]", count: JSONValue.maximumDepth)
        _ = try JSONValue.parse(ok)
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(deep) }
    }
}

@Suite("JSON value: writing")
struct JSONWritingTests {
    @Test func compactWithKeysInInsertionOrder() {
        let v = JSONValue.object([("z", .int(1)), ("a", .array([.bool(true), .null, .string("x")])), ("m", .double(0.5))])
        #expect(v.rendered() == #"{"z":1,"a":[true,null,"x"],"m":0.5}"#)
    }

    @Test func floatsUseTheShortestRoundTrippingText() {
        #expect(JSONValue.float(1).rendered() == "1")
        #expect(JSONValue.float(-0.0).rendered() == "0")
        #expect(JSONValue.float(0.1).rendered() == "0.1")
        #expect(JSONValue.float(1e-5).rendered() == "1e-05")
        #expect(JSONValue.float(.greatestFiniteMagnitude).rendered() == "3.4028235e+38")
        #expect(JSONValue.float(.nan).rendered() == "null")
        #expect(JSONValue.float(-.infinity).rendered() == "null")
        #expect(JSONValue.double(1).rendered() == "1.0")
    }

    /// Write then read gives back every Float bit for bit, over a sweep of magnitudes and random values.
    @Test func floatRoundTripIsExact() throws {
        var values: [Float] = [0, 1, -1, 0.1, 1.0 / 3, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
                               16_777_217, 1e15, 123_456_789_012, -2.5e-20]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            values.append(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)))
        }
        values = values.filter(\.isFinite)
        let text = JSONValue.array(values.map { .float($0) }).rendered()
        let back = try JSONValue.parse(text).arrayValue ?? []
        #expect(back.count == values.count)
        for (v, b) in zip(values, back) {
            let f = Float(b.doubleValue ?? .nan)
            #expect(f.bitPattern == v.bitPattern || (v == 0 && f == 0), "\(v) came back as \(f) from \(b)")
        }
    }

    @Test func stringsAreEscapedAndReadBack() throws {
        let s = "quote \" backslash \\ newline \n tab \t bell \u{07} é 😀 /"
        let text = JSONValue.string(s).rendered()
        #expect(text == #""quote \" backslash \\ newline \n tab \t bell \u0007 é 😀 /""#)
        #expect(try JSONValue.parse(text) == .string(s))
    }

    @Test func valuesRoundTrip() throws {
        let v = JSONValue.object([
            ("ints", .array([.int(0), .int(-7), .int(Int.max)])),
            ("nested", .object([("b", .bool(false)), ("n", .null), ("d", .double(-1.25e-7))])),
            ("s", .string("")),
            ("empty", .array([])),
        ])
        #expect(try JSONValue.parse(v.rendered()) == v)
    }

    @Test func tensorsAreNestedArrays() throws {
        let t = try Tensor(shape: [2, 3], scalars: [1, 2.5, -0.125, 4, 5, 6])
        #expect(JSONValue.tensor(t).rendered() == "[[1,2.5,-0.125],[4,5,6]]")
        #expect(JSONValue.tensor(Tensor(scalar: 3)).rendered() == "3")
    }
}

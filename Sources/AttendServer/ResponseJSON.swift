// Response bodies. A small writer whose Float output is Swift's shortest round-tripping form (without a trailing
// ".0"), so a client parses back the exact Float32 the model produced. It writes UTF-8 bytes straight into one
// growing buffer that becomes the response's ByteBuffer: an embedding is 384 or 768 floats, and appending each
// one's text to a Swift String (the reference twin, `referenceText`) cost about a sixth of a short request's
// non-model time in the profile (BENCHMARKS.md). Both writers produce the same bytes (tested).
import NIOCore

/// A JSON document under construction.
indirect enum ResponseJSON {
    case null, bool(Bool), int(Int), float(Float), double(Double), string(String)
    case array([ResponseJSON]), object([(String, ResponseJSON)])
    /// Floats written straight into the output (no per-element enum).
    case floats([Float])
    /// Already-serialised JSON.
    case raw(String)

    /// The document as text.
    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The document as UTF-8 bytes.
    var bytes: [UInt8] {
        var out = JSONBytes()
        out.bytes.reserveCapacity(256)
        write(to: &out)
        return out.bytes
    }

    /// The document in a ByteBuffer, for a response body.
    var byteBuffer: ByteBuffer { ByteBuffer(bytes: bytes) }

    func write(to out: inout JSONBytes) {
        switch self {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): out.append(i)
        case .float(let f): out.append(f)
        case .double(let d): out.append(d)
        case .string(let s): out.appendQuoted(s)
        case .raw(let r): out.append(r)
        case .floats(let fs):
            out.bytes.reserveCapacity(out.bytes.count + fs.count * 12 + 2)
            out.byte(UInt8(ascii: "["))
            for (i, f) in fs.enumerated() {
                if i > 0 { out.byte(UInt8(ascii: ",")) }
                out.append(f)
            }
            out.byte(UInt8(ascii: "]"))
        case .array(let a):
            out.byte(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.byte(UInt8(ascii: ",")) }
                v.write(to: &out)
            }
            out.byte(UInt8(ascii: "]"))
        case .object(let o):
            out.byte(UInt8(ascii: "{"))
            for (i, (k, v)) in o.enumerated() {
                if i > 0 { out.byte(UInt8(ascii: ",")) }
                out.appendQuoted(k)
                out.byte(UInt8(ascii: ":"))
                v.write(to: &out)
            }
            out.byte(UInt8(ascii: "}"))
        }
    }
}

/// UTF-8 output of ResponseJSON. Numbers reach it through `TextOutputStream` (`Float.write(to:)` formats into a
/// stack buffer and hands the ASCII bytes over), so their text is exactly `"\(value)"`.
struct JSONBytes: TextOutputStream {
    var bytes: [UInt8] = []

    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// `Float.write(to:)` and `Double.write(to:)` hand their ASCII digits here; the default implementation would
    /// make a String of them first.
    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }

    mutating func byte(_ b: UInt8) { bytes.append(b) }

    mutating func append(_ s: String) { write(s) }

    mutating func append(_ i: Int) { write(String(i)) }

    /// Shortest round-tripping form; integral values without ".0" (1 not 1.0); non-finite values as null.
    mutating func append(_ f: Float) {
        guard f.isFinite else { append("null"); return }
        f.write(to: &self)
        dropPointZero()
    }

    mutating func append(_ d: Double) {
        guard d.isFinite else { append("null"); return }
        d.write(to: &self)
    }

    private mutating func dropPointZero() {
        let n = bytes.count
        if n >= 2 && bytes[n - 2] == UInt8(ascii: ".") && bytes[n - 1] == UInt8(ascii: "0") { bytes.removeLast(2) }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, and < > as \u003c \u003e (safe inside
    /// HTML). Works on UTF-8 bytes: every byte that needs escaping is ASCII, and the bytes of other characters
    /// (all ≥ 0x80) are copied as they are.
    mutating func appendQuoted(_ string: String) {
        byte(UInt8(ascii: "\""))
        var s = string
        s.withUTF8 { utf8 in
            var run = 0   // start of the bytes not yet copied
            for (i, b) in utf8.enumerated() {
                let escape: StaticString?
                switch b {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case UInt8(ascii: "\n"): escape = "\\n"
                case UInt8(ascii: "\r"): escape = "\\r"
                case UInt8(ascii: "\t"): escape = "\\t"
                case UInt8(ascii: "<"): escape = "\\u003c"
                case UInt8(ascii: ">"): escape = "\\u003e"
                case 0..<0x20: escape = nil
                default: continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<i]))
                run = i + 1
                if let escape {
                    bytes.append(contentsOf: UnsafeBufferPointer(start: escape.utf8Start, count: escape.utf8CodeUnitCount))
                } else {
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...]))
        }
        byte(UInt8(ascii: "\""))
    }
}

extension ResponseJSON {
    /// The reference twin of `bytes`: the plain String writer the server used first. Tests hold the byte writer
    /// to it; nothing else calls it.
    var referenceText: String {
        var out = ""
        referenceWrite(to: &out)
        return out
    }

    func referenceWrite(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let f): Self.referenceWrite(f, to: &out)
        case .double(let d): out += d.isFinite ? "\(d)" : "null"
        case .string(let s): Self.referenceWrite(s, to: &out)
        case .raw(let r): out += r
        case .floats(let fs):
            out += "["
            for (i, f) in fs.enumerated() {
                if i > 0 { out += "," }
                Self.referenceWrite(f, to: &out)
            }
            out += "]"
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                v.referenceWrite(to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, (k, v)) in o.enumerated() {
                if i > 0 { out += "," }
                Self.referenceWrite(k, to: &out)
                out += ":"
                v.referenceWrite(to: &out)
            }
            out += "}"
        }
    }

    static func referenceWrite(_ f: Float, to out: inout String) {
        guard f.isFinite else { out += "null"; return }
        var s = "\(f)"            // shortest round-tripping form, e.g. 0.012345679, 1e-05
        if s.hasSuffix(".0") { s.removeLast(2) }
        out += s
    }

    static func referenceWrite(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else { out.unicodeScalars.append(u) }
            }
        }
        out += "\""
    }
}

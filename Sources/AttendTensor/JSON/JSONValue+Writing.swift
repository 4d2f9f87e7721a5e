// Writing JSON: compact (no spaces), object keys in insertion order, Float with its shortest round-trip text.

extension JSONValue {
    /// The value as compact JSON text. Non-finite numbers, which JSON cannot express, are written as `null`.
    public func rendered() -> String {
        var out = ""
        write(into: &out)
        return out
    }

    /// Appends the compact JSON text of the value to `out`.
    public func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? "\(d)" : "null"
        case .float(let f): out += f.isFinite ? Self.shortest(f) : "null"
        case .string(let s): out += Self.quote(s)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, (key, item)) in object.enumerated() {
                if i > 0 { out += "," }
                out += Self.quote(key) + ":"
                item.write(into: &out)
            }
            out += "}"
        }
    }

    /// The shortest text that reads back to the same Float: integers without a fraction (`3`, `-0` as `0`),
    /// otherwise Swift's shortest round-trip digits (`0.1`, `1e-05`, `3.4028235e+38`). `f` must be finite.
    public static func shortest(_ f: Float) -> String {
        if f == f.rounded(), abs(f) < 1e15 { return String(Int64(f)) }
        return "\(f)"
    }

    /// `s` as a JSON string literal: quotes, backslashes and control characters escaped, everything else as is.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A tensor as nested arrays of `.float` (rank 0 is a number).
    public static func tensor(_ t: Tensor) -> JSONValue {
        let scalars = t.scalars
        func build(_ axis: Int, _ offset: Int) -> JSONValue {
            if axis == t.shape.count { return .float(scalars[offset]) }
            let stride = t.shape[(axis + 1)...].reduce(1, *)
            return .array((0..<t.shape[axis]).map { build(axis + 1, offset + $0 * stride) })
        }
        return build(0, 0)
    }
}

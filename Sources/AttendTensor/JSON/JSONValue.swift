// One JSON value type for all of Attend: safetensors headers, the CLI's input and output, AttendViz's reports and
// the server's bodies. Reading is strict (RFC 8259, no duplicate keys, booleans never numbers, integers kept exact)
// with one-line errors that name the source and the position; writing keeps object keys in insertion order and
// prints Float with the shortest digits that read back to the same Float.
//
//   JSONValue.swift           the value, its object type, accessors
//   JSONValue+Parsing.swift   the strict parser and ``JSONSyntaxError``
//   JSONValue+Writing.swift   the compact writer, shortest Float text, string quoting, tensors as nested arrays

/// Any JSON value.
///
/// Numbers read from text are `.int` when the literal is an integer that fits `Int` (no fraction, no exponent),
/// otherwise `.double`. `.float` exists for writing: it prints the shortest text that round-trips the Float.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// An integer literal that fits `Int`, read or written exactly.
    case int(Int)
    /// Any other number; written with Swift's shortest round-trip `Double` text (`0.5`, `1.0`, `1e-07`).
    case double(Double)
    /// A Float32 to write: the shortest text that reads back to the same Float (`1`, `0.1`, `3.4028235e+38`).
    case float(Float)
    case string(String)
    case array([JSONValue])
    /// Keys in insertion order.
    case object(JSONObject)

    /// A short name of the value's kind for error messages: "a number", "an array", …
    public var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double, .float: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The number as a Double (any of the three number cases), nil for anything else.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .float(let f): return Double(f)
        default: return nil
        }
    }

    /// The value when it is an integer literal, nil otherwise (`1.0` and `1e2` are not integer literals).
    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The value as an array of integer literals, or nil if it is not one.
    public var intArray: [Int]? {
        guard case .array(let items) = self else { return nil }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .int(let v) = item else { return nil }
            out.append(v)
        }
        return out
    }

    /// `value[key]` of an object, nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}

/// A JSON object: unique keys, kept in insertion order (the order they are written in).
/// Two objects are equal when they have the same keys in the same order with equal values.
public struct JSONObject: Sendable, Equatable, Sequence {
    public private(set) var keys: [String] = []
    private var values: [String: JSONValue] = [:]

    public init() {}

    /// From pairs in order; a repeated key keeps its first position and its last value.
    public init(_ pairs: [(String, JSONValue)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Setting a new key appends it; setting nil removes it.
    public subscript(key: String) -> JSONValue? {
        get { values[key] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Appends a pair (or replaces the value of an existing key in place).
    public mutating func append(_ key: String, _ value: JSONValue) { self[key] = value }

    /// Appends a pair: `object.append(("scale", .float(s)))`.
    public mutating func append(_ pair: (String, JSONValue)) { self[pair.0] = pair.1 }

    /// Appends every pair of `rhs`, in its order.
    public static func += (lhs: inout JSONObject, rhs: JSONObject) {
        for (k, v) in rhs { lhs[k] = v }
    }

    public func makeIterator() -> AnyIterator<(key: String, value: JSONValue)> {
        var i = 0
        return AnyIterator {
            guard i < keys.count else { return nil }
            defer { i += 1 }
            return (keys[i], values[keys[i]] ?? .null)
        }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral {
    /// `["a": .int(1), "b": .null]`, in this order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
    /// `[("a", .int(1)), ("b", .null)]`, in this order.
    public init(arrayLiteral elements: (String, JSONValue)...) { self.init(elements) }
}

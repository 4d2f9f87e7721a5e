// Request bodies are read strictly: valid UTF-8 JSON, an object at the top, known fields only, each of the type
// the route documents. Responses are written by ResponseJSON (ResponseJSON.swift).
import AttendTokenizers
import Foundation

/// A parsed JSON value (numbers keep whether they were written as integers).
enum RequestJSON: Decodable, Equatable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([RequestJSON]), object([String: RequestJSON])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([RequestJSON].self) { self = .array(a) }
        else if let o = try? c.decode([String: RequestJSON].self) { self = .object(o) }
        else {
            let path = decoder.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw DecodingError.dataCorruptedError(in: c, debugDescription:
                "the value at \(path.isEmpty ? "the top" : String(path.drop { $0 == "." })) cannot be read: a number outside Double's range or a string that is not valid Unicode")
        }
    }

    /// The JSON type's name, for messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One request's top-level object, read field by field; every read records the field as known.
struct JSONBody {
    let fields: [String: RequestJSON]

    init(fields: [String: RequestJSON]) { self.fields = fields }

    /// Parses `data` as a JSON object, or throws a 400 that says what is wrong.
    init(_ data: Data) throws {
        guard !data.isEmpty else { throw APIError.badRequest("the request body is empty: send a JSON object", code: "invalid_json") }
        guard String(data: data, encoding: .utf8) != nil else {
            throw APIError.badRequest("the request body is not valid UTF-8", code: "invalid_json")
        }
        let value: RequestJSON
        if let scanned = RequestJSONScanner.scan(data) {
            value = scanned
        } else {
            if let offset = JSONLexer.nestingBeyond(in: data) {
                throw APIError.badRequest("the request body is not valid JSON: arrays and objects nested deeper than \(JSONLexer.foundationMaximumDepth) levels (at byte \(offset))", code: "invalid_json")
            }
            do { value = try JSONDecoder().decode(RequestJSON.self, from: data) } catch {
                throw APIError.badRequest("the request body is not valid JSON: \(Self.describe(error))", code: "invalid_json")
            }
        }
        guard case .object(let fields) = value else {
            throw APIError.badRequest("the request body must be a JSON object, got \(value.typeName)")
        }
        self.fields = fields
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }

    /// Refuses fields the route does not know (a misspelt option must not be ignored silently).
    func rejectUnknown(_ known: Set<String>) throws {
        if let extra = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError.badRequest("unknown field \"\(extra)\"; this route takes \(known.sorted().map { "\"\($0)\"" }.joined(separator: ", "))",
                                      param: extra)
        }
    }

    func has(_ name: String) -> Bool {
        if case .some(.null) = fields[name] { return false }
        return fields[name] != nil
    }

    func bool(_ name: String, default value: Bool) throws -> Bool {
        switch fields[name] {
        case nil, .some(.null): return value
        case .some(.bool(let b)): return b
        case .some(let other): throw APIError.badRequest("\"\(name)\" must be true or false, got \(other.typeName)", param: name)
        }
    }

    func string(_ name: String) throws -> String? {
        switch fields[name] {
        case nil, .some(.null): return nil
        case .some(.string(let s)): return s
        case .some(let other): throw APIError.badRequest("\"\(name)\" must be a string, got \(other.typeName)", param: name)
        }
    }

    func int(_ name: String) throws -> Int? {
        switch fields[name] {
        case nil, .some(.null): return nil
        case .some(.int(let i)): return i
        case .some(let other): throw APIError.badRequest("\"\(name)\" must be an integer, got \(other.typeName)", param: name)
        }
    }

    func strings(_ name: String) throws -> [String]? {
        switch fields[name] {
        case nil, .some(.null): return nil
        case .some(.array(let a)):
            return try a.enumerated().map { i, v in
                guard case .string(let s) = v else {
                    throw APIError.badRequest("\"\(name)\"[\(i)] must be a string, got \(v.typeName)", param: name)
                }
                return s
            }
        case .some(let other): throw APIError.badRequest("\"\(name)\" must be an array of strings, got \(other.typeName)", param: name)
        }
    }
}

/// Little-endian Float32 bytes in base64 (OpenAI's `encoding_format: "base64"`).
func base64Floats(_ values: [Float]) -> String {
    var bytes = [UInt8]()
    bytes.reserveCapacity(values.count * 4)
    for v in values {
        let b = v.bitPattern.littleEndian
        bytes.append(UInt8(b & 0xFF)); bytes.append(UInt8((b >> 8) & 0xFF))
        bytes.append(UInt8((b >> 16) & 0xFF)); bytes.append(UInt8(b >> 24))
    }
    return Data(bytes).base64EncodedString()
}

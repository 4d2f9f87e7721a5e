// Safetensors: the weight-file format of Hugging Face checkpoints.
//
// Layout (https://github.com/huggingface/safetensors, "Format"):
//
//     [ 8 bytes: N, u64 little-endian ][ N bytes: JSON header ][ data section ]
//
// The header is a UTF-8 JSON object. Each key except `__metadata__` names a tensor:
//
//     "embeddings.word_embeddings.weight": {"dtype": "F32", "shape": [30522, 384],
//                                           "data_offsets": [796672, 47678464]}
//
// `data_offsets` are `[begin, end)` byte offsets relative to the start of the data section,
// little-endian, row-major. `__metadata__` is an optional string → string map.
//
// Files:
//   Safetensors.swift          dtypes, errors, tensor info (this file)
//   Safetensors+Read.swift     `SafetensorsFile`: mmap, header validation, typed accessors
//   Safetensors+Header.swift   header validation, field by field (the JSON itself: JSON/JSONValue+Parsing.swift)
//   Safetensors+Convert.swift  F16 / BF16 / F64 / integer decoding
//   Safetensors+Write.swift    `Safetensors.write(_:metadata:to:)`

/// Namespace for safetensors writing and format constants.
public enum Safetensors {
    /// Largest header accepted, in bytes (the reference implementation's limit is 100 MB).
    public static let maxHeaderLength = 100_000_000
}

/// Element types defined by the safetensors format.
public enum SafetensorsDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case f8e5m2 = "F8_E5M2"
    case f8e4m3 = "F8_E4M3"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }

    /// True for the types that ``SafetensorsFile/tensor(_:)`` converts to Float32.
    public var isFloatingPoint: Bool {
        switch self {
        case .f16, .bf16, .f32, .f64, .f8e5m2, .f8e4m3: return true
        default: return false
        }
    }

    /// True for the types that ``SafetensorsFile/intArray(_:)`` reads (BOOL reads as 0 / 1).
    public var isInteger: Bool {
        switch self {
        case .bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64: return true
        default: return false
        }
    }

    public var description: String { rawValue }
}

/// What the header says about one tensor.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// The tensor's key in the header.
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section (`data_offsets`).
    public let dataOffsets: Range<Int>

    /// Number of elements (`shape` product; 1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
    /// Number of bytes (`dataOffsets.count`).
    public var byteCount: Int { dataOffsets.count }
}

/// Errors raised while reading or writing safetensors files. Every case names the file,
/// and every per-tensor case names the tensor.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case cannotOpen(file: String, reason: String)
    /// Fewer than the 8 bytes of the header-length prefix.
    case fileTooSmall(file: String, size: Int)
    /// The header length prefix exceeds ``Safetensors/maxHeaderLength``.
    case headerTooLarge(file: String, headerLength: UInt64)
    /// The header length prefix points past the end of the file.
    case headerPastEndOfFile(file: String, headerLength: UInt64, fileSize: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(file: String)
    /// The header is not valid JSON.
    case invalidJSON(file: String, reason: String)
    /// The header is valid JSON but not an object.
    case headerNotObject(file: String)
    /// A tensor entry lacks a field or has a field of the wrong JSON type.
    case invalidEntry(file: String, tensor: String, reason: String)
    /// A tensor's dtype is not one of ``SafetensorsDType``.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// A tensor's shape has a negative dimension, or its size overflows.
    case invalidShape(file: String, tensor: String, shape: [Int])
    /// `data_offsets` has `begin > end` or a negative offset.
    case invalidOffsets(file: String, tensor: String, begin: Int, end: Int)
    /// `data_offsets` ends past the data section.
    case offsetsOutOfRange(file: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    /// `end − begin` differs from `product(shape) · dtype.size`.
    case byteCountMismatch(file: String, tensor: String, begin: Int, end: Int, expected: Int,
                           dtype: SafetensorsDType, shape: [Int])
    /// Two tensors' byte ranges overlap.
    case overlap(file: String, tensor: String, range: Range<Int>, other: String, otherRange: Range<Int>)
    /// `__metadata__` is not a string → string object.
    case invalidMetadata(file: String, reason: String)
    /// No tensor of that name; `suggestion` is a close name if one exists.
    case tensorNotFound(file: String, tensor: String, suggestion: String?)
    /// The accessor cannot produce this dtype (e.g. `tensor(_:)` on I64).
    case unsupportedDType(file: String, tensor: String, dtype: SafetensorsDType, accessor: String)
    /// The tensor's shape differs from the one the caller required.
    case shapeMismatch(file: String, tensor: String, expected: [Int], actual: [Int])
    /// An integer value does not fit in `Int` (U64 above `Int.max`).
    case integerOverflow(file: String, tensor: String, index: Int)
    /// A tensor name that cannot be written (`__metadata__`).
    case invalidTensorName(file: String, tensor: String)
    /// Writing failed.
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(f, r):
            return "\(f): cannot open safetensors file: \(r)"
        case let .fileTooSmall(f, size):
            return "\(f): file is \(size) bytes, too small for a safetensors file (needs at least 8 bytes of header length)"
        case let .headerTooLarge(f, n):
            return "\(f): header length \(n) exceeds the limit of \(Safetensors.maxHeaderLength) bytes; not a safetensors file?"
        case let .headerPastEndOfFile(f, n, size):
            return "\(f): header length \(n) runs past the end of the \(size)-byte file (truncated or not a safetensors file)"
        case let .headerNotUTF8(f):
            return "\(f): header is not valid UTF-8"
        case let .invalidJSON(f, r):
            return "\(f): header is not valid JSON: \(r)"
        case let .headerNotObject(f):
            return "\(f): header must be a JSON object"
        case let .invalidEntry(f, t, r):
            return "\(f): tensor '\(t)': \(r)"
        case let .unknownDType(f, t, d):
            let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(f): tensor '\(t)': unknown dtype '\(d)' (known: \(known))"
        case let .invalidShape(f, t, s):
            return "\(f): tensor '\(t)': invalid shape \(s)"
        case let .invalidOffsets(f, t, b, e):
            return "\(f): tensor '\(t)': invalid data_offsets [\(b), \(e)] (need 0 ≤ begin ≤ end)"
        case let .offsetsOutOfRange(f, t, b, e, size):
            return "\(f): tensor '\(t)': data_offsets [\(b), \(e)] run past the \(size)-byte data section"
        case let .byteCountMismatch(f, t, b, e, expected, d, s):
            return "\(f): tensor '\(t)': data_offsets [\(b), \(e)] need \(expected) bytes for \(d) \(s)"
        case let .overlap(f, t, r, o, orr):
            return "\(f): tensor '\(t)' bytes [\(r.lowerBound), \(r.upperBound)] overlap tensor '\(o)' bytes [\(orr.lowerBound), \(orr.upperBound)]"
        case let .invalidMetadata(f, r):
            return "\(f): __metadata__: \(r)"
        case let .tensorNotFound(f, t, s):
            return "\(f): no tensor named '\(t)'" + (s.map { "; did you mean '\($0)'?" } ?? "")
        case let .unsupportedDType(f, t, d, a):
            return "\(f): tensor '\(t)': \(a) cannot read dtype \(d)"
        case let .shapeMismatch(f, t, e, a):
            return "\(f): tensor '\(t)': expected shape \(e), file has \(a)"
        case let .integerOverflow(f, t, i):
            return "\(f): tensor '\(t)': element \(i) does not fit in Int"
        case let .invalidTensorName(f, t):
            return "\(f): cannot write a tensor named '\(t)'"
        case let .writeFailed(f, r):
            return "\(f): cannot write safetensors file: \(r)"
        }
    }
}

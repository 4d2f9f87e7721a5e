// GGUF: the single-file model format of llama.cpp / ggml (versions 2 and 3).
//
// Layout (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md), all integers little-endian:
//
//     magic "GGUF" | u32 version | u64 tensor_count | u64 metadata_kv_count
//     metadata_kv_count × { string key | u32 value_type | value }
//     tensor_count × { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
//     padding to `general.alignment` (default 32)
//     data section: tensor bytes at data_start + offset (each offset a multiple of the alignment)
//
// A string is `u64 length | length bytes of UTF-8` (no terminator). A value is one of the
// ``GGUFValueType`` scalars, a string, or an array `u32 element_type | u64 count | count values`
// (arrays may nest).
//
// Dimension order: GGUF lists `ne[0]` first, the fastest-moving (contiguous) dimension, as ggml does.
// Attend reports shapes row-major, slowest first, so ``GGUFTensorInfo/shape`` is `ne` reversed: a linear
// weight `[out, in]` (PyTorch layout, one row per output feature) has `ne = [in, out]` in the file and
// `shape = [out, in]` here. ``GGUFTensorInfo/dimensions`` keeps the file's order.
//
// Files:
//   GGUF.swift               value and tensor types, format constants, errors (this file)
//   GGUF+Types.swift         ggml tensor types (F32 … Q8_0): block sizes and byte counts
//   GGUF+Parse.swift         the header parser: every count and length checked against the bytes left
//   GGUFFile.swift           `GGUFFile`: mmap, metadata accessors, tensors as Float32 or quantized blocks
//   GGUF+Dequantize.swift    the plain dequantization twins (the specification of each block format)
//   GGUF+Write.swift         `GGUFWriter`: builds GGUF bytes (tests, tools); `GGUFQuantize`: ggml's reference quantizers
//   QuantizedMatrix.swift    a matrix of quantized blocks, in place from the mapping (for Kernels/QuantGEMM.swift)

/// Format constants.
public enum GGUF {
    /// The four magic bytes "GGUF" read as a little-endian u32.
    public static let magic: UInt32 = 0x4655_4747
    /// Versions this reader accepts (v1 used 32-bit counts and is obsolete).
    public static let supportedVersions: ClosedRange<UInt32> = 2...3
    /// Alignment of tensor data when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// The most dimensions a ggml tensor has.
    public static let maxDimensions = 4
    /// How deep arrays may nest in metadata (real files nest at most once).
    public static let maxArrayDepth = 8
}

/// Metadata value types (the u32 codes in the file).
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes of one value of a fixed-size type; nil for string and array.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The fewest bytes one value of this type can take (a string is at least its u64 length, an array
    /// its u32 type and u64 count): what bounds a count before anything is allocated.
    var minimumSize: Int { fixedSize ?? (self == .string ? 8 : 12) }

    public var description: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .float32: return "float32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float64: return "float64"
        }
    }
}

/// One metadata value.
public indirect enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    /// An array: the element type written in the file and the elements (all of that type).
    case array(GGUFValueType, [GGUFValue])

    /// The type code of this value.
    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// The value as an `Int` if it is an integer that fits (any width, signed or not); else nil.
    public var intValue: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(exactly: v)
        case let .int64(v): return Int(v)
        default: return nil
        }
    }

    /// The value as a `Double` if it is a float32/float64 or an integer; else nil.
    public var doubleValue: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return intValue.map(Double.init)
        }
    }

    /// A short rendering: scalars as themselves, strings quoted, arrays by type and count.
    public var description: String {
        switch self {
        case let .string(s): return "\"\(s)\""
        case let .bool(b): return String(b)
        case let .float32(v): return String(v)
        case let .float64(v): return String(v)
        case let .array(t, values): return "array<\(t)>[\(values.count)]"
        case let .uint64(v): return String(v)
        case let .int64(v): return String(v)
        default: return intValue.map(String.init) ?? "?"
        }
    }
}

/// What the header says about one tensor.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name (e.g. `blk.0.attn_q.weight`).
    public let name: String
    /// The dimensions in the file's order: `ne[0]` first, the fastest-moving one.
    public let dimensions: [Int]
    /// The element type.
    public let type: GGMLType
    /// Byte offset of the tensor's first byte, relative to the start of the data section.
    public let offset: Int
    /// Bytes the tensor occupies.
    public let byteCount: Int

    /// The shape in Attend's row-major order (slowest first): ``dimensions`` reversed. A matrix with
    /// `n` rows of `k` elements (a `[out, in]` linear weight) has `shape == [n, k]`.
    public var shape: [Int] { dimensions.reversed() }
    /// Number of elements (product of the dimensions; 1 for a scalar).
    public var count: Int { dimensions.reduce(1, *) }
    /// Byte range relative to the start of the data section.
    public var byteRange: Range<Int> { offset..<(offset + byteCount) }
}

/// Errors raised while reading GGUF files. Every case names the file; per-tensor cases name the
/// tensor and per-key cases the metadata key.
public enum GGUFError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case cannotOpen(file: String, reason: String)
    /// The first four bytes are not "GGUF".
    case badMagic(file: String, found: [UInt8])
    /// A version other than 2 or 3.
    case unsupportedVersion(file: String, version: UInt32)
    /// The header ends before a field could be read: `what` names the field, `offset` where it starts.
    case truncated(file: String, what: String, offset: Int, needed: Int, available: Int)
    /// A count or length larger than the bytes left in the file could possibly hold.
    case countTooLarge(file: String, what: String, count: UInt64, limit: Int)
    /// A metadata value type code that GGUF does not define.
    case unknownValueType(file: String, key: String, code: UInt32)
    /// Arrays nested deeper than ``GGUF/maxArrayDepth``.
    case arrayTooDeep(file: String, key: String, depth: Int)
    /// A string (key, value or tensor name) that is not valid UTF-8.
    case invalidUTF8(file: String, what: String)
    /// The same metadata key twice.
    case duplicateKey(file: String, key: String)
    /// The same tensor name twice.
    case duplicateTensor(file: String, tensor: String)
    /// `general.alignment` is not a power of two ≥ 1 (or not an integer).
    case invalidAlignment(file: String, value: String)
    /// A tensor type code this reader does not know.
    case unknownTensorType(file: String, tensor: String, code: UInt32)
    /// A tensor with no dimensions or more than ``GGUF/maxDimensions``, a zero or negative dimension,
    /// an element count that overflows, or a first dimension that is not a whole number of blocks.
    case invalidDimensions(file: String, tensor: String, dimensions: [UInt64], reason: String)
    /// A tensor offset that is not a multiple of the file's alignment.
    case misalignedOffset(file: String, tensor: String, offset: UInt64, alignment: Int)
    /// A tensor whose bytes run past the end of the file.
    case tensorPastEndOfFile(file: String, tensor: String, offset: UInt64, byteCount: Int, dataSize: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingTensors(file: String, tensor: String, range: Range<Int>, other: String, otherRange: Range<Int>)
    /// No metadata key of that name.
    case missingKey(file: String, key: String)
    /// A metadata value of another type than the accessor reads.
    case wrongValueType(file: String, key: String, expected: String, actual: String)
    /// An integer value that does not fit the accessor's type.
    case valueOutOfRange(file: String, key: String, value: String)
    /// No tensor of that name.
    case tensorNotFound(file: String, tensor: String)
    /// The tensor's type cannot be read by this accessor (e.g. a Q4_K tensor as Float32, F32 as quantized blocks).
    case unsupportedTensorType(file: String, tensor: String, type: GGMLType, accessor: String)
    /// The tensor's shape differs from the one the caller required.
    case shapeMismatch(file: String, tensor: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case let .cannotOpen(f, r):
            return "\(f): cannot open GGUF file: \(r)"
        case let .badMagic(f, found):
            let hex = found.map { String($0, radix: 16) }.joined(separator: " ")
            return "\(f): not a GGUF file (expected magic bytes 47 47 55 46 \"GGUF\", found \(hex.isEmpty ? "nothing" : hex))"
        case let .unsupportedVersion(f, v):
            return "\(f): GGUF version \(v) is not supported (supported: 2 and 3)"
        case let .truncated(f, what, offset, needed, available):
            return "\(f): truncated: \(what) at byte \(offset) needs \(needed) bytes, only \(available) left"
        case let .countTooLarge(f, what, count, limit):
            return "\(f): \(what) is \(count), more than the \(limit) the rest of the file could hold (corrupt file)"
        case let .unknownValueType(f, key, code):
            return "\(f): metadata '\(key)': unknown value type \(code) (known: 0…12)"
        case let .arrayTooDeep(f, key, depth):
            return "\(f): metadata '\(key)': arrays nested \(depth) deep (limit \(GGUF.maxArrayDepth))"
        case let .invalidUTF8(f, what):
            return "\(f): \(what) is not valid UTF-8"
        case let .duplicateKey(f, key):
            return "\(f): metadata key '\(key)' appears twice"
        case let .duplicateTensor(f, t):
            return "\(f): tensor '\(t)' appears twice"
        case let .invalidAlignment(f, v):
            return "\(f): general.alignment must be a power of two, found \(v)"
        case let .unknownTensorType(f, t, code):
            return "\(f): tensor '\(t)': unknown or unsupported ggml type \(code) (supported: \(GGMLType.allCases.map { "\($0)=\($0.rawValue)" }.joined(separator: ", ")))"
        case let .invalidDimensions(f, t, dims, reason):
            return "\(f): tensor '\(t)': invalid dimensions \(dims): \(reason)"
        case let .misalignedOffset(f, t, offset, alignment):
            return "\(f): tensor '\(t)': offset \(offset) is not a multiple of the alignment \(alignment)"
        case let .tensorPastEndOfFile(f, t, offset, count, size):
            return "\(f): tensor '\(t)': bytes [\(offset), \(offset) + \(count)) run past the \(size)-byte data section (truncated file?)"
        case let .overlappingTensors(f, t, r, o, orr):
            return "\(f): tensor '\(t)' bytes [\(r.lowerBound), \(r.upperBound)) overlap tensor '\(o)' bytes [\(orr.lowerBound), \(orr.upperBound))"
        case let .missingKey(f, key):
            return "\(f): no metadata key '\(key)'"
        case let .wrongValueType(f, key, expected, actual):
            return "\(f): metadata '\(key)': expected \(expected), file has \(actual)"
        case let .valueOutOfRange(f, key, value):
            return "\(f): metadata '\(key)': value \(value) is out of range"
        case let .tensorNotFound(f, t):
            return "\(f): no tensor named '\(t)'"
        case let .unsupportedTensorType(f, t, type, accessor):
            return "\(f): tensor '\(t)': \(accessor) cannot read type \(type)"
        case let .shapeMismatch(f, t, e, a):
            return "\(f): tensor '\(t)': expected shape \(e), file has \(a)"
        }
    }
}

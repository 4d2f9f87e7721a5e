import Foundation

/// A GGUF file (versions 2 and 3), memory-mapped and validated.
///
/// `init(url:)` maps the file read-only and checks the whole header before any tensor is touched:
/// magic and version; every count and string length against the bytes left (so a corrupt count fails
/// before anything is allocated); every metadata value type; `general.alignment` (default 32);
/// every tensor's type, 1…4 dimensions each ≥ 1 with no overflow, `ne[0]` a whole number of blocks,
/// offset a multiple of the alignment, bytes inside the data section; and no two tensors overlapping.
///
///     let gguf = try GGUFFile(url: URL(fileURLWithPath: "SmolLM2-135M-Instruct.Q4_1.gguf"))
///     let arch = try gguf.string("general.architecture")            // "llama"
///     let tokens = try gguf.stringArray("tokenizer.ggml.tokens")     // 49,152 strings
///     let norm = try gguf.tensor("blk.0.attn_norm.weight")          // Float32 [576]
///     let wq = try gguf.quantizedMatrix("blk.0.attn_q.weight")      // Q4_1, 576 rows × 576
///
/// Shapes are row-major (slowest dimension first), the reverse of the file's `ne` order: see
/// ``GGUFTensorInfo/shape``. Immutable and safe to share between threads; the mapping lives as long as
/// the object or any ``QuantizedMatrix`` read from it.
public final class GGUFFile: @unchecked Sendable {
    /// The file that was opened.
    public let url: URL
    /// The format version (2 or 3).
    public let version: UInt32
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// All metadata values by key.
    public let metadata: [String: GGUFValue]
    /// Tensor infos in file order.
    public let tensorInfos: [GGUFTensorInfo]
    /// Alignment of tensor data in bytes (`general.alignment`, default 32).
    public let alignment: Int
    /// File offset of the data section.
    public let dataStart: Int

    private let byName: [String: Int]
    private let mapping: MappedFile
    private var file: String { url.path }

    /// Maps and validates the file at `url`.
    /// - Throws: ``GGUFError`` naming the file and, for per-tensor or per-key problems, the tensor or key.
    public init(url: URL) throws {
        let mapping: MappedFile
        do {
            mapping = try MappedFile(path: url.path)
        } catch let SafetensorsError.cannotOpen(_, reason) {
            throw GGUFError.cannotOpen(file: url.path, reason: reason)
        }
        let header = try GGUFParser.parse(mapping.bytes, file: url.path)
        self.url = url
        self.mapping = mapping
        self.version = header.version
        self.metadataKeys = header.metadataKeys
        self.metadata = header.metadata
        self.tensorInfos = header.tensors
        self.alignment = header.alignment
        self.dataStart = header.dataStart
        var byName: [String: Int] = [:]
        for (i, t) in header.tensors.enumerated() { byName[t.name] = i }
        self.byName = byName
    }

    /// Tensor names in file order.
    public var tensorNames: [String] { tensorInfos.map(\.name) }

    /// Whether the file holds a tensor called `name`.
    public func contains(tensor name: String) -> Bool { byName[name] != nil }

    /// The type, shape and byte range of `name`.
    public func info(_ name: String) throws -> GGUFTensorInfo {
        guard let i = byName[name] else { throw GGUFError.tensorNotFound(file: file, tensor: name) }
        return tensorInfos[i]
    }

    // MARK: - Metadata

    /// The value of `key`, or nil when absent.
    public func value(_ key: String) -> GGUFValue? { metadata[key] }

    /// A string value.
    public func string(_ key: String) throws -> String {
        guard case let .string(s) = try required(key) else { throw wrongType(key, "string") }
        return s
    }

    /// An integer value of any width, signed or unsigned, as `Int`.
    public func int(_ key: String) throws -> Int {
        let v = try required(key)
        guard let i = v.intValue else {
            if case .uint64 = v { throw GGUFError.valueOutOfRange(file: file, key: key, value: v.description) }
            throw wrongType(key, "an integer")
        }
        return i
    }

    /// A float32 or float64 value (integers are accepted too) as `Double`.
    public func double(_ key: String) throws -> Double {
        guard let d = try required(key).doubleValue else { throw wrongType(key, "a number") }
        return d
    }

    /// ``double(_:)`` as `Float`.
    public func float(_ key: String) throws -> Float { Float(try double(key)) }

    /// A bool value.
    public func bool(_ key: String) throws -> Bool {
        guard case let .bool(b) = try required(key) else { throw wrongType(key, "bool") }
        return b
    }

    /// An array of strings (e.g. `tokenizer.ggml.tokens`, `tokenizer.ggml.merges`).
    public func stringArray(_ key: String) throws -> [String] {
        try array(key, of: "array of strings") { if case let .string(s) = $0 { return s }; return nil }
    }

    /// An array of integers of any width (e.g. `tokenizer.ggml.token_type`).
    public func intArray(_ key: String) throws -> [Int] {
        try array(key, of: "array of integers") { $0.intValue }
    }

    /// An array of numbers (e.g. `tokenizer.ggml.scores`) as `Float`.
    public func floatArray(_ key: String) throws -> [Float] {
        try array(key, of: "array of numbers") { $0.doubleValue.map(Float.init) }
    }

    private func array<T>(_ key: String, of expected: String, _ convert: (GGUFValue) -> T?) throws -> [T] {
        let v = try required(key)
        guard case let .array(_, values) = v else { throw wrongType(key, expected) }
        var out: [T] = []
        out.reserveCapacity(values.count)
        for e in values {
            guard let x = convert(e) else { throw wrongType(key, expected, actual: "array of \(e.type)") }
            out.append(x)
        }
        return out
    }

    private func required(_ key: String) throws -> GGUFValue {
        guard let v = metadata[key] else { throw GGUFError.missingKey(file: file, key: key) }
        return v
    }

    private func wrongType(_ key: String, _ expected: String, actual: String? = nil) -> GGUFError {
        let found: String
        if let actual { found = actual } else if case let .array(t, _)? = metadata[key] { found = "array of \(t)" } else {
            found = metadata[key]?.type.description ?? "nothing"
        }
        return .wrongValueType(file: file, key: key, expected: expected, actual: found)
    }

    // MARK: - Tensors

    /// The tensor dequantized to Float32 (any ``GGMLType``), in Attend's row-major shape.
    public func tensor(_ name: String) throws -> Tensor {
        let info = try self.info(name)
        return Tensor(uncheckedShape: info.shape,
                      scalars: GGUFDequantize.dequantize(info.type, rawBytes(info), count: info.count))
    }

    /// ``tensor(_:)`` after checking the row-major shape.
    /// - Throws: ``GGUFError/shapeMismatch(file:tensor:expected:actual:)`` naming both shapes.
    public func tensor(_ name: String, shape expected: [Int]) throws -> Tensor {
        let info = try self.info(name)
        guard info.shape == expected else {
            throw GGUFError.shapeMismatch(file: file, tensor: name, expected: expected, actual: info.shape)
        }
        return try tensor(name)
    }

    /// A matrix of quantized blocks (Q4_0, Q4_1 or Q8_0) read in place from the mapping, for the quantized
    /// kernels: rows = `shape[0]` (output features of a linear weight), columns = the product of the rest
    /// (a rank-1 tensor is one row). With `shape` given, the row-major shape is checked first.
    public func quantizedMatrix(_ name: String, shape expected: [Int]? = nil) throws -> QuantizedMatrix {
        let info = try self.info(name)
        if let expected, info.shape != expected {
            throw GGUFError.shapeMismatch(file: file, tensor: name, expected: expected, actual: info.shape)
        }
        guard info.type.isQuantized else {
            throw GGUFError.unsupportedTensorType(file: file, tensor: name, type: info.type, accessor: "quantizedMatrix")
        }
        let shape = info.shape
        let rows = shape.count == 1 ? 1 : shape[0]
        let columns = info.count / rows
        guard let base = rawBytes(info).baseAddress else {
            throw GGUFError.invalidDimensions(file: file, tensor: name, dimensions: info.dimensions.map(UInt64.init),
                                              reason: "the tensor has no bytes")
        }
        return QuantizedMatrix(type: info.type, rows: rows, columns: columns, base: base, owner: mapping)
    }

    /// Calls `body` with the tensor's raw bytes, straight from the mapping (no copy).
    public func withUnsafeRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = try self.info(name)
        return try withExtendedLifetime(mapping) { try body(rawBytes(info)) }
    }

    private func rawBytes(_ info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let start = dataStart + info.offset
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[start..<(start + info.byteCount)])
    }
}

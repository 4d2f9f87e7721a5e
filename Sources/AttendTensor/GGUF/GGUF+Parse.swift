/// The parsed header of a GGUF file: everything before the data section, validated.
struct GGUFHeader {
    var version: UInt32
    var metadataKeys: [String]
    var metadata: [String: GGUFValue]
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    /// File offset of the data section (end of the tensor infos, rounded up to the alignment).
    var dataStart: Int
}

/// Reads a GGUF header from `bytes` (the whole file), checking every count and length against the
/// bytes left before allocating anything, then every tensor's type, dimensions, alignment and byte range
/// against the data section, and that no two tensors overlap.
struct GGUFParser {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var position = 0

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - position }

    static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws -> GGUFHeader {
        var p = GGUFParser(bytes: bytes, file: file)
        return try p.header()
    }

    mutating func header() throws -> GGUFHeader {
        guard bytes.count >= 4 else {
            throw GGUFError.badMagic(file: file, found: Array(bytes))
        }
        let magic = try u32("magic")
        guard magic == GGUF.magic else { throw GGUFError.badMagic(file: file, found: Array(bytes[0..<4])) }
        let version = try u32("version")
        guard GGUF.supportedVersions.contains(version) else {
            throw GGUFError.unsupportedVersion(file: file, version: version)
        }
        let tensorCount = try u64("tensor count")
        let kvCount = try u64("metadata count")
        // A key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least
        // 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset).
        let kvs = try bounded(kvCount, what: "metadata count", minimumSize: 13)
        let tensorsWanted = try bounded(tensorCount, what: "tensor count", minimumSize: 24)

        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        for i in 0..<kvs {
            let key = try string("metadata key #\(i)")
            let code = try u32("value type of '\(key)'")
            guard let type = GGUFValueType(rawValue: code) else {
                throw GGUFError.unknownValueType(file: file, key: key, code: code)
            }
            let value = try self.value(type, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw GGUFError.duplicateKey(file: file, key: key)
            }
            keys.append(key)
        }

        var alignment = GGUF.defaultAlignment
        if let a = metadata["general.alignment"] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0, v <= 1 << 20 else {
                throw GGUFError.invalidAlignment(file: file, value: a.description)
            }
            alignment = v
        }

        struct RawInfo { var name: String; var dims: [Int]; var type: GGMLType; var offset: UInt64 }
        var raw: [RawInfo] = []
        raw.reserveCapacity(tensorsWanted)
        var seen = Set<String>()
        for i in 0..<tensorsWanted {
            let name = try string("tensor name #\(i)")
            let nDims = try u32("dimension count of tensor '\(name)'")
            guard nDims >= 1, nDims <= UInt32(GGUF.maxDimensions) else {
                throw GGUFError.invalidDimensions(file: file, tensor: name, dimensions: [],
                                                  reason: "\(nDims) dimensions (need 1…\(GGUF.maxDimensions))")
            }
            var dims64: [UInt64] = []
            for d in 0..<Int(nDims) { dims64.append(try u64("dimension \(d) of tensor '\(name)'")) }
            let code = try u32("type of tensor '\(name)'")
            let offset = try u64("offset of tensor '\(name)'")
            guard let type = GGMLType(rawValue: code) else {
                throw GGUFError.unknownTensorType(file: file, tensor: name, code: code)
            }
            let dims = try checkedDimensions(dims64, type: type, tensor: name)
            guard seen.insert(name).inserted else { throw GGUFError.duplicateTensor(file: file, tensor: name) }
            raw.append(RawInfo(name: name, dims: dims, type: type, offset: offset))
        }

        let (padded, overflow) = position.addingReportingOverflow(alignment - 1)
        let dataStart = overflow ? Int.max : padded / alignment * alignment
        let dataSize = max(0, bytes.count - dataStart)
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(raw.count)
        for r in raw {
            // Dimensions were checked, so the row and total byte counts fit in Int.
            let rows = r.dims.dropFirst().reduce(1, *)
            let byteCount = (r.type.rowBytes(r.dims[0]) ?? 0) * rows
            guard r.offset % UInt64(alignment) == 0 else {
                throw GGUFError.misalignedOffset(file: file, tensor: r.name, offset: r.offset, alignment: alignment)
            }
            guard r.offset <= UInt64(dataSize), byteCount <= dataSize - Int(r.offset) else {
                throw GGUFError.tensorPastEndOfFile(file: file, tensor: r.name, offset: r.offset,
                                                    byteCount: byteCount, dataSize: dataSize)
            }
            tensors.append(GGUFTensorInfo(name: r.name, dimensions: r.dims, type: r.type,
                                          offset: Int(r.offset), byteCount: byteCount))
        }
        let sorted = tensors.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.offset < a.offset + a.byteCount {
            throw GGUFError.overlappingTensors(file: file, tensor: b.name, range: b.byteRange,
                                               other: a.name, otherRange: a.byteRange)
        }
        return GGUFHeader(version: version, metadataKeys: keys, metadata: metadata, tensors: tensors,
                          alignment: alignment, dataStart: dataStart)
    }

    /// The dimensions as `Int`s, each ≥ 1, whose product and byte count fit in `Int`, with `ne[0]`
    /// a whole number of blocks.
    private func checkedDimensions(_ dims: [UInt64], type: GGMLType, tensor: String) throws -> [Int] {
        var product = 1
        var out: [Int] = []
        for d in dims {
            guard d >= 1 else {
                throw GGUFError.invalidDimensions(file: file, tensor: tensor, dimensions: dims, reason: "a dimension is 0")
            }
            guard let v = Int(exactly: d) else {
                throw GGUFError.invalidDimensions(file: file, tensor: tensor, dimensions: dims, reason: "a dimension exceeds Int.max")
            }
            let (p, overflow) = product.multipliedReportingOverflow(by: v)
            guard !overflow else {
                throw GGUFError.invalidDimensions(file: file, tensor: tensor, dimensions: dims,
                                                  reason: "the element count overflows")
            }
            product = p
            out.append(v)
        }
        guard out[0] % type.blockSize == 0 else {
            throw GGUFError.invalidDimensions(file: file, tensor: tensor, dimensions: dims,
                                              reason: "ne[0] = \(out[0]) is not a multiple of the \(type) block size \(type.blockSize)")
        }
        let (row, rowOverflow) = (out[0] / type.blockSize).multipliedReportingOverflow(by: type.blockBytes)
        let (_, overflow) = row.multipliedReportingOverflow(by: product / out[0])
        guard !rowOverflow, !overflow else {
            throw GGUFError.invalidDimensions(file: file, tensor: tensor, dimensions: dims, reason: "the byte count overflows")
        }
        return out
    }

    /// `count` as an `Int`, after checking that `count` items of at least `minimumSize` bytes fit in
    /// the bytes left.
    private func bounded(_ count: UInt64, what: String, minimumSize: Int) throws -> Int {
        let limit = remaining / max(1, minimumSize)
        guard count <= UInt64(limit) else { throw GGUFError.countTooLarge(file: file, what: what, count: count, limit: limit) }
        return Int(count)
    }

    // MARK: - Values

    private mutating func value(_ type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try scalar(UInt8.self, key))
        case .int8: return .int8(Int8(bitPattern: try scalar(UInt8.self, key)))
        case .uint16: return .uint16(try scalar(UInt16.self, key))
        case .int16: return .int16(Int16(bitPattern: try scalar(UInt16.self, key)))
        case .uint32: return .uint32(try scalar(UInt32.self, key))
        case .int32: return .int32(Int32(bitPattern: try scalar(UInt32.self, key)))
        case .uint64: return .uint64(try scalar(UInt64.self, key))
        case .int64: return .int64(Int64(bitPattern: try scalar(UInt64.self, key)))
        case .float32: return .float32(Float(bitPattern: try scalar(UInt32.self, key)))
        case .float64: return .float64(Double(bitPattern: try scalar(UInt64.self, key)))
        case .bool: return .bool(try scalar(UInt8.self, key) != 0)
        case .string: return .string(try string("value of '\(key)'"))
        case .array:
            guard depth < GGUF.maxArrayDepth else { throw GGUFError.arrayTooDeep(file: file, key: key, depth: depth + 1) }
            let code = try u32("array element type of '\(key)'")
            guard let element = GGUFValueType(rawValue: code) else {
                throw GGUFError.unknownValueType(file: file, key: key, code: code)
            }
            let rawCount = try u64("array length of '\(key)'")
            let count = try bounded(rawCount, what: "array length of '\(key)'", minimumSize: element.minimumSize)
            var values: [GGUFValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try value(element, key: key, depth: depth + 1)) }
            return .array(element, values)
        }
    }

    private mutating func scalar<T: FixedWidthInteger>(_: T.Type, _ key: String) throws -> T {
        try need(MemoryLayout<T>.size, "value of '\(key)'")
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return v
    }

    mutating func u32(_ what: String) throws -> UInt32 {
        try need(4, what)
        let v = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
        position += 4
        return v
    }

    mutating func u64(_ what: String) throws -> UInt64 {
        try need(8, what)
        let v = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        position += 8
        return v
    }

    /// A GGUF string: u64 length, then that many bytes of UTF-8.
    mutating func string(_ what: String) throws -> String {
        let start = position
        let length = try u64("length of \(what)")
        guard length <= UInt64(remaining) else {
            throw GGUFError.truncated(file: file, what: what, offset: start,
                                      needed: Int(clamping: length), available: remaining)
        }
        let n = Int(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw GGUFError.invalidUTF8(file: file, what: what)
        }
        position += n
        return s
    }

    private func need(_ n: Int, _ what: String) throws {
        guard remaining >= n else {
            throw GGUFError.truncated(file: file, what: what, offset: position, needed: n, available: remaining)
        }
    }
}

import Foundation

/// Builds GGUF v3 files: metadata in the order added, tensors laid out one after another in the data
/// section at offsets rounded up to the alignment (`general.alignment` if set, else 32). Tensor bytes are
/// given as stored (already quantized for Q4_0 / Q4_1 / Q8_0; ``GGUFQuantize`` makes such blocks).
///
///     var w = GGUFWriter()
///     w.add("general.architecture", .string("llama"))
///     try w.add(tensor: "norm.weight", type: .f32, shape: [4], bytes: GGUFWriter.bytes(of: [1, 2, 3, 4]))
///     try w.write(to: url)
public struct GGUFWriter {
    private var metadata: [(String, GGUFValue)] = []
    private var tensors: [(name: String, type: GGMLType, dimensions: [Int], bytes: [UInt8])] = []

    public init() {}

    /// Adds a metadata key (in order; a repeated key is written twice, which readers reject).
    public mutating func add(_ key: String, _ value: GGUFValue) { metadata.append((key, value)) }

    /// Adds a tensor with Attend's row-major `shape` (written to the file reversed, as `ne`).
    /// - Throws: ``TensorError/invalidArgument(op:_:)`` when the byte count does not match the shape and type.
    public mutating func add(tensor name: String, type: GGMLType, shape: [Int], bytes: [UInt8]) throws {
        let dims = Array(shape.reversed())
        guard let first = dims.first, dims.allSatisfy({ $0 >= 1 }), let row = type.rowBytes(first),
              row * (dims.dropFirst().reduce(1, *)) == bytes.count else {
            throw TensorError.invalidArgument(op: "GGUFWriter", "tensor '\(name)': \(bytes.count) bytes do not hold \(type) \(shape)")
        }
        tensors.append((name, type, dims, bytes))
    }

    /// Little-endian bytes of Float32 values (for F32 tensors).
    public static func bytes(of values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    /// The file's bytes.
    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        func value(_ v: GGUFValue) {
            switch v {
            case let .uint8(x): out.append(x)
            case let .int8(x): out.append(UInt8(bitPattern: x))
            case let .uint16(x): withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            case let .int16(x): withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            case let .uint32(x): u32(x)
            case let .int32(x): u32(UInt32(bitPattern: x))
            case let .uint64(x): u64(x)
            case let .int64(x): u64(UInt64(bitPattern: x))
            case let .float32(x): u32(x.bitPattern)
            case let .float64(x): u64(x.bitPattern)
            case let .bool(x): out.append(x ? 1 : 0)
            case let .string(s): string(s)
            case let .array(t, values):
                u32(t.rawValue)
                u64(UInt64(values.count))
                for e in values { value(e) }
            }
        }
        let alignment = metadata.last(where: { $0.0 == "general.alignment" })?.1.intValue ?? GGUF.defaultAlignment
        func align(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

        u32(GGUF.magic)
        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(metadata.count))
        for (k, v) in metadata {
            string(k)
            u32(v.type.rawValue)
            value(v)
        }
        var offset = 0
        for t in tensors {
            string(t.name)
            u32(UInt32(t.dimensions.count))
            for d in t.dimensions { u64(UInt64(d)) }
            u32(t.type.rawValue)
            u64(UInt64(offset))
            offset = align(offset + t.bytes.count)
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: align(out.count) - out.count))
        for t in tensors {
            out.append(contentsOf: t.bytes)
            out.append(contentsOf: [UInt8](repeating: 0, count: align(t.bytes.count) - t.bytes.count))
        }
        return out
    }

    /// Writes the file (atomically).
    public func write(to url: URL) throws { try Data(bytes()).write(to: url, options: .atomic) }
}

/// Reference quantizers (ggml's `quantize_row_q8_0_ref` / `_q4_0_ref` / `_q4_1_ref`), for building test
/// weights and files: Float32 values → blocks of 32.
public enum GGUFQuantize {
    /// `values` (a multiple of 32) quantized to `type` blocks; F32 / F16 / BF16 are stored as such.
    public static func quantize(_ values: [Float], as type: GGMLType) -> [UInt8] {
        var out: [UInt8] = []
        func half(_ x: Float) { withUnsafeBytes(of: Float16Bits.bits(x).littleEndian) { out.append(contentsOf: $0) } }
        switch type {
        case .f32: return GGUFWriter.bytes(of: values)
        case .f16:
            for v in values { half(v) }
        case .bf16:
            for v in values { withUnsafeBytes(of: BF16.bits(v).littleEndian) { out.append(contentsOf: $0) } }
        case .q8_0:
            for b in stride(from: 0, to: values.count, by: 32) {
                let block = values[b..<min(values.count, b + 32)]
                let amax = block.map(abs).max() ?? 0
                let d = amax / 127, id: Float = d != 0 ? 1 / d : 0
                half(d)
                for v in block { out.append(UInt8(bitPattern: Int8(clamping: Int((v * id).rounded())))) }
            }
        case .q4_0:
            for b in stride(from: 0, to: values.count, by: 32) {
                let block = Array(values[b..<min(values.count, b + 32)])
                var maxAbs: Float = 0, maxV: Float = 0
                for v in block where abs(v) > maxAbs { maxAbs = abs(v); maxV = v }
                let d = maxV / -8, id: Float = d != 0 ? 1 / d : 0
                half(d)
                for t in 0..<16 {
                    let lo = UInt8(min(15, Int((block[t] * id + 8.5).rounded(.down))))
                    let hi = UInt8(min(15, Int((block[t + 16] * id + 8.5).rounded(.down))))
                    out.append(lo | hi << 4)
                }
            }
        case .q4_1:
            for b in stride(from: 0, to: values.count, by: 32) {
                let block = Array(values[b..<min(values.count, b + 32)])
                let lo = block.min() ?? 0, hi = block.max() ?? 0
                let d = (hi - lo) / 15, id: Float = d != 0 ? 1 / d : 0
                half(d)
                half(lo)
                for t in 0..<16 {
                    let q0 = UInt8(min(15, Int(((block[t] - lo) * id + 0.5).rounded(.down))))
                    let q1 = UInt8(min(15, Int(((block[t + 16] - lo) * id + 0.5).rounded(.down))))
                    out.append(q0 | q1 << 4)
                }
            }
        }
        return out
    }
}

/// float32 → IEEE binary16 bits, round to nearest even (overflow to ±Inf, NaN kept a NaN).
enum Float16Bits {
    static func bits(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        let sign = UInt16((b >> 16) & 0x8000)
        let e = Int((b >> 23) & 0xFF), mant = b & 0x7F_FFFF
        if e == 0xFF { return sign | 0x7C00 | (mant != 0 ? 0x200 : 0) }
        let exp = e - 127 + 15
        if exp >= 31 { return sign | 0x7C00 }
        if exp <= 0 {
            // Subnormal half (or zero): value = m · 2^−24.
            if exp < -10 { return sign }
            let full = mant | 0x80_0000
            let shift = UInt32(14 - exp)
            var h = full >> shift
            let rem = full & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
            if rem > halfway || (rem == halfway && h & 1 == 1) { h += 1 }
            return sign | UInt16(h)
        }
        var h = UInt32(exp) << 10 | mant >> 13
        let rem = mant & 0x1FFF
        if rem > 0x1000 || (rem == 0x1000 && h & 1 == 1) { h += 1 }  // may carry into the exponent: correct
        return sign | UInt16(h)
    }
}

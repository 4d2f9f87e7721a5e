/// Decoding of safetensors element types. All multi-byte values are little-endian and may be
/// unaligned in the mapping, so every read goes through `loadUnaligned`.
enum SafetensorsConvert {
    /// Decodes `count` floating-point elements of `dtype` to Float32.
    /// The caller guarantees `raw.count == count · dtype.size` and `dtype.isFloatingPoint`.
    static func floats(_ raw: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch dtype {
            case .f32:
                #if _endian(little)
                if let src = raw.baseAddress, let dst = out.baseAddress {
                    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
                }
                #else
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
                #endif
            case .f16:
                for i in 0..<count {
                    out[i] = floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in 0..<count {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            case .f64:
                for i in 0..<count {
                    let bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                    out[i] = Float(Double(bitPattern: bits))
                }
            case .f8e5m2:
                for i in 0..<count { out[i] = floatFromHalf(UInt16(raw[i]) << 8) }
            case .f8e4m3:
                for i in 0..<count { out[i] = floatFromE4M3(raw[i]) }
            default:
                for i in 0..<count { out[i] = .nan }
            }
            initialized = count
        }
    }

    /// IEEE 754 binary16 → binary32, exact (every half is representable as a float).
    ///
    ///     sign · 2^(e − 15) · 1.m          for 0 < e < 31
    ///     sign · 2^−14 · 0.m  = m · 2^−24  for e = 0 (subnormal and ±0)
    ///     ±inf / NaN (payload kept)        for e = 31
    static func floatFromHalf(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1f
        let mantissa = UInt32(h & 0x03ff)
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 31:
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | ((exponent + 127 - 15) << 23) | (mantissa << 13))
        }
    }

    /// OCP FP8 E4M3 ("fn": bias 7, no infinities, S.1111.111 is NaN) → binary32.
    static func floatFromE4M3(_ b: UInt8) -> Float {
        let negative = b & 0x80 != 0
        let exponent = Int(b >> 3) & 0x0f
        let mantissa = Float(b & 0x07)
        let magnitude: Float
        if exponent == 0x0f && b & 0x07 == 0x07 {
            return .nan
        } else if exponent == 0 {
            magnitude = mantissa / 8 * 0x1p-6
        } else {
            magnitude = (1 + mantissa / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }

    /// Decodes `count` integer elements of `dtype` (BOOL as 0 / 1), or nil if a value does not fit in `Int`.
    static func ints(_ raw: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int) -> [Int]? {
        var out: [Int] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            guard let v = int(raw, dtype: dtype, at: i) else { return nil }
            out.append(v)
        }
        return out
    }

    /// The index of the first element that does not fit in `Int`.
    static func firstOverflow(_ raw: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int) -> Int? {
        (0..<count).first { int(raw, dtype: dtype, at: $0) == nil }
    }

    private static func int(_ raw: UnsafeRawBufferPointer, dtype: SafetensorsDType, at i: Int) -> Int? {
        switch dtype {
        case .bool: return raw[i] == 0 ? 0 : 1
        case .u8: return Int(raw[i])
        case .i8: return Int(Int8(bitPattern: raw[i]))
        case .u16: return Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case .i16: return Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
        case .u32: return Int(exactly: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        case .i32: return Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
        case .u64: return Int(exactly: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
        case .i64: return Int(exactly: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
        default: return nil
        }
    }
}

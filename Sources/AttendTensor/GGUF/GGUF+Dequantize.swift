/// The plain dequantization twins: one loop per ggml type, written from ggml's block definitions
/// (`ggml-common.h`) and `dequantize_row_q4_0` / `_q4_1` / `_q8_0` (`ggml-quants.c`), and checked
/// against the `gguf` Python package's `gguf.quants.dequantize` on the SmolLM2 file
/// (`Tests/Fixtures/smollm2/make_dequant_fixture.py`). These are the specification the fast kernels are
/// tested against. Each computes in Float exactly as ggml's scalar code does, so the values are
/// bit-identical to ggml's and to the Python package's:
///
///     Q4_0  y[t] = Float(Int(q[t]) − 8) · d
///     Q4_1  y[t] = Float(q[t]) · d + m           (a multiply, then an add: no fused multiply-add)
///     Q8_0  y[t] = Float(Int8 q[t]) · d
///     F16   y = the binary16 value widened;  BF16  y = bits << 16;  F32  y = the value
///
/// with `q[t]` for t < 16 the low nibble of byte `qs[t]` and for t ≥ 16 the high nibble of `qs[t − 16]`.
public enum GGUFDequantize {
    /// Dequantizes `count` elements of `type` (a whole number of blocks) from `raw` into `out`.
    /// The caller guarantees `raw.count ≥ type.rowBytes(count)` and `out.count ≥ count`.
    public static func dequantize(_ type: GGMLType, _ raw: UnsafeRawBufferPointer, count: Int,
                                  into out: UnsafeMutableBufferPointer<Float>) {
        let blocks = count / type.blockSize
        switch type {
        case .f32:
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case .f16:
            for i in 0..<count { out[i] = half(raw, 2 * i) }
        case .bf16:
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            }
        case .q4_0:
            for b in 0..<blocks {
                let base = b * 18
                let d = half(raw, base)
                for t in 0..<16 {
                    let byte = raw[base + 2 + t]
                    out[b * 32 + t] = Float(Int(byte & 0x0F) - 8) * d
                    out[b * 32 + t + 16] = Float(Int(byte >> 4) - 8) * d
                }
            }
        case .q4_1:
            for b in 0..<blocks {
                let base = b * 20
                let d = half(raw, base), m = half(raw, base + 2)
                for t in 0..<16 {
                    let byte = raw[base + 4 + t]
                    let lo = Float(byte & 0x0F) * d, hi = Float(byte >> 4) * d
                    out[b * 32 + t] = lo + m
                    out[b * 32 + t + 16] = hi + m
                }
            }
        case .q8_0:
            for b in 0..<blocks {
                let base = b * 34
                let d = half(raw, base)
                for t in 0..<32 {
                    out[b * 32 + t] = Float(Int8(bitPattern: raw[base + 2 + t])) * d
                }
            }
        }
    }

    /// `count` elements of `type` dequantized into a new array.
    public static func dequantize(_ type: GGMLType, _ raw: UnsafeRawBufferPointer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            dequantize(type, raw, count: count, into: out)
            initialized = count
        }
    }

    /// The binary16 at byte `offset`, widened to Float (exact).
    @inline(__always)
    static func half(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> Float {
        SafetensorsConvert.floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
}

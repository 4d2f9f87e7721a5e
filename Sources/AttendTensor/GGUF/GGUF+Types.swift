/// The ggml tensor types Attend reads (the u32 codes in the file; ggml's `enum ggml_type`).
///
/// Block formats (ggml's `ggml-common.h`; `d` and `m` are IEEE binary16, every block covers 32
/// consecutive elements along `ne[0]`, i.e. along a row):
///
///     Q4_0  { f16 d; u8 qs[16] }           18 bytes   x = (q − 8) · d
///     Q4_1  { f16 d; f16 m; u8 qs[16] }    20 bytes   x = q · d + m
///     Q8_0  { f16 d; i8 qs[32] }           34 bytes   x = q · d
///
/// In the 4-bit formats byte `qs[t]` holds element `t` in its low nibble and element `t + 16` in
/// its high nibble (ggml's `dequantize_row_q4_0`: `y[j] = (qs[j] & 0xF)…, y[j + 16] = (qs[j] >> 4)…`).
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 8
    case bf16 = 30

    /// Elements per block (1 for the plain float types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q8_0: return 32
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18
        case .q4_1: return 20
        case .q8_0: return 34
        }
    }

    /// True for the block-quantized types the quantized kernels multiply directly.
    public var isQuantized: Bool { blockSize > 1 }

    /// Bytes of a row of `count` elements, or nil when `count` is not a whole number of blocks or the
    /// size overflows.
    public func rowBytes(_ count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }

    /// ggml's name for the type (`Q4_1`, `F32`, …).
    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q8_0: return "Q8_0"
        case .bf16: return "BF16"
        }
    }
}

import AttendKernelsC

/// The activations of a product with quantized weights (``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:activations:)``).
public enum QuantizedActivations: String, Sendable, CaseIterable {
    /// Float32 activations against the weights decoded in registers: float32 rounding of the sums only.
    case fp32
    /// llama.cpp's scheme: each 32-element block of an activation row rounded to 8 bits (`d = max|x|/127`).
    case int8
    /// Each 32-element block rounded to 16 bits (`d = max|x|/32767`, error ≤ d/2 ≈ 1.5e-5 of the block's largest
    /// value), multiplied on exact int16 × int16 products.
    case int16
}

extension Kernels {
    /// Whether `.int16` activations take effect with the active ISA on this CPU (AVX2, AVX-512BW, or the scalar
    /// kernel of the generic ISA), for m ≤ 16.
    public static var int16ActivationsAvailable: Bool { QuantGEMM.ukernel(activeISA).dot_q16 != nil }
}

extension ReferenceKernels {
    /// The plain twin of the int16-activation path of ``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:activations:)``:
    /// each 32-element block of a row of A quantized as the C kernels do (`d = max|x|/32767` in Float,
    /// `q = roundf(x · (1/d))`, 0 when d = 0), then in Double
    ///
    ///     C[i, j] = Σ_b ( d_w·d_x·Σ_t qw[t]·qx[t] + c_b ),  c_b = m_w·d_x·Σ_t qx[t] (Q4_1),
    ///               −8·d_w·d_x·Σ_t qx[t] (Q4_0), 0 (Q8_0)
    ///
    /// with qw the unsigned nibble (Q4_0, Q4_1) or the signed byte (Q8_0), as in the int8 twin.
    public static func gemmQuantizedInt16(m: Int, a: UnsafePointer<Float>, lda: Int, weight: QuantizedMatrix,
                                          c: UnsafeMutablePointer<Float>, ldc: Int) {
        gemmBlockQuantized(Int16.self, m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc)
    }

    /// One row of activations quantized to int16 per 32-element block (see ``gemmQuantizedInt16(m:a:lda:weight:c:ldc:)``).
    typealias Int16Activations = BlockActivations<Int16>
}

extension QuantGEMM {
    /// The int16 path: A's m rows quantized once (m·k int16 quants, m·nb scales and scaled sums, in a per-thread
    /// buffer reused across calls), then W's rows split between threads in runs of 2.
    static func runInt16(_ dot: attend_quant_dot_q16_fn, qtype: Int32, m: Int, n: Int, nb: Int,
                         a: UnsafePointer<Float>, lda: Int, w: UnsafeRawPointer, rowBytes: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        let k = 32 * nb
        // Floats of scratch: the int16 quants take k/2 floats per row, then the scales and sums.
        let qFloats = (m * k + 1) / 2
        GEMMBuffers.with(floats: qFloats + 2 * m * nb) { buf in
            let d = buf + qFloats, s = buf + qFloats + m * nb
            buf.withMemoryRebound(to: Int16.self, capacity: 2 * qFloats) { q in
                attend_quant_activations_q16(m, nb, a, lda, q, d, s)
                let chunk = GEMM.chunk(n, threads: threads, multiple: 2)
                GEMM.parallelFor((n + chunk - 1) / chunk, threads: threads) { item in
                    let j0 = item * chunk, nj = min(chunk, n - j0)
                    dot(qtype, m, nj, nb, q, d, s, w + j0 * rowBytes, rowBytes, c + j0, ldc)
                }
            }
        }
    }
}

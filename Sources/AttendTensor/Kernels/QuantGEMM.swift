import AttendKernelsC

extension Kernels {
    /// `C[m, n] = A[m, k] · Wᵀ` with W a ``QuantizedMatrix`` of `n` rows and `k` columns (Q4_0, Q4_1 or
    /// Q8_0), A float32 row-major with row stride `lda`, C with row stride `ldc` (C is overwritten).
    ///
    /// The exact maths, for every i < m, j < n (w_j(p) the dequantized weight, see ``GGMLType``):
    ///
    ///     C[i, j] = Σ_{p < k} w_j(p) · A[i, p]
    ///
    /// computed in float32 straight from the blocks: the weights are decoded in registers (for the 4-bit
    /// types with one fused multiply-add `q·d + m`, which may differ from ggml's rounded `q·d` then `+ m` by
    /// 1 ulp) and the activations are not quantized, so the result differs from the dequantize-then-dot twin
    /// only by float32 rounding of the sums. For m ≤ 16 (decode) the C kernels multiply the blocks
    /// directly, splitting the rows of W between threads; for larger m (prefill) W is decoded to float32 in
    /// equal panels of at most 256 rows (a panel stays in L2 while every row block of A sweeps it) and each
    /// panel's product runs on the fp32 GEMM, so decoding is paid once per call.
    /// ``Kernels/useReference`` runs ``ReferenceKernels/gemmQuantized(m:a:lda:weight:c:ldc:)`` instead.
    ///
    /// With `int8Activations` (llama.cpp's scheme), on AVX2 and AVX-512 VNNI CPUs and for m ≤ 16, the rows of A
    /// are first quantized to 8 bits per 32-element block (`d = max|x|/127`, `q = roundf(x/d)`) and the
    /// products are exact integer dot products (`vpdpbusd`, or `vpmaddubsw` + `vpmaddwd`) scaled per block (see `attend_quant.h` and
    /// ``ReferenceKernels/gemmQuantizedInt8(m:a:lda:weight:c:ldc:)``): faster, at the cost of the
    /// activation rounding, `|x − d·q| ≤ d/2` per element. Elsewhere the flag is ignored (float32 path);
    /// ``int8ActivationsAvailable`` says whether it takes effect.
    public static func gemmQuantized(m: Int, a: UnsafePointer<Float>, lda: Int, weight: QuantizedMatrix,
                                     c: UnsafeMutablePointer<Float>, ldc: Int, int8Activations: Bool = false) {
        gemmQuantized(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, activations: int8Activations ? .int8 : .fp32)
    }

    /// ``gemmQuantized(m:a:lda:weight:c:ldc:int8Activations:)`` with the activations named: `.fp32`, `.int8` (as
    /// `int8Activations: true`) or `.int16` (for m ≤ 16 where ``int16ActivationsAvailable``: each 32-element block of A
    /// rounded to 16 bits, `d = max|x|/32767`, and multiplied on exact int16 × int16 → int32 dot products; see
    /// ``ReferenceKernels/gemmQuantizedInt16(m:a:lda:weight:c:ldc:)``). A scheme that does not apply runs the fp32 path.
    public static func gemmQuantized(m: Int, a: UnsafePointer<Float>, lda: Int, weight: QuantizedMatrix,
                                     c: UnsafeMutablePointer<Float>, ldc: Int, activations: QuantizedActivations) {
        if m <= 0 || weight.rows == 0 { return }
        if useReference {
            let direct = m <= QuantGEMM.Tuning().directMaxM
            if activations == .int8 && int8ActivationsAvailable && direct {
                ReferenceKernels.gemmQuantizedInt8(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc)
            } else if activations == .int16 && int16ActivationsAvailable && direct {
                ReferenceKernels.gemmQuantizedInt16(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc)
            } else {
                ReferenceKernels.gemmQuantized(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc)
            }
        } else {
            QuantGEMM.run(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, isa: activeISA, threads: maxThreads,
                          activations: activations)
        }
    }

    /// Whether `int8Activations` takes effect with the active ISA on this CPU (AVX2, or AVX-512 with VNNI), for m ≤ 16.
    public static var int8ActivationsAvailable: Bool { QuantGEMM.ukernel(activeISA).dot_q8 != nil }
}

extension ReferenceKernels {
    /// The plain twin of ``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:int8Activations:)`` (float32 activations): each row of W dequantized by
    /// ``GGUFDequantize`` (ggml's exact values), then `C[i, j] = Σ_p w_j(p) · A[i, p]` summed in Double.
    public static func gemmQuantized(m: Int, a: UnsafePointer<Float>, lda: Int, weight: QuantizedMatrix,
                                     c: UnsafeMutablePointer<Float>, ldc: Int) {
        let k = weight.columns
        for j in 0..<weight.rows {
            let w = weight.dequantizedRow(j)
            for i in 0..<m {
                var s = 0.0
                for p in 0..<k { s += Double(w[p]) * Double(a[i * lda + p]) }
                c[i * ldc + j] = Float(s)
            }
        }
    }
}

extension ReferenceKernels {
    /// The plain twin of the int8-activation path of ``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:int8Activations:)``:
    /// each 32-element block of a row of A quantized as ggml's `quantize_row_q8_0_ref`
    /// (`d = max|x|/127` in Float, `q = roundf(x · (1/d))`, 0 when d = 0), then in Double
    ///
    ///     C[i, j] = Σ_b ( d_w·d_x·Σ_t qw[t]·qx[t] + c_b ),  c_b = m_w·d_x·Σ_t qx[t] (Q4_1),
    ///               −8·d_w·d_x·Σ_t qx[t] (Q4_0), 0 (Q8_0)
    ///
    /// with qw the unsigned nibble (Q4_0, Q4_1) or the signed byte (Q8_0).
    public static func gemmQuantizedInt8(m: Int, a: UnsafePointer<Float>, lda: Int, weight: QuantizedMatrix,
                                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        gemmBlockQuantized(Int8.self, m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc)
    }

    /// The twins of the int8 and int16 activation paths, which differ only in the integer the activation blocks are
    /// rounded to (`Q.max` = 127 or 32767): the Double sum of ``gemmQuantizedInt8(m:a:lda:weight:c:ldc:)``.
    static func gemmBlockQuantized<Q: FixedWidthInteger & SignedInteger>(
        _: Q.Type, m: Int, a: UnsafePointer<Float>, lda: Int, weight: QuantizedMatrix, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let nb = weight.blocksPerRow
        let xs = (0..<m).map { BlockActivations<Q>(UnsafeBufferPointer(start: a + $0 * lda, count: weight.columns)) }
        weight.withUnsafeBytes { raw in
            for j in 0..<weight.rows {
                for i in 0..<m {
                    var sum = 0.0
                    for b in 0..<nb {
                        let block = WeightBlock(weight.type, raw, offset: j * weight.rowBytes + b * weight.type.blockBytes)
                        var isum = 0
                        for t in 0..<32 { isum += block.q[t] * Int(xs[i].q[32 * b + t]) }
                        let dx = Double(xs[i].d[b]), qsum = Double(xs[i].qsum[b])
                        sum += Double(block.d) * dx * Double(isum) + block.c * dx * qsum
                    }
                    c[i * ldc + j] = Float(sum)
                }
            }
        }
    }

    /// One row of activations quantized per 32-element block, as ggml's `quantize_row_q8_0_ref` does for int8
    /// (`d = max|x|/Q.max` in Float, `q = roundf(x · (1/d))` clamped to ±Q.max, 0 when d = 0), with each block's
    /// sum of quants.
    struct BlockActivations<Q: FixedWidthInteger & SignedInteger> {
        var q: [Q] = []
        var d: [Float] = []
        var qsum: [Int] = []

        init(_ x: UnsafeBufferPointer<Float>) {
            let levels = Int(Q.max)
            for b in 0..<(x.count / 32) {
                let block = x[(32 * b)..<(32 * b + 32)]
                let amax = block.reduce(Float(0)) { Swift.max($0, abs($1)) }
                let d = amax / Float(levels), id: Float = d != 0 ? 1 / d : 0
                var s = 0
                for v in block {
                    let r = Swift.min(levels, Swift.max(-levels, Int((v * id).rounded(.toNearestOrAwayFromZero))))
                    q.append(Q(r))
                    s += r
                }
                self.d.append(d)
                qsum.append(s)
            }
        }
    }

    /// The int8 activations of ``gemmQuantizedInt8(m:a:lda:weight:c:ldc:)``.
    typealias QuantizedActivations = BlockActivations<Int8>

    /// One weight block as integers: the scale d, the quants as the int8 kernel multiplies them, and the
    /// per-block constant's coefficient c (m for Q4_1, −8·d for Q4_0, 0 for Q8_0).
    struct WeightBlock {
        var d: Float
        var c: Double
        var q: [Int]

        init(_ type: GGMLType, _ raw: UnsafeRawBufferPointer, offset: Int) {
            d = GGUFDequantize.half(raw, offset)
            switch type {
            case .q8_0:
                c = 0
                q = (0..<32).map { Int(Int8(bitPattern: raw[offset + 2 + $0])) }
            case .q4_1:
                c = Double(GGUFDequantize.half(raw, offset + 2))
                q = (0..<32).map { t in Int(t < 16 ? raw[offset + 4 + t] & 0x0F : raw[offset + 4 + t - 16] >> 4) }
            default:
                c = -8 * Double(d)
                q = (0..<32).map { t in Int(t < 16 ? raw[offset + 2 + t] & 0x0F : raw[offset + 2 + t - 16] >> 4) }
            }
        }
    }
}

/// The quantized GEMM driver (see ``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:int8Activations:)``).
enum QuantGEMM {
    /// The driver's thresholds (tests pass their own to pin a path).
    struct Tuning {
        /// With m at or below this, the direct kernel multiplies the blocks; above, W is decoded in panels.
        var directMaxM = 16
        /// Rows of W per decoded panel on the panel path.
        var panelRows = 256
        /// Multiply-adds per thread below which another thread does not pay for its wake-up.
        var workPerThread = 1 << 17
    }

    /// The C kernel set `isa` selects on this CPU (the generic one when the CPU lacks `isa`).
    static func ukernel(_ isa: KernelISA) -> attend_quant_ukernel { attend_quant_ukernel_for(isa.cValue).pointee }

    static func run(m: Int, a: UnsafePointer<Float>, lda: Int, weight: QuantizedMatrix,
                    c: UnsafeMutablePointer<Float>, ldc: Int, isa: KernelISA, threads maxThreads: Int,
                    int8: Bool, tuning: Tuning = Tuning()) {
        run(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, isa: isa, threads: maxThreads,
            activations: int8 ? .int8 : .fp32, tuning: tuning)
    }

    static func run(m: Int, a: UnsafePointer<Float>, lda: Int, weight: QuantizedMatrix,
                    c: UnsafeMutablePointer<Float>, ldc: Int, isa: KernelISA, threads maxThreads: Int,
                    activations: QuantizedActivations = .fp32, tuning: Tuning = Tuning()) {
        let int8 = activations == .int8
        let n = weight.rows, k = weight.columns, nb = weight.blocksPerRow, rowBytes = weight.rowBytes
        guard m > 0, n > 0, k > 0 else { return }
        let uk = ukernel(isa)
        guard let dot = uk.dot, let dequant = uk.dequant else { return }
        let qtype = Int32(weight.type.rawValue)
        let work = Double(m) * Double(n) * Double(k)
        let byWork = Int(min(work / Double(max(1, tuning.workPerThread)), Double(Int.max / 2)))
        let threads = max(1, min(maxThreads, byWork, n))
        withExtendedLifetime(weight.owner) {
            let w = weight.base
            if int8, m <= tuning.directMaxM, let dotQ8 = uk.dot_q8 {
                // Quantize A once (m·k int8 quants, m·nb scales and scaled sums), then split W's rows.
                var qx = [Int8](repeating: 0, count: m * k)
                var dx = [Float](repeating: 0, count: m * nb), sx = [Float](repeating: 0, count: m * nb)
                qx.withUnsafeMutableBufferPointer { q in
                    dx.withUnsafeMutableBufferPointer { d in
                        sx.withUnsafeMutableBufferPointer { sp in
                            guard let q = q.baseAddress, let d = d.baseAddress, let sp = sp.baseAddress else { return }
                            attend_quant_activations_q8(m, nb, a, lda, q, d, sp)
                            let chunk = GEMM.chunk(n, threads: threads, multiple: 2)
                            GEMM.parallelFor((n + chunk - 1) / chunk, threads: threads) { item in
                                let j0 = item * chunk, nj = min(chunk, n - j0)
                                dotQ8(qtype, m, nj, nb, q, d, sp, w + j0 * rowBytes, rowBytes, c + j0, ldc)
                            }
                        }
                    }
                }
            } else if activations == .int16, m <= tuning.directMaxM, let dotQ16 = uk.dot_q16 {
                runInt16(dotQ16, qtype: qtype, m: m, n: n, nb: nb, a: a, lda: lda, w: w, rowBytes: rowBytes,
                         c: c, ldc: ldc, threads: threads)
            } else if m <= tuning.directMaxM {
                // Items: runs of W rows (multiples of 2 so the two-row tiles stay whole).
                let chunk = GEMM.chunk(n, threads: threads, multiple: 2)
                GEMM.parallelFor((n + chunk - 1) / chunk, threads: threads) { item in
                    let j0 = item * chunk, nj = min(chunk, n - j0)
                    dot(qtype, m, nj, nb, a, lda, w + j0 * rowBytes, rowBytes, c + j0, ldc)
                }
            } else {
                // Panels of W rows, one after another: the threads decode a panel to float32 together,
                // then the fp32 GEMM (threaded itself, on the active ISA) multiplies it.
                // Equal panels of at most panelRows rows, rounded up to 64 (the widest fp32 tile): as few as fit.
                let panelCount = (n + max(1, tuning.panelRows) - 1) / max(1, tuning.panelRows)
                let panel = min(n, ((n + panelCount - 1) / panelCount + 63) / 64 * 64)
                // The panel buffer comes from the GEMM's scratch pool: no fresh pages (and their faults) per call.
                GEMMBuffers.with(floats: panel * k) { buf in
                    var j0 = 0
                    while j0 < n {
                        let nj = min(panel, n - j0)
                        let rowChunk = GEMM.chunk(nj, threads: threads, multiple: 1)
                        GEMM.parallelFor((nj + rowChunk - 1) / rowChunk, threads: threads) { item in
                            let r0 = item * rowChunk, nr = min(rowChunk, nj - r0)
                            dequant(qtype, w + (j0 + r0) * rowBytes, nr * nb, buf + r0 * k)
                        }
                        GEMM.sgemm(transA: false, transB: true, m: m, n: nj, k: k, alpha: 1, a: a, lda: lda,
                                   b: buf, ldb: k, beta: 0, c: c + j0, ldc: ldc)
                        j0 += nj
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// `act(x · Wᵀ + bias)` with W a ``QuantizedMatrix`` `[n, k]`: `x` `[..., k]`, `bias` `[n]` → `[..., n]`.
    /// The product runs on ``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:int8Activations:)`` (float32 activations, weights
    /// decoded from their blocks); bias and activation run in Float.
    /// With `int8Activations` the activations are rounded to 8 bits per block on AVX2 and AVX-512 VNNI CPUs
    /// (see ``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:int8Activations:)``).
    public static func linear(_ x: Tensor, quantized weight: QuantizedMatrix, bias: Tensor? = nil,
                              activation: FusedActivation = .none, int8Activations: Bool = false) throws -> Tensor {
        try linear(x, quantized: weight, bias: bias, activation: activation, activations: int8Activations ? .int8 : .fp32)
    }

    /// ``linear(_:quantized:bias:activation:int8Activations:)`` with the product's activations named
    /// (``QuantizedActivations``; see ``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:activations:)``).
    public static func linear(_ x: Tensor, quantized weight: QuantizedMatrix, bias: Tensor? = nil,
                              activation: FusedActivation = .none, activations: QuantizedActivations) throws -> Tensor {
        let (out, inF) = (weight.rows, weight.columns)
        let rows = try linearRows("linear quantized", x, out: out, in: inF, bias: bias)
        // Every element is written by the product (C is overwritten; zeros when there are no columns to sum).
        var y = [Float](unsafeUninitializedCapacity: rows * out) { buffer, initialized in
            if inF == 0, let base = buffer.baseAddress { base.initialize(repeating: 0, count: rows * out) }
            initialized = rows * out
        }
        if rows > 0 && out > 0 {
            x.scalars.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return }
                    Kernels.gemmQuantized(m: rows, a: xb, lda: inF, weight: weight, c: yb, ldc: out,
                                          activations: activations)
                    (bias?.scalars ?? []).withUnsafeBufferPointer { bp in
                        Kernels.biasActivation(yb, rows: rows, cols: out,
                                               bias: bias == nil ? nil : bp.baseAddress, activation: activation)
                    }
                }
            }
        }
        return Tensor(uncheckedShape: Array(x.shape.dropLast()) + [out], scalars: y)
    }
}

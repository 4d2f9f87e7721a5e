import AttendKernelsC

// Several quantized products of one activation matrix (a decoder layer's q, k and v projections, or its gate and up
// projections): on the int16 decode path the activations are quantized once and one pool dispatch runs the rows of all
// the matrices, instead of one quantization and one fork-join per matrix. No weight is copied or concatenated: the
// work items are runs of rows of each matrix in turn.

extension Kernels {
    /// For every s < `weights.count`: `C_s[m, n_s] = A[m, k] · W_sᵀ`, W_s a ``QuantizedMatrix`` of n_s rows and the same
    /// `k` columns for every s, C_s at `c[s]` with row stride `ldc[s]` (overwritten).
    ///
    /// The exact maths are those of ``gemmQuantized(m:a:lda:weight:c:ldc:activations:)`` on each W_s alone, and so are
    /// the float32 results, bit for bit (each output row's sum does not depend on which rows share its tile): for
    /// `.int16` activations with m ≤ 16 where ``int16ActivationsAvailable``, A's rows are rounded to 16 bits per
    /// 32-element block once (`d = max|x|/32767`) and
    ///
    ///     C_s[i, j] = Σ_b ( d_w·d_x·Σ_t qw[t]·qx[t] + c_b ),  c_b = m_w·sx_b (Q4_1), −8·d_w·sx_b (Q4_0), 0 (Q8_0)
    ///
    /// with one split of all the matrices' rows between the threads; every other case (other activations, m > 16,
    /// ``useReference``, or matrices of different widths) runs ``gemmQuantized(m:a:lda:weight:c:ldc:activations:)`` on
    /// each matrix in turn.
    public static func gemmQuantized(m: Int, a: UnsafePointer<Float>, lda: Int, weights: [QuantizedMatrix],
                                     c: [UnsafeMutablePointer<Float>], ldc: [Int], activations: QuantizedActivations) {
        guard m > 0, !weights.isEmpty, c.count == weights.count, ldc.count == weights.count else { return }
        guard sharesQuantizedActivations(m: m, weights: weights, activations: activations),
              let dot = QuantGEMM.ukernel(activeISA).dot_q16 else {
            for s in weights.indices {
                gemmQuantized(m: m, a: a, lda: lda, weight: weights[s], c: c[s], ldc: ldc[s], activations: activations)
            }
            return
        }
        QuantGEMM.runInt16Shared(dot, m: m, a: a, lda: lda, weights: weights, c: c, ldc: ldc, threads: maxThreads)
    }

    /// Whether ``gemmQuantized(m:a:lda:weights:c:ldc:activations:)`` quantizes the activations once for all the
    /// matrices (int16 activations available, m ≤ 16, equal widths, not ``useReference``) rather than running one
    /// product per matrix.
    static func sharesQuantizedActivations(m: Int, weights: [QuantizedMatrix], activations: QuantizedActivations) -> Bool {
        guard let k = weights.first?.columns, k > 0 else { return false }
        return !useReference && activations == .int16 && int16ActivationsAvailable && m > 0
            && m <= QuantGEMM.Tuning().directMaxM && weights.allSatisfy { $0.columns == k }
    }
}

extension QuantGEMM {
    /// The int16 path of ``Kernels/gemmQuantized(m:a:lda:weights:c:ldc:activations:)``: A quantized once, then the
    /// rows of every matrix split into runs (items) that the threads claim from one counter.
    static func runInt16Shared(_ dot: attend_quant_dot_q16_fn, m: Int, a: UnsafePointer<Float>, lda: Int,
                               weights: [QuantizedMatrix], c: [UnsafeMutablePointer<Float>], ldc: [Int], threads maxThreads: Int,
                               tuning: Tuning = Tuning()) {
        let nb = weights[0].blocksPerRow, k = weights[0].columns
        let total = weights.reduce(0) { $0 + $1.rows }
        guard total > 0 else { return }
        let work = Double(m) * Double(total) * Double(k)
        let byWork = Int(min(work / Double(max(1, tuning.workPerThread)), Double(Int.max / 2)))
        let threads = max(1, min(maxThreads, byWork, total))
        // Runs of rows: a multiple of 4 (whole tiles of the decode kernel), about total / (4·threads) each.
        let chunk = GEMM.chunk(total, threads: threads, multiple: 4)
        var items: [(matrix: Int, row: Int, rows: Int)] = []
        for (s, w) in weights.enumerated() {
            var j = 0
            while j < w.rows { items.append((s, j, min(chunk, w.rows - j))); j += chunk }
        }
        let qFloats = (m * k + 1) / 2
        withExtendedLifetime(weights) {
            GEMMBuffers.with(floats: qFloats + 2 * m * nb) { buf in
                let d = buf + qFloats, s = buf + qFloats + m * nb
                buf.withMemoryRebound(to: Int16.self, capacity: 2 * qFloats) { q in
                    attend_quant_activations_q16(m, nb, a, lda, q, d, s)
                    items.withUnsafeBufferPointer { list in
                        GEMM.parallelFor(list.count, threads: threads) { i in
                            let (mi, j0, nj) = list[i]
                            let w = weights[mi]
                            dot(Int32(w.type.rawValue), m, nj, nb, q, d, s, w.base + j0 * w.rowBytes, w.rowBytes,
                                c[mi] + j0, ldc[mi])
                        }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// `x · W_sᵀ` for several quantized matrices of the same input width: `x` `[..., k]` → one tensor `[..., n_s]` per
    /// matrix, computed by ``Kernels/gemmQuantized(m:a:lda:weights:c:ldc:activations:)`` (on the int16 decode path one
    /// activation quantization and one thread dispatch for all of them; the same numbers as one
    /// ``linear(_:quantized:bias:activation:activations:)`` per matrix).
    public static func linear(_ x: Tensor, quantized weights: [QuantizedMatrix], activations: QuantizedActivations) throws -> [Tensor] {
        guard let first = weights.first else { return [] }
        let inF = first.columns
        if let bad = weights.first(where: { $0.columns != inF }) {
            throw TensorError.shapeMismatch(op: "linear quantized (shared input)", expected: "[n, \(inF)]", actual: bad.shape)
        }
        let rows = try linearRows("linear quantized", x, out: first.rows, in: inF, bias: nil)
        guard rows > 0, Kernels.sharesQuantizedActivations(m: rows, weights: weights, activations: activations) else {
            return try weights.map { try linear(x, quantized: $0, activations: activations) }
        }
        // One buffer, matrix after matrix ([rows, n_s] each), then one small copy per output (decode: rows ≤ 16).
        let offsets = weights.reduce(into: [0]) { $0.append($0.last! + rows * $1.rows) }
        var flat = [Float](repeating: 0, count: offsets.last!)
        x.scalars.withUnsafeBufferPointer { xp in
            flat.withUnsafeMutableBufferPointer { yp in
                guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return }
                Kernels.gemmQuantized(m: rows, a: xb, lda: inF, weights: weights, c: offsets.dropLast().map { yb + $0 },
                                      ldc: weights.map(\.rows), activations: activations)
            }
        }
        let outputs = weights.indices.map { Array(flat[offsets[$0]..<offsets[$0 + 1]]) }
        let lead = Array(x.shape.dropLast())
        return weights.indices.map { Tensor(uncheckedShape: lead + [weights[$0].rows], scalars: outputs[$0]) }
    }
}

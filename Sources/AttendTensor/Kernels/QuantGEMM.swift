import AttendKernelsC

/// A weight matrix of ggml quantized blocks (Q4_0, Q4_1 or Q8_0): `rows` rows (output features of a
/// linear weight, PyTorch's `[out, in]` layout) of `columns` elements, each row `columns / 32` blocks
/// packed back to back (see ``GGMLType`` for the block formats).
///
/// Read in place from a GGUF mapping by ``GGUFFile/quantizedMatrix(_:shape:)`` (no copy; keeps the mapping
/// alive), or built from bytes with ``init(type:rows:columns:bytes:)``. Immutable and safe to share.
public struct QuantizedMatrix: @unchecked Sendable {
    /// The block format.
    public let type: GGMLType
    /// Rows (output features).
    public let rows: Int
    /// Elements per row (input features; a multiple of 32).
    public let columns: Int
    /// Address of row 0's first block.
    let base: UnsafeRawPointer
    /// Keeps the bytes alive (the file mapping, or an owned buffer).
    let owner: AnyObject

    /// Bytes per row: `columns / 32 · type.blockBytes`.
    public var rowBytes: Int { columns / type.blockSize * type.blockBytes }
    /// Blocks per row.
    public var blocksPerRow: Int { columns / type.blockSize }
    /// The shape `[rows, columns]`.
    public var shape: [Int] { [rows, columns] }
    /// Bytes held by the blocks.
    public var byteCount: Int { rows * rowBytes }

    init(type: GGMLType, rows: Int, columns: Int, base: UnsafeRawPointer, owner: AnyObject) {
        self.type = type
        self.rows = rows
        self.columns = columns
        self.base = base
        self.owner = owner
    }

    /// A matrix over a copy of `bytes` (`rows · columns / 32` blocks of `type`, row after row).
    /// - Throws: ``TensorError/invalidArgument(op:_:)`` when the type is not block-quantized, `columns` is
    ///   not a positive multiple of 32, `rows` < 1, or `bytes` has the wrong length.
    public init(type: GGMLType, rows: Int, columns: Int, bytes: [UInt8]) throws {
        guard type.isQuantized else {
            throw TensorError.invalidArgument(op: "QuantizedMatrix", "type \(type) is not block-quantized (Q4_0, Q4_1, Q8_0)")
        }
        guard rows >= 1, columns >= type.blockSize, columns % type.blockSize == 0 else {
            throw TensorError.invalidArgument(op: "QuantizedMatrix", "need rows ≥ 1 and columns a positive multiple of \(type.blockSize), got [\(rows), \(columns)]")
        }
        let (total, overflow) = rows.multipliedReportingOverflow(by: columns / type.blockSize * type.blockBytes)
        guard !overflow, bytes.count == total else {
            throw TensorError.invalidArgument(op: "QuantizedMatrix", "[\(rows), \(columns)] \(type) needs \(overflow ? "too many" : String(total)) bytes, got \(bytes.count)")
        }
        let storage = ByteStorage(bytes)
        self.init(type: type, rows: rows, columns: columns, base: UnsafeRawPointer(storage.pointer), owner: storage)
    }

    /// Calls `body` with the blocks (all rows, `byteCount` bytes).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(UnsafeRawBufferPointer(start: base, count: byteCount)) }
    }

    /// Row `j` dequantized by the plain twin (``GGUFDequantize``): exactly ggml's values.
    public func dequantizedRow(_ j: Int) -> [Float] {
        withUnsafeBytes { raw in
            GGUFDequantize.dequantize(type, UnsafeRawBufferPointer(rebasing: raw[(j * rowBytes)..<((j + 1) * rowBytes)]), count: columns)
        }
    }

    /// The whole matrix dequantized by the plain twin, as a `[rows, columns]` tensor.
    public func dequantized() -> Tensor {
        let values = withUnsafeBytes { GGUFDequantize.dequantize(type, $0, count: rows * columns) }
        return Tensor(uncheckedShape: [rows, columns], scalars: values)
    }

    /// Owned bytes, 64-byte aligned.
    final class ByteStorage {
        let pointer: UnsafeMutableRawPointer
        init(_ bytes: [UInt8]) {
            pointer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(1, bytes.count), alignment: 64)
            bytes.withUnsafeBytes { src in
                if let s = src.baseAddress { pointer.copyMemory(from: s, byteCount: bytes.count) }
            }
        }
        deinit { pointer.deallocate() }
    }
}

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
    /// panels of 256 rows and each panel's product runs on the fp32 GEMM, so decoding is paid once per call.
    /// ``Kernels/useReference`` runs ``ReferenceKernels/gemmQuantized(m:a:lda:weight:c:ldc:)`` instead.
    public static func gemmQuantized(m: Int, a: UnsafePointer<Float>, lda: Int, weight: QuantizedMatrix,
                                     c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m <= 0 || weight.rows == 0 { return }
        if useReference {
            ReferenceKernels.gemmQuantized(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc)
        } else {
            QuantGEMM.run(m: m, a: a, lda: lda, weight: weight, c: c, ldc: ldc, isa: activeISA, threads: maxThreads)
        }
    }
}

extension ReferenceKernels {
    /// The plain twin of ``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:)``: each row of W dequantized by
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

/// The quantized GEMM driver (see ``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:)``).
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
                    tuning: Tuning = Tuning()) {
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
            if m <= tuning.directMaxM {
                // Items: runs of W rows (multiples of 2 so the two-row tiles stay whole).
                let chunk = GEMM.chunk(n, threads: threads, multiple: 2)
                GEMM.parallelFor((n + chunk - 1) / chunk, threads: threads) { item in
                    let j0 = item * chunk, nj = min(chunk, n - j0)
                    dot(qtype, m, nj, nb, a, lda, w + j0 * rowBytes, rowBytes, c + j0, ldc)
                }
            } else {
                // Panels of W rows, one after another: the threads decode a panel to float32 together,
                // then the fp32 GEMM (threaded itself, on the active ISA) multiplies it.
                let panel = max(1, min(tuning.panelRows, n))
                var buffer = [Float](repeating: 0, count: panel * k)
                buffer.withUnsafeMutableBufferPointer { bp in
                    guard let buf = bp.baseAddress else { return }
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
    /// The product runs on ``Kernels/gemmQuantized(m:a:lda:weight:c:ldc:)`` (float32 activations, weights
    /// decoded from their blocks); bias and activation run in Float.
    public static func linear(_ x: Tensor, quantized weight: QuantizedMatrix, bias: Tensor? = nil,
                              activation: FusedActivation = .none) throws -> Tensor {
        let (out, inF) = (weight.rows, weight.columns)
        let rows = try linearRows("linear quantized", x, out: out, in: inF, bias: bias)
        var y = [Float](repeating: 0, count: rows * out)
        if rows > 0 && out > 0 {
            x.scalars.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return }
                    Kernels.gemmQuantized(m: rows, a: xb, lda: inF, weight: weight, c: yb, ldc: out)
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

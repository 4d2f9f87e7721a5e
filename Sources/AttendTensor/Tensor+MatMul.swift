/// Batched matrix multiplication through the GEMM dispatch point.
extension Tensor {
    /// `a @ b` over the last two axes, batch axes broadcast (like `torch.matmul` for rank ≥ 2).
    /// With `transposeB`, `b` is stored `[..., N, K]` and `a @ bᵀ` is computed without copying.
    /// `a`: `[..., M, K]`, `b`: `[..., K, N]` → `[..., M, N]`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeB: Bool = false) throws -> Tensor {
        guard a.rank >= 2, b.rank >= 2 else {
            throw TensorError.invalidArgument(op: "matmul", "needs rank ≥ 2 operands, got \(a.shape) and \(b.shape)")
        }
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        guard k == kb else {
            throw TensorError.shapeMismatch(op: "matmul", expected: transposeB ? "[..., \(n), \(k)] for b" : "[..., \(k), \(n)] for b", actual: b.shape)
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        // A shared 2-D right operand: one GEMM over all rows of a ([B·M, K] · [K, N]).
        if batchB.isEmpty {
            let rows = batchA.reduce(1, *) * m
            var out = [Float](repeating: 0, count: rows * n)
            gemm(a.scalars, 0, b.scalars, 0, &out, 0, m: rows, n: n, k: k, transposeB: transposeB)
            return Tensor(uncheckedShape: batchA + [m, n], scalars: out)
        }
        let batch = try broadcastShape(batchA, batchB, op: "matmul")
        let count = batch.reduce(1, *)
        let aFull = try a.broadcast(to: batch + [m, k])
        let bFull = try b.broadcast(to: batch + (transposeB ? [n, k] : [k, n]))
        var out = [Float](repeating: 0, count: count * m * n)
        for i in 0..<count {
            gemm(aFull.scalars, i * m * k, bFull.scalars, i * k * n, &out, i * m * n, m: m, n: n, k: k, transposeB: transposeB)
        }
        return Tensor(uncheckedShape: batch + [m, n], scalars: out)
    }

    private static func gemm(_ a: [Float], _ ao: Int, _ b: [Float], _ bo: Int, _ c: inout [Float], _ co: Int,
                             m: Int, n: Int, k: Int, transposeB: Bool) {
        if m == 0 || n == 0 { return }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    if k == 0 {
                        for i in 0..<(m * n) { cp[co + i] = 0 }
                        return
                    }
                    Kernels.sgemm(transA: false, transB: transposeB, m: m, n: n, k: k,
                                  a: ap.baseAddress! + ao, lda: k,
                                  b: bp.baseAddress! + bo, ldb: transposeB ? k : n,
                                  c: cp.baseAddress! + co, ldc: n)
                }
            }
        }
    }
}

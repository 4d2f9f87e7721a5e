/// Matrix multiplication and its backward, both through the GEMM dispatch point.
///
/// For `C = A · op(B)` with `A: [M, K]`, `C: [M, N]`:
///
///     dA = dC · op(B)ᵀ          (B stored [K, N]: transB;    B stored [N, K] (transposeB): plain)
///     dB = Aᵀ · dC              (B stored [K, N])
///     dB = dCᵀ · A              (B stored [N, K], transposeB: PyTorch's Linear weight)
///
/// `transA`/`transB` of ``Kernels/sgemm`` read the transposed operands in place, so no copies are made.
extension Variable {
    /// `a @ b` over the last two axes (`b` rank 2 is shared by every batch row, otherwise the batch axes of
    /// `a` and `b` must be equal). With `transposeB`, `b` is stored `[..., N, K]`.
    /// `a`: `[..., M, K]` → `[..., M, N]`.
    public static func matmul(_ a: Variable, _ b: Variable, transposeB: Bool = false) throws -> Variable {
        let out = try Tensor.matmul(a.value, b.value, transposeB: transposeB)
        guard let tape = try Variable.tape(a, b) else { return Variable(out) }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        guard batchB.isEmpty || batchA == batchB else {
            throw TensorError.invalidArgument(op: "matmul backward",
                "batch axes must be equal (or b rank 2) to differentiate; got \(a.shape) and \(b.shape)")
        }
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = out.shape[out.rank - 1]
        // A shared rank-2 B: treat a as one [rows, K] matrix. Otherwise one GEMM per batch entry.
        let (batches, rows) = batchB.isEmpty ? (1, batchA.reduce(1, *) * m) : (batchA.reduce(1, *), m)
        let (ia, ib, av, bv) = (a.id, b.id, a.value.scalars, b.value.scalars)
        return tape.record(out) { g, tape in
            guard !g.isEmpty, !av.isEmpty, !bv.isEmpty else { return }   // empty operands: zero gradients
            g.withUnsafeBufferPointer { gp in
                av.withUnsafeBufferPointer { ap in
                    bv.withUnsafeBufferPointer { bp in
                        let (gBase, aBase, bBase) = (gp.baseAddress!, ap.baseAddress!, bp.baseAddress!)
                        if ia >= 0 {
                            tape.accumulate(ia) { da in
                                for i in 0..<batches {
                                    // dA [rows, K] += dC [rows, N] · op(B)ᵀ
                                    Kernels.sgemm(transA: false, transB: !transposeB, m: rows, n: k, k: n,
                                                  a: gBase + i * rows * n, lda: n,
                                                  b: bBase + (batchB.isEmpty ? 0 : i * k * n), ldb: transposeB ? k : n,
                                                  beta: 1, c: da.baseAddress! + i * rows * k, ldc: k)
                                }
                            }
                        }
                        if ib >= 0 {
                            tape.accumulate(ib) { db in
                                for i in 0..<batches {
                                    let dbBase = db.baseAddress! + (batchB.isEmpty ? 0 : i * k * n)
                                    if transposeB {
                                        // dB [N, K] += dCᵀ · A
                                        Kernels.sgemm(transA: true, transB: false, m: n, n: k, k: rows,
                                                      a: gBase + i * rows * n, lda: n, b: aBase + i * rows * k, ldb: k,
                                                      beta: 1, c: dbBase, ldc: k)
                                    } else {
                                        // dB [K, N] += Aᵀ · dC
                                        Kernels.sgemm(transA: true, transB: false, m: k, n: n, k: rows,
                                                      a: aBase + i * rows * k, lda: k, b: gBase + i * rows * n, ldb: n,
                                                      beta: 1, c: dbBase, ldc: n)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

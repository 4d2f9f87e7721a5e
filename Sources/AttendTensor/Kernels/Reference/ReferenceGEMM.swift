/// Plain reference twins of the fast kernels: the specification, the fallback and the test oracle.
public enum ReferenceKernels {
    /// `C = alpha · op(A) · op(B) + beta · C`, row-major, accumulated in Double.
    /// See ``Kernels/sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` for the layout.
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += Double(av) * Double(bv)
                }
                let prior: Float = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = Float(Double(alpha) * acc) + prior
            }
        }
    }
}

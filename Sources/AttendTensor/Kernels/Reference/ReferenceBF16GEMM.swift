extension ReferenceKernels {
    /// The twin of ``Kernels/gemmBF16(m:a:lda:weight:c:ldc:beta:)``: `C = A · Wᵀ + beta · C`
    /// (beta == 0: C is not read) with every element of A and W rounded to bfloat16 exactly as the
    /// fast path rounds them (RNE, float32 subnormals to ±0), the products accumulated in Double.
    public static func gemmBF16(m: Int, a: UnsafePointer<Float>, lda: Int, weight: BF16PackedWeight,
                                c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
        let n = weight.n, k = weight.k
        guard m > 0, n > 0 else { return }
        var w = [Float](repeating: 0, count: n * k)  // W[j, p] as packed (already bf16)
        for j in 0..<n { for p in 0..<k { w[j * k + p] = weight.element(j, p) } }
        var row = [Double](repeating: 0, count: k)
        for i in 0..<m {
            for p in 0..<k { row[p] = Double(BF16.round(a[i * lda + p])) }
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k { acc += row[p] * Double(w[j * k + p]) }
                let prior: Float = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = Float(acc) + prior
            }
        }
    }
}

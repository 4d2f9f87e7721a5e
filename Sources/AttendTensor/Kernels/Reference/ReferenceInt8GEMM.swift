extension ReferenceKernels {
    /// The twin of ``Kernels/gemmInt8(m:a:lda:weight:c:ldc:beta:)``: `C = A · Wᵀ + beta · C` (beta == 0: C is not
    /// read) with each row of A quantized by the same rule (``Int8Quant/quantize(_:)``), the int8 products summed
    /// in `Int` and scaled as the kernels scale them: `Float(acc) · (t_i · s_j)`, then `+ beta · C`.
    public static func gemmInt8(m: Int, a: UnsafePointer<Float>, lda: Int, weight: Int8PackedWeight,
                                c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
        let n = weight.n, k = weight.k
        guard m > 0, n > 0 else { return }
        var w = [Int](repeating: 0, count: n * k)  // wq[j, p] as packed
        for j in 0..<n { for p in 0..<k { w[j * k + p] = Int(weight.quantized(j, p)) } }
        for i in 0..<m {
            let (row, t) = Int8Quant.quantize(UnsafeBufferPointer(start: a + i * lda, count: k))
            for j in 0..<n {
                var acc = 0
                for p in 0..<k { acc += Int(row[p]) * w[j * k + p] }
                let scale = t * weight.scale(j)
                let value = Float(acc) * scale
                let prior: Float = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = value + prior
            }
        }
    }
}

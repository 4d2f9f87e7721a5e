extension ReferenceKernels {
    /// The twin of ``Kernels/gemmInt8(m:a:lda:weight:c:ldc:beta:)``: `C = A · Wᵀ + beta · C` (beta == 0: C is not
    /// read) with each row of A quantized by the same rule (``Int8Quant/quantizeBlocks(_:)``: blocks of 64), each
    /// block's int8 products summed in `Int`, and the blocks combined as the kernels combine them:
    /// `acc = fma(Float(sum_b), t_b, acc)`, then `acc · s_j + beta · C`.
    public static func gemmInt8(m: Int, a: UnsafePointer<Float>, lda: Int, weight: Int8PackedWeight,
                                c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
        let n = weight.n, k = weight.k, kb = Int8PackedWeight.kb
        guard m > 0, n > 0 else { return }
        var w = [Int](repeating: 0, count: n * k)  // wq[j, p] as packed
        for j in 0..<n { for p in 0..<k { w[j * k + p] = Int(weight.quantized(j, p)) } }
        for i in 0..<m {
            let (row, t) = Int8Quant.quantizeBlocks(UnsafeBufferPointer(start: a + i * lda, count: k))
            for j in 0..<n {
                var acc: Float = 0
                for b in t.indices {
                    var sum = 0
                    for p in (b * kb)..<min(k, (b + 1) * kb) { sum += Int(row[p]) * w[j * k + p] }
                    acc = acc.addingProduct(Float(sum), t[b])  // one rounding, as fma
                }
                let value = acc * weight.scale(j)
                let prior: Float = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = value + prior
            }
        }
    }
}

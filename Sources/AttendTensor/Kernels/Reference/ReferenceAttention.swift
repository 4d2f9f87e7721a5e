import Foundation

extension ReferenceKernels {
    /// The plain twin of ``Kernels/attention(_:isa:threads:)``: the same strided operands and masks, one
    /// query row at a time, every sum in Double.
    ///
    ///     s[j] = scale · q·k[j] + keyMask[b, j] + mask[b, h, i, j]   (boolean 0 → −∞; j > off + i → −∞ when causal)
    ///     p = exp(s − max s) / Σ exp(s − max s)                         (all −∞ → p = 0, o = 0)
    ///     o = Σ_j p[j] v[j]
    public static func attention(_ p: Kernels.AttentionProblem) {
        let s = p.shape
        let (q, qL, k, kL, v, vL) = (p.query.base, p.query.layout, p.key.base, p.key.layout, p.value.base, p.value.layout)
        let (out, oL, scale, keyMask, mask, weights, logSumExp) = (p.output, p.outputLayout, p.scale, p.keyMask, p.mask, p.weights, p.logSumExp)
        let causalLimit: (Int) -> Int = { i in p.isCausal ? p.causalKeyOffset + i : Int.max }   // last key query i sees
        guard s.kvHeads > 0 else { return }
        let group = s.heads / s.kvHeads
        var row = [Double](repeating: 0, count: s.keyLength)
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                let kvh = h / group
                let qh = q + b * qL.batch + h * qL.head, oh = out + b * oL.batch + h * oL.head
                let kh = k + b * kL.batch + kvh * kL.head, vh = v + b * vL.batch + kvh * vL.head
                for i in 0..<s.queryLength {
                    let bhi = (b * s.heads + h) * s.queryLength + i
                    var m = -Double.infinity
                    for j in 0..<s.keyLength {
                        var dot = 0.0
                        for c in 0..<s.keyDim { dot += Double(qh[i * qL.row + c]) * Double(kh[j * kL.row + c]) }
                        var x = dot * Double(scale)
                        if let km = keyMask {
                            let mv = km.values[b * km.batchStride + j]
                            if km.isBoolean { if mv == 0 { x = -.infinity } } else { x += Double(mv) }
                        }
                        if let gm = mask {
                            let mv = gm.values[b * gm.batchStride + h * gm.headStride + i * gm.rowStride + j]
                            if gm.isBoolean { if mv == 0 { x = -.infinity } } else { x += Double(mv) }
                        }
                        if j > causalLimit(i) { x = -.infinity }
                        row[j] = x
                        m = Swift.max(m, x)
                    }
                    let orow = oh + i * oL.row
                    guard m > -.infinity else {   // every key masked
                        for c in 0..<s.valueDim { orow[c] = 0 }
                        if let weights { for j in 0..<s.keyLength { weights[bhi * s.keyLength + j] = 0 } }
                        logSumExp?[bhi] = -.infinity
                        continue
                    }
                    var sum = 0.0
                    for j in 0..<s.keyLength { row[j] = Foundation.exp(row[j] - m); sum += row[j] }
                    for c in 0..<s.valueDim {
                        var acc = 0.0
                        for j in 0..<s.keyLength { acc += row[j] * Double(vh[j * vL.row + c]) }
                        orow[c] = Float(acc / sum)
                    }
                    if let weights { for j in 0..<s.keyLength { weights[bhi * s.keyLength + j] = Float(row[j] / sum) } }
                    logSumExp?[bhi] = Float(m + Foundation.log(sum))
                }
            }
        }
    }
}

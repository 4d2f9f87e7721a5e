import Dispatch

/// Where the heads of a `[batch, heads, seqLen, dim]`-like buffer live: element `(b, h, t, i)` is at
/// `b·batch + h·head + t·row + i`. Contiguous `[B, H, T, d]` is `(H·T·d, T·d, d)`; the projections of a
/// multi-head layer, `[B, T, H·d]`, are `(T·H·d, d, H·d)` — so heads are read in place, never copied.
struct HeadLayout {
    var batch: Int
    var head: Int
    var row: Int
}

/// The attention of every (batch, query head) pair, split over the cores; see `scaledDotProductAttention`
/// for the exact maths. Per head: `S = scale·Q Kᵀ` (GEMM), masks, row softmax (fully masked rows → 0),
/// `O = P V` (GEMM). The mask, when given, is `[maskBatch, maskHeads, Lq, Lk]` as `g` describes;
/// boolean masks hold 1 (may attend) or 0.
func attentionHeads(
    g: AttentionGeometry,
    q: UnsafePointer<Float>, _ qL: HeadLayout,
    k: UnsafePointer<Float>, _ kL: HeadLayout,
    v: UnsafePointer<Float>, _ vL: HeadLayout,
    out: UnsafeMutablePointer<Float>, _ oL: HeadLayout,
    weights: UnsafeMutablePointer<Float>?,
    scale: Float, mask: [Float]?, maskIsBoolean: Bool, isCausal: Bool
) {
    let heads = g.b * g.h
    if heads == 0 || g.lq == 0 { return }
    let workers = Swift.min(heads, 2)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var scores = [Float](repeating: 0, count: g.lq * Swift.max(g.lk, 1))
        scores.withUnsafeMutableBufferPointer { sp in
            let s = sp.baseAddress!
            var bh = worker
            while bh < heads {
                let bi = bh / g.h, hi = bh % g.h
                let kvh = hi / g.group
                let qh = q + bi * qL.batch + hi * qL.head
                let kh = k + bi * kL.batch + kvh * kL.head
                let vh = v + bi * vL.batch + kvh * vL.head
                let oh = out + bi * oL.batch + hi * oL.head
                if g.lk == 0 {
                    for i in 0..<g.lq { for j in 0..<g.dv { oh[i * oL.row + j] = 0 } }
                    bh += workers
                    continue
                }
                // S = scale · Q Kᵀ   [Lq, Lk]
                Kernels.sgemm(transA: false, transB: true, m: g.lq, n: g.lk, k: g.dk, alpha: scale,
                              a: qh, lda: qL.row, b: kh, ldb: kL.row, c: s, ldc: g.lk)
                if let mask {
                    let mOff = g.maskOffset(batch: bi, head: hi)
                    mask.withUnsafeBufferPointer { m in
                        if maskIsBoolean {
                            for i in 0..<(g.lq * g.lk) where m[mOff + i] == 0 { s[i] = -.infinity }
                        } else {
                            for i in 0..<(g.lq * g.lk) { s[i] += m[mOff + i] }
                        }
                    }
                }
                if isCausal {
                    for i in 0..<g.lq where i + 1 < g.lk {
                        for j in (i + 1)..<g.lk { s[i * g.lk + j] = -.infinity }
                    }
                }
                Kernels.softmaxRows(s, rows: g.lq, cols: g.lk)   // P, fully masked rows → 0
                if let weights { (weights + bh * g.lq * g.lk).update(from: s, count: g.lq * g.lk) }
                // O = P V   [Lq, d_v]
                Kernels.sgemm(transA: false, transB: false, m: g.lq, n: g.dv, k: g.lk,
                              a: s, lda: g.lk, b: vh, ldb: vL.row, c: oh, ldc: oL.row)
                bh += workers
            }
        }
    }
}

/// Where the heads of a `[batch, heads, seqLen, dim]`-like buffer live: element `(b, h, t, i)` is at
/// `b·batch + h·head + t·row + i`. Contiguous `[B, H, T, d]` is `(H·T·d, T·d, d)`; the projections of a
/// multi-head layer, `[B, T, H·d]`, are `(T·H·d, d, H·d)` — so heads are read in place, never copied.
typealias HeadLayout = Kernels.HeadLayout

/// The attention of every (batch, query head) pair, through the fused kernel
/// (``Kernels/attention(shape:q:_:k:_:v:_:out:_:scale:isCausal:keyMask:mask:weights:logSumExp:isa:threads:)``,
/// whose doc comment states the exact maths). The mask stays as the caller gave it, broadcast by strides:
/// a `[B or 1, 1, 1, Lk]` mask (key padding) goes to the kernel as a per-key mask, anything else as a
/// general `[B, H, Lq, Lk]` mask; neither is ever expanded to `Lq × Lk` per head.
func attentionHeads(
    g: AttentionGeometry,
    q: UnsafePointer<Float>, _ qL: HeadLayout,
    k: UnsafePointer<Float>, _ kL: HeadLayout,
    v: UnsafePointer<Float>, _ vL: HeadLayout,
    out: UnsafeMutablePointer<Float>, _ oL: HeadLayout,
    weights: UnsafeMutablePointer<Float>?,
    scale: Float, mask: AttentionMask?, isCausal: Bool
) {
    guard let mask else {
        return attentionHeads(g: g, q: q, qL, k: k, kL, v: v, vL, out: out, oL, weights: weights,
                              scale: scale, masks: AttentionMasks(), isCausal: isCausal)
    }
    var isBoolean = false
    if case .boolean = mask { isBoolean = true }
    // The mask's own axes [mb, mh, mq, mk], each 1 (broadcast) or full; a key axis of 1 is widened here.
    let t = mask.tensor
    let padded = [Int](repeating: 1, count: Swift.max(0, 4 - t.rank)) + t.shape
    var values = t.scalars
    var shape = padded
    if shape[3] != g.lk {   // one value per row, broadcast over the keys: widen it (j has stride 1 in the kernel)
        values = values.flatMap { [Float](repeating: $0, count: g.lk) }
        shape[3] = g.lk
    }
    values.withUnsafeBufferPointer { mp in
        var masks = AttentionMasks()
        guard let base = mp.baseAddress, !mp.isEmpty else {   // no keys or no queries: nothing to mask
            return attentionHeads(g: g, q: q, qL, k: k, kL, v: v, vL, out: out, oL, weights: weights,
                                  scale: scale, masks: masks, isCausal: isCausal)
        }
        let (mb, mh, mq, mk) = (shape[0], shape[1], shape[2], shape[3])
        if mh == 1 && mq == 1 {
            masks.key = Kernels.AttentionKeyMask(values: base, batchStride: mb == 1 ? 0 : mk, isBoolean: isBoolean)
        } else {
            masks.score = Kernels.AttentionScoreMask(
                values: base, batchStride: mb == 1 ? 0 : mh * mq * mk, headStride: mh == 1 ? 0 : mq * mk,
                rowStride: mq == 1 ? 0 : mk, isBoolean: isBoolean)
        }
        attentionHeads(g: g, q: q, qL, k: k, kL, v: v, vL, out: out, oL, weights: weights,
                       scale: scale, masks: masks, isCausal: isCausal)
    }
}

/// The two mask forms the fused kernel takes.
struct AttentionMasks {
    var key: Kernels.AttentionKeyMask?
    var score: Kernels.AttentionScoreMask?
}

private func attentionHeads(
    g: AttentionGeometry,
    q: UnsafePointer<Float>, _ qL: HeadLayout,
    k: UnsafePointer<Float>, _ kL: HeadLayout,
    v: UnsafePointer<Float>, _ vL: HeadLayout,
    out: UnsafeMutablePointer<Float>, _ oL: HeadLayout,
    weights: UnsafeMutablePointer<Float>?,
    scale: Float, masks: AttentionMasks, isCausal: Bool
) {
    let shape = Kernels.AttentionShape(batch: g.b, heads: g.h, kvHeads: g.hkv, queryLength: g.lq, keyLength: g.lk,
                                       keyDim: g.dk, valueDim: g.dv)
    do {
        try Kernels.attention(shape: shape, q: q, qL, k: k, kL, v: v, vL, out: out, oL, scale: scale, isCausal: isCausal,
                              keyMask: masks.key, mask: masks.score, weights: weights)
    } catch {
        // The fused kernel refuses only sizes AttentionGeometry has already rejected; should it ever
        // refuse, the unfused twin below computes the same maths.
        unfusedAttentionHeads(g: g, q: q, qL, k: k, kL, v: v, vL, out: out, oL, weights: weights,
                              scale: scale, masks: masks, isCausal: isCausal)
    }
}

/// The unfused twin, one (batch, head) at a time: `S = scale·Q Kᵀ` (GEMM), masks, row softmax
/// (fully masked rows → 0), `O = P V` (GEMM). Materialises `Lq × Lk` per head; the fallback and a test oracle.
func unfusedAttentionHeads(
    g: AttentionGeometry,
    q: UnsafePointer<Float>, _ qL: HeadLayout,
    k: UnsafePointer<Float>, _ kL: HeadLayout,
    v: UnsafePointer<Float>, _ vL: HeadLayout,
    out: UnsafeMutablePointer<Float>, _ oL: HeadLayout,
    weights: UnsafeMutablePointer<Float>?,
    scale: Float, masks: AttentionMasks, isCausal: Bool
) {
    let heads = g.b * g.h
    if heads == 0 || g.lq == 0 { return }
    var scores = [Float](repeating: 0, count: g.lq * Swift.max(g.lk, 1))
    scores.withUnsafeMutableBufferPointer { sp in
        let s = sp.baseAddress!
        for bh in 0..<heads {
            let bi = bh / g.h, hi = bh % g.h
            let kvh = hi / Swift.max(g.group, 1)
            let qh = q + bi * qL.batch + hi * qL.head
            let kh = k + bi * kL.batch + kvh * kL.head
            let vh = v + bi * vL.batch + kvh * vL.head
            let oh = out + bi * oL.batch + hi * oL.head
            if g.lk == 0 {
                for i in 0..<g.lq { for j in 0..<g.dv { oh[i * oL.row + j] = 0 } }
                continue
            }
            // S = scale · Q Kᵀ   [Lq, Lk]
            Kernels.sgemm(transA: false, transB: true, m: g.lq, n: g.lk, k: g.dk, alpha: scale,
                          a: qh, lda: qL.row, b: kh, ldb: kL.row, c: s, ldc: g.lk)
            for i in 0..<g.lq {
                for j in 0..<g.lk {
                    var x = s[i * g.lk + j]
                    if let km = masks.key {
                        let mv = km.values[bi * km.batchStride + j]
                        if km.isBoolean { if mv == 0 { x = -.infinity } } else { x += mv }
                    }
                    if let sm = masks.score {
                        let mv = sm.values[bi * sm.batchStride + hi * sm.headStride + i * sm.rowStride + j]
                        if sm.isBoolean { if mv == 0 { x = -.infinity } } else { x += mv }
                    }
                    if isCausal && j > i { x = -.infinity }
                    s[i * g.lk + j] = x
                }
            }
            Kernels.softmaxRows(s, rows: g.lq, cols: g.lk)   // P, fully masked rows → 0
            if let weights { (weights + bh * g.lq * g.lk).update(from: s, count: g.lq * g.lk) }
            // O = P V   [Lq, d_v]
            Kernels.sgemm(transA: false, transB: false, m: g.lq, n: g.dv, k: g.lk,
                          a: s, lda: g.lk, b: vh, ldb: vL.row, c: oh, ldc: oL.row)
        }
    }
}

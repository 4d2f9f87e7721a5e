/// Where the heads of a `[batch, heads, seqLen, dim]`-like buffer live: element `(b, h, t, i)` is at
/// `b·batch + h·head + t·row + i`. Contiguous `[B, H, T, d]` is `(H·T·d, T·d, d)`; the projections of a
/// multi-head layer, `[B, T, H·d]`, are `(T·H·d, d, H·d)` — so heads are read in place, never copied.
typealias HeadLayout = Kernels.HeadLayout

/// The two mask forms the fused kernel takes.
struct AttentionMasks {
    var key: Kernels.AttentionKeyMask?
    var score: Kernels.AttentionScoreMask?
}

/// Runs `body` with `mask` in the fused kernel's forms. The mask stays as the caller gave it, broadcast by
/// strides: a `[B or 1, 1, 1, Lk]` mask (key padding) becomes a per-key mask, anything else a general
/// `[B, H, Lq, Lk]` mask; neither is ever expanded to `Lq × Lk` per head (only a key axis of 1 is widened).
func withKernelMasks<R>(_ mask: AttentionMask?, _ g: AttentionGeometry, _ body: (AttentionMasks) throws -> R) rethrows -> R {
    guard let mask else { return try body(AttentionMasks()) }
    var isBoolean = false
    if case .boolean = mask { isBoolean = true }
    // The mask's own axes [mb, mh, mq, mk], each 1 (broadcast) or full.
    let t = mask.tensor
    var shape = [Int](repeating: 1, count: Swift.max(0, 4 - t.rank)) + t.shape
    var values = t.scalars
    if shape[3] != g.lk {   // one value per row, broadcast over the keys: widen it (j has stride 1 in the kernel)
        values = values.flatMap { [Float](repeating: $0, count: g.lk) }
        shape[3] = g.lk
    }
    return try values.withUnsafeBufferPointer { mp in
        var masks = AttentionMasks()
        guard let base = mp.baseAddress, !mp.isEmpty else { return try body(masks) }   // no keys or no queries
        let (mb, mh, mq, mk) = (shape[0], shape[1], shape[2], shape[3])
        if mh == 1 && mq == 1 {
            masks.key = Kernels.AttentionKeyMask(values: base, batchStride: mb == 1 ? 0 : mk, isBoolean: isBoolean)
        } else {
            masks.score = Kernels.AttentionScoreMask(
                values: base, batchStride: mb == 1 ? 0 : mh * mq * mk, headStride: mh == 1 ? 0 : mq * mk,
                rowStride: mq == 1 ? 0 : mk, isBoolean: isBoolean)
        }
        return try body(masks)
    }
}

/// Runs `p` on the fused kernel (``Kernels/attention(_:isa:threads:)``, whose doc comment states the exact
/// maths). The kernel refuses only problems ``AttentionGeometry`` has already rejected, and a negative key
/// offset, checked here first; should it refuse anything else, the unfused twin computes the same maths.
func runAttention(_ p: Kernels.AttentionProblem) throws {
    guard p.causalKeyOffset >= 0 else { return try p.validate() }
    do {
        try Kernels.attention(p)
    } catch {
        unfusedAttention(p)
    }
}

/// The unfused twin, one (batch, head) at a time: `S = scale·Q Kᵀ` (GEMM), masks, row softmax
/// (fully masked rows → 0), `O = P V` (GEMM). Materialises `Lq × Lk` per head; the fallback and a test oracle.
/// It ignores `logSumExp`.
func unfusedAttention(_ p: Kernels.AttentionProblem) {
    let s = p.shape
    let (q, qL, k, kL, v, vL, out, oL) = (p.query.base, p.query.layout, p.key.base, p.key.layout,
                                          p.value.base, p.value.layout, p.output, p.outputLayout)
    let (lq, lk, heads) = (s.queryLength, s.keyLength, s.batch * s.heads)
    if heads == 0 || lq == 0 { return }
    var scores = [Float](repeating: 0, count: lq * Swift.max(lk, 1))
    scores.withUnsafeMutableBufferPointer { sp in
        let sc = sp.baseAddress!
        for bh in 0..<heads {
            let bi = bh / s.heads, hi = bh % s.heads
            let kvh = hi / Swift.max(p.group, 1)
            let qh = q + bi * qL.batch + hi * qL.head
            let kh = k + bi * kL.batch + kvh * kL.head
            let vh = v + bi * vL.batch + kvh * vL.head
            let oh = out + bi * oL.batch + hi * oL.head
            if lk == 0 {
                for i in 0..<lq { for j in 0..<s.valueDim { oh[i * oL.row + j] = 0 } }
                continue
            }
            // S = scale · Q Kᵀ   [Lq, Lk]
            Kernels.sgemm(transA: false, transB: true, m: lq, n: lk, k: s.keyDim, alpha: p.scale,
                          a: qh, lda: qL.row, b: kh, ldb: kL.row, c: sc, ldc: lk)
            for i in 0..<lq {
                for j in 0..<lk {
                    var x = sc[i * lk + j]
                    if let km = p.keyMask {
                        let mv = km.values[bi * km.batchStride + j]
                        if km.isBoolean { if mv == 0 { x = -.infinity } } else { x += mv }
                    }
                    if let sm = p.mask {
                        let mv = sm.values[bi * sm.batchStride + hi * sm.headStride + i * sm.rowStride + j]
                        if sm.isBoolean { if mv == 0 { x = -.infinity } } else { x += mv }
                    }
                    if p.isCausal && j > p.causalKeyOffset + i { x = -.infinity }
                    sc[i * lk + j] = x
                }
            }
            Kernels.softmaxRows(sc, rows: lq, cols: lk)   // P, fully masked rows → 0
            if let weights = p.weights { (weights + bh * lq * lk).update(from: sc, count: lq * lk) }
            // O = P V   [Lq, d_v]
            Kernels.sgemm(transA: false, transB: false, m: lq, n: s.valueDim, k: lk,
                          a: sc, lda: lk, b: vh, ldb: vL.row, c: oh, ldc: oL.row)
        }
    }
}

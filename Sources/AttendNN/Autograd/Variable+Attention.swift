import Dispatch

/// Scaled dot-product attention with its backward pass.
///
/// Forward is the library's ``scaledDotProductAttention(query:key:value:mask:isCausal:causalKeyOffset:scale:returnWeights:)``
/// (same masks, same fully-masked-row rule); when recording, it also returns the softmax weights `P`, which
/// backward needs. Backward, per batch `b` and query head `h` (key/value head `h / (H / Hkv)`):
///
///     dV  += Pᵀ · dO                         // [Lk, d_v]
///     dP   = dO · Vᵀ                         // [Lq, Lk]
///     dS   = P ⊙ (dP − rowsum(dP ⊙ P))       // softmax backward; masked entries have P = 0, so dS = 0
///     dQ   = scale · dS · K                  // [Lq, d_k]
///     dK  += scale · dSᵀ · Q                 // [Lk, d_k]
///
/// A fully masked query row has `P = 0`, so it passes no gradient (and its output, zero, does not depend on
/// anything). Key/value heads shared by a group of query heads accumulate the group's gradients.
extension Variable {
    /// - Parameters:
    ///   - query: `[B, H, Lq, d_k]`; key: `[B, Hkv, Lk, d_k]`; value: `[B, Hkv, Lk, d_v]`
    ///   - mask: boolean (1 = may attend) or additive, broadcastable to `[B, H, Lq, Lk]` (a constant)
    ///   - isCausal: query `i` sees keys `0...i`
    ///   - returnWeights: also return the softmax weights `[B, H, Lq, Lk]`
    /// - Returns: the output `[B, H, Lq, d_v]` and, when asked, the weights (a constant)
    public static func attention(
        query: Variable, key: Variable, value: Variable, mask: AttentionMask? = nil,
        isCausal: Bool = false, scale: Float? = nil, returnWeights: Bool = false
    ) throws -> (output: Variable, weights: Tensor?) {
        let tape = try Variable.tape(query, key, value)
        let result = try scaledDotProductAttention(query: query.value, key: key.value, value: value.value, mask: mask,
                                                   isCausal: isCausal, scale: scale,
                                                   returnWeights: tape != nil || returnWeights)
        let weights = returnWeights ? result.weights : nil
        guard let tape, let p = result.weights?.scalars else { return (Variable(result.output), weights) }
        let (b, h, lq, dk) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        let (hkv, lk, dv) = (key.shape[1], key.shape[2], value.shape[3])
        let group = h / hkv
        let scale = scale ?? 1 / Float(dk).squareRoot()
        let (iq, ik, iv) = (query.id, key.id, value.id)
        let (q, k, v) = (query.value.scalars, key.value.scalars, value.value.scalars)
        let output = tape.record(result.output) { g, tape in
            guard lq > 0, lk > 0, dk > 0, dv > 0, b * h > 0 else { return }
            var dq = [Float](repeating: 0, count: q.count)
            var dkAll = [Float](repeating: 0, count: k.count)
            var dvAll = [Float](repeating: 0, count: v.count)
            p.withUnsafeBufferPointer { pp in
            g.withUnsafeBufferPointer { gp in
            q.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
            v.withUnsafeBufferPointer { vp in
            dq.withUnsafeMutableBufferPointer { dqp in
            dkAll.withUnsafeMutableBufferPointer { dkp in
            dvAll.withUnsafeMutableBufferPointer { dvp in
                let (P, G, Q, K, V) = (pp.baseAddress!, gp.baseAddress!, qp.baseAddress!, kp.baseAddress!, vp.baseAddress!)
                let (DQ, DK, DV) = (dqp.baseAddress!, dkp.baseAddress!, dvp.baseAddress!)
                // Batches write disjoint slices of dK and dV, so they can run in parallel.
                let workers = Swift.min(b, 2)
                // GCD's threads are outside this task: carry its kernel settings and reference switch over.
                let settings = Kernels.settings, reference = Kernels.useReference
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    Kernels.withSettings(settings) { Kernels.$useReference.withValue(reference) {
                    var dS = [Float](repeating: 0, count: lq * lk)
                    dS.withUnsafeMutableBufferPointer { dsp in
                        let ds = dsp.baseAddress!
                        var bi = worker
                        while bi < b {
                            for hi in 0..<h {
                                let bh = bi * h + hi
                                let kvOff = bi * hkv + hi / group
                                let pH = P + bh * lq * lk, gH = G + bh * lq * dv
                                let qH = Q + bh * lq * dk, kH = K + kvOff * lk * dk, vH = V + kvOff * lk * dv
                                // dV += Pᵀ · dO   [Lk, d_v]
                                Kernels.sgemm(transA: true, transB: false, m: lk, n: dv, k: lq,
                                              a: pH, lda: lk, b: gH, ldb: dv, beta: 1, c: DV + kvOff * lk * dv, ldc: dv)
                                // dP = dO · Vᵀ   [Lq, Lk]
                                Kernels.sgemm(transA: false, transB: true, m: lq, n: lk, k: dv,
                                              a: gH, lda: dv, b: vH, ldb: dv, c: ds, ldc: lk)
                                // dS = P ⊙ (dP − rowsum(dP ⊙ P))
                                for i in 0..<lq {
                                    let row = ds + i * lk, pr = pH + i * lk
                                    var dot: Float = 0
                                    for j in 0..<lk { dot += row[j] * pr[j] }
                                    for j in 0..<lk { row[j] = pr[j] * (row[j] - dot) }
                                }
                                // dQ = scale · dS · K   [Lq, d_k]
                                Kernels.sgemm(transA: false, transB: false, m: lq, n: dk, k: lk, alpha: scale,
                                              a: ds, lda: lk, b: kH, ldb: dk, c: DQ + bh * lq * dk, ldc: dk)
                                // dK += scale · dSᵀ · Q   [Lk, d_k]
                                Kernels.sgemm(transA: true, transB: false, m: lk, n: dk, k: lq, alpha: scale,
                                              a: ds, lda: lk, b: qH, ldb: dk, beta: 1, c: DK + kvOff * lk * dk, ldc: dk)
                            }
                            bi += workers
                        }
                    }
                    } }
                }
            }}}}}}}}
            if iq >= 0 { tape.accumulate(iq, dq) }
            if ik >= 0 { tape.accumulate(ik, dkAll) }
            if iv >= 0 { tape.accumulate(iv, dvAll) }
        }
        return (output, weights)
    }
}

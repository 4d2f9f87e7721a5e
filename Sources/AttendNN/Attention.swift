import Dispatch
@_exported import AttendTensor

/// A mask for attention scores, broadcastable to `[batch, heads, queryLen, keyLen]`.
public enum AttentionMask: Sendable, Equatable {
    /// Boolean mask as 0/1 values: **1 (true) = may attend**, 0 = masked out (PyTorch's convention).
    case boolean(Tensor)
    /// Added to the scaled scores before softmax (use −∞ or a large negative number to mask).
    case additive(Tensor)

    var tensor: Tensor {
        switch self {
        case .boolean(let t), .additive(let t): return t
        }
    }
}

/// What `scaledDotProductAttention` returns: the output and, only when asked, the weights.
public struct AttentionResult: Sendable {
    /// `[batch, heads, queryLen, valueDim]`
    public var output: Tensor
    /// `[batch, heads, queryLen, keyLen]`, rows summing to 1 (0 for fully masked rows); `nil` unless asked for.
    public var weights: Tensor?
}

/// Scaled dot-product attention over `[batch, heads, seqLen, headDim]` tensors.
///
/// The exact maths, per batch `b` and query head `h` (key/value head `h / (H / Hkv)` with grouped-query heads):
///
///     S = Q Kᵀ · scale                     // [Lq, Lk], scale defaults to 1/√d_k
///     S = S + A        (additive mask)      // or S[i, j] = −∞ where a boolean mask is false
///     S[i, j] = −∞     for j > i            // when isCausal (top-left aligned, as PyTorch)
///     P = softmax(S)   row-wise, row max subtracted first, accumulated in Float
///     O = P V                               // [Lq, d_v]
///
/// A query row whose every key is masked gets **zero weights and zero output**, never NaN.
/// - Parameters:
///   - query: `[B, H, Lq, d_k]`
///   - key: `[B, Hkv, Lk, d_k]`; `Hkv` must divide `H` (grouped-query attention)
///   - value: `[B, Hkv, Lk, d_v]`
///   - mask: boolean or additive, broadcastable to `[B, H, Lq, Lk]`
///   - isCausal: query `i` may attend to keys `0...i` only
///   - scale: multiplies `QKᵀ`; default `1/√d_k`
///   - returnWeights: also return the softmax weights `[B, H, Lq, Lk]`
public func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, mask: AttentionMask? = nil,
    isCausal: Bool = false, scale: Float? = nil, returnWeights: Bool = false
) throws -> AttentionResult {
    let g = try AttentionGeometry(query: query, key: key, value: value, mask: mask)
    let scale = scale ?? 1 / Float(g.dk).squareRoot()
    let maskValues = try g.expandedMask(mask)
    let isBoolean: Bool
    if case .boolean = mask { isBoolean = true } else { isBoolean = false }

    var output = [Float](repeating: 0, count: g.b * g.h * g.lq * g.dv)
    var weights = [Float](repeating: 0, count: returnWeights ? g.b * g.h * g.lq * g.lk : 0)
    let q = query.scalars, k = key.scalars, v = value.scalars
    let heads = g.b * g.h
    let workers = Swift.min(heads, 2)

    output.withUnsafeMutableBufferPointer { outBuf in
        weights.withUnsafeMutableBufferPointer { wBuf in
            q.withUnsafeBufferPointer { qp in
                k.withUnsafeBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        let outBase = outBuf.baseAddress!, wBase = returnWeights ? wBuf.baseAddress : nil
                        let qBase = qp.baseAddress!, kBase = kp.baseAddress!, vBase = vp.baseAddress!
                        DispatchQueue.concurrentPerform(iterations: workers) { worker in
                            var scores = [Float](repeating: 0, count: g.lq * g.lk)
                            scores.withUnsafeMutableBufferPointer { sp in
                                let s = sp.baseAddress!
                                var bh = worker
                                while bh < heads {
                                    let bi = bh / g.h, hi = bh % g.h
                                    let kvh = hi / g.group
                                    let qOff = bh * g.lq * g.dk
                                    let kOff = (bi * g.hkv + kvh) * g.lk * g.dk
                                    let vOff = (bi * g.hkv + kvh) * g.lk * g.dv
                                    // S = scale · Q Kᵀ   [Lq, Lk]
                                    Kernels.sgemm(transA: false, transB: true, m: g.lq, n: g.lk, k: g.dk, alpha: scale,
                                                  a: qBase + qOff, lda: g.dk, b: kBase + kOff, ldb: g.dk,
                                                  c: s, ldc: g.lk)
                                    if let maskValues {
                                        let mOff = g.maskOffset(batch: bi, head: hi)
                                        for i in 0..<(g.lq * g.lk) {
                                            let mv = maskValues[mOff + i]
                                            if isBoolean { if mv == 0 { s[i] = -.infinity } } else { s[i] += mv }
                                        }
                                    }
                                    if isCausal {
                                        for i in 0..<g.lq where i + 1 < g.lk {
                                            for j in (i + 1)..<g.lk { s[i * g.lk + j] = -.infinity }
                                        }
                                    }
                                    Kernels.softmaxRows(s, rows: g.lq, cols: g.lk)  // P, fully masked rows → 0
                                    if let wBase { (wBase + bh * g.lq * g.lk).update(from: s, count: g.lq * g.lk) }
                                    // O = P V   [Lq, d_v]
                                    if g.lk > 0 {
                                        Kernels.sgemm(transA: false, transB: false, m: g.lq, n: g.dv, k: g.lk,
                                                      a: s, lda: g.lk, b: vBase + vOff, ldb: g.dv,
                                                      c: outBase + bh * g.lq * g.dv, ldc: g.dv)
                                    }
                                    bh += workers
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return AttentionResult(
        output: try Tensor(shape: [g.b, g.h, g.lq, g.dv], scalars: output),
        weights: returnWeights ? try Tensor(shape: [g.b, g.h, g.lq, g.lk], scalars: weights) : nil)
}

/// Checked sizes of one attention call, shared by the fast path and the reference twin.
struct AttentionGeometry {
    let b, h, hkv, group, lq, lk, dk, dv: Int
    var maskBatch = 1, maskHeads = 1

    init(query: Tensor, key: Tensor, value: Tensor, mask: AttentionMask?) throws {
        for (name, t) in [("query", query), ("key", key), ("value", value)] where t.rank != 4 {
            throw TensorError.shapeMismatch(op: "attention \(name)", expected: "[batch, heads, seqLen, headDim]", actual: t.shape)
        }
        (b, h, lq, dk) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        (hkv, lk) = (key.shape[1], key.shape[2])
        dv = value.shape[3]
        guard key.shape[0] == b, key.shape[3] == dk else {
            throw TensorError.shapeMismatch(op: "attention key", expected: "[\(b), kvHeads, keyLen, \(dk)]", actual: key.shape)
        }
        guard value.shape[0] == b, value.shape[1] == hkv, value.shape[2] == lk else {
            throw TensorError.shapeMismatch(op: "attention value", expected: "[\(b), \(hkv), \(lk), valueDim]", actual: value.shape)
        }
        guard hkv > 0, h % hkv == 0 else {
            throw TensorError.invalidArgument(op: "attention", "key/value heads (\(hkv)) must divide query heads (\(h))")
        }
        group = h / hkv
        if let mask {
            let m = mask.tensor
            let full = try? Tensor.broadcastShape(m.shape, [b, h, lq, lk])
            guard m.rank <= 4, full == [b, h, lq, lk] else {
                throw TensorError.shapeMismatch(op: "attention mask", expected: "broadcastable to [\(b), \(h), \(lq), \(lk)]", actual: m.shape)
            }
            let padded = [Int](repeating: 1, count: 4 - m.rank) + m.shape
            maskBatch = padded[0]
            maskHeads = padded[1]
        }
    }

    /// The mask expanded to `[maskBatch, maskHeads, Lq, Lk]` (batch and head axes stay 1 when broadcast).
    func expandedMask(_ mask: AttentionMask?) throws -> [Float]? {
        guard let mask else { return nil }
        return try mask.tensor.broadcast(to: [maskBatch, maskHeads, lq, lk]).scalars
    }

    func maskOffset(batch: Int, head: Int) -> Int {
        ((maskBatch == 1 ? 0 : batch) * maskHeads + (maskHeads == 1 ? 0 : head)) * lq * lk
    }
}

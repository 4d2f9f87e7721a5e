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

    var output = [Float](repeating: 0, count: g.b * g.h * g.lq * g.dv)
    var weights = [Float](repeating: 0, count: returnWeights ? g.b * g.h * g.lq * g.lk : 0)
    // Contiguous [B, H, T, d] tensors: head h of batch b starts at (b·H + h)·T·d, rows d apart.
    let qL = HeadLayout(batch: g.h * g.lq * g.dk, head: g.lq * g.dk, row: g.dk)
    let kL = HeadLayout(batch: g.hkv * g.lk * g.dk, head: g.lk * g.dk, row: g.dk)
    let vL = HeadLayout(batch: g.hkv * g.lk * g.dv, head: g.lk * g.dv, row: g.dv)
    let oL = HeadLayout(batch: g.h * g.lq * g.dv, head: g.lq * g.dv, row: g.dv)
    query.scalars.withUnsafeBufferPointer { qp in
        key.scalars.withUnsafeBufferPointer { kp in
            value.scalars.withUnsafeBufferPointer { vp in
                output.withUnsafeMutableBufferPointer { op in
                    weights.withUnsafeMutableBufferPointer { wp in
                        attentionHeads(g: g, q: qp.baseAddress!, qL, k: kp.baseAddress!, kL, v: vp.baseAddress!, vL,
                                       out: op.baseAddress!, oL, weights: returnWeights ? wp.baseAddress : nil,
                                       scale: scale, mask: mask, isCausal: isCausal)
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
        try setMask(mask)
    }

    /// Sizes given directly (heads read in place from projections); the caller has checked them.
    init(b: Int, h: Int, hkv: Int, lq: Int, lk: Int, dk: Int, dv: Int, mask: AttentionMask?) throws {
        (self.b, self.h, self.hkv, self.lq, self.lk, self.dk, self.dv) = (b, h, hkv, lq, lk, dk, dv)
        group = h / Swift.max(hkv, 1)
        try setMask(mask)
    }

    private mutating func setMask(_ mask: AttentionMask?) throws {
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

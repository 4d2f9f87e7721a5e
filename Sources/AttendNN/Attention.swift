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
///     S[i, j] = −∞     for j > off + i      // when isCausal; off = causalKeyOffset (0: top-left aligned, as PyTorch)
///     P = softmax(S)   row-wise, row max subtracted first, accumulated in Float
///     O = P V                               // [Lq, d_v]
///
/// A query row whose every key is masked gets **zero weights and zero output**, never NaN.
/// - Parameters:
///   - query: `[B, H, Lq, d_k]`
///   - key: `[B, Hkv, Lk, d_k]`; `Hkv` must divide `H` (grouped-query attention)
///   - value: `[B, Hkv, Lk, d_v]`
///   - mask: boolean or additive, broadcastable to `[B, H, Lq, Lk]`
///   - isCausal: query `i` may attend to keys `0...causalKeyOffset + i` only
///   - causalKeyOffset: the absolute position of query 0 (≥ 0), e.g. the length of a key/value cache the
///     keys begin with when decoding; 0 for causal self-attention
///   - scale: multiplies `QKᵀ`; default `1/√d_k`
///   - returnWeights: also return the softmax weights `[B, H, Lq, Lk]`
public func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, mask: AttentionMask? = nil,
    isCausal: Bool = false, causalKeyOffset: Int = 0, scale: Float? = nil, returnWeights: Bool = false
) throws -> AttentionResult {
    _ = try AttentionGeometry(query: query, key: key, value: value, mask: mask)   // the tensor-level errors
    let r = try attend(query: HeadView(query), key: HeadView(key), value: HeadView(value), mask: mask, isCausal: isCausal,
                       causalKeyOffset: causalKeyOffset, scale: scale, returnWeights: returnWeights, mergedOutput: false)
    return AttentionResult(output: r.output.contiguous(), weights: r.weights)   // [B, H, Lq, d_v], already contiguous
}

/// What ``scaledDotProductAttention(query:key:value:mask:isCausal:causalKeyOffset:scale:returnWeights:)-(HeadView,_,_,_,_,_,_,_)``
/// returns: the output as heads over one `[B, Lq, H·d_v]` buffer and, only when asked, the weights.
public struct HeadAttentionResult: Sendable {
    /// `[B, H, Lq, d_v]`, a view of `[B, Lq, H·d_v]` (heads side by side): ``HeadView/mergedHeads()`` is free.
    public var output: HeadView
    /// `[B, H, Lq, Lk]`; `nil` unless asked for.
    public var weights: Tensor?
}

/// Scaled dot-product attention on head views (see ``Tensor/viewAsHeads(_:dim:column:)``): the same maths as
/// the tensor form, reading every head in place from its projection and writing the output heads side by
/// side, so that "view as heads → attend → merge" copies nothing.
/// - Parameters:
///   - query: `[B, H, Lq, d_k]`; key: `[B, Hkv, Lk, d_k]`; value: `[B, Hkv, Lk, d_v]` (views)
///   - the rest as in the tensor form.
public func scaledDotProductAttention(
    query: HeadView, key: HeadView, value: HeadView, mask: AttentionMask? = nil,
    isCausal: Bool = false, causalKeyOffset: Int = 0, scale: Float? = nil, returnWeights: Bool = false
) throws -> HeadAttentionResult {
    try attend(query: query, key: key, value: value, mask: mask, isCausal: isCausal, causalKeyOffset: causalKeyOffset,
               scale: scale, returnWeights: returnWeights, mergedOutput: true)
}

/// Both forms: checks the views, builds one ``Kernels/AttentionProblem`` and runs it. The output is written
/// `[B, Lq, H·d_v]` (`mergedOutput`) or `[B, H, Lq, d_v]`.
func attend(
    query: HeadView, key: HeadView, value: HeadView, mask: AttentionMask?, isCausal: Bool, causalKeyOffset: Int,
    scale: Float?, returnWeights: Bool, mergedOutput: Bool
) throws -> HeadAttentionResult {
    let g = try AttentionGeometry(query: query, key: key, value: value, mask: mask)
    guard causalKeyOffset >= 0 else {
        throw TensorError.invalidArgument(op: "attention", "causal key offset \(causalKeyOffset) is negative")
    }
    let scale = scale ?? 1 / Float(g.dk).squareRoot()
    let outLayout = mergedOutput ? HeadLayout(batch: g.lq * g.h * g.dv, head: g.dv, row: g.h * g.dv)
                                 : .contiguous(heads: g.h, length: g.lq, dim: g.dv)
    var output = [Float](repeating: 0, count: g.b * g.h * g.lq * g.dv)
    var weights = [Float](repeating: 0, count: returnWeights ? g.b * g.h * g.lq * g.lk : 0)
    if !output.isEmpty { try withKernelMasks(mask, g) { masks in
        try withOperands(query, key, value) { q, k, v in
            try output.withUnsafeMutableBufferPointer { op in
                try weights.withUnsafeMutableBufferPointer { wp in
                    try runAttention(Kernels.AttentionProblem(
                        shape: g.shape, query: q, key: k, value: v, output: op.baseAddress!, outputLayout: outLayout,
                        scale: scale, isCausal: isCausal, causalKeyOffset: causalKeyOffset,
                        keyMask: masks.key, mask: masks.score, weights: returnWeights ? wp.baseAddress : nil))
                }
            }
        }
    } }   // no queries, heads or value features: nothing to compute
    let base = try Tensor(shape: mergedOutput ? [g.b, g.lq, g.h * g.dv] : [g.b, g.h, g.lq, g.dv], scalars: output)
    return HeadAttentionResult(
        output: try HeadView(base: base, offset: 0, batch: g.b, heads: g.h, length: g.lq, dim: g.dv, layout: outLayout),
        weights: returnWeights ? try Tensor(shape: [g.b, g.h, g.lq, g.lk], scalars: weights) : nil)
}

/// The three views' values as kernel operands (pointers valid inside `body` only).
private func withOperands<R>(
    _ q: HeadView, _ k: HeadView, _ v: HeadView,
    _ body: (Kernels.AttentionOperand, Kernels.AttentionOperand, Kernels.AttentionOperand) throws -> R
) throws -> R {
    // An empty buffer has no address; a dangling stand-in is never read (its sizes are 0).
    let empty = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    defer { empty.deallocate() }
    return try q.base.scalars.withUnsafeBufferPointer { qp in
        try k.base.scalars.withUnsafeBufferPointer { kp in
            try v.base.scalars.withUnsafeBufferPointer { vp in
                try body(.init((qp.baseAddress ?? UnsafePointer(empty)) + q.offset, q.layout),
                         .init((kp.baseAddress ?? UnsafePointer(empty)) + k.offset, k.layout),
                         .init((vp.baseAddress ?? UnsafePointer(empty)) + v.offset, v.layout))
            }
        }
    }
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

    /// The sizes of three head views, checked against each other.
    init(query: HeadView, key: HeadView, value: HeadView, mask: AttentionMask?) throws {
        (b, h, lq, dk) = (query.batch, query.heads, query.length, query.dim)
        (hkv, lk, dv) = (key.heads, key.length, value.dim)
        guard key.batch == b, key.dim == dk else {
            throw TensorError.shapeMismatch(op: "attention key", expected: "[\(b), kvHeads, keyLen, \(dk)]", actual: key.shape)
        }
        guard value.batch == b, value.heads == hkv, value.length == lk else {
            throw TensorError.shapeMismatch(op: "attention value", expected: "[\(b), \(hkv), \(lk), valueDim]", actual: value.shape)
        }
        guard hkv > 0, h % hkv == 0 else {
            throw TensorError.invalidArgument(op: "attention", "key/value heads (\(hkv)) must divide query heads (\(h))")
        }
        group = h / hkv
        try setMask(mask)
    }

    /// The kernel's view of these sizes.
    var shape: Kernels.AttentionShape {
        Kernels.AttentionShape(batch: b, heads: h, kvHeads: hkv, queryLength: lq, keyLength: lk, keyDim: dk, valueDim: dv)
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

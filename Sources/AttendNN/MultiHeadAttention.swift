/// Multi-head attention as the textbook writes it (Vaswani et al. 2017, §3.2.2):
///
///     Q = query·W_Qᵀ, K = key·W_Kᵀ, V = value·W_Vᵀ        (+ biases)
///     headᵢ = softmax(Qᵢ Kᵢᵀ / √d_k + mask) Vᵢ           for i in 0..<heads
///     MultiHead = concat(head₀ … head_{h−1}) · W_Oᵀ      (+ bias)
///
/// The same layer does self-attention (`key` and `value` default to `query`) and cross-attention
/// (a decoder's queries against an encoder's keys and values, of another length and, like PyTorch's
/// `kdim`/`vdim`, of another width). With `kvHeads < heads` it is grouped-query attention: each
/// key/value head serves `heads / kvHeads` query heads.
public final class MultiHeadAttention: Module {
    public let embedDim: Int
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    public let qProj: Linear   // [heads·headDim, embedDim]
    public let kProj: Linear   // [kvHeads·headDim, keyDim]
    public let vProj: Linear   // [kvHeads·headDim, valueDim]
    public let outProj: Linear // [embedDim, heads·headDim]

    /// What attention weights to return.
    public enum WeightsMode: Sendable { case none, perHead, averaged }

    /// The layer's result.
    public struct Output: Sendable {
        /// `[B, Lq, embedDim]`
        public var output: Tensor
        /// `[B, heads, Lq, Lk]` (perHead) or `[B, Lq, Lk]` (averaged over heads); `nil` for `.none`.
        public var weights: Tensor?
    }

    public convenience init(embedDim: Int, heads: Int, kvHeads: Int? = nil, keyDim: Int? = nil, valueDim: Int? = nil,
                            bias: Bool = true, outputBias: Bool? = nil, rng: inout SeededRNG) throws {
        var source: SeededRNG? = rng
        try self.init(embedDim: embedDim, heads: heads, kvHeads: kvHeads, keyDim: keyDim, valueDim: valueDim,
                      bias: bias, outputBias: outputBias, initializer: &source)
        if let source { rng = source }
    }

    /// With `initializer` nil the projections start at zero, to be loaded from a checkpoint.
    public init(embedDim: Int, heads: Int, kvHeads: Int? = nil, keyDim: Int? = nil, valueDim: Int? = nil,
                bias: Bool = true, outputBias: Bool? = nil, initializer rng: inout SeededRNG?) throws {
        let kvHeads = kvHeads ?? heads
        guard embedDim > 0, heads > 0, embedDim % heads == 0 else {
            throw TensorError.invalidArgument(op: "MultiHeadAttention", "embedDim \(embedDim) must be divisible by heads \(heads)")
        }
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw TensorError.invalidArgument(op: "MultiHeadAttention", "kvHeads \(kvHeads) must divide heads \(heads)")
        }
        self.embedDim = embedDim
        self.heads = heads
        self.kvHeads = kvHeads
        headDim = embedDim / heads
        func linear(_ i: Int, _ o: Int, _ b: Bool) -> Linear {
            if rng == nil { return Linear(i, o, bias: b) }
            return Linear(i, o, bias: b, rng: &rng!)
        }
        qProj = linear(embedDim, heads * headDim, bias)
        kProj = linear(keyDim ?? embedDim, kvHeads * headDim, bias)
        vProj = linear(valueDim ?? embedDim, kvHeads * headDim, bias)
        outProj = linear(heads * headDim, embedDim, outputBias ?? bias)
    }

    public var children: [(String, any Module)] {
        [("q_proj", qProj), ("k_proj", kProj), ("v_proj", vProj), ("out_proj", outProj)]
    }

    /// W_Q, W_K and W_V stacked into one `[(H + 2·Hkv)·d, E]` projection, so self-attention runs one GEMM
    /// instead of three. Built by ``fuseProjections()`` for inference; not a parameter of its own.
    public private(set) var fusedQKV: Linear?
    /// Versions of the Q/K/V weights and biases ``fusedQKV`` was built from: a later change makes it stale.
    private var fusedFrom: [UInt64] = []
    private var projectionVersions: [UInt64] {
        [qProj, kProj, vProj].flatMap { [$0.weight.version, $0.bias?.version ?? 0] }
    }

    /// Stacks the current Q/K/V weights for inference. Call again (or ``unfuseProjections()``) after the
    /// weights change; training never needs it.
    public func fuseProjections() throws {
        guard qProj.inFeatures == kProj.inFeatures, kProj.inFeatures == vProj.inFeatures,
              (qProj.bias == nil) == (kProj.bias == nil), (kProj.bias == nil) == (vProj.bias == nil) else { return }
        let fused = Linear(qProj.inFeatures, qProj.outFeatures + kProj.outFeatures + vProj.outFeatures, bias: qProj.bias != nil)
        fused.weight.value = try Tensor.concatenate([qProj.weight.value, kProj.weight.value, vProj.weight.value], axis: 0)
        if let qb = qProj.bias, let kb = kProj.bias, let vb = vProj.bias {
            fused.bias?.value = try Tensor.concatenate([qb.value, kb.value, vb.value], axis: 0)
        }
        fusedQKV = fused
        fusedFrom = projectionVersions
    }

    /// Fuses the Q/K/V projections and packs every projection's weights once for the GEMM (``Linear/prepareForInference()``).
    /// Weights changed later are noticed: stale fused or packed copies are ignored, never used.
    public func prepareForInference(precision: InferencePrecision = .fp32) throws {
        try fuseProjections()
        if let fusedQKV {
            try fusedQKV.prepareForInference(precision: precision)
        } else {
            for p in [qProj, kProj, vProj] { try p.prepareForInference(precision: precision) }
        }
        try outProj.prepareForInference(precision: precision)
    }

    /// Drops the fused projection (e.g. before changing weights).
    public func unfuseProjections() { fusedQKV = nil }

    /// - Parameters:
    ///   - query: `[B, Lq, embedDim]`
    ///   - key: `[B, Lk, keyDim]`, defaults to `query` (self-attention)
    ///   - value: `[B, Lk, valueDim]`, defaults to `key`
    ///   - keyPaddingMask: `[B, Lk]`, **1 = real token (may attend)**, 0 = padding (Hugging Face's `attention_mask`)
    ///   - mask: extra boolean or additive mask broadcastable to `[B, heads, Lq, Lk]`
    ///   - isCausal: query `i` sees keys `0...i`
    ///   - weights: return per-head weights, their average over heads, or none
    ///   - observer/name: reports, when the observer wants them, `"\(name).q"`, `.k`, `.v` (`[B, H, T, d]`, after
    ///     projection), `"\(name).weights"` (`[B, H, Lq, Lk]`) and `"\(name).context"` (`[B, H, Lq, d]`, before W_O)
    public func callAsFunction(
        query: Tensor, key: Tensor? = nil, value: Tensor? = nil, keyPaddingMask: Tensor? = nil,
        mask: AttentionMask? = nil, isCausal: Bool = false, weights: WeightsMode = .none,
        observer: (any IntermediateObserver)? = nil, name: String = "attention"
    ) throws -> Output {
        let selfAttention = key == nil && value == nil
        let key = key ?? query, value = value ?? key
        guard query.rank == 3, key.rank == 3, value.rank == 3, key.shape[0] == query.shape[0],
              value.shape[0] == query.shape[0], value.shape[1] == key.shape[1] else {
            throw TensorError.invalidArgument(op: "MultiHeadAttention",
                "expects query [B, Lq, E], key [B, Lk, kdim], value [B, Lk, vdim]; got \(query.shape), \(key.shape), \(value.shape)")
        }
        let (b, lk, d) = (query.shape[0], key.shape[1], headDim)
        // Project, then view as heads: [B, T, H·d] read as [B, H, T, d] in place (nothing is copied).
        // Self-attention with fused weights does Q, K and V in one GEMM: [B, T, (H + 2·Hkv)·d].
        let q: HeadView, k: HeadView, v: HeadView
        if let fused = fusedQKV, selfAttention, fusedFrom == projectionVersions {
            let qkv = try fused(query)                                               // [B, T, (H + 2·Hkv)·d]
            q = try qkv.viewAsHeads(heads, dim: d)                                   // [B, H, T, d]
            k = try qkv.viewAsHeads(kvHeads, dim: d, column: heads * d)              // [B, Hkv, T, d]
            v = try qkv.viewAsHeads(kvHeads, dim: d, column: (heads + kvHeads) * d)  // [B, Hkv, T, d]
        } else {
            q = try qProj(query).viewAsHeads(heads)                                  // [B, H, Lq, d]
            k = try kProj(key).viewAsHeads(kvHeads)                                  // [B, Hkv, Lk, d]
            v = try vProj(value).viewAsHeads(kvHeads)                                // [B, Hkv, Lk, d]
        }
        if let observer {
            for (suffix, view) in [("q", q), ("k", k), ("v", v)] where observer.wants("\(name).\(suffix)") {
                observer.observe("\(name).\(suffix)", view.contiguous())                // [B, n, T, d]
            }
        }
        // Attend: softmax(Q Kᵀ / √d + mask) V per head, written with the heads side by side.
        let wantObserved = observer?.wants(name + ".weights") ?? false
        let attn = try scaledDotProductAttention(
            query: q, key: k, value: v, mask: Self.combine(mask: mask, keyPaddingMask: keyPaddingMask, batch: b, keyLen: lk),
            isCausal: isCausal, returnWeights: weights != .none || wantObserved)     // output [B, H, Lq, d]
        if wantObserved, let w = attn.weights { observer?.observe(name + ".weights", w) }   // [B, H, Lq, Lk]
        // Merge the heads (free: they already lie side by side), then project.
        let merged = attn.output.mergedHeads()                                       // [B, Lq, H·d]
        if let observer, observer.wants(name + ".context") { observer.observe(name + ".context", attn.output.contiguous()) }
        let out = try outProj(merged)                                          // [B, Lq, E]
        var returned: Tensor? = nil
        switch weights {
        case .none: break
        case .perHead: returned = attn.weights                                        // [B, H, Lq, Lk]
        case .averaged: returned = try attn.weights.map { try $0.mean(axis: 1) }      // [B, Lq, Lk]
        }
        return Output(output: out, weights: returned)
    }

    /// A key-padding mask `[B, Lk]` (1 = real) merged into the attention mask.
    static func combine(mask: AttentionMask?, keyPaddingMask: Tensor?, batch: Int, keyLen: Int) throws -> AttentionMask? {
        guard let kpm = keyPaddingMask else { return mask }
        guard kpm.shape == [batch, keyLen] else {
            throw TensorError.shapeMismatch(op: "keyPaddingMask", expected: "[\(batch), \(keyLen)]", actual: kpm.shape)
        }
        let pad = try kpm.reshaped([batch, 1, 1, keyLen])   // [B, 1, 1, Lk]
        switch mask {
        case nil: return .boolean(pad)
        case .boolean(let m): return .boolean(try Tensor.zip(m, pad, op: "mask and padding") { ($0 != 0 && $1 != 0) ? 1 : 0 })
        case .additive(let m): return .additive(try Tensor.zip(m, pad, op: "mask and padding") { $1 != 0 ? $0 : -.infinity })
        }
    }
}

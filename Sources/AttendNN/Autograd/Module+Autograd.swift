/// Differentiable forward passes of the existing layers: the same parameters and maths as their `Tensor`
/// forwards, written on `Variable` ops. With `tape: nil` they record nothing (the parameters are constants).
extension Linear {
    /// `y = x Wᵀ + b`; `x`: `[..., in]` → `[..., out]`.
    public func callAsFunction(_ x: Variable, tape: Tape?) throws -> Variable {
        guard x.shape.last == inFeatures else {
            throw TensorError.shapeMismatch(op: "Linear input", expected: "[..., \(inFeatures)]", actual: x.shape)
        }
        let y = try Variable.matmul(x, weight.variable(tape), transposeB: true)   // [..., out]
        if let bias { return try y + bias.variable(tape) }
        return y
    }
}

extension Embedding {
    /// `ids`: `[B][T]` → `[B, T, dim]` (gradients scatter-add into the table).
    public func callAsFunction(_ ids: [[Int]], tape: Tape?) throws -> Variable {
        try Variable.embedding(weight.variable(tape), ids: ids)
    }
}

extension LayerNorm {
    public func callAsFunction(_ x: Variable, tape: Tape?) throws -> Variable {
        try x.layerNorm(weight: weight.variable(tape), bias: bias.variable(tape), eps: eps)
    }
}

extension MultiHeadAttention {
    /// The differentiable twin of ``callAsFunction(query:key:value:keyPaddingMask:mask:isCausal:weights:observer:name:)``
    /// (same projections, masks and observer names). Returns the output `[B, Lq, embedDim]`.
    /// - Parameters:
    ///   - query: `[B, Lq, embedDim]`; key/value: `[B, Lk, …]`, default `query` (self-attention)
    ///   - keyPaddingMask: `[B, Lk]`, 1 = real token, 0 = padding (a constant)
    ///   - observer/name: reports, when wanted, `"\(name).weights"` `[B, H, Lq, Lk]`, `.q`, `.k`, `.v` (after
    ///     projection, `[B, H, L, d]`) and `.context` (weights · V before the output projection, `[B, H, Lq, d]`)
    public func callAsFunction(
        query: Variable, key: Variable? = nil, value: Variable? = nil, keyPaddingMask: Tensor? = nil,
        mask: AttentionMask? = nil, isCausal: Bool = false, tape: Tape?,
        observer: (any IntermediateObserver)? = nil, name: String = "attention"
    ) throws -> Variable {
        let key = key ?? query, value = value ?? key
        guard query.rank == 3, key.rank == 3, value.rank == 3, key.shape[0] == query.shape[0],
              value.shape[0] == query.shape[0], value.shape[1] == key.shape[1] else {
            throw TensorError.invalidArgument(op: "MultiHeadAttention",
                "expects query [B, Lq, E], key [B, Lk, kdim], value [B, Lk, vdim]; got \(query.shape), \(key.shape), \(value.shape)")
        }
        let q = try qProj(query, tape: tape).splitHeads(heads)      // [B, H, Lq, d]
        let k = try kProj(key, tape: tape).splitHeads(kvHeads)      // [B, Hkv, Lk, d]
        let v = try vProj(value, tape: tape).splitHeads(kvHeads)    // [B, Hkv, Lk, d]
        if let observer {
            for (suffix, t) in [("q", q), ("k", k), ("v", v)] where observer.wants("\(name).\(suffix)") {
                observer.observe("\(name).\(suffix)", t.value)                                           // [B, H(kv), L, d]
            }
        }
        let combined = try Self.combine(mask: mask, keyPaddingMask: keyPaddingMask, batch: query.shape[0], keyLen: key.shape[1])
        let wantWeights = observer?.wants(name + ".weights") ?? false
        let attn = try Variable.attention(query: q, key: k, value: v, mask: combined, isCausal: isCausal,
                                          returnWeights: wantWeights)                                    // [B, H, Lq, d]
        if wantWeights, let w = attn.weights { observer?.observe(name + ".weights", w) }
        if let observer, observer.wants(name + ".context") { observer.observe(name + ".context", attn.output.value) }  // [B, H, Lq, d]
        return try outProj(attn.output.mergeHeads(), tape: tape)                                      // [B, Lq, E]
    }
}

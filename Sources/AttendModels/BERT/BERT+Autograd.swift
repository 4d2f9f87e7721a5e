// The BERT encoder on Attend's autograd: the same parameters and maths as `BertModel.callAsFunction`, written on
// `Variable` ops, with the attention weights exposed (`Variable.attentionExposingWeights`) so explanations can
// read ∂y/∂A, and the word embeddings replaceable (integrated gradients walk them from a baseline).
// Slower than the inference path (no fused attention, no packed weights); equal to it within 1e-5.
import AttendNN
import Foundation

extension BertModel {
    /// What the differentiable forward returns.
    public struct TracedForward {
        /// `[B, T, hidden]`, the last hidden states.
        public var hidden: Variable
        /// Per layer `[B, H, T, T]`, the attention weights.
        public var attention: [Tensor]
        /// Per layer, a zero leaf `[B, H, T, T]` added to the weights: after `backward`, its gradient is ∂y/∂A_l.
        /// Empty unless `tapAttention`.
        public var attentionTaps: [Variable]
    }

    /// The differentiable forward (every token real: no padding mask).
    /// - Parameters:
    ///   - ids: token ids `[B][T]`; typeIds: `[B][T]`, default zeros
    ///   - wordEmbeddings: `[B, T, hidden]` to use instead of the word-embedding rows of `ids` (the ids then only
    ///     fix the shape); position and token-type embeddings are added as usual
    ///   - tape: where to record (nil: nothing recorded); parameters are constants unless `watchParameters`
    ///   - tapAttention: expose ∂y/∂A of every layer through ``TracedForward/attentionTaps``
    ///   - attentionOffsets: per layer, a constant added to the weights (finite-difference checks of ∂y/∂A)
    public func tracedForward(ids: [[Int]], typeIds: [[Int]]? = nil, wordEmbeddings: Variable? = nil, tape: Tape?,
                              watchParameters: Bool = false, tapAttention: Bool = false,
                              attentionOffsets: [Tensor]? = nil) throws -> TracedForward {
        let b = ids.count, t = ids.first?.count ?? 0
        guard b > 0, t > 0, ids.allSatisfy({ $0.count == t }) else {
            throw ModelError.invalidInput("ids must be \(b)×T with equal, non-zero lengths")
        }
        guard t <= embeddings.positions.count else { throw ModelError.sequenceTooLong(length: t, max: embeddings.positions.count) }
        for row in ids { for id in row where id < 0 || id >= config.vocabSize {
            throw ModelError.invalidInput("token id \(id) is outside the vocabulary of \(config.vocabSize)")
        } }
        if let attentionOffsets, attentionOffsets.count != layers.count {
            throw ModelError.invalidInput("\(attentionOffsets.count) attention offsets for \(layers.count) layers")
        }
        let types = typeIds ?? Array(repeating: Array(repeating: 0, count: t), count: b)
        let pt = watchParameters ? tape : nil                                                   // parameters' tape
        let words: Variable
        if let wordEmbeddings {
            guard wordEmbeddings.shape == [b, t, config.hiddenSize] else {
                throw ModelError.invalidInput("word embeddings must be [\(b), \(t), \(config.hiddenSize)], got \(wordEmbeddings.shape)")
            }
            words = wordEmbeddings
        } else {
            words = try embeddings.words(ids, tape: pt)                                         // [B, T, hidden]
        }
        let pos = try embeddings.positions([Array(0..<t)], tape: pt)                            // [1, T, hidden]
        var x = try embeddings.norm(words + embeddings.tokenTypes(types, tape: pt) + pos, tape: pt)   // [B, T, hidden]
        var weights: [Tensor] = [], taps: [Variable] = []
        let heads = config.numAttentionHeads
        for (layerIndex, layer) in layers.enumerated() {
            let mha = layer.attention
            let q = try mha.qProj(x, tape: pt).splitHeads(heads)                                // [B, H, T, d]
            let k = try mha.kProj(x, tape: pt).splitHeads(heads)                                // [B, H, T, d]
            let v = try mha.vProj(x, tape: pt).splitHeads(heads)                                // [B, H, T, d]
            let attn = try Variable.attentionExposingWeights(query: q, key: k, value: v, tapOn: tapAttention ? tape : nil,
                                                             offset: attentionOffsets?[layerIndex])  // [B, H, T, d]
            weights.append(attn.weights)
            if let tap = attn.tap { taps.append(tap) }
            let a = try mha.outProj(attn.output.mergeHeads(), tape: pt)                         // [B, T, hidden]
            let h = try layer.attentionNorm(a + x, tape: pt)                                    // [B, T, hidden]
            var f = try layer.intermediate(h, tape: pt)                                         // [B, T, intermediate]
            switch layer.activation {
            case .gelu: f = f.gelu()
            case .geluTanh: f = f.gelu(approximate: true)
            case .relu: f = f.relu()
            }
            x = try layer.outputNorm(layer.output(f, tape: pt) + h, tape: pt)                   // [B, T, hidden]
        }
        return TracedForward(hidden: x, attention: weights, attentionTaps: taps)
    }
}

// The MPNet encoder on Attend's autograd: the same parameters and maths as `MPNetModel.callAsFunction`, written on
// `Variable` ops, with each layer's attention weights exposed (`Variable.attentionExposingWeights`, the relative
// position bias added to the scores as a constant) so explanations can read ∂y/∂A_l.
// Slower than the inference path (no fused attention, no packed weights); equal to it within 1e-5.
import AttendNN
import Foundation

extension MPNetModel {
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

    /// The differentiable forward (every token real: no padding mask; parameters are constants).
    /// - Parameters:
    ///   - ids: token ids `[B][T]` (no `pad_token_id` among them: positions count real tokens)
    ///   - tape: where to record (nil: nothing recorded)
    ///   - tapAttention: expose ∂y/∂A of every layer through ``TracedForward/attentionTaps``
    ///   - attentionOffsets: per layer, a constant added to the weights (finite-difference checks of ∂y/∂A)
    public func tracedForward(ids: [[Int]], tape: Tape?, tapAttention: Bool = false,
                              attentionOffsets: [Tensor]? = nil) throws -> TracedForward {
        let b = ids.count, t = ids.first?.count ?? 0
        guard b > 0, t > 0, ids.allSatisfy({ $0.count == t }) else {
            throw ModelError.invalidInput("ids must be \(b)×T with equal, non-zero lengths")
        }
        guard t <= maxTokens else { throw ModelError.sequenceTooLong(length: t, max: maxTokens) }
        for row in ids { for id in row where id < 0 || id >= config.vocabSize || id == config.padTokenId {
            throw ModelError.invalidInput(id == config.padTokenId
                ? "token id \(id) is the padding token: the differentiable forward takes real tokens only"
                : "token id \(id) is outside the vocabulary of \(config.vocabSize)")
        } }
        if let attentionOffsets, attentionOffsets.count != layers.count {
            throw ModelError.invalidInput("\(attentionOffsets.count) attention offsets for \(layers.count) layers")
        }
        // Positions as fairseq numbers real tokens: pad + 1, pad + 2, …
        let positionIDs = [(0..<t).map { config.padTokenId + 1 + $0 }]
        let words = try embeddings.words(ids, tape: nil)                                        // [B, T, hidden]
        let pos = try embeddings.positions(positionIDs, tape: nil)                               // [1, T, hidden]
        var x = try embeddings.norm(words + pos, tape: nil)                                      // [B, T, hidden]
        let bias = try positionBias(length: t)                                                   // [1, H, T, T]
        var weights: [Tensor] = [], taps: [Variable] = []
        for (layerIndex, layer) in layers.enumerated() {
            let mha = layer.attention
            let q = try mha.qProj(x, tape: nil).splitHeads(heads)                                // [B, H, T, d]
            let k = try mha.kProj(x, tape: nil).splitHeads(heads)                                // [B, H, T, d]
            let v = try mha.vProj(x, tape: nil).splitHeads(heads)                                // [B, H, T, d]
            let attn = try Variable.attentionExposingWeights(query: q, key: k, value: v, additiveMask: bias,
                                                             tapOn: tapAttention ? tape : nil,
                                                             offset: attentionOffsets?[layerIndex])  // [B, H, T, d]
            weights.append(attn.weights)
            if let tap = attn.tap { taps.append(tap) }
            let a = try mha.outProj(attn.output.mergeHeads(), tape: nil)                         // [B, T, hidden]
            let h = try layer.attentionNorm(a + x, tape: nil)                                    // [B, T, hidden]
            var f = try layer.intermediate(h, tape: nil)                                         // [B, T, intermediate]
            switch layer.activation {
            case .gelu: f = f.gelu()
            case .geluTanh: f = f.gelu(approximate: true)
            case .relu: f = f.relu()
            }
            x = try layer.outputNorm(layer.output(f, tape: nil) + h, tape: nil)                  // [B, T, hidden]
        }
        return TracedForward(hidden: x, attention: weights, attentionTaps: taps)
    }
}

extension MPNetModel: DifferentiableSentenceEncoder {
    public func tracedEncode(ids: [[Int]], typeIds: [[Int]]?, tape: Tape?, tapAttention: Bool,
                             attentionOffsets: [Tensor]?) throws -> TracedEncoding {
        let run = try tracedForward(ids: ids, tape: tape, tapAttention: tapAttention, attentionOffsets: attentionOffsets)
        return TracedEncoding(hidden: run.hidden, attention: run.attention, attentionTaps: run.attentionTaps)
    }
}

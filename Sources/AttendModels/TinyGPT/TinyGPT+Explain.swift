// TinyGPT's forward with the attention weights exposed as points of the autograd graph (for gradient-weighted
// explanations, ∂y/∂A): the same parameters and maths as `TinyGPT.callAsFunction`, with the causal attention
// written out op by op (`Variable.attentionExposingWeights`). Also reports each layer's value input (LN₁(x)).
import AttendNN
import Foundation

extension TinyGPT {
    /// What ``tracedForward(_:tape:tapAttention:)`` returns.
    public struct TracedForward {
        /// `[B, T, V]`
        public var logits: Variable
        /// Per layer `[B, H, T, T]`.
        public var attention: [Tensor]
        /// Per layer, the vectors the value projection reads, `[B, T, D]` (LN₁ of the block's input).
        public var valueInputs: [Tensor]
        /// Per layer, zero leaves `[B, H, T, T]` whose gradients are ∂y/∂A_l (empty unless `tapAttention`).
        public var attentionTaps: [Variable]
    }

    /// - Parameters:
    ///   - ids: `[B][T]`; tape: where to record (parameters are constants); tapAttention: expose ∂y/∂A; attentionOffsets: per layer, added to the weights (finite-difference checks)
    public func tracedForward(_ ids: [[Int]], tape: Tape?, tapAttention: Bool = false,
                              attentionOffsets: [Tensor]? = nil) throws -> TracedForward {
        let t = ids.first?.count ?? 0
        guard t > 0, ids.allSatisfy({ $0.count == t }) else { throw ModelError.invalidInput("ids must be B×T with equal, non-zero lengths") }
        guard t <= config.maxPositionEmbeddings else { throw ModelError.sequenceTooLong(length: t, max: config.maxPositionEmbeddings) }
        for row in ids { for id in row where id < 0 || id >= config.vocabSize {
            throw ModelError.invalidInput("token \(id) outside the vocabulary of \(config.vocabSize)")
        } }
        if let attentionOffsets, attentionOffsets.count != blocks.count {
            throw ModelError.invalidInput("\(attentionOffsets.count) attention offsets for \(blocks.count) layers")
        }
        // Causal: query i sees keys 0…i.
        let causal = try Tensor(shape: [t, t], scalars: (0..<(t * t)).map { $0 % t <= $0 / t ? 0 : -Float.infinity })  // [T, T]
        var x = try wte(ids, tape: nil)                                                              // [B, T, D]
        var weights: [Tensor] = [], inputs: [Tensor] = [], taps: [Variable] = []
        let heads = config.numHeads
        for (layerIndex, block) in blocks.enumerated() {
            let a = try block.ln1(x, tape: nil)                                                      // [B, T, D]
            inputs.append(a.value)
            let q = try block.attention.qProj(a, tape: nil).splitHeads(heads).rotary()               // [B, H, T, d]
            let k = try block.attention.kProj(a, tape: nil).splitHeads(heads).rotary()               // [B, H, T, d]
            let v = try block.attention.vProj(a, tape: nil).splitHeads(heads)                        // [B, H, T, d]
            let attn = try Variable.attentionExposingWeights(query: q, key: k, value: v, additiveMask: causal,
                                                             tapOn: tapAttention ? tape : nil,
                                                             offset: attentionOffsets?[layerIndex])      // [B, H, T, d]
            weights.append(attn.weights)
            if let tap = attn.tap { taps.append(tap) }
            x = try x + block.attention.outProj(attn.output.mergeHeads(), tape: nil)                 // [B, T, D]
            if let ln2 = block.ln2, let fc = block.fc, let proj = block.proj {
                x = try x + proj(fc(ln2(x, tape: nil), tape: nil).gelu(), tape: nil)                  // [B, T, D]
            }
        }
        let logits = try lmHead(lnF(x, tape: nil), tape: nil)                                        // [B, T, V]
        return TracedForward(logits: logits, attention: weights, valueInputs: inputs, attentionTaps: taps)
    }
}

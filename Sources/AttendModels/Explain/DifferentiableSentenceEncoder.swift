// A sentence encoder with a differentiable forward on Attend's autograd that exposes every layer's attention weights
// as points of the graph: what grad-attention needs from an encoder (SentenceEmbedder+Explain.swift reads it).
// BERT (BERT+Autograd.swift) and MPNet (MPNet+Autograd.swift) conform.
import AttendNN
import Foundation

/// One differentiable run of an encoder.
public struct TracedEncoding {
    /// `[B, T, hidden]`, the last hidden states.
    public var hidden: Variable
    /// Per layer `[B, H, T, T]`, the attention weights.
    public var attention: [Tensor]
    /// Per layer, a zero leaf `[B, H, T, T]` added to the weights whose gradient is ∂y/∂A_l (empty unless tapped).
    public var attentionTaps: [Variable]

    public init(hidden: Variable, attention: [Tensor], attentionTaps: [Variable]) {
        self.hidden = hidden
        self.attention = attention
        self.attentionTaps = attentionTaps
    }
}

/// An encoder whose forward can be recorded on a tape with its attention weights tapped.
public protocol DifferentiableSentenceEncoder: SentenceEncoder {
    /// The same numbers as ``SentenceEncoder/encode(ids:typeIds:attentionMask:observer:)`` without padding.
    /// - Parameters:
    ///   - ids, typeIds: `[B][T]` (typeIds ignored by encoders without segments)
    ///   - tape: where to record (nil: nothing); tapAttention: expose ∂y/∂A_l
    ///   - attentionOffsets: per layer, a constant added to the weights (finite-difference checks)
    func tracedEncode(ids: [[Int]], typeIds: [[Int]]?, tape: Tape?, tapAttention: Bool,
                      attentionOffsets: [Tensor]?) throws -> TracedEncoding
}

extension BertModel: DifferentiableSentenceEncoder {
    public func tracedEncode(ids: [[Int]], typeIds: [[Int]]?, tape: Tape?, tapAttention: Bool,
                             attentionOffsets: [Tensor]?) throws -> TracedEncoding {
        let run = try tracedForward(ids: ids, typeIds: typeIds, tape: tape, tapAttention: tapAttention,
                                    attentionOffsets: attentionOffsets)
        return TracedEncoding(hidden: run.hidden, attention: run.attention, attentionTaps: run.attentionTaps)
    }
}

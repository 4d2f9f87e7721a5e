// One entry point for every method on any model run: what `attend explain --method` and a server call.
import AttendNN
import Foundation

public enum ExplainMethods {
    /// The layers rollout, flow and grad-attention compose to reach `layer`: every layer of the trace up to it of the
    /// same kind (self- or causal self-attention) over the same tokens. For BERT and TinyGPT that is layers 0…layer;
    /// for an encoder-decoder, the encoder's self-attention layers, or the decoder's causal self-attention layers
    /// (cross-attention mixes two sequences, so it is not a step of a rollout).
    public static func chain(_ trace: ExplainTrace, upTo layer: Int) throws -> [Int] {
        guard layer >= 0, layer < trace.layers.count else { throw VizError.layerOutOfRange(layer, layers: trace.layers.count) }
        let target = trace.layers[layer]
        guard target.kind != .crossAttention, target.queryTokens == target.keyTokens else {
            throw ExplainMethodError.unsupported("\(target.label) is cross-attention: rollout, flow and grad-attention compose self-attention layers; choose an encoder or decoder self-attention layer")
        }
        return (0...layer).filter {
            let l = trace.layers[$0]
            return l.kind == target.kind && l.queryTokens == target.queryTokens && l.keyTokens == target.keyTokens
        }
    }

    /// The method's matrix for `layer` (and `head` where a method reads one head).
    /// - Parameters:
    ///   - trace: the captured run (raw, rollout and flow need only this)
    ///   - model, text: value-norm and grad-attention run the model again (`ExplainableAttention`); its sites must be
    ///     numbered as the trace's layers
    ///   - head: raw: the head (default 0); value-norm: the head, or nil for the whole layer
    ///   - target: grad-attention's y
    public static func result(_ method: ExplainMethod, trace: ExplainTrace, layer: Int, head: Int?,
                              model: AnyObject? = nil, text: String? = nil, target: GradientTarget? = nil) throws -> MethodResult {
        guard layer >= 0, layer < trace.layers.count else { throw VizError.layerOutOfRange(layer, layers: trace.layers.count) }
        let lt = trace.layers[layer]
        if let head, head < 0 || head >= lt.heads { throw VizError.headOutOfRange(head, heads: lt.heads) }
        switch method {
        case .raw:
            let h = head ?? 0
            return MethodResult(method: .raw, matrix: lt.weightRows(head: h), queryTokens: lt.queryTokens, keyTokens: lt.keyTokens,
                                layer: layer, head: h, notes: ["softmax weights of \(lt.label), head \(h); each row sums to 1"])
        case .rollout, .flow:
            let layers = try chain(trace, upTo: layer)
            let weights = layers.map { trace.layers[$0].weights }
            var r = method == .rollout
                ? try AttentionRollout.result(layers: weights, tokens: lt.queryTokens)
                : try AttentionFlow.result(layers: weights, tokens: lt.queryTokens)
            r.layer = layer
            if layers.count < layer + 1 {
                r.notes.append("composed over \(layers.map { trace.layers[$0].label }.joined(separator: ", "))")
            }
            return r
        case .valueNorm:
            guard let model = model as? any ExplainableAttention, let text else {
                throw ExplainMethodError.unsupported("value-norm needs the model's value projections; this model does not provide them (BERT and MPNet encoders, Llama decoders, tiny-gpt and tiny-translator do)")
            }
            return try ValueNorm.result(model: model, text: text, layer: layer, head: head, label: lt.label)
        case .gradAttention:
            guard let model = model as? any ExplainableAttention, let text else {
                throw ExplainMethodError.unsupported("grad-attention needs a differentiable run of the model with its attention exposed; this model does not provide one (BERT and MPNet encoders, Llama decoders, tiny-gpt and tiny-translator do)")
            }
            guard let target else {
                throw ExplainMethodError.invalidInput("grad-attention explains one output: give --target \"another sentence\" (sentence encoders) or --target-token TOKEN (decoders and the translator)")
            }
            let layers = try chain(trace, upTo: layer)
            var r = try GradAttention.result(model: model, text: text, target: target, sites: layers, tokens: lt.queryTokens)
            r.layer = layer
            if layers != Array(0...layer) {
                r.notes.append("composed over \(layers.map { trace.layers[$0].label }.joined(separator: ", "))")
            }
            return r
        }
    }
}

// Sentence encoders for value-norm (BERT and MPNet: layer l's value projection reads the layer's input) and
// grad-attention (y = cosine similarity to a target sentence; BERT and MPNet, whose differentiable forwards exist).
import AttendNN
import AttendTokenizers
import Foundation

extension SentenceEmbedder: ExplainableAttention {
    /// Layer l's value projection reads "embeddings" (l = 0) or "L{l−1}.hidden", as the encoder reports them.
    public func valueSites(_ text: String) throws -> [ValueSite] {
        let encoding = tokenizer.encode(text, maxLength: maxSeqLength)
        let recorder = IntermediateRecorder { $0 == "embeddings" || $0.hasSuffix(".hidden") || $0.hasSuffix(".weights") }
        let types = encoding.typeIds.count == encoding.ids.count ? encoding.typeIds : Array(repeating: 0, count: encoding.ids.count)
        _ = try model.encode(ids: [encoding.ids], typeIds: [types], attentionMask: nil, observer: recorder)   // [1, T, hidden]
        return try (0..<model.layerCount).map { l in
            let name = l == 0 ? "embeddings" : "L\(l - 1).hidden"
            guard let x = recorder[name], let w = recorder["L\(l).weights"] else {
                throw ModelError.invalidInput("the encoder reported no \(recorder[name] == nil ? name : "L\(l).weights")")
            }
            return ValueSite(weights: try w.select(axis: 0, 0), input: try x.select(axis: 0, 0),     // [H, T, T], [T, hidden]
                             attention: model.attentionLayers[l], queryTokens: encoding.tokens, keyTokens: encoding.tokens)
        }
    }

    /// y = cosine similarity between the mean-pooled last hidden states of `text` and the embedding of the target
    /// sentence (the model's own; normalising does not change a cosine). Needs mean pooling.
    public func attentionGradients(_ text: String, target: GradientTarget) throws -> AttentionGradients {
        guard case .similarity(let other) = target else {
            throw ModelError.invalidInput("a sentence encoder explains a similarity: give a target sentence (--target), not a target token")
        }
        guard pooling == [.mean] else {
            throw ModelError.invalidInput("grad-attention on a sentence encoder needs mean pooling; this model pools by \(pooling.map(\.rawValue))")
        }
        guard let encoder = model as? any DifferentiableSentenceEncoder else {
            throw ModelError.invalidInput("grad-attention needs a differentiable forward of the encoder; \(model.modelType) has none yet (BERT and MPNet have)")
        }
        let encoding = tokenizer.encode(text, maxLength: maxSeqLength)
        let targetVector = try embed([other])[0].vector                                             // [hidden]
        let tape = Tape()
        let types = encoding.typeIds.count == encoding.ids.count ? encoding.typeIds : Array(repeating: 0, count: encoding.ids.count)
        let run = try encoder.tracedEncode(ids: [encoding.ids], typeIds: [types], tape: tape, tapAttention: true, attentionOffsets: nil)
        let pooled = try run.hidden.mean(axis: 1)                                                    // [1, hidden]
        let y = try Variable.cosineSimilarity(pooled, Variable(Tensor(shape: [1, targetVector.count], scalars: targetVector)))  // [1]
        try tape.backward(y)
        return try AttentionGradients.collect(run.attention, run.attentionTaps, tape: tape, output: y.value.scalars[0],
                                              tokens: encoding.tokens, target: target.description)
    }
}

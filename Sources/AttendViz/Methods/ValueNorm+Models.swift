// Value-norm on the models Attend ships: where each model's value projection reads from.
import AttendNN
import AttendTokenizers
import Foundation

extension ValueNorm {
    /// BERT's per-layer value inputs for one encoding: layer l reads "embeddings" (l = 0) or "L{l−1}.hidden",
    /// as the model reports them to an observer. Also returns every layer's weights. Each `[T, hidden]` / `[H, T, T]`.
    public static func bertLayerInputs(model: BertModel, encoding: Encoding) throws -> (inputs: [Tensor], weights: [Tensor]) {
        let recorder = IntermediateRecorder { $0 == "embeddings" || $0.hasSuffix(".hidden") || $0.hasSuffix(".weights") }
        let types = encoding.typeIds.count == encoding.ids.count ? encoding.typeIds : Array(repeating: 0, count: encoding.ids.count)
        _ = try model(ids: [encoding.ids], typeIds: [types], observer: recorder)
        var inputs: [Tensor] = [], weights: [Tensor] = []
        for l in 0..<model.layerCount {
            let name = l == 0 ? "embeddings" : "L\(l - 1).hidden"
            guard let x = recorder[name], let w = recorder["L\(l).weights"] else {
                throw ExplainMethodError.invalidInput("the model reported no \(recorder[name] == nil ? name : "L\(l).weights")")
            }
            inputs.append(try x.select(axis: 0, 0))                                              // [T, hidden]
            weights.append(try w.select(axis: 0, 0))                                             // [H, T, T]
        }
        return (inputs, weights)
    }

    /// Value-norm of layer `layer` (head `head`, or the whole layer) of a BERT encoder on one encoding.
    public static func result(bert model: BertModel, encoding: Encoding, layer: Int, head: Int?) throws -> MethodResult {
        guard layer >= 0, layer < model.layerCount else {
            throw ExplainMethodError.invalidInput("value-norm: layer \(layer) is out of range 0…\(model.layerCount - 1)")
        }
        let run = try bertLayerInputs(model: model, encoding: encoding)
        return try result(weights: run.weights[layer], input: run.inputs[layer], attention: model.layers[layer].attention,
                          layer: layer, head: head, queryTokens: encoding.tokens, keyTokens: encoding.tokens)
    }

    /// Value-norm of layer `layer` of a TinyGPT (its value projection reads LN₁ of the block's input).
    public static func result(gpt: TinyGPT, ids: [Int], tokens: [String], layer: Int, head: Int?) throws -> MethodResult {
        guard layer >= 0, layer < gpt.blocks.count else {
            throw ExplainMethodError.invalidInput("value-norm: layer \(layer) is out of range 0…\(gpt.blocks.count - 1)")
        }
        let run = try gpt.tracedForward([ids], tape: nil)
        return try result(weights: run.attention[layer].select(axis: 0, 0), input: run.valueInputs[layer].select(axis: 0, 0),
                          attention: gpt.blocks[layer].attention, layer: layer, head: head, queryTokens: tokens, keyTokens: tokens)
    }
}

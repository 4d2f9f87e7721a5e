// Value-norm on any explainable model: each site's weights, the vectors its value projection read, and its module.
import AttendNN
import Foundation

extension ValueNorm {
    /// Value-norm of site `layer` (head `head`, or the whole layer) of one run of `model` on `text`.
    public static func result(model: any ExplainableAttention, text: String, layer: Int, head: Int?) throws -> MethodResult {
        let sites = try model.valueSites(text)
        guard layer >= 0, layer < sites.count else {
            throw ExplainMethodError.invalidInput("value-norm: layer \(layer) is out of range 0…\(sites.count - 1)")
        }
        let s = sites[layer]
        return try result(weights: s.weights, input: s.input, attention: s.attention, layer: layer, head: head,
                          queryTokens: s.queryTokens, keyTokens: s.keyTokens)
    }
}

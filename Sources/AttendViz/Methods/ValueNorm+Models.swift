// Value-norm on any explainable model: the site's weights, the vectors its value projection read, and its W_V, b_V
// and W_O (a MultiHeadAttention's, or Llama's GGUF matrices made dense).
import AttendNN
import Foundation

extension ValueNorm {
    /// Value-norm of site `layer` (head `head`, or the whole layer) of one run of `model` on `text`; `label` names the
    /// site in the notes (default "layer `layer`").
    public static func result(model: any ExplainableAttention, text: String, layer: Int, head: Int?,
                              label: String? = nil) throws -> MethodResult {
        guard layer >= 0 else { throw ExplainMethodError.invalidInput("value-norm: layer \(layer) is out of range") }
        let s = try model.valueSite(text, site: layer)
        let n = try compute(weights: s.weights, input: s.input, valueWeight: s.valueWeight, valueBias: s.valueBias,
                            outputWeight: s.outputWeight)
        var r = try result(n, layer: layer, head: head, queryTokens: s.queryTokens, keyTokens: s.keyTokens, label: label)
        // Grouped-query attention: say which value head this head shares (f^h still differs: W_O^h is per query head).
        let heads = s.weights.shape[0], d = s.outputWeight.shape[1] / heads, kvHeads = s.valueWeight.shape[0] / d
        if kvHeads < heads {
            let group = heads / kvHeads
            if let head {
                let kv = head / group
                r.notes.append("head \(head) reads value head \(kv), as heads \(kv * group)–\(kv * group + group - 1) do: they share the value vectors x_j·W_V, not α or W_O^h")
            } else {
                r.notes.append("grouped-query attention: \(heads) query heads share \(kvHeads) value heads (head h reads value head h / \(group))")
            }
        }
        return r
    }
}

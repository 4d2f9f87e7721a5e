import Attend
import Foundation

/// `attend explain --format json`: every intermediate of the chosen layer and head, so others can build on it.
///
///     {"model", "model_path", "text", "tokens", "layer", "head", "layers", "heads", "kind", "d_k", "scale",
///      "query_tokens", "key_tokens",             tokens of this layer's rows and columns (differ for cross-attention)
///      "embeddings": [T][hidden],                output of the embedding layer (when the model reports it)
///      "q": [Lq][d_k], "k": [Lk][d_k], "v": [Lk][d_v],
///      "scores": Q·Kᵀ, "scaled_scores": × scale, "masked_scores" (only with a mask; null = −∞),
///      "weights": softmax rows [Lq][Lk], "output": weights·V [Lq][d_v] (this head, before W_O),
///      "mask": [Lq][Lk] booleans (true = may attend) or null,
///      "summary": {"entropy_bits", "max_entropy_bits", "mostly", "mostly_share", "shares": {…}},
///      "token": {"index", "text", "top": [{"index", "token", "weight"}, …]}   (with --token)}
enum ExplainJSON {
    static func make(trace: ExplainTrace, layer: Int, head: Int, focus: Int?, source: ExplainModel) throws -> JSONOut.Value {
        let lt = try trace.layer(layer)
        let h = try lt.head(head)
        let summary = HeadSummary(layer: lt, layerIndex: layer, head: head)
        var pairs: [(String, JSONOut.Value)] = [
            ("model", .string(trace.model)),
            ("model_path", .string(source.folder.path)),
            ("text", .string(trace.text)),
            ("tokens", .array(trace.tokens.map { .string($0) })),
            ("layer", .int(layer)),
            ("head", .int(head)),
            ("layers", .int(trace.layers.count)),
            ("heads", .int(lt.heads)),
            ("kind", .string(lt.kind.rawValue)),
            ("d_k", .int(h.dk)),
            ("scale", .number(h.scale)),
            ("query_tokens", .array(lt.queryTokens.map { .string($0) })),
            ("key_tokens", .array(lt.keyTokens.map { .string($0) })),
        ]
        if let e = trace.embeddings { pairs.append(("embeddings", JSONOut.tensor(e))) }
        pairs += [
            ("q", JSONOut.tensor(h.q)),
            ("k", JSONOut.tensor(h.k)),
            ("v", JSONOut.tensor(h.v)),
            ("scores", JSONOut.tensor(h.scores)),
            ("scaled_scores", JSONOut.tensor(h.scaledScores)),
        ]
        if let m = h.maskedScores { pairs.append(("masked_scores", JSONOut.tensor(m))) }
        pairs += [
            ("weights", JSONOut.tensor(h.weights)),
            ("output", JSONOut.tensor(h.output)),
            ("mask", lt.mask.map { .array($0.map { .array($0.map { .bool($0) }) }) } ?? .null),
            ("summary", .object([
                ("entropy_bits", .double(summary.entropy)),
                ("max_entropy_bits", .double(summary.maxEntropy)),
                ("mostly", .string(summary.mostly.rawValue)),
                ("mostly_share", .double(summary.mostlyShare)),
                ("shares", .object(HeadSummary.Target.allCases.compactMap { t in summary.shares[t].map { (t.rawValue, .double($0)) } })),
            ])),
        ]
        if let f = focus {
            let order = (0..<lt.keyLength).sorted { h.weights[f, $0] > h.weights[f, $1] }
            pairs.append(("token", .object([
                ("index", .int(f)),
                ("text", .string(lt.queryTokens[f])),
                ("top", .array(order.prefix(5).map { j in
                    .object([("index", .int(j)), ("token", .string(lt.keyTokens[j])), ("weight", .number(h.weights[f, j]))])
                })),
            ])))
        }
        return .object(pairs)
    }
}

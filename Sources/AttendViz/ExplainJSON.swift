import AttendTensor
import Foundation

/// `attend explain --format json`: every intermediate of the chosen layer and head, so others can build on it.
///
///     {"model", "model_path", "text", "tokens", "layer", "head", "layers", "heads", "kind", "d_k", "scale",
///      "query_tokens", "key_tokens",             tokens of this layer's rows and columns (differ for cross-attention)
///      "embeddings": [T][hidden],                output of the embedding layer (when the model reports it)
///      "q": [Lq][d_k], "k": [Lk][d_k], "v": [Lk][d_v],
///      "scores": Q·Kᵀ, "scaled_scores": × scale, "score_bias": B [Lq][Lk] (only for a site with an additive bias,
///      MPNet's relative-position bias), "masked_scores" (scaled + bias, −∞ where masked; only with a mask or a bias;
///      null = −∞),
///      "weights": softmax rows [Lq][Lk], "output": weights·V [Lq][d_v] (this head, before W_O),
///      "mask": [Lq][Lk] booleans (true = may attend) or null,
///      "summary": {"entropy_bits", "max_entropy_bits", "mostly", "mostly_share", "shares": {…}},
///      "token": {"index", "text", "top": [{"index", "token", "weight"}, …]}   (with --token)}
public enum ExplainJSON {
    /// What the JSON says about the model beyond the trace itself.
    public struct ModelInfo: Sendable, Equatable {
        /// The folder the model was loaded from (`"model_path"`).
        public var path: String
        public init(path: String) { self.path = path }
    }

    /// The JSON of one head of one layer (0-based `layer` and `head`), with the top keys of query `focus` if given.
    public static func make(trace: ExplainTrace, layer: Int, head: Int, focus: Int?, model: ModelInfo) throws -> JSONValue {
        let lt = try trace.layer(layer)
        let h = try lt.head(head)
        let summary = HeadSummary(layer: lt, layerIndex: layer, head: head)
        var pairs: JSONObject = [
            ("model", .string(trace.model)),
            ("model_path", .string(model.path)),
            ("text", .string(trace.text)),
            ("tokens", .array(trace.tokens.map { .string($0) })),
            ("layer", .int(layer)),
            ("head", .int(head)),
            ("layers", .int(trace.layers.count)),
            ("heads", .int(lt.heads)),
            ("kind", .string(lt.kind.rawValue)),
            ("d_k", .int(h.dk)),
            ("scale", .float(h.scale)),
            ("query_tokens", .array(lt.queryTokens.map { .string($0) })),
            ("key_tokens", .array(lt.keyTokens.map { .string($0) })),
        ]
        if let e = trace.embeddings { pairs.append(("embeddings", JSONValue.tensor(e))) }
        pairs += [
            ("q", JSONValue.tensor(h.q)),
            ("k", JSONValue.tensor(h.k)),
            ("v", JSONValue.tensor(h.v)),
            ("scores", JSONValue.tensor(h.scores)),
            ("scaled_scores", JSONValue.tensor(h.scaledScores)),
        ]
        if let b = h.scoreBias { pairs.append(("score_bias", JSONValue.tensor(b))) }
        if let m = h.maskedScores { pairs.append(("masked_scores", JSONValue.tensor(m))) }
        pairs += [
            ("weights", JSONValue.tensor(h.weights)),
            ("output", JSONValue.tensor(h.output)),
            ("mask", lt.mask.map { .array($0.map { .array($0.map { .bool($0) }) }) } ?? .null),
            ("summary", .object([
                ("entropy_bits", .double(summary.entropy)),
                ("max_entropy_bits", .double(summary.maxEntropy)),
                ("mostly", .string(summary.mostly.rawValue)),
                ("mostly_share", .double(summary.mostlyShare)),
                ("shares", .object(JSONObject(HeadSummary.Target.allCases.compactMap { t in summary.shares[t].map { (t.rawValue, JSONValue.double($0)) } }))),
            ])),
        ]
        if let f = focus {
            let order = (0..<lt.keyLength).sorted { h.weights[f, $0] > h.weights[f, $1] }
            pairs.append(("token", .object([
                ("index", .int(f)),
                ("text", .string(lt.queryTokens[f])),
                ("top", .array(order.prefix(5).map { j in
                    .object([("index", .int(j)), ("token", .string(lt.keyTokens[j])), ("weight", .float(h.weights[f, j]))])
                })),
            ])))
        }
        return .object(pairs)
    }
}

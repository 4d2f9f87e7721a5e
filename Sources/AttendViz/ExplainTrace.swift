// What the views draw: the intermediates of one model run, as an observer saw them.
//
// A model reports named intermediates ("L3.q", "L3.weights", …) to an `IntermediateObserver`; `AttentionCapture`
// keeps them and turns each attention layer into an `AttentionLayerTrace`. One layer trace carries its own
// query tokens and key tokens (the same list for self-attention, decoder × encoder tokens for cross-attention)
// and an optional mask, so every view can show cross-attention and masked cells without knowing the model.
import AttendNN
import Foundation

// `AttentionKind` (self / causal / cross) lives in AttendModels with the attention sites that declare it.

/// Every head of one attention layer for one input (batch axis removed).
public struct AttentionLayerTrace: Sendable {
    /// The observer name prefix (`"L3"`, `"decoder.L1.cross"`).
    public var name: String
    /// For people: `"layer 3"`, `"decoder layer 1 · cross-attention"`.
    public var label: String
    public var kind: AttentionKind
    /// The attending tokens (rows of the weights).
    public var queryTokens: [String]
    /// The attended-to tokens (columns of the weights).
    public var keyTokens: [String]
    /// Softmax weights `[H, Lq, Lk]`, rows summing to 1 (0 for fully masked rows).
    public var weights: Tensor
    /// `[H, Lq, d]` after projection, when the model reported them.
    public var q: Tensor?
    /// `[Hkv, Lk, d]` (Hkv divides H: grouped-query attention), when reported.
    public var k: Tensor?
    /// `[Hkv, Lk, d_v]`, when reported.
    public var v: Tensor?
    /// `weights · V` per head, before the output projection: `[H, Lq, d_v]`, when reported.
    public var context: Tensor?
    /// `[Lq][Lk]`, **true = may attend**; nil when nothing is masked.
    public var mask: [[Bool]]?
    /// The factor applied to `QKᵀ`; nil means `1/√d_k`.
    public var scale: Float?
    /// The model's note on its q/k/v (``AttentionSite/note``), shown by the step-by-step text.
    public var note: String?
    /// An additive bias `[H, Lq, Lk]` added to the scaled scores before the softmax (MPNet's relative-position
    /// bias), when the site has one.
    public var scoreBias: Tensor?
    /// The name the model reported the bias under (`"position_bias"`).
    public var scoreBiasName: String?

    public init(name: String, label: String, kind: AttentionKind, queryTokens: [String], keyTokens: [String],
                weights: Tensor, q: Tensor? = nil, k: Tensor? = nil, v: Tensor? = nil, context: Tensor? = nil,
                mask: [[Bool]]? = nil, scale: Float? = nil) throws {
        guard weights.rank == 3, weights.shape[1] == queryTokens.count, weights.shape[2] == keyTokens.count else {
            throw VizError.invalidTrace("\(name): weights have shape \(weights.shape), expected [heads, \(queryTokens.count), \(keyTokens.count)] for the tokens given")
        }
        let (h, lq, lk) = (weights.shape[0], queryTokens.count, keyTokens.count)
        if let q, !(q.rank == 3 && q.shape[0] == h && q.shape[1] == lq) {
            throw VizError.invalidTrace("\(name): q has shape \(q.shape), expected [\(h), \(lq), d]")
        }
        for (n, t) in [("k", k), ("v", v)] {
            if let t, !(t.rank == 3 && t.shape[0] > 0 && h % t.shape[0] == 0 && t.shape[1] == lk) {
                throw VizError.invalidTrace("\(name): \(n) has shape \(t.shape), expected [heads, \(lk), d]")
            }
        }
        if let context, !(context.rank == 3 && context.shape[0] == h && context.shape[1] == lq) {
            throw VizError.invalidTrace("\(name): context has shape \(context.shape), expected [\(h), \(lq), d]")
        }
        if let mask, !(mask.count == lq && mask.allSatisfy { $0.count == lk }) {
            throw VizError.invalidTrace("\(name): mask must be \(lq)×\(lk)")
        }
        self.name = name
        self.label = label
        self.kind = kind
        self.queryTokens = queryTokens
        self.keyTokens = keyTokens
        self.weights = weights
        self.q = q
        self.k = k
        self.v = v
        self.context = context
        self.mask = mask
        self.scale = scale
    }

    public var heads: Int { weights.shape[0] }
    public var queryLength: Int { weights.shape[1] }
    public var keyLength: Int { weights.shape[2] }

    /// Whether query `i` may attend to key `j`.
    public func mayAttend(_ i: Int, _ j: Int) -> Bool { mask?[i][j] ?? true }

    /// One head's weights as rows `[Lq][Lk]`.
    public func weightRows(head: Int) -> [[Float]] {
        let (lq, lk) = (queryLength, keyLength)
        let base = head * lq * lk
        return (0..<lq).map { i in Array(weights.scalars[(base + i * lk)..<(base + (i + 1) * lk)]) }
    }

    /// The step-by-step intermediates of one head: Q, K, V, scores, scaled scores, weights, output.
    /// Scores are recomputed from the reported Q and K (the fused kernel never materialises them); the weights
    /// and the output are the model's own, and ``HeadTrace/recomputationError`` says how far the plain
    /// recomputation lands from them.
    public func head(_ h: Int) throws -> HeadTrace {
        guard h >= 0 && h < heads else { throw VizError.headOutOfRange(h, heads: heads) }
        guard let q, let k, let v else {
            throw VizError.missingIntermediate("\(name).q/.k/.v (the model did not report them)")
        }
        let kvh = h / (heads / k.shape[0])
        let qh = try q.select(axis: 0, h)                     // [Lq, d]
        let kh = try k.select(axis: 0, kvh)                   // [Lk, d]
        let vh = try v.select(axis: 0, kvh)                   // [Lk, d_v]
        let w = try weights.select(axis: 0, h)                // [Lq, Lk]
        let dk = qh.shape[1]
        var maskTensor: AttentionMask? = nil
        let bias = try scoreBias.map { try $0.select(axis: 0, h) }                           // [Lq, Lk]
        if let bias {
            // The bias added to every scaled score, −∞ where the mask forbids: one additive mask.
            var values = bias.scalars
            if let mask { for i in 0..<queryLength { for j in 0..<keyLength where !mask[i][j] { values[i * keyLength + j] = -.infinity } } }
            maskTensor = .additive(try Tensor(shape: [1, 1, queryLength, keyLength], scalars: values))  // [1, 1, Lq, Lk]
        } else if let mask {
            maskTensor = .boolean(try Tensor(shape: [1, 1, queryLength, keyLength],
                                             scalars: mask.flatMap { $0.map { $0 ? 1 : 0 } }))   // [1, 1, Lq, Lk]
        }
        let ref = try referenceAttention(query: qh.reshaped([1, 1, queryLength, dk]),   // [1, 1, Lq, d]
                                         key: kh.reshaped([1, 1, keyLength, dk]),       // [1, 1, Lk, d]
                                         value: vh.reshaped([1, 1, keyLength, vh.shape[1]]),
                                         mask: maskTensor, scale: scale)
        let output = try context.map { try $0.select(axis: 0, h) }                         // [Lq, d_v]
            ?? ref.output.reshaped([queryLength, vh.shape[1]])
        var err: Float = 0
        for (a, b) in zip(ref.weights.scalars, w.scalars) { err = max(err, abs(a - b)) }
        for (a, b) in zip(ref.output.scalars, output.scalars) { err = max(err, abs(a - b)) }
        return HeadTrace(layerName: name, layerLabel: label, kind: kind, head: h, heads: heads,
                         queryTokens: queryTokens, keyTokens: keyTokens, q: qh, k: kh, v: vh,
                         scores: try ref.scores.reshaped([queryLength, keyLength]),
                         scaledScores: try ref.scaledScores.reshaped([queryLength, keyLength]),
                         maskedScores: mask == nil && bias == nil ? nil : try ref.maskedScores.reshaped([queryLength, keyLength]),
                         weights: w, output: output, scale: ref.scale, mask: mask, recomputationError: err,
                         scoreBias: bias, scoreBiasName: scoreBiasName)
    }
}

/// One head of one layer, every step.
public struct HeadTrace: Sendable {
    public var layerName: String
    public var layerLabel: String
    public var kind: AttentionKind
    public var head: Int
    public var heads: Int
    public var queryTokens: [String]
    public var keyTokens: [String]
    /// `[Lq, d]`
    public var q: Tensor
    /// `[Lk, d]`
    public var k: Tensor
    /// `[Lk, d_v]`
    public var v: Tensor
    /// `Q·Kᵀ`: `[Lq, Lk]`
    public var scores: Tensor
    /// `Q·Kᵀ · scale`: `[Lq, Lk]`
    public var scaledScores: Tensor
    /// Scaled scores plus the score bias, with −∞ where masked: `[Lq, Lk]`; nil with neither a mask nor a bias.
    public var maskedScores: Tensor?
    /// The model's softmax weights `[Lq, Lk]`.
    public var weights: Tensor
    /// The model's `weights · V` for this head `[Lq, d_v]`.
    public var output: Tensor
    public var scale: Float
    public var mask: [[Bool]]?
    /// Largest |difference| between the model's weights/output and a plain Double recomputation from Q, K, V.
    public var recomputationError: Float
    /// This head's additive score bias `[Lq, Lk]` (MPNet's relative-position bias), when the site has one.
    public var scoreBias: Tensor? = nil
    public var scoreBiasName: String? = nil

    public var dk: Int { q.shape[1] }
    public var mayAttend: (Int, Int) -> Bool { { [mask] i, j in mask?[i][j] ?? true } }
}

/// A model run, ready to explain and draw.
public struct ExplainTrace: Sendable {
    /// The model's name as the user gave it (`all-MiniLM-L6-v2`).
    public var model: String
    /// The input text (for a translator: the source text).
    public var text: String
    /// The input tokens.
    public var tokens: [String]
    /// Output of the embedding layer `[T, hidden]`, when reported.
    public var embeddings: Tensor?
    /// Every captured attention layer, in model order (for an encoder-decoder: encoder, decoder self, cross…).
    public var layers: [AttentionLayerTrace]
    /// The input was cut to the model's length limit.
    public var wasTruncated: Bool
    /// How the embeddings are made, in one line (from the model); nil for the generic wording.
    public var embeddingsFormula: String?

    public init(model: String, text: String, tokens: [String], embeddings: Tensor? = nil,
                layers: [AttentionLayerTrace], wasTruncated: Bool = false) {
        self.model = model
        self.text = text
        self.tokens = tokens
        self.embeddings = embeddings
        self.layers = layers
        self.wasTruncated = wasTruncated
    }

    /// The layer trace at `index`, or a typed error naming the valid range.
    public func layer(_ index: Int) throws -> AttentionLayerTrace {
        guard index >= 0 && index < layers.count else { throw VizError.layerOutOfRange(index, layers: layers.count) }
        return layers[index]
    }

    /// Finds a token by position (`"10"`) or by text (`"it"`, case-insensitive; `##` pieces match without the `##`).
    /// - Returns: the index and, when the text occurs more than once, every index where it does.
    public static func findToken(_ query: String, in tokens: [String]) throws -> (index: Int, occurrences: [Int]) {
        let trimmed = query.trimmingCharacters(in: .whitespaces)
        if let i = Int(trimmed) {
            guard i >= 0 && i < tokens.count else { throw VizError.tokenIndexOutOfRange(i, count: tokens.count) }
            return (i, [i])
        }
        let key = trimmed.lowercased()
        func strip(_ s: String) -> String { s.hasPrefix("##") ? String(s.dropFirst(2)) : s }
        var hits = tokens.indices.filter { tokens[$0].lowercased() == key }
        if hits.isEmpty { hits = tokens.indices.filter { strip(tokens[$0]).lowercased() == strip(key) } }
        guard let first = hits.first else { throw VizError.tokenNotFound(query, tokens: tokens) }
        return (first, hits)
    }
}

/// Problems the views report as one line.
public enum VizError: Error, CustomStringConvertible, Equatable {
    case layerOutOfRange(Int, layers: Int)
    case headOutOfRange(Int, heads: Int)
    case tokenNotFound(String, tokens: [String])
    case tokenIndexOutOfRange(Int, count: Int)
    case missingIntermediate(String)
    case invalidTrace(String)

    public var description: String {
        switch self {
        case let .layerOutOfRange(l, n):
            return "layer \(l) is out of range: this model has \(n) layer\(n == 1 ? "" : "s"), numbered 0…\(max(0, n - 1))"
        case let .headOutOfRange(h, n):
            return "head \(h) is out of range: this layer has \(n) head\(n == 1 ? "" : "s"), numbered 0…\(max(0, n - 1))"
        case let .tokenNotFound(w, tokens):
            let shown = tokens.prefix(40).enumerated().map { "\($0.offset) \($0.element)" }.joined(separator: ", ")
            return "token \"\(w)\" is not among the tokens (\(shown)\(tokens.count > 40 ? ", …" : "")); pass a token or its index"
        case let .tokenIndexOutOfRange(i, n):
            return "token index \(i) is out of range: the input has \(n) tokens, numbered 0…\(max(0, n - 1))"
        case .missingIntermediate(let m): return "missing intermediate \(m)"
        case .invalidTrace(let m): return m
        }
    }
}

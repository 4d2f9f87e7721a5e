// Capturing a model run through the observer hook. Models know nothing of this file: they report
// "embeddings", "L3.q", "L3.weights", … and the capture keeps what the views need.
import AttendNN
import AttendTokenizers
import Foundation

/// An observer that keeps embeddings and attention intermediates (q, k, v, weights, context) of every layer.
public final class AttentionCapture: IntermediateObserver {
    private let recorder: IntermediateRecorder

    /// - Parameters:
    ///   - vectors: also keep q, k, v and context (the step-by-step text needs them; heatmaps need only weights)
    ///   - also: further names to keep (the sites' score biases)
    public init(vectors: Bool = true, also: Set<String> = []) {
        recorder = IntermediateRecorder { name in
            if name == "embeddings" || name.hasSuffix(".weights") || also.contains(name) { return true }
            return vectors && (name.hasSuffix(".q") || name.hasSuffix(".k") || name.hasSuffix(".v") || name.hasSuffix(".context"))
        }
    }

    public func wants(_ name: String) -> Bool { recorder.wants(name) }
    public func observe(_ name: String, _ value: Tensor) { recorder.observe(name, value) }
    public subscript(name: String) -> Tensor? { recorder[name] }
    /// Names seen, in the order the model reported them.
    public var names: [String] { recorder.order }

    /// Builds the trace of the attention layer the model reported under `name` (`"L3"` → `"L3.weights"`, …),
    /// taking batch item `batch`.
    public func layer(_ name: String, label: String, kind: AttentionKind, queryTokens: [String], keyTokens: [String],
                      mask: [[Bool]]? = nil, scale: Float? = nil, scoreBias: String? = nil, batch: Int = 0) throws -> AttentionLayerTrace {
        guard let w = recorder[name + ".weights"] else { throw VizError.missingIntermediate("\(name).weights") }
        func item(_ t: Tensor?) throws -> Tensor? {
            guard let t else { return nil }
            guard t.rank == 4, batch < t.shape[0] else {
                throw VizError.invalidTrace("\(name): expected [batch, heads, length, dim] intermediates, got \(t.shape)")
            }
            return try t.select(axis: 0, batch)                  // [H, L, d]
        }
        let weights = try item(w) ?? w                          // [H, Lq, Lk]
        let (lq, lk) = (weights.shape[1], weights.shape[2])
        // A batch padded beyond these tokens: keep the first Lq × Lk block.
        let qTokens = Array(queryTokens.prefix(lq)), kTokens = Array(keyTokens.prefix(lk))
        guard qTokens.count == lq, kTokens.count == lk else {
            throw VizError.invalidTrace("\(name): weights are \(lq)×\(lk) but \(queryTokens.count)×\(keyTokens.count) tokens were given")
        }
        var trace = try AttentionLayerTrace(
            name: name, label: label, kind: kind, queryTokens: qTokens, keyTokens: kTokens, weights: weights,
            q: item(recorder[name + ".q"]), k: item(recorder[name + ".k"]), v: item(recorder[name + ".v"]),
            context: item(recorder[name + ".context"]), mask: mask, scale: scale)
        if let scoreBias {
            guard let b = recorder[scoreBias], b.rank == 4, b.shape[1] == weights.shape[0],
                  b.shape[2] >= lq, b.shape[3] >= lk else {
                throw VizError.missingIntermediate("\(scoreBias) ([1, \(weights.shape[0]), \(lq), \(lk)] score bias of \(name))")
            }
            let item = try b.select(axis: 0, b.shape[0] == 1 ? 0 : batch)                 // [H, Lq', Lk']
            trace.scoreBias = try item.slice(axis: 1, 0..<lq).slice(axis: 2, 0..<lk)       // [H, Lq, Lk]
            trace.scoreBiasName = scoreBias
        }
        return trace
    }
}

extension ExplainTrace {
    /// Runs any model on `text` and captures every attention site it lists (``AttendModel/attentionSites``): the
    /// tokens on each axis come from the site (source or target tokens), causal sites get the causal mask, and padded
    /// source keys are masked. No per-family code: a new family is explained as soon as it conforms to ``AttendModel``.
    /// - Parameter vectors: also keep q, k, v and context (the step-by-step text needs them; heatmaps need only weights)
    public static func capture(model: any AttendModel, text: String, modelName: String,
                               vectors: Bool = true) throws -> ExplainTrace {
        try capture(sites: model.attentionSites, modelName: modelName, vectors: vectors) { observer in
            try model.runAttention(text, observer: observer)
        }
    }

    /// A loaded model under its own name.
    public static func capture(_ loaded: LoadedModel, text: String, vectors: Bool = true) throws -> ExplainTrace {
        try capture(model: loaded.model, text: text, modelName: loaded.name, vectors: vectors)
    }

    /// The generic capture: `run` runs the model with the observer it is given and says which tokens it read; each
    /// of `sites` becomes one layer trace, in order.
    public static func capture(sites: [AttentionSite], modelName: String, vectors: Bool = true,
                               run: (any IntermediateObserver) throws -> AttentionRun) throws -> ExplainTrace {
        let capture = AttentionCapture(vectors: vectors, also: Set(sites.compactMap(\.scoreBias)))
        let result = try run(capture)
        let layers = try sites.map { site -> AttentionLayerTrace in
            let queries = result.tokens(site.queries), keys = result.tokens(site.keys)
            var layer = try capture.layer(site.name, label: site.label, kind: site.kind, queryTokens: queries, keyTokens: keys,
                                          mask: mask(site, queries: queries.count, keys: keys.count, run: result),
                                          scoreBias: site.scoreBias)
            layer.note = site.note
            return layer
        }
        let embeddings = try capture["embeddings"].map { try $0.select(axis: 0, 0) }   // [T, hidden]
        var trace = ExplainTrace(model: modelName, text: result.text, tokens: result.sourceTokens, embeddings: embeddings,
                                 layers: layers, wasTruncated: result.wasTruncated)
        trace.embeddingsFormula = result.embeddingsFormula
        return trace
    }

    /// `[Lq][Lk]`, true = may attend: causal sites see themselves and earlier positions, padded source keys are
    /// masked; nil when nothing is.
    static func mask(_ site: AttentionSite, queries: Int, keys: Int, run: AttentionRun) -> [[Bool]]? {
        let causal = site.kind == .causalSelfAttention
        let padding = site.keys == .source ? run.sourceIsReal.map { Array($0.prefix(keys)) } : nil
        guard causal || padding != nil else { return nil }
        return (0..<queries).map { i in
            (0..<keys).map { j in (!causal || j <= i) && (padding?[j] ?? true) }
        }
    }
}

// Compatibility: the per-family entry points, now thin calls of the generic capture.
extension ExplainTrace {
    /// Runs a BERT encoder on one encoding and captures every layer.
    public static func capture(bert model: BertModel, encoding: Encoding, text: String, modelName: String,
                               vectors: Bool = true) throws -> ExplainTrace {
        let sites = (0..<model.layerCount).map {
            AttentionSite(name: "L\($0)", label: "layer \($0)", kind: .selfAttention, heads: model.heads, queries: .source, keys: .source)
        }
        return try capture(sites: sites, modelName: modelName, vectors: vectors) { observer in
            try model.runAttention(encoding: encoding, text: text, observer: observer)
        }
    }

    /// Tokenizes `text` as the sentence-transformers model does (its `max_seq_length`) and captures every layer.
    public static func capture(embedder: SentenceEmbedder, text: String, modelName: String,
                               vectors: Bool = true) throws -> ExplainTrace {
        try capture(model: embedder, text: text, modelName: modelName, vectors: vectors)
    }

    /// Runs the encoder-decoder translator with teacher forcing on the given tokens and captures every site.
    /// - Parameters:
    ///   - sourceTokens: the encoder's input words (as the translator's source vocabulary spells them)
    ///   - targetTokens: the decoder's input, starting with `<bos>` (teacher forcing)
    ///   - vectors: also keep q, k, v and context (default false, as this entry point always did: weights only)
    public static func capture(translator: TinyTranslator, sourceTokens: [String], targetTokens: [String],
                               modelName: String, vectors: Bool = false) throws -> ExplainTrace {
        guard !sourceTokens.isEmpty, !targetTokens.isEmpty else {
            throw VizError.invalidTrace("the translator needs at least one source and one target token")
        }
        return try capture(sites: translator.attentionSites, modelName: modelName, vectors: vectors) { observer in
            try translator.runAttention(sourceTokens: sourceTokens, targetTokens: targetTokens, observer: observer)
        }
    }
}

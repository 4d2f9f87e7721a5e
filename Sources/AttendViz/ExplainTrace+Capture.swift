// Capturing a model run through the observer hook. Models know nothing of this file: they report
// "embeddings", "L3.q", "L3.weights", … and the capture keeps what the views need.
import AttendNN
import AttendTokenizers
import Foundation

/// An observer that keeps embeddings and attention intermediates (q, k, v, weights, context) of every layer.
public final class AttentionCapture: IntermediateObserver {
    private let recorder: IntermediateRecorder

    /// - Parameter vectors: also keep q, k, v and context (the step-by-step text needs them; heatmaps need only weights).
    public init(vectors: Bool = true) {
        recorder = IntermediateRecorder { name in
            if name == "embeddings" || name.hasSuffix(".weights") { return true }
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
                      mask: [[Bool]]? = nil, scale: Float? = nil, batch: Int = 0) throws -> AttentionLayerTrace {
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
        return try AttentionLayerTrace(
            name: name, label: label, kind: kind, queryTokens: qTokens, keyTokens: kTokens, weights: weights,
            q: item(recorder[name + ".q"]), k: item(recorder[name + ".k"]), v: item(recorder[name + ".v"]),
            context: item(recorder[name + ".context"]), mask: mask, scale: scale)
    }
}

extension ExplainTrace {
    /// Runs a BERT encoder on one encoding and captures every layer.
    public static func capture(bert model: BertModel, encoding: Encoding, text: String, modelName: String,
                               vectors: Bool = true) throws -> ExplainTrace {
        let capture = AttentionCapture(vectors: vectors)
        _ = try model(ids: [encoding.ids], typeIds: [encoding.typeIds.count == encoding.ids.count ? encoding.typeIds : Array(repeating: 0, count: encoding.ids.count)],
                      observer: capture)
        let layers = try (0..<model.layerCount).map { i in
            try capture.layer("L\(i)", label: "layer \(i)", kind: .selfAttention,
                              queryTokens: encoding.tokens, keyTokens: encoding.tokens)
        }
        let embeddings = try capture["embeddings"].map { try $0.select(axis: 0, 0) }   // [T, hidden]
        return ExplainTrace(model: modelName, text: text, tokens: encoding.tokens, embeddings: embeddings,
                            layers: layers, wasTruncated: encoding.wasTruncated)
    }

    /// Tokenizes `text` as the sentence-transformers model does (its `max_seq_length`) and captures every layer.
    public static func capture(embedder: SentenceEmbedder, text: String, modelName: String,
                               vectors: Bool = true) throws -> ExplainTrace {
        let encoding = embedder.tokenizer.encode(text, maxLength: embedder.maxSeqLength)
        return try capture(bert: embedder.model, encoding: encoding, text: text, modelName: modelName, vectors: vectors)
    }
}

extension ExplainTrace {
    /// Runs the encoder-decoder translator with teacher forcing and captures every attention layer: encoder
    /// self-attention (source × source), decoder causal self-attention (target × target, the future masked) and
    /// cross-attention (target rows × source columns; `<pad>` columns masked). This model reports weights only,
    /// so the heatmap, flow and HTML views work and the step-by-step text does not.
    /// - Parameters:
    ///   - sourceTokens: the encoder's input words (as the translator's source vocabulary spells them)
    ///   - targetTokens: the decoder's input, starting with `<bos>` (teacher forcing)
    public static func capture(translator: TinyTranslator, sourceTokens: [String], targetTokens: [String],
                               modelName: String) throws -> ExplainTrace {
        guard !sourceTokens.isEmpty, !targetTokens.isEmpty else {
            throw VizError.invalidTrace("the translator needs at least one source and one target token")
        }
        let src = translator.sourceVocabulary.encode(sourceTokens)   // [S]
        let tgt = translator.targetVocabulary.encode(targetTokens)   // [T]
        let capture = AttentionCapture(vectors: false)
        var ctx = ForwardContext.inference(observer: capture)
        _ = try translator(source: [src], targetIn: [tgt], &ctx)
        let real = src.map { $0 != WordVocabulary.pad }
        let padded = real.contains(false)
        let (s, t) = (src.count, tgt.count)
        var layers: [AttentionLayerTrace] = []
        for i in 0..<translator.config.encoderLayers {
            layers.append(try capture.layer("encoder.L\(i).self_attn", label: "encoder \(i) · self", kind: .selfAttention,
                                            queryTokens: sourceTokens, keyTokens: sourceTokens,
                                            mask: padded ? Array(repeating: real, count: s) : nil))
        }
        let causal = (0..<t).map { i in (0..<t).map { $0 <= i } }
        let pooled = translator.config.isBottleneck
        for i in 0..<translator.config.decoderLayers {
            layers.append(try capture.layer("decoder.L\(i).self_attn", label: "decoder \(i) · self", kind: .causalSelfAttention,
                                            queryTokens: targetTokens, keyTokens: targetTokens, mask: causal))
            // The bottleneck baseline attends to one pooled vector instead of the source tokens.
            layers.append(try capture.layer("decoder.L\(i).encoder_attn", label: "decoder \(i) · cross", kind: .crossAttention,
                                            queryTokens: targetTokens, keyTokens: pooled ? ["⟨pooled source⟩"] : sourceTokens,
                                            mask: padded && !pooled ? Array(repeating: real, count: t) : nil))
        }
        return ExplainTrace(model: modelName, text: sourceTokens.joined(separator: " "), tokens: sourceTokens, layers: layers)
    }
}

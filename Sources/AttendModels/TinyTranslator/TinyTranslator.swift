// TinyTranslator: an encoder-decoder transformer (Vaswani et al., 2017, "Attention Is All You Need",
// arXiv:1706.03762) small enough to train in Swift in minutes, on the synthetic English→French corpus of
// TranslationCorpus.swift. Reference implementation: Hugging Face transformers' `modeling_bart.py`
// (BartEncoderLayer / BartDecoderLayer); parameter names follow its checkpoints
// (`decoder.layers.0.encoder_attn.q_proj.weight`), with pre-layer-norm blocks as in mBART.
//
//   source ids ─▶ embed + sinusoidal positions
//              ─▶ N × [ LN ─▶ self-attention (padding mask) ─▶ +res ─▶ LN ─▶ fc1 ─▶ GELU ─▶ fc2 ─▶ +res ]
//              ─▶ LN ─▶ memory [B, S, D]
//   target ids ─▶ embed + sinusoidal positions
//              ─▶ N × [ LN ─▶ causal self-attention ─▶ +res
//                       LN ─▶ cross-attention to memory (padding mask) ─▶ +res
//                       LN ─▶ fc1 ─▶ GELU ─▶ fc2 ─▶ +res ]
//              ─▶ LN ─▶ lm_head ─▶ logits [B, T, V]
//
// The bottleneck baseline (`cross_attention: "pooled"`) is the same network whose decoder sees one vector:
// the mean of the memory over real source tokens, a memory of length 1 — the fixed-size summary of the
// pre-attention encoder-decoders (Sutskever et al., 2014), which attention replaced (Bahdanau et al., 2015).
//
// Attention is the only layer that mixes information across positions; every other op works on each token
// alone. Intermediates reported to an observer: "encoder.L{i}.self_attn.weights" [B, H, S, S],
// "decoder.L{i}.self_attn.weights" [B, H, T, T], "decoder.L{i}.encoder_attn.weights" [B, H, T, S].
//
// The forward pass is written once on `Variable`s: with a tape it trains, without one it is plain inference.
// Greedy decoding keeps a key/value cache per decoder layer (TinyTranslator+Decoding.swift).
import AttendNN
import Foundation

/// `config.json` of a TinyTranslator, with BART-style key names.
public struct TinyTranslatorConfig: Codable, Sendable, Equatable {
    public var dModel: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var attentionHeads: Int
    public var ffnDim: Int
    public var maxPositionEmbeddings: Int
    public var sourceVocabSize: Int
    public var targetVocabSize: Int
    public var dropout: Float
    /// "full" (cross-attention over every source token) or "pooled" (the bottleneck baseline).
    public var crossAttention: String
    public var modelType: String

    enum CodingKeys: String, CodingKey {
        case dModel = "d_model", encoderLayers = "encoder_layers", decoderLayers = "decoder_layers"
        case attentionHeads = "attention_heads", ffnDim = "ffn_dim", maxPositionEmbeddings = "max_position_embeddings"
        case sourceVocabSize = "source_vocab_size", targetVocabSize = "target_vocab_size", dropout
        case crossAttention = "cross_attention", modelType = "model_type"
    }

    public init(dModel: Int = 96, encoderLayers: Int = 2, decoderLayers: Int = 2, attentionHeads: Int = 4,
                ffnDim: Int = 256, maxPositionEmbeddings: Int = 48, sourceVocabSize: Int, targetVocabSize: Int,
                dropout: Float = 0, bottleneck: Bool = false) {
        self.dModel = dModel
        self.encoderLayers = encoderLayers
        self.decoderLayers = decoderLayers
        self.attentionHeads = attentionHeads
        self.ffnDim = ffnDim
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.sourceVocabSize = sourceVocabSize
        self.targetVocabSize = targetVocabSize
        self.dropout = dropout
        crossAttention = bottleneck ? "pooled" : "full"
        modelType = "tiny-translator"
    }

    public var isBottleneck: Bool { crossAttention == "pooled" }

    func validate(source: String) throws {
        let check = ConfigCheck(source: source)
        try check.size(dModel, "d_model")
        try check.count(encoderLayers, "encoder_layers")
        try check.count(decoderLayers, "decoder_layers")
        try check.count(attentionHeads, "attention_heads", positive: true)
        try check.divisible(dModel, "d_model", by: attentionHeads, "attention_heads")
        try check.size(ffnDim, "ffn_dim")
        try check.size(maxPositionEmbeddings, "max_position_embeddings")
        try check.require(sourceVocabSize, "source_vocab_size", in: 5...ConfigCheck.maxSize)
        try check.require(targetVocabSize, "target_vocab_size", in: 5...ConfigCheck.maxSize)
        let layers = encoderLayers + decoderLayers
        try check.elements([Swift.max(sourceVocabSize, targetVocabSize), dModel], "vocab size × d_model")
        // The sinusoidal table is computed at load, not read from the weights: 2^24 values (64 MiB) at most.
        try check.elements([maxPositionEmbeddings, dModel], "max_position_embeddings × d_model", limit: 1 << 24,
                           unit: "values of the sinusoidal position table computed at load")
        try check.elements([layers, 2 * ffnDim, dModel], "layers × 2 × ffn_dim × d_model")
        try check.elements([layers, 8, dModel, dModel], "layers × 8 × d_model²")
        guard dropout >= 0, dropout < 1 else {
            throw ModelError.invalidConfig(source, "dropout is \(dropout), expected a value in [0, 1)")
        }
        guard crossAttention == "full" || crossAttention == "pooled" else {
            throw ModelError.invalidConfig(source, "cross_attention \"\(crossAttention)\" is not \"full\" or \"pooled\"")
        }
    }
}

/// Pre-LN encoder layer: `x + SelfAttn(LN(x))`, then `h + FFN(LN(h))`.
public final class TranslatorEncoderLayer: Module {
    public let selfAttn: MultiHeadAttention
    public let selfAttnLayerNorm: LayerNorm
    public let fc1: Linear   // [ffn, D]
    public let fc2: Linear   // [D, ffn]
    public let finalLayerNorm: LayerNorm

    init(_ c: TinyTranslatorConfig, rng: inout SeededRNG) throws {
        selfAttn = try MultiHeadAttention(embedDim: c.dModel, heads: c.attentionHeads, rng: &rng)
        selfAttnLayerNorm = LayerNorm(c.dModel)
        fc1 = Linear(c.dModel, c.ffnDim, rng: &rng)
        fc2 = Linear(c.ffnDim, c.dModel, rng: &rng)
        finalLayerNorm = LayerNorm(c.dModel)
    }

    public var children: [(String, any Module)] {
        [("self_attn", selfAttn), ("self_attn_layer_norm", selfAttnLayerNorm), ("fc1", fc1), ("fc2", fc2),
         ("final_layer_norm", finalLayerNorm)]
    }

    /// `x`: `[B, S, D]`, `padding`: `[B, S]` (1 = real) → `[B, S, D]`
    func callAsFunction(_ x: Variable, padding: Tensor?, _ ctx: inout ForwardContext, name: String) throws -> Variable {
        let a = try selfAttn(query: selfAttnLayerNorm(x, tape: ctx.tape), keyPaddingMask: padding, tape: ctx.tape,
                             observer: ctx.observer, name: name + ".self_attn")                              // [B, S, D]
        let h = try x + ctx.drop(a)                                                                           // [B, S, D]
        let f = try fc2(fc1(finalLayerNorm(h, tape: ctx.tape), tape: ctx.tape).gelu(), tape: ctx.tape)         // [B, S, D]
        return try h + ctx.drop(f)                                                                            // [B, S, D]
    }
}

/// Pre-LN decoder layer: causal self-attention, cross-attention to the encoder's memory, feed-forward.
public final class TranslatorDecoderLayer: Module {
    public let selfAttn: MultiHeadAttention
    public let selfAttnLayerNorm: LayerNorm
    public let encoderAttn: MultiHeadAttention
    public let encoderAttnLayerNorm: LayerNorm
    public let fc1: Linear
    public let fc2: Linear
    public let finalLayerNorm: LayerNorm

    init(_ c: TinyTranslatorConfig, rng: inout SeededRNG) throws {
        selfAttn = try MultiHeadAttention(embedDim: c.dModel, heads: c.attentionHeads, rng: &rng)
        selfAttnLayerNorm = LayerNorm(c.dModel)
        encoderAttn = try MultiHeadAttention(embedDim: c.dModel, heads: c.attentionHeads, rng: &rng)
        encoderAttnLayerNorm = LayerNorm(c.dModel)
        fc1 = Linear(c.dModel, c.ffnDim, rng: &rng)
        fc2 = Linear(c.ffnDim, c.dModel, rng: &rng)
        finalLayerNorm = LayerNorm(c.dModel)
    }

    public var children: [(String, any Module)] {
        [("self_attn", selfAttn), ("self_attn_layer_norm", selfAttnLayerNorm), ("encoder_attn", encoderAttn),
         ("encoder_attn_layer_norm", encoderAttnLayerNorm), ("fc1", fc1), ("fc2", fc2), ("final_layer_norm", finalLayerNorm)]
    }

    /// `x`: `[B, T, D]`, `memory`: `[B, S, D]`, `memoryPadding`: `[B, S]` → `[B, T, D]`
    func callAsFunction(_ x: Variable, memory: Variable, memoryPadding: Tensor?, _ ctx: inout ForwardContext,
                        name: String) throws -> Variable {
        let s = try selfAttn(query: selfAttnLayerNorm(x, tape: ctx.tape), isCausal: true, tape: ctx.tape,
                             observer: ctx.observer, name: name + ".self_attn")                              // [B, T, D]
        var h = try x + ctx.drop(s)                                                                           // [B, T, D]
        let c = try encoderAttn(query: encoderAttnLayerNorm(h, tape: ctx.tape), key: memory, value: memory,
                                keyPaddingMask: memoryPadding, tape: ctx.tape,
                                observer: ctx.observer, name: name + ".encoder_attn")                         // [B, T, D]
        h = try h + ctx.drop(c)                                                                               // [B, T, D]
        let f = try fc2(fc1(finalLayerNorm(h, tape: ctx.tape), tape: ctx.tape).gelu(), tape: ctx.tape)         // [B, T, D]
        return try h + ctx.drop(f)                                                                            // [B, T, D]
    }
}

/// The encoder-decoder, its vocabularies and its sinusoidal position table.
public final class TinyTranslator: Module {
    public let config: TinyTranslatorConfig
    public let sourceVocabulary: WordVocabulary
    public let targetVocabulary: WordVocabulary
    public let encoderEmbed: Embedding      // encoder.embed_tokens [srcVocab, D]
    public let decoderEmbed: Embedding      // decoder.embed_tokens [tgtVocab, D]
    public let encoderLayers: [TranslatorEncoderLayer]
    public let decoderLayers: [TranslatorDecoderLayer]
    public let encoderNorm: LayerNorm       // encoder.layer_norm
    public let decoderNorm: LayerNorm       // decoder.layer_norm
    public let lmHead: Linear               // lm_head [tgtVocab, D], no bias
    let positions: Tensor                   // [maxPositions, D], fixed

    public init(config: TinyTranslatorConfig, sourceVocabulary: WordVocabulary, targetVocabulary: WordVocabulary,
                seed: UInt64 = 0) throws {
        try config.validate(source: "config")
        guard sourceVocabulary.count == config.sourceVocabSize, targetVocabulary.count == config.targetVocabSize else {
            throw ModelError.invalidConfig("config", "vocabularies have \(sourceVocabulary.count)/\(targetVocabulary.count) tokens, "
                + "config says \(config.sourceVocabSize)/\(config.targetVocabSize)")
        }
        self.config = config
        self.sourceVocabulary = sourceVocabulary
        self.targetVocabulary = targetVocabulary
        var rng = SeededRNG(seed: seed)
        encoderEmbed = Embedding(config.sourceVocabSize, config.dModel, rng: &rng)
        decoderEmbed = Embedding(config.targetVocabSize, config.dModel, rng: &rng)
        encoderLayers = try (0..<config.encoderLayers).map { _ in try TranslatorEncoderLayer(config, rng: &rng) }
        decoderLayers = try (0..<config.decoderLayers).map { _ in try TranslatorDecoderLayer(config, rng: &rng) }
        encoderNorm = LayerNorm(config.dModel)
        decoderNorm = LayerNorm(config.dModel)
        lmHead = Linear(config.dModel, config.targetVocabSize, bias: false, rng: &rng)
        positions = PositionalEncoding.sinusoidal(length: config.maxPositionEmbeddings, dim: config.dModel)
    }

    /// A model for the grammar's vocabularies.
    public convenience init(config: TinyTranslatorConfig? = nil, bottleneck: Bool = false, seed: UInt64 = 0) throws {
        let src = WordVocabulary(words: TranslationCorpus.sourceWords), tgt = WordVocabulary(words: TranslationCorpus.targetWords)
        try self.init(config: config ?? TinyTranslatorConfig(sourceVocabSize: src.count, targetVocabSize: tgt.count, bottleneck: bottleneck),
                      sourceVocabulary: src, targetVocabulary: tgt, seed: seed)
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("encoder.embed_tokens", encoderEmbed), ("decoder.embed_tokens", decoderEmbed)]
        c += encoderLayers.enumerated().map { ("encoder.layers.\($0.offset)", $0.element) }
        c += decoderLayers.enumerated().map { ("decoder.layers.\($0.offset)", $0.element) }
        c += [("encoder.layer_norm", encoderNorm), ("decoder.layer_norm", decoderNorm), ("lm_head", lmHead)]
        return c
    }

    /// Token embeddings plus the sinusoidal table: `ids` `[B][T]` → `[B, T, D]`.
    func embed(_ table: Embedding, _ ids: [[Int]], offset: Int = 0, _ ctx: ForwardContext) throws -> Variable {
        let t = ids.first?.count ?? 0
        guard offset + t <= config.maxPositionEmbeddings else {
            throw ModelError.sequenceTooLong(length: offset + t, max: config.maxPositionEmbeddings)
        }
        let pos = try positions.slice(axis: 0, offset..<(offset + t))     // [T, D]
        return try table(ids, tape: ctx.tape) + Variable(pos)              // [B, T, D]
    }

    /// The encoder: source ids `[B][S]` (padded with `<pad>`) → memory `[B, S, D]` and the padding mask `[B, S]`
    /// (nil when nothing is padded). For the bottleneck baseline the memory is the masked mean, `[B, 1, D]`, and no mask.
    public func encode(_ source: [[Int]], _ ctx: inout ForwardContext) throws -> (memory: Variable, padding: Tensor?) {
        let (b, s) = (source.count, source.first?.count ?? 0)
        let realFlags = source.flatMap { $0.map { Float($0 == WordVocabulary.pad ? 0 : 1) } }
        let mask = try Tensor(shape: [b, s], scalars: realFlags)                              // [B, S]
        let padding: Tensor? = realFlags.contains(0) ? mask : nil
        var x = ctx.drop(try embed(encoderEmbed, source, ctx))                                // [B, S, D]
        for (i, layer) in encoderLayers.enumerated() {
            x = try layer(x, padding: padding, &ctx, name: "encoder.L\(i)")                   // [B, S, D]
        }
        x = try encoderNorm(x, tape: ctx.tape)                                                // [B, S, D]
        guard config.isBottleneck else { return (x, padding) }
        // One pooled vector: Σ_s mask[s]·x[s] / Σ_s mask[s]
        var weights = realFlags
        for r in 0..<b {
            let n = Swift.max(1, weights[(r * s)..<((r + 1) * s)].reduce(0, +))
            for j in 0..<s { weights[r * s + j] /= n }
        }
        let w = try Tensor(shape: [b, s, 1], scalars: weights)                                // [B, S, 1]
        return (try (x * Variable(w)).sum(axis: 1, keepDims: true), nil)                      // [B, 1, D]
    }

    /// The decoder with teacher forcing: target inputs `[B][T]` (starting with `<bos>`) → logits `[B, T, V]`.
    public func decode(_ targetIn: [[Int]], memory: Variable, padding: Tensor?, _ ctx: inout ForwardContext) throws -> Variable {
        var y = ctx.drop(try embed(decoderEmbed, targetIn, ctx))                              // [B, T, D]
        for (i, layer) in decoderLayers.enumerated() {
            y = try layer(y, memory: memory, memoryPadding: padding, &ctx, name: "decoder.L\(i)")  // [B, T, D]
        }
        return try lmHead(decoderNorm(y, tape: ctx.tape), tape: ctx.tape)                     // [B, T, V]
    }

    /// Source and shifted target in, logits out: `[B][S]`, `[B][T]` → `[B, T, V]`.
    public func callAsFunction(source: [[Int]], targetIn: [[Int]], _ ctx: inout ForwardContext) throws -> Variable {
        let (memory, padding) = try encode(source, &ctx)
        return try decode(targetIn, memory: memory, padding: padding, &ctx)
    }
}

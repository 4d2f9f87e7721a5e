// TinyGPT: a small decoder-only (causal) transformer, GPT style (Radford et al., 2019), for studying what
// attention learns in context — here, induction heads (Olsson et al., 2022, "In-context Learning and Induction
// Heads", transformer-circuits.pub): a layer-1 head attends to the previous token, and a layer-2 head uses that
// to find the earlier occurrence of the current token and attend to the token that followed it, copying it.
// Reference implementation: nanoGPT's `model.py`, with rotary position embeddings (Su et al., 2021) instead of
// a learned position table, as in GPT-NeoX and LLaMA: attention scores then depend on relative position, which is
// what a previous-token head needs. Parameter names follow Hugging Face's GPT-Neo
// (`transformer.h.0.attn.attention.q_proj.weight`, `transformer.wte.weight`).
//
//   ids ─▶ wte
//       ─▶ N × [ LN ─▶ causal self-attention (RoPE on q, k) ─▶ +res  ( ─▶ LN ─▶ c_fc ─▶ GELU ─▶ c_proj ─▶ +res ) ]
//       ─▶ LN ─▶ lm_head ─▶ logits [B, T, V]
//
// The MLP is optional (`intermediate_size: 0` gives the attention-only models of the induction-head papers).
// Intermediates reported to an observer: "L{i}.weights" [B, H, T, T]; "L{i}.q", ".k" (after RoPE), ".v" and
// ".context" (weights · V, before the output projection) [B, H, T, d].
// Tokens are ids 0..<V, shown as syllables ("ba", "be", … see `TinyGPT.syllable`).
import AttendNN
import Foundation

/// `config.json` of a TinyGPT (GPT-Neo-like key names).
public struct TinyGPTConfig: Codable, Sendable, Equatable {
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    /// 0: attention-only blocks.
    public var intermediateSize: Int
    public var modelType: String

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", maxPositionEmbeddings = "max_position_embeddings", hiddenSize = "hidden_size"
        case numLayers = "num_layers", numHeads = "num_heads", intermediateSize = "intermediate_size", modelType = "model_type"
    }

    public init(vocabSize: Int = 64, maxPositionEmbeddings: Int = 64, hiddenSize: Int = 64, numLayers: Int = 2,
                numHeads: Int = 4, intermediateSize: Int = 0) {
        self.vocabSize = vocabSize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.intermediateSize = intermediateSize
        modelType = "tiny-gpt"
    }

    func validate(source: String) throws {
        let check = ConfigCheck(source: source)
        try check.size(vocabSize, "vocab_size")
        try check.size(maxPositionEmbeddings, "max_position_embeddings")
        try check.size(hiddenSize, "hidden_size")
        try check.count(numLayers, "num_layers")
        try check.count(numHeads, "num_heads", positive: true)
        try check.divisible(hiddenSize, "hidden_size", by: numHeads, "num_heads")
        try check.size(intermediateSize, "intermediate_size", allowZero: true)
        try check.elements([vocabSize, hiddenSize], "vocab_size × hidden_size")
        try check.elements([numLayers, 2 * intermediateSize, hiddenSize], "num_layers × 2 × intermediate_size × hidden_size")
        try check.elements([numLayers, 4, hiddenSize, hiddenSize], "num_layers × 4 × hidden_size²")
    }
}

/// One block: `x + Attn(LN(x))`, then (with an MLP) `h + MLP(LN(h))`.
public final class GPTBlock: Module {
    public let ln1: LayerNorm
    public let attention: MultiHeadAttention   // q_proj, k_proj, v_proj, out_proj (RoPE applied to q and k)
    public let ln2: LayerNorm?
    public let fc: Linear?                     // mlp.c_fc   [intermediate, D]
    public let proj: Linear?                   // mlp.c_proj [D, intermediate]

    init(_ c: TinyGPTConfig, rng: inout SeededRNG) throws {
        ln1 = LayerNorm(c.hiddenSize)
        attention = try MultiHeadAttention(embedDim: c.hiddenSize, heads: c.numHeads, rng: &rng)
        if c.intermediateSize > 0 {
            ln2 = LayerNorm(c.hiddenSize)
            fc = Linear(c.hiddenSize, c.intermediateSize, rng: &rng)
            proj = Linear(c.intermediateSize, c.hiddenSize, rng: &rng)
        } else {
            (ln2, fc, proj) = (nil, nil, nil)
        }
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("ln_1", ln1), ("attn.attention", attention)]
        if let ln2, let fc, let proj { c += [("ln_2", ln2), ("mlp.c_fc", fc), ("mlp.c_proj", proj)] }
        return c
    }

    /// `x`: `[B, T, D]` → `[B, T, D]`
    func callAsFunction(_ x: Variable, _ ctx: inout ForwardContext, name: String) throws -> Variable {
        let (heads, tape) = (attention.heads, ctx.tape)
        let a = try ln1(x, tape: tape)                                                               // [B, T, D]
        let q = try attention.qProj(a, tape: tape).splitHeads(heads).rotary()                        // [B, H, T, d]
        let k = try attention.kProj(a, tape: tape).splitHeads(heads).rotary()                        // [B, H, T, d]
        let v = try attention.vProj(a, tape: tape).splitHeads(heads)                                 // [B, H, T, d]
        if let observer = ctx.observer {
            // q and k as the scores see them (after RoPE), so the step-by-step view recomputes the model's weights.
            for (suffix, t) in [("q", q), ("k", k), ("v", v)] where observer.wants("\(name).\(suffix)") {
                observer.observe("\(name).\(suffix)", t.value)                                     // [B, H, T, d]
            }
        }
        let wants = ctx.observer?.wants(name + ".weights") ?? false
        let attn = try Variable.attention(query: q, key: k, value: v, isCausal: true, returnWeights: wants)  // [B, H, T, d]
        if wants, let w = attn.weights { ctx.observer?.observe(name + ".weights", w) }
        if let observer = ctx.observer, observer.wants(name + ".context") { observer.observe(name + ".context", attn.output.value) }
        let h = try x + attention.outProj(attn.output.mergeHeads(), tape: tape)                      // [B, T, D]
        guard let ln2, let fc, let proj else { return h }
        return try h + proj(fc(ln2(h, tape: tape), tape: tape).gelu(), tape: tape)                    // [B, T, D]
    }
}

public final class TinyGPT: Module {
    public let config: TinyGPTConfig
    public let wte: Embedding        // transformer.wte [V, D]
    public let blocks: [GPTBlock]    // transformer.h.{i}
    public let lnF: LayerNorm        // transformer.ln_f
    public let lmHead: Linear        // lm_head [V, D], no bias

    public init(config: TinyGPTConfig, seed: UInt64 = 0) throws {
        try config.validate(source: "config")
        self.config = config
        var rng = SeededRNG(seed: seed)
        wte = Embedding(config.vocabSize, config.hiddenSize, rng: &rng)
        wte.weight.value = .randomNormal(wte.weight.shape, std: 0.02, rng: &rng)   // nanoGPT's N(0, 0.02²)
        blocks = try (0..<config.numLayers).map { _ in try GPTBlock(config, rng: &rng) }
        lnF = LayerNorm(config.hiddenSize)
        lmHead = Linear(config.hiddenSize, config.vocabSize, bias: false, rng: &rng)
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("transformer.wte", wte)]
        c += blocks.enumerated().map { ("transformer.h.\($0.offset)", $0.element) }
        c += [("transformer.ln_f", lnF), ("lm_head", lmHead)]
        return c
    }

    /// `ids` `[B][T]` → logits `[B, T, V]`.
    public func callAsFunction(_ ids: [[Int]], _ ctx: inout ForwardContext) throws -> Variable {
        let t = ids.first?.count ?? 0
        guard t <= config.maxPositionEmbeddings else { throw ModelError.sequenceTooLong(length: t, max: config.maxPositionEmbeddings) }
        for row in ids { for id in row where id < 0 || id >= config.vocabSize {
            throw ModelError.invalidInput("token \(id) outside the vocabulary of \(config.vocabSize)")
        } }
        var x = try wte(ids, tape: ctx.tape)                                                          // [B, T, D]
        for (i, block) in blocks.enumerated() {
            x = try block(x, &ctx, name: "L\(i)")                                                    // [B, T, D]
        }
        return try lmHead(lnF(x, tape: ctx.tape), tape: ctx.tape)                                    // [B, T, V]
    }

    /// Continues `prompt` by `count` tokens, greedily (temperature 0) or by sampling, with a key/value cache.
    /// Returns the new tokens and the logits of every step (`[V]` each; the first is the prompt's last position).
    public func generate(_ prompt: [Int], count: Int, temperature: Float = 0, seed: UInt64 = 0)
        throws -> (tokens: [Int], logits: [Tensor]) {
        guard !prompt.isEmpty else { throw ModelError.invalidInput("the prompt is empty") }
        guard prompt.count + count <= config.maxPositionEmbeddings + 1 else {
            throw ModelError.sequenceTooLong(length: prompt.count + count, max: config.maxPositionEmbeddings)
        }
        for id in prompt where id < 0 || id >= config.vocabSize {
            throw ModelError.invalidInput("token \(id) outside the vocabulary of \(config.vocabSize)")
        }
        let v = config.vocabSize
        var cache = KeyValueCache(layers: blocks.count)
        var rng = SeededRNG(seed: seed)
        var tokens: [Int] = [], stepLogits: [Tensor] = []
        var pending = prompt      // tokens to feed this step (the whole prompt first, then one at a time)
        var position = 0
        while tokens.count < count {
            let t = pending.count
            var x = try wte.callAsFunction([pending])                                                 // [1, t, D]
            for (i, block) in blocks.enumerated() {
                x = try block(x, cache: &cache, layer: i, position: position)                        // [1, t, D]
            }
            let last = try lnF(x).select(axis: 1, t - 1)                                             // [1, D]
            let logits = try lmHead(last).reshaped([v])                                              // [V]
            stepLogits.append(logits)
            let next = Self.pick(logits, temperature: temperature, rng: &rng)
            tokens.append(next)
            position += t
            pending = [next]
            if position >= config.maxPositionEmbeddings { break }
        }
        return (tokens, stepLogits)
    }

    static func pick(_ logits: Tensor, temperature: Float, rng: inout SeededRNG) -> Int {
        let z = logits.scalars
        guard temperature > 0 else { return z.indices.max { z[$0] < z[$1] } ?? 0 }
        let m = z.max() ?? 0
        let p = z.map { Foundation.exp(Double(($0 - m) / temperature)) }
        var r = Double(rng.nextUnit()) * p.reduce(0, +)
        for (i, w) in p.enumerated() { r -= w; if r <= 0 { return i } }
        return z.count - 1
    }

    /// Token `id` as a syllable: consonant `id / 4` of "bdfghjklmnprstvz", vowel `id % 4` of "aeio" ("ba", "be", …).
    public static func syllable(_ id: Int) -> String {
        let consonants = Array("bdfghjklmnprstvz"), vowels = Array("aeio")
        guard id >= 0 && id < consonants.count * vowels.count else { return "#\(id)" }
        return String(consonants[id / 4]) + String(vowels[id % 4])
    }

    /// The id of a syllable or a decimal token id.
    public static func token(_ text: String) -> Int? {
        if let n = Int(text) { return n }
        return (0..<64).first { syllable($0) == text.lowercased() }
    }
}

extension GPTBlock {
    /// The block on new positions `position ..< position + t` of one sequence, reading the earlier positions'
    /// keys and values from `cache` (which gains this step's): the maths of the training forward, with the
    /// causal mask offset by the cached length. `x`: `[1, t, D]` → `[1, t, D]`
    func callAsFunction(_ x: Tensor, cache: inout KeyValueCache, layer: Int, position: Int) throws -> Tensor {
        let heads = attention.heads
        let a = try ln1(x)                                                                               // [1, t, D]
        let q = try PositionalEncoding.rotary(attention.qProj(a).splitHeads(heads), offset: position)    // [1, H, t, d]
        let (k, v) = try cache.append(
            layer: layer, keys: PositionalEncoding.rotary(attention.kProj(a).splitHeads(heads), offset: position),
            values: attention.vProj(a).splitHeads(heads))                                                // [1, H, P+t, d]
        // Query j sits at absolute position P + j and sees keys 0…P + j: causal, offset by the cached length P.
        let o = try scaledDotProductAttention(query: q, key: k, value: v, isCausal: true,
                                              causalKeyOffset: k.shape[2] - x.shape[1]).output          // [1, H, t, d]
        let h = try x + attention.outProj(o.mergeHeads())                                                // [1, t, D]
        guard let ln2, let fc, let proj else { return h }
        return try h + proj(fc(ln2(h)).gelu())                                                           // [1, t, D]
    }
}

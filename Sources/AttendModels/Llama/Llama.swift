// Llama: the decoder-only transformer of LLaMA (Touvron et al., 2023) and its descendants, here for
// SmolLM2-135M-Instruct read from a GGUF file. Reference implementation: Hugging Face transformers'
// `models/llama/modeling_llama.py` (LlamaRMSNorm, LlamaRotaryEmbedding + apply_rotary_pos_emb with rotate_half,
// LlamaAttention with repeat_kv, LlamaMLP), which loads the same GGUF through `modeling_gguf_pytorch_utils.py`.
//
//   ids ─▶ token_embd
//       ─▶ N × [ RMSNorm ─▶ causal self-attention (RoPE on q, k; grouped-query: H query heads share Hkv key/value
//                heads) ─▶ +res ─▶ RMSNorm ─▶ SwiGLU MLP: down(silu(gate(x)) · up(x)) ─▶ +res ]
//       ─▶ RMSNorm ─▶ tied LM head (token_embd as the output matrix) ─▶ logits
//
// Two weight paths (`LlamaWeightPath`): `.reference` dequantizes every matrix to Float32 at load (plain linear
// products: transformers' numbers), `.quantized` keeps the Q4_1 / Q8_0 blocks and multiplies on them
// (`Kernels.gemmQuantized`). GGUF's Q and K rows are permuted by llama.cpp's converter for its interleaved rope;
// the loader undoes it (transformers' `_reverse_permute_weights`) so RoPE here is transformers' rotate_half.
// On the quantized path, `LlamaActivations` chooses the products' activations: `.int16` (the default: for
// decode-sized products each 32-element activation block rounded to 16 bits and multiplied on exact integer dot
// products, within the parity bar), `.fp32` (float32 activations against the decoded weights) or `.int8` (llama.cpp's scheme,
// activations rounded to 8 bits per 32-element block for decode-sized products where the CPU has AVX2 or AVX-512
// VNNI: faster, and like llama.cpp it changes some greedy continuations where the reference's top two logits are
// up to 0.3 apart; see LlamaParityTests).
//
// Intermediates reported to an observer, per layer i: "L{i}.attn_norm" [1, T, D] (the RMSNormed input that q, k and
// v read), "L{i}.q" [1, H, T, d] and "L{i}.k" [1, Hkv, P+T, d] after RoPE, "L{i}.v" [1, Hkv, P+T, d],
// "L{i}.weights" [1, H, T, P+T], "L{i}.context" [1, H, T, d]; "embeddings" [1, T, D].
// (P: positions already in the key/value cache; query head h reads key/value head h / (H / Hkv).)
import AttendNN
import AttendTokenizers
import Foundation

/// The model's sizes, read from the GGUF metadata (`llama.*` keys) and checked before anything is allocated.
public struct LlamaConfig: Sendable, Equatable {
    public var vocabSize: Int          // tokenizer.ggml.tokens count
    public var hiddenSize: Int         // llama.embedding_length
    public var intermediateSize: Int   // llama.feed_forward_length
    public var numLayers: Int          // llama.block_count
    public var numHeads: Int           // llama.attention.head_count
    public var numKeyValueHeads: Int   // llama.attention.head_count_kv
    public var ropeTheta: Float        // llama.rope.freq_base
    public var rmsNormEps: Float       // llama.attention.layer_norm_rms_epsilon
    public var contextLength: Int      // llama.context_length

    /// Features per head: `hiddenSize / numHeads`.
    public var headDim: Int { hiddenSize / numHeads }
    /// Query heads per key/value head.
    public var groupSize: Int { numHeads / numKeyValueHeads }

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numLayers: Int, numHeads: Int,
                numKeyValueHeads: Int, ropeTheta: Float, rmsNormEps: Float, contextLength: Int) {
        (self.vocabSize, self.hiddenSize, self.intermediateSize, self.numLayers) = (vocabSize, hiddenSize, intermediateSize, numLayers)
        (self.numHeads, self.numKeyValueHeads, self.ropeTheta, self.rmsNormEps) = (numHeads, numKeyValueHeads, ropeTheta, rmsNormEps)
        self.contextLength = contextLength
    }

    /// Bounds on every size (errors name the file and the GGUF key).
    func validate(source: String) throws {
        let check = ConfigCheck(source: source)
        try check.size(vocabSize, "tokenizer.ggml.tokens (vocabulary size)")
        try check.size(hiddenSize, "llama.embedding_length")
        try check.size(intermediateSize, "llama.feed_forward_length")
        try check.size(contextLength, "llama.context_length")
        try check.count(numLayers, "llama.block_count")
        try check.count(numHeads, "llama.attention.head_count", positive: true)
        try check.count(numKeyValueHeads, "llama.attention.head_count_kv", positive: true)
        try check.divisible(hiddenSize, "llama.embedding_length", by: numHeads, "llama.attention.head_count")
        try check.divisible(numHeads, "llama.attention.head_count", by: numKeyValueHeads, "llama.attention.head_count_kv")
        guard headDim % 2 == 0 else {
            throw ModelError.invalidConfig(source, "head size \(headDim) (llama.embedding_length / llama.attention.head_count) must be even for RoPE")
        }
        guard ropeTheta.isFinite && ropeTheta > 1 else {
            throw ModelError.invalidConfig(source, "llama.rope.freq_base is \(ropeTheta), expected a finite number > 1")
        }
        guard rmsNormEps.isFinite && rmsNormEps >= 0 && rmsNormEps < 1 else {
            throw ModelError.invalidConfig(source, "llama.attention.layer_norm_rms_epsilon is \(rmsNormEps), expected 0 ≤ ε < 1")
        }
        try check.elements([vocabSize, hiddenSize], "vocabulary × llama.embedding_length")
        try check.elements([numLayers, 3, intermediateSize, hiddenSize], "llama.block_count × 3 × llama.feed_forward_length × llama.embedding_length")
        try check.elements([numLayers, 4, hiddenSize, hiddenSize], "llama.block_count × 4 × llama.embedding_length²")
    }
}

/// How the weight matrices are held and multiplied.
public enum LlamaWeightPath: String, Sendable, CaseIterable {
    /// Every matrix dequantized to Float32 at load; plain float32 products (the numbers transformers gives).
    case reference
    /// The quantized blocks kept as they are in the file; products on them (`Kernels.gemmQuantized`).
    case quantized
}

/// The activations of the quantized path's products (the reference path always multiplies in float32).
public enum LlamaActivations: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Float32 activations against the weights decoded from their blocks: only float32 rounding of the sums.
    case fp32
    /// llama.cpp's scheme: for products of at most 16 rows (decoding) on CPUs with AVX2 or AVX-512 VNNI
    /// (``Kernels/int8ActivationsAvailable``), each 32-element block of an activation row is rounded to 8 bits
    /// (`d = max|x|/127`) and multiplied with integer dot products; elsewhere float32. Faster, at the cost of
    /// that rounding (`|x − d·q| ≤ d/2`, large where a block holds an outlier): on SmolLM2 decode logits move by
    /// up to ~1 and greedy continuations can change where the top two logits are within ~0.3, as llama.cpp's do.
    case int8
    /// For products of at most 16 rows (decoding), each 32-element block of an activation row is rounded to 16 bits
    /// (`d = max|x|/32767`: the error is at most about 1.5e-5 of the block's largest value) and multiplied on exact
    /// int16 × int16 dot products (``Kernels/int16ActivationsAvailable``); elsewhere float32. Faster than `.fp32`
    /// and within the same parity bar (see LlamaParityTests). The default.
    case int16

    public var description: String { rawValue }

    /// The kernels' name for these activations.
    var kernelActivations: QuantizedActivations {
        switch self {
        case .fp32: return .fp32
        case .int8: return .int8
        case .int16: return .int16
        }
    }
}

/// One weight matrix `[out, in]` (PyTorch's layout), dense or quantized.
public enum LlamaMatrix: @unchecked Sendable {
    case dense(Tensor)
    case quantized(QuantizedMatrix)

    /// `x · Wᵀ`: `[..., in]` → `[..., out]`; `activations` applies to a quantized matrix only.
    func apply(_ x: Tensor, activations: LlamaActivations = .fp32) throws -> Tensor {
        switch self {
        case .dense(let w): return try Tensor.linear(x, weight: w, bias: nil)
        case .quantized(let w): return try Tensor.linear(x, quantized: w, activations: activations.kernelActivations)
        }
    }

    /// `x · W_sᵀ` for several matrices reading the same `x` (q, k, v; gate, up): `[..., in]` → one `[..., out_s]`
    /// each. When all are quantized they run as one shared-activation product
    /// (``Tensor/linear(_:quantized:activations:)``: on the int16 decode path one quantization of `x` and one thread
    /// dispatch for all; the same numbers as one ``apply(_:activations:)`` each).
    static func apply(_ x: Tensor, _ matrices: [LlamaMatrix], activations: LlamaActivations) throws -> [Tensor] {
        let quantized = matrices.compactMap { m -> QuantizedMatrix? in if case .quantized(let w) = m { return w } else { return nil } }
        guard quantized.count == matrices.count else { return try matrices.map { try $0.apply(x, activations: activations) } }
        return try Tensor.linear(x, quantized: quantized, activations: activations.kernelActivations)
    }

    /// Rows `ids` (an embedding lookup): `[ids.count, in]`.
    func rows(_ ids: [Int]) throws -> Tensor {
        switch self {
        case .dense(let w):
            let width = w.shape[1]
            var out = [Float](); out.reserveCapacity(ids.count * width)
            for id in ids { out += w.scalars[(id * width)..<((id + 1) * width)] }
            return try Tensor(shape: [ids.count, width], scalars: out)
        case .quantized(let w): return try w.gatherRows(ids)
        }
    }
}

/// One decoder layer's weights (GGUF names `blk.{i}.…`).
public struct LlamaLayer: @unchecked Sendable {
    let attnNorm: Tensor       // attn_norm [D]
    let q: LlamaMatrix         // attn_q [H·d, D] (rows un-permuted to transformers' layout)
    let k: LlamaMatrix         // attn_k [Hkv·d, D] (rows un-permuted)
    let v: LlamaMatrix         // attn_v [Hkv·d, D]
    let o: LlamaMatrix         // attn_output [D, H·d]
    let ffnNorm: Tensor        // ffn_norm [D]
    let gate: LlamaMatrix      // ffn_gate [F, D]
    let up: LlamaMatrix        // ffn_up [F, D]
    let down: LlamaMatrix      // ffn_down [D, F]
}

/// The keys and values of every layer for the positions seen so far (one sequence): decoding step t reads
/// keys 0…t without recomputing them. Rows are `[position][Hkv·d]`, read as heads in place.
public final class LlamaCache {
    /// Positions held.
    public private(set) var count = 0
    var keys: [[Float]]       // per layer, [count · Hkv·d]
    var values: [[Float]]     // per layer, [count · Hkv·d]
    let width: Int

    public init(config: LlamaConfig) {
        width = config.numKeyValueHeads * config.headDim
        keys = Array(repeating: [], count: config.numLayers)
        values = Array(repeating: [], count: config.numLayers)
    }

    /// Appends `t` positions of `layer` (`k`, `v`: `[1, t, Hkv·d]`); returns all keys and values `[1, P+t, Hkv·d]`.
    func append(layer: Int, _ k: Tensor, _ v: Tensor) throws -> (Tensor, Tensor) {
        keys[layer] += k.scalars
        values[layer] += v.scalars
        let rows = keys[layer].count / width
        if layer == keys.count - 1 { count = rows }
        return (try Tensor(shape: [1, rows, width], scalars: keys[layer]),
                try Tensor(shape: [1, rows, width], scalars: values[layer]))
    }

    /// Forgets everything after the first `length` positions.
    public func truncate(to length: Int) {
        let n = Swift.max(0, Swift.min(length, count))
        for l in keys.indices {
            keys[l].removeSubrange((n * width)...)
            values[l].removeSubrange((n * width)...)
        }
        count = n
    }
}

/// A Llama model loaded from a GGUF file: weights, tokenizer and chat template (see `Llama+Loading.swift`).
public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig
    public let path: LlamaWeightPath
    /// The activations of the quantized products (see ``LlamaActivations``; ignored on the reference path).
    public let activations: LlamaActivations
    public let tokenizer: BPETokenizer
    /// `tokenizer.chat_template` of the file, when it has one.
    public let chatTemplate: ChatTemplate?
    /// The GGUF file it was loaded from, or the Hugging Face folder.
    public let url: URL
    let embedding: LlamaMatrix     // token_embd [V, D]; also the LM head when tied
    let lmHead: LlamaMatrix?       // lm_head [V, D] of an HF folder with tie_word_embeddings false; nil: tied
    let layers: [LlamaLayer]       // blk.{i}
    let outputNorm: Tensor         // output_norm [D]
    let inverseFrequencies: [Float]  // RoPE: θ^(−2i/d), i < d/2

    init(config: LlamaConfig, path: LlamaWeightPath, activations: LlamaActivations, tokenizer: BPETokenizer,
         chatTemplate: ChatTemplate?, url: URL, embedding: LlamaMatrix, layers: [LlamaLayer], outputNorm: Tensor,
         lmHead: LlamaMatrix? = nil) {
        (self.config, self.path, self.tokenizer, self.chatTemplate, self.url) = (config, path, tokenizer, chatTemplate, url)
        (self.activations, self.lmHead) = (activations, lmHead)
        (self.embedding, self.layers, self.outputNorm) = (embedding, layers, outputNorm)
        // As LlamaRotaryEmbedding: inv_freq = 1 / base^(arange(0, d, 2) / d), in float32.
        let d = config.headDim
        inverseFrequencies = (0..<(d / 2)).map { i in Float(1 / pow(Double(config.ropeTheta), Double(2 * i) / Double(d))) }
    }

    /// The same model (weights shared, nothing copied) with the quantized products on `activations`.
    public func with(activations: LlamaActivations) -> LlamaModel {
        LlamaModel(config: config, path: path, activations: activations, tokenizer: tokenizer, chatTemplate: chatTemplate,
                   url: url, embedding: embedding, layers: layers, outputNorm: outputNorm, lmHead: lmHead)
    }

    /// Runs `ids` at positions `cache.count …` (the cache gains their keys and values) and returns the logits
    /// of the last position `[V]` (with `allLogits`, every position's: `[T, V]`).
    public func forward(_ ids: [Int], cache: LlamaCache, observer: (any IntermediateObserver)? = nil,
                        allLogits: Bool = false) throws -> Tensor {
        guard !ids.isEmpty else { throw ModelError.invalidInput("no tokens to run") }
        if let bad = ids.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw ModelError.invalidInput("token \(bad) is outside the vocabulary of \(config.vocabSize)")
        }
        let start = cache.count, t = ids.count
        guard start + t <= config.contextLength else {
            throw ModelError.sequenceTooLong(length: start + t, max: config.contextLength)
        }
        var x = try embedding.rows(ids).reshaped([1, t, config.hiddenSize])                          // [1, T, D]
        if let observer, observer.wants("embeddings") { observer.observe("embeddings", x) }
        for (i, layer) in layers.enumerated() {
            x = try block(layer, x, index: i, start: start, cache: cache, observer: observer)        // [1, T, D]
        }
        let last = allLogits ? try x.reshaped([t, config.hiddenSize])                                 // [T, D]
                             : try x.reshaped([t, config.hiddenSize]).slice(axis: 0, (t - 1)..<t)    // [1, D]
        let logits = try linear(rmsNorm(last, outputNorm), lmHead ?? embedding)                       // [T or 1, V]
        return allLogits ? logits : try logits.reshaped([config.vocabSize])
    }

    /// One decoder layer on positions `start ..< start + T`: `x` `[1, T, D]` → `[1, T, D]`.
    func block(_ w: LlamaLayer, _ x: Tensor, index i: Int, start: Int, cache: LlamaCache,
               observer: (any IntermediateObserver)?) throws -> Tensor {
        let (h, hkv, d) = (config.numHeads, config.numKeyValueHeads, config.headDim)
        let name = "L\(i)"
        let a = try rmsNorm(x, w.attnNorm)                                                          // [1, T, D]
        let qkv = try LlamaMatrix.apply(a, [w.q, w.k, w.v], activations: activations)               // [1, T, H·d], [1, T, Hkv·d] ×2
        let q = try rotary(qkv[0], heads: h, start: start)                                          // [1, T, H·d]
        let k = try rotary(qkv[1], heads: hkv, start: start)                                        // [1, T, Hkv·d]
        let v = qkv[2]                                                                              // [1, T, Hkv·d]
        let (keys, values) = try cache.append(layer: i, k, v)                                       // [1, P+T, Hkv·d] each
        // Query j sits at absolute position P + j and sees keys 0…P + j; head h reads key/value head h / (H / Hkv).
        let wantsWeights = observer?.wants(name + ".weights") ?? false
        let r = try scaledDotProductAttention(
            query: q.viewAsHeads(h, dim: d), key: keys.viewAsHeads(hkv, dim: d), value: values.viewAsHeads(hkv, dim: d),
            isCausal: true, causalKeyOffset: start, returnWeights: wantsWeights)                    // output [1, H, T, d]
        if let observer {
            let reported: [(String, () throws -> Tensor)] = [
                ("attn_norm", { a }),                                                               // [1, T, D]
                ("q", { try q.viewAsHeads(h, dim: d).contiguous() }),                               // [1, H, T, d]
                ("k", { try keys.viewAsHeads(hkv, dim: d).contiguous() }),                          // [1, Hkv, P+T, d]
                ("v", { try values.viewAsHeads(hkv, dim: d).contiguous() }),                        // [1, Hkv, P+T, d]
                ("context", { r.output.contiguous() }),                                             // [1, H, T, d]
            ]
            for (suffix, value) in reported where observer.wants("\(name).\(suffix)") {
                observer.observe("\(name).\(suffix)", try value())
            }
            if let weights = r.weights { observer.observe(name + ".weights", weights) }              // [1, H, T, P+T]
        }
        let hidden = try added(x, linear(r.output.mergedHeads(), w.o))                              // [1, T, D]
        let m = try rmsNorm(hidden, w.ffnNorm)                                                      // [1, T, D]
        let gateUp = try LlamaMatrix.apply(m, [w.gate, w.up], activations: activations)             // [1, T, F] ×2
        let gated = try swiglu(gate: gateUp[0], up: gateUp[1])                                      // [1, T, F]
        return try added(hidden, linear(gated, w.down))                                             // [1, T, D]
    }

    /// `x · Wᵀ` on the model's ``activations``: `[..., in]` → `[..., out]`.
    func linear(_ x: Tensor, _ w: LlamaMatrix) throws -> Tensor { try w.apply(x, activations: activations) }

    // MARK: - The element-wise steps (as transformers computes them, in float32)

    /// LlamaRMSNorm: `y = weight · x / √(mean(x²) + ε)` over the last axis.
    func rmsNorm(_ x: Tensor, _ weight: Tensor) throws -> Tensor {
        try x.rmsNorm(weight: weight, eps: config.rmsNormEps)                                       // x's shape
    }

    /// RoPE as apply_rotary_pos_emb: per head, with x₁ the first half and x₂ the second half of its d features,
    /// `rotate_half(x) = [−x₂, x₁]` and `y = x·cos + rotate_half(x)·sin`, angle `(start + t) · θ^(−2i/d)` for
    /// feature i and i + d/2. `x`: `[1, T, heads·d]` → the same shape (rewritten in place when handed over).
    func rotary(_ x: consuming Tensor, heads: Int, start: Int) throws -> Tensor {
        try x.rotatedHalf(heads: heads, headDim: config.headDim, start: start,
                          inverseFrequencies: inverseFrequencies)                                   // [1, T, heads·d]
    }

    /// LlamaMLP's activation: `silu(gate) · up`, `silu(z) = z / (1 + e^(−z))` (in place on a handed-over gate).
    func swiglu(gate: consuming Tensor, up: Tensor) throws -> Tensor {
        try Tensor.swiglu(gate: gate, up: up)                                                       // gate's shape
    }

    /// The residual sum `a + b` (same shapes; in place on a handed-over `b`).
    func added(_ a: Tensor, _ b: consuming Tensor) throws -> Tensor { try b.adding(a) }
}

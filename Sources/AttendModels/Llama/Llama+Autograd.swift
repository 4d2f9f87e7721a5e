// The Llama decoder on Attend's autograd, for gradient-weighted explanations (∂y/∂A with y the log-probability of a
// next token): the same maths as `LlamaModel.forward` on the reference path (every matrix in Float32; a model
// loaded on the quantized path has its blocks dequantized for the run, which is exactly what the reference path
// loads), written on `Variable` ops with the causal attention spelled out (`Variable.attentionExposingWeights`):
//
//   x = token_embd[ids]
//   per layer:  a = RMSNorm(x)·γ₁;  q = RoPE(a·W_qᵀ), k = RoPE(a·W_kᵀ), v = a·W_vᵀ (key/value heads repeated for GQA)
//               x ← x + softmax(q·kᵀ/√d + causal)·v · W_oᵀ;  m = RMSNorm(x)·γ₂;  x ← x + (silu(m·W_gateᵀ) ⊙ m·W_upᵀ)·W_downᵀ
//   logits of the last position = RMSNorm(x_last)·γ_out · token_embdᵀ
//
// Slow (no fused attention, no KV cache, every weight read as Float32), so explanations are bounded in length
// (``LlamaModel/maxExplainTokens``).
import AttendNN
import Foundation

extension LlamaMatrix {
    /// `[out, in]` in Float32: the matrix itself, or its quantized blocks dequantized by the plain twin.
    func denseValue() -> Tensor {
        switch self {
        case .dense(let w): return w
        case .quantized(let q): return q.dequantized()
        }
    }
}

extension LlamaModel {
    /// The most tokens a differentiable run (grad-attention) accepts: it holds every layer's activations and
    /// Float32 weights for the backward pass, and runs without the fast kernels.
    public static let maxExplainTokens = 128

    /// What ``tracedForward(_:tape:tapAttention:attentionOffsets:)`` returns.
    public struct TracedForward {
        /// `[1, V]`, the logits of the last position.
        public var logits: Variable
        /// Per layer `[1, H, T, T]`, the attention weights (query head h reads key/value head h / (H / Hkv)).
        public var attention: [Tensor]
        /// Per layer, zero leaves `[1, H, T, T]` whose gradients are ∂y/∂A_l (empty unless `tapAttention`).
        public var attentionTaps: [Variable]
    }

    /// The differentiable forward of `ids` from position 0 (parameters are constants).
    /// - Parameters:
    ///   - ids: at most ``maxExplainTokens`` token ids
    ///   - tape: where to record (nil: nothing recorded); tapAttention: expose ∂y/∂A of every layer
    ///   - attentionOffsets: per layer, a constant `[1, H, T, T]` added to the weights (finite-difference checks)
    public func tracedForward(_ ids: [Int], tape: Tape?, tapAttention: Bool = false,
                              attentionOffsets: [Tensor]? = nil) throws -> TracedForward {
        let t = ids.count
        guard t > 0 else { throw ModelError.invalidInput("no tokens to run") }
        guard t <= Self.maxExplainTokens else {
            throw ModelError.invalidInput("the differentiable run of \(Self.architecture) takes at most \(Self.maxExplainTokens) tokens (grad-attention keeps every layer's activations for the backward pass); the text has \(t): shorten it")
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw ModelError.invalidInput("token \(bad) is outside the vocabulary of \(config.vocabSize)")
        }
        if let attentionOffsets, attentionOffsets.count != layers.count {
            throw ModelError.invalidInput("\(attentionOffsets.count) attention offsets for \(layers.count) layers")
        }
        let (h, hkv, width) = (config.numHeads, config.numKeyValueHeads, config.hiddenSize)
        let eps = config.rmsNormEps
        let causal = try Tensor(shape: [t, t], scalars: (0..<(t * t)).map { $0 % t <= $0 / t ? 0 : -Float.infinity })  // [T, T]
        let (cos, sin, rotateHalf) = try ropeTables(length: t)                  // [1, 1, T, d], [1, 1, T, d], [d, d]
        func rope(_ x: Variable) throws -> Variable {                           // [1, heads, T, d]
            try x * Variable(cos) + Variable.matmul(x, Variable(rotateHalf)) * Variable(sin)
        }
        func linear(_ x: Variable, _ w: LlamaMatrix) throws -> Variable {      // [..., in] → [..., out]
            try Variable.matmul(x, Variable(w.denseValue()), transposeB: true)
        }
        let embeddingTable = embedding.denseValue()                             // [V, D]
        var x = try Variable.embedding(Variable(embeddingTable), ids: [ids])   // [1, T, D]
        var weights: [Tensor] = [], taps: [Variable] = []
        for (i, w) in layers.enumerated() {
            let a = try x.rmsNorm(weight: Variable(w.attnNorm), eps: eps)                            // [1, T, D]
            let q = try rope(linear(a, w.q).splitHeads(h))                                           // [1, H, T, d]
            let k = try rope(linear(a, w.k).splitHeads(hkv)).repeatedHeads(config.groupSize)         // [1, H, T, d]
            let v = try linear(a, w.v).splitHeads(hkv).repeatedHeads(config.groupSize)               // [1, H, T, d]
            let attn = try Variable.attentionExposingWeights(query: q, key: k, value: v, additiveMask: causal,
                                                             tapOn: tapAttention ? tape : nil,
                                                             offset: attentionOffsets?[i])            // [1, H, T, d]
            weights.append(attn.weights)
            if let tap = attn.tap { taps.append(tap) }
            let hidden = try x + linear(attn.output.mergeHeads(), w.o)                              // [1, T, D]
            let m = try hidden.rmsNorm(weight: Variable(w.ffnNorm), eps: eps)                        // [1, T, D]
            let gated = try linear(m, w.gate).silu() * linear(m, w.up)                               // [1, T, F]
            x = try hidden + linear(gated, w.down)                                                   // [1, T, D]
        }
        var pick = [Float](repeating: 0, count: t); pick[t - 1] = 1
        let last = try Variable.matmul(Variable(Tensor(shape: [1, t], scalars: pick)), x.reshaped([t, width]))  // [1, D]
        let normed = try last.rmsNorm(weight: Variable(outputNorm), eps: eps)                       // [1, D]
        let head = lmHead.map { $0.denseValue() } ?? embeddingTable                                // [V, D]
        let logits = try Variable.matmul(normed, Variable(head), transposeB: true)                   // [1, V]
        return TracedForward(logits: logits, attention: weights, attentionTaps: taps)
    }

    /// RoPE as constants: `cos`, `sin` `[1, 1, T, d]` (feature i and i + d/2 share the angle t·θ^(−2i/d), computed in
    /// Float32 as ``rotary(_:heads:start:)``) and the matrix R `[d, d]` with `x·R = rotate_half(x) = [−x₂, x₁]`, so
    /// that `RoPE(x) = x ⊙ cos + (x·R) ⊙ sin`.
    func ropeTables(length t: Int) throws -> (Tensor, Tensor, Tensor) {
        let d = config.headDim, half = d / 2
        var cos = [Float](repeating: 0, count: t * d), sin = cos
        for p in 0..<t {
            for i in 0..<half {
                let angle = Float(p) * inverseFrequencies[i]                                        // float32, as torch
                let (c, s) = (Float(Foundation.cos(Double(angle))), Float(Foundation.sin(Double(angle))))
                cos[p * d + i] = c; cos[p * d + i + half] = c
                sin[p * d + i] = s; sin[p * d + i + half] = s
            }
        }
        var r = [Float](repeating: 0, count: d * d)
        for i in 0..<half {
            r[(i + half) * d + i] = -1                                                              // out i ← −x[i + d/2]
            r[i * d + i + half] = 1                                                                 // out i + d/2 ← x[i]
        }
        return (try Tensor(shape: [1, 1, t, d], scalars: cos), try Tensor(shape: [1, 1, t, d], scalars: sin),
                try Tensor(shape: [d, d], scalars: r))
    }
}

extension LlamaModel: ExplainableAttention {
    /// Every layer of one run on `text` for value-norm (see ``valueSite(_:site:)``).
    public func valueSites(_ text: String) throws -> [ValueSite] {
        try valueSites(text, layers: Array(layers.indices))
    }

    /// Layer `site` of one run on `text` for value-norm: only that layer's matrices are made dense.
    public func valueSite(_ text: String, site: Int) throws -> ValueSite {
        guard site >= 0, site < layers.count else {
            throw ModelError.invalidInput("layer \(site) is out of range: this model has \(layers.count) layers, numbered 0…\(layers.count - 1)")
        }
        return try valueSites(text, layers: [site])[0]
    }

    /// Layers `wanted` of one run on `text` (the model's own weight path, as the attention views): α `[H, T, T]` from
    /// the run, x = RMSNorm(x)·γ₁ `[T, D]` as the value projection reads it ("L{l}.attn_norm"), and W_V `[Hkv·d, D]`,
    /// W_O `[D, H·d]` in Float32 (quantized blocks dequantized by the plain twin). No bias; query head h reads value
    /// head h / (H / Hkv); α, and so ‖α·f(x)‖, is zero above the diagonal (causal).
    func valueSites(_ text: String, layers wanted: [Int]) throws -> [ValueSite] {
        let ids = try ids(text)
        let tokens = ids.map(tokenText)
        let names = Set(wanted.flatMap { ["L\($0).weights", "L\($0).attn_norm"] })
        let recorder = IntermediateRecorder { names.contains($0) }
        _ = try forward(ids, cache: LlamaCache(config: config), observer: recorder)                 // [V]
        return try wanted.map { l in
            guard let alpha = recorder["L\(l).weights"], let x = recorder["L\(l).attn_norm"] else {
                throw ModelError.invalidInput("the decoder reported no L\(l).weights or L\(l).attn_norm")
            }
            let w = layers[l]
            return ValueSite(weights: try alpha.select(axis: 0, 0), input: try x.select(axis: 0, 0),   // [H, T, T], [T, D]
                             valueWeight: w.v.denseValue(), valueBias: nil, outputWeight: w.o.denseValue(),  // [Hkv·d, D], [D, H·d]
                             queryTokens: tokens, keyTokens: tokens)
        }
    }

    /// The id of a target token written as text: it must be exactly one token of the vocabulary (`" cat"` with its
    /// leading space is one token of SmolLM2; `"cat"` another).
    public func targetTokenID(_ token: String) throws -> Int {
        let ids = tokenizer.encode(token)
        guard ids.count == 1 else {
            let pieces = ids.map { "“\(tokenText($0))”" }.joined(separator: " ")
            throw ModelError.invalidInput(ids.isEmpty
                ? "the target token is empty: give one token, such as \" cat\" (with its leading space)"
                : "the target token “\(token)” is \(ids.count) tokens (\(pieces)), not one: give a single token, such as \" cat\" (with its leading space)")
        }
        return ids[0]
    }

    /// y = log p(`target` | text) for the position after the text, through the differentiable forward.
    public func attentionGradients(_ text: String, target: GradientTarget) throws -> AttentionGradients {
        guard case .nextToken(let name) = target else {
            throw ModelError.invalidInput("a decoder explains the probability of a next token: give --target-token, not a target sentence")
        }
        return try attentionGradients(ids: ids(text), target: targetTokenID(name))
    }

    /// y = log p(`target` | `ids`) at the last position.
    public func attentionGradients(ids: [Int], target: Int) throws -> AttentionGradients {
        guard target >= 0, target < config.vocabSize else {
            throw ModelError.invalidInput("target token \(target) is outside the vocabulary of \(config.vocabSize)")
        }
        let tape = Tape()
        let run = try tracedForward(ids, tape: tape, tapAttention: true)
        let nll = try Variable.crossEntropy(run.logits, targets: [target])                          // []
        try tape.backward(nll, seed: Tensor(shape: nll.shape, scalars: [-1]))                       // d(−nll) = d log p
        return try AttentionGradients.collect(run.attention, run.attentionTaps, tape: tape, output: -nll.value.scalars[0],
                                              tokens: ids.map(tokenText),
                                              target: GradientTarget.nextToken(tokenText(target)).description)
    }
}

// TinyTranslator's teacher-forced forward with every attention site's weights exposed as points of the autograd
// graph (for gradient-weighted explanations, ∂y/∂A): the same parameters and maths as `TinyTranslator.callAsFunction`
// (pre-LN blocks, sinusoidal positions, no dropout), with each attention written out op by op
// (`Variable.attentionExposingWeights`). Also reports what every site's value projection reads (value-norm).
//
// Sites are numbered as `attentionSites`: the encoder's self-attention layers, then per decoder layer its causal
// self-attention and its cross-attention. One source sentence, every token real (no padding).
import AttendNN
import Foundation

extension TinyTranslator {
    /// What ``tracedForward(source:targetIn:tape:tapAttention:attentionOffsets:)`` returns.
    public struct TracedForward {
        /// `[1, T, V]`, the logits of every decoder position.
        public var logits: Variable
        /// Per site `[1, H, Lq, Lk]`: encoder self `[1, H, S, S]`, decoder self `[1, H, T, T]`, cross `[1, H, T, S]`
        /// (`[1, H, T, 1]` for the bottleneck baseline).
        public var attention: [Tensor]
        /// Per site, what its value projection reads, `[1, Lk, D]`: LN of the block's input for self-attention, the
        /// encoder's memory for cross-attention.
        public var valueInputs: [Tensor]
        /// Per site, zero leaves shaped as the weights whose gradients are ∂y/∂A (empty unless `tapAttention`).
        public var attentionTaps: [Variable]
    }

    /// - Parameters:
    ///   - source: source ids `[S]` (no `<pad>`); targetIn: decoder input ids `[T]`, starting with `<bos>`
    ///   - tape: where to record (parameters are constants); tapAttention: expose ∂y/∂A of every site
    ///   - attentionOffsets: per site, a constant added to the weights (finite-difference checks)
    public func tracedForward(source: [Int], targetIn: [Int], tape: Tape?, tapAttention: Bool = false,
                              attentionOffsets: [Tensor]? = nil) throws -> TracedForward {
        let (s, t) = (source.count, targetIn.count)
        guard s > 0, t > 0 else { throw ModelError.invalidInput("the translator needs at least one source and one target token") }
        guard s <= config.maxPositionEmbeddings, t <= config.maxPositionEmbeddings else {
            throw ModelError.sequenceTooLong(length: Swift.max(s, t), max: config.maxPositionEmbeddings)
        }
        if let bad = source.first(where: { $0 < 0 || $0 >= config.sourceVocabSize || $0 == WordVocabulary.pad }) {
            throw ModelError.invalidInput("source id \(bad) is padding or outside the vocabulary of \(config.sourceVocabSize)")
        }
        if let bad = targetIn.first(where: { $0 < 0 || $0 >= config.targetVocabSize }) {
            throw ModelError.invalidInput("target id \(bad) is outside the vocabulary of \(config.targetVocabSize)")
        }
        let siteCount = config.encoderLayers + 2 * config.decoderLayers
        if let attentionOffsets, attentionOffsets.count != siteCount {
            throw ModelError.invalidInput("\(attentionOffsets.count) attention offsets for \(siteCount) attention sites")
        }
        var weights: [Tensor] = [], inputs: [Tensor] = [], taps: [Variable] = []
        /// One attention site: `query` `[1, Lq, D]` reads `keyValue` `[1, Lk, D]` through `mha` → `[1, Lq, D]`.
        func site(_ mha: MultiHeadAttention, query: Variable, keyValue: Variable, mask: Tensor?) throws -> Variable {
            let index = weights.count
            let q = try mha.qProj(query, tape: nil).splitHeads(mha.heads)                              // [1, H, Lq, d]
            let k = try mha.kProj(keyValue, tape: nil).splitHeads(mha.heads)                           // [1, H, Lk, d]
            let v = try mha.vProj(keyValue, tape: nil).splitHeads(mha.heads)                           // [1, H, Lk, d]
            let attn = try Variable.attentionExposingWeights(query: q, key: k, value: v, additiveMask: mask,
                                                             tapOn: tapAttention ? tape : nil,
                                                             offset: attentionOffsets?[index])            // [1, H, Lq, d]
            weights.append(attn.weights)
            inputs.append(keyValue.value)
            if let tap = attn.tap { taps.append(tap) }
            return try mha.outProj(attn.output.mergeHeads(), tape: nil)                                 // [1, Lq, D]
        }
        // Encoder: x + SelfAttn(LN(x)), then h + FFN(LN(h)); memory = LN(x).
        var x = try encoderEmbed([source], tape: nil) + Variable(positions.slice(axis: 0, 0..<s))        // [1, S, D]
        for layer in encoderLayers {
            let a = try layer.selfAttnLayerNorm(x, tape: nil)                                            // [1, S, D]
            let h = try x + site(layer.selfAttn, query: a, keyValue: a, mask: nil)                       // [1, S, D]
            x = try h + layer.fc2(layer.fc1(layer.finalLayerNorm(h, tape: nil), tape: nil).gelu(), tape: nil)  // [1, S, D]
        }
        var memory = try encoderNorm(x, tape: nil)                                                      // [1, S, D]
        if config.isBottleneck {
            let w = try Tensor(shape: [1, s, 1], scalars: Array(repeating: 1 / Float(s), count: s))     // [1, S, 1]
            memory = try (memory * Variable(w)).sum(axis: 1, keepDims: true)                             // [1, 1, D]
        }
        // Decoder: causal self-attention, cross-attention to the memory, feed-forward.
        let causal = try Tensor(shape: [t, t], scalars: (0..<(t * t)).map { $0 % t <= $0 / t ? 0 : -Float.infinity })  // [T, T]
        var y = try decoderEmbed([targetIn], tape: nil) + Variable(positions.slice(axis: 0, 0..<t))     // [1, T, D]
        for layer in decoderLayers {
            let a = try layer.selfAttnLayerNorm(y, tape: nil)                                            // [1, T, D]
            var h = try y + site(layer.selfAttn, query: a, keyValue: a, mask: causal)                    // [1, T, D]
            h = try h + site(layer.encoderAttn, query: layer.encoderAttnLayerNorm(h, tape: nil), keyValue: memory, mask: nil)  // [1, T, D]
            y = try h + layer.fc2(layer.fc1(layer.finalLayerNorm(h, tape: nil), tape: nil).gelu(), tape: nil)  // [1, T, D]
        }
        let logits = try lmHead(decoderNorm(y, tape: nil), tape: nil)                                   // [1, T, V]
        return TracedForward(logits: logits, attention: weights, valueInputs: inputs, attentionTaps: taps)
    }
}

extension TinyTranslator: ExplainableAttention {
    /// The source words of `text`, and the decoder input the explain views show: `<bos>` + the greedy translation
    /// (as ``runAttention(_:observer:)``).
    func explainSequences(_ text: String) throws -> (source: [String], target: [String]) {
        let source = try tokens(text)
        guard let translation = try translate([text]).first else { throw ModelError.invalidInput("nothing to translate") }
        return (source, Array((["<bos>"] + translation.target).prefix(config.maxPositionEmbeddings)))
    }

    /// Every site's weights and value input, numbered as ``attentionSites``: self-attention reads LN of the block's
    /// input, cross-attention the encoder's memory (x_j is source token j's final encoder vector, `⟨pooled source⟩`
    /// for the bottleneck baseline).
    public func valueSites(_ text: String) throws -> [ValueSite] {
        let (source, target) = try explainSequences(text)
        let run = try tracedForward(source: sourceVocabulary.encode(source), targetIn: targetVocabulary.encode(target), tape: nil)
        let crossKeys = config.isBottleneck ? ["⟨pooled source⟩"] : source
        var modules: [(MultiHeadAttention, [String], [String])] = encoderLayers.map { ($0.selfAttn, source, source) }
        for layer in decoderLayers { modules += [(layer.selfAttn, target, target), (layer.encoderAttn, target, crossKeys)] }
        return try modules.enumerated().map { i, m in
            ValueSite(weights: try run.attention[i].select(axis: 0, 0), input: try run.valueInputs[i].select(axis: 0, 0),  // [H, Lq, Lk], [Lk, D]
                      attention: m.0, queryTokens: m.1, keyTokens: m.2)
        }
    }

    /// y = log p(`word` at the output position where the greedy translation emits it), teacher-forced on `<bos>` +
    /// the translation: the word must be one of the translation's words (its first occurrence is explained) or
    /// `<eos>` (the position after the last word). The tokens are the decoder's input tokens.
    public func attentionGradients(_ text: String, target: GradientTarget) throws -> AttentionGradients {
        guard case .nextToken(let word) = target else {
            throw ModelError.invalidInput("the translator explains the probability of one output word: give --target-token WORD (a word of its translation), not a target sentence")
        }
        let (source, decoderIn) = try explainSequences(text)
        let outputs = Array(decoderIn.dropFirst()) + ["<eos>"]                     // what position p predicts
        guard let position = outputs.firstIndex(of: word) else {
            throw ModelError.invalidInput("“\(word)” is not in the translation “\(outputs.dropLast().joined(separator: " "))”: give one of its words, or <eos>")
        }
        return try attentionGradients(source: source, decoderInput: decoderIn, position: position, word: word)
    }

    /// y = log p(`word` | source, decoderInput[0…position]) at decoder position `position`.
    public func attentionGradients(source: [String], decoderInput: [String], position: Int, word: String) throws -> AttentionGradients {
        guard position >= 0, position < decoderInput.count else {
            throw ModelError.invalidInput("output position \(position) is outside 0…\(decoderInput.count - 1)")
        }
        let id = targetVocabulary.encode([word])[0]
        guard id != WordVocabulary.unk || word == "<unk>" else {
            throw ModelError.invalidInput("“\(word)” is not a word of the translator's French vocabulary")
        }
        let tape = Tape()
        let run = try tracedForward(source: sourceVocabulary.encode(source), targetIn: targetVocabulary.encode(decoderInput),
                                    tape: tape, tapAttention: true)
        var targets = Array(repeating: -100, count: decoderInput.count)
        targets[position] = id
        let flat = try run.logits.reshaped([decoderInput.count, config.targetVocabSize])              // [T, V]
        let nll = try Variable.crossEntropy(flat, targets: targets)                                   // []
        try tape.backward(nll, seed: Tensor(shape: nll.shape, scalars: [-1]))                         // d(−nll) = d log p
        return try AttentionGradients.collect(run.attention, run.attentionTaps, tape: tape, output: -nll.value.scalars[0],
                                              tokens: decoderInput,
                                              target: "log p(\(word)) at output position \(position) (after “\(decoderInput[position])”)")
    }
}

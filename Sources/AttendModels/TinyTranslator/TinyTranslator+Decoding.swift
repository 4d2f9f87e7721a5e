// Greedy decoding with a key/value cache, and translation of text.
//
// Each step feeds only the newest token: its query attends to the keys and values of every earlier token, kept
// per decoder layer in the cache (`[B, H, t, d]`, one row appended per step), and to the encoder memory's keys
// and values, projected once. The result equals running the full decoder on the whole prefix (tested).
import AttendNN
import Foundation

/// Keys and values of the tokens decoded so far, per layer: `[B, H, t, d]`, growing by one position per step.
public struct KeyValueCache {
    public private(set) var keys: [Tensor?]
    public private(set) var values: [Tensor?]

    public init(layers: Int) {
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
    }

    /// Number of cached positions.
    public var length: Int { keys.first.flatMap { $0?.shape[2] } ?? 0 }

    /// Appends `k`, `v` (`[B, H, 1, d]`) to layer `layer` and returns the whole cache of that layer.
    public mutating func append(layer: Int, keys k: Tensor, values v: Tensor) throws -> (keys: Tensor, values: Tensor) {
        keys[layer] = try keys[layer].map { try Tensor.concatenate([$0, k], axis: 2) } ?? k       // [B, H, t+1, d]
        values[layer] = try values[layer].map { try Tensor.concatenate([$0, v], axis: 2) } ?? v   // [B, H, t+1, d]
        return (keys[layer]!, values[layer]!)
    }
}

/// What greedy decoding produced for a batch.
public struct GreedyDecoding {
    /// Generated target ids per sentence (without `<bos>`, stopping before `<eos>`).
    public var ids: [[Int]]
    /// Logits of every step, `[B, V]` each (when asked for).
    public var stepLogits: [Tensor] = []
    /// Cross-attention weights of every step, `[layers, B, H, S]` each (when asked for); row `t` is the attention
    /// of the query that produced generated token `t`.
    public var stepCrossAttention: [Tensor] = []

    /// Cross-attention of sentence `b` as `[layers, H, T, S]` over its `T` generated tokens (plus `<eos>` if emitted).
    public func crossAttention(sentence b: Int) throws -> Tensor {
        guard let first = stepCrossAttention.first else { return .zeros([0, 0, 0, 0]) }
        let (l, h, s) = (first.shape[0], first.shape[2], first.shape[3])
        let t = Swift.min(ids[b].count + 1, stepCrossAttention.count)
        var out = [Float](repeating: 0, count: l * h * t * s)
        for step in 0..<t {
            let w = stepCrossAttention[step]
            for li in 0..<l {
                for hi in 0..<h {
                    for j in 0..<s {
                        out[((li * h + hi) * t + step) * s + j] = w[li, b, hi, j]
                    }
                }
            }
        }
        return try Tensor(shape: [l, h, t, s], scalars: out)
    }
}

extension TinyTranslator {
    /// Greedy decoding of a batch of source id rows (padded with `<pad>`), with a key/value cache.
    /// - Parameters:
    ///   - maxLength: most tokens to generate (default `2·S + 8`, capped by the position table)
    ///   - recordLogits / recordCrossAttention: keep each step's logits / cross-attention weights
    public func greedyDecode(_ source: [[Int]], maxLength: Int? = nil, recordLogits: Bool = false,
                             recordCrossAttention: Bool = false) throws -> GreedyDecoding {
        let b = source.count, s = source.first?.count ?? 0
        guard b > 0, s > 0 else { return GreedyDecoding(ids: Array(repeating: [], count: b)) }
        let heads = config.attentionHeads, v = config.targetVocabSize
        var ctx = ForwardContext.inference()
        let (memoryVar, padding) = try encode(source, &ctx)
        let memory = memoryVar.value                                                         // [B, S or 1, D]
        let memoryLength = memory.shape[1]
        let crossMask: AttentionMask? = try padding.map { .boolean(try $0.reshaped([b, 1, 1, memoryLength])) }
        // The memory's keys and values, projected once per layer.
        let cross = try decoderLayers.map { layer in
            (try layer.encoderAttn.kProj(memory).splitHeads(heads),                          // [B, H, S, d]
             try layer.encoderAttn.vProj(memory).splitHeads(heads))                          // [B, H, S, d]
        }
        let steps = Swift.min(maxLength ?? 2 * s + 8, config.maxPositionEmbeddings)
        var cache = KeyValueCache(layers: decoderLayers.count)
        var result = GreedyDecoding(ids: Array(repeating: [], count: b))
        var last = [Int](repeating: WordVocabulary.bos, count: b)
        var finished = [Bool](repeating: false, count: b)

        for t in 0..<steps {
            var x = try embed(decoderEmbed, last.map { [$0] }, offset: t, ctx).value                 // [B, 1, D]
            var stepWeights: [Tensor] = []
            for (i, layer) in decoderLayers.enumerated() {
                let a = try layer.selfAttnLayerNorm(x)                                               // [B, 1, D]
                let q = try layer.selfAttn.qProj(a).splitHeads(heads)                                // [B, H, 1, d]
                let (k, vv) = try cache.append(layer: i, keys: layer.selfAttn.kProj(a).splitHeads(heads),
                                               values: layer.selfAttn.vProj(a).splitHeads(heads))   // [B, H, t+1, d]
                let selfOut = try scaledDotProductAttention(query: q, key: k, value: vv).output       // [B, H, 1, d]
                x = try x + layer.selfAttn.outProj(selfOut.mergeHeads())                             // [B, 1, D]
                let c = try layer.encoderAttnLayerNorm(x)                                            // [B, 1, D]
                let q2 = try layer.encoderAttn.qProj(c).splitHeads(heads)                            // [B, H, 1, d]
                let crossOut = try scaledDotProductAttention(query: q2, key: cross[i].0, value: cross[i].1, mask: crossMask,
                                                             returnWeights: recordCrossAttention)    // [B, H, 1, d]
                if let w = crossOut.weights { stepWeights.append(try w.reshaped([b, heads, memoryLength])) }
                x = try x + layer.encoderAttn.outProj(crossOut.output.mergeHeads())                  // [B, 1, D]
                x = try x + layer.fc2(layer.fc1(layer.finalLayerNorm(x)).gelu())                     // [B, 1, D]
            }
            let logits = try lmHead(decoderNorm(x)).reshaped([b, v])                                 // [B, V]
            if recordLogits { result.stepLogits.append(logits) }
            if recordCrossAttention { result.stepCrossAttention.append(try Tensor.stack(stepWeights, axis: 0)) }  // [L, B, H, S]
            for r in 0..<b {
                var best = 0
                for j in 1..<v where logits.scalars[r * v + j] > logits.scalars[r * v + best] { best = j }
                last[r] = best
                if finished[r] { continue }
                if best == WordVocabulary.eos { finished[r] = true } else { result.ids[r].append(best) }
            }
            if finished.allSatisfy({ $0 }) { break }
        }
        return result
    }

    /// Source ids of tokenised English sentences, padded to the longest.
    /// - Throws: ``ModelError/invalidInput(_:)`` naming an unknown word and the closest known ones.
    public func sourceIDs(_ sentences: [[String]]) throws -> [[Int]] {
        let longest = sentences.map(\.count).max() ?? 0
        guard longest <= config.maxPositionEmbeddings else {
            throw ModelError.sequenceTooLong(length: longest, max: config.maxPositionEmbeddings)
        }
        return try sentences.map { words in
            guard !words.isEmpty else { throw ModelError.invalidInput("nothing to translate") }
            let ids = try words.map { w -> Int in
                guard let id = sourceVocabulary.id(w) else {
                    let near = sourceVocabulary.suggestions(for: w)
                    throw ModelError.invalidInput("unknown word \"\(w)\"" + (near.isEmpty ? "" : " (did you mean \(near.map { "\"\($0)\"" }.joined(separator: ", "))?)")
                        + "; the demo translator knows the \(sourceVocabulary.count - 4) words of its grammar")
                }
                return id
            }
            return ids + Array(repeating: WordVocabulary.pad, count: longest - ids.count)
        }
    }

    /// One translated sentence with its cross-attention.
    public struct Translation {
        public var source: [String]
        public var target: [String]
        public var text: String { TranslationCorpus.detokenize(target) }
        /// `[layers, H, T, S]`: row `t` is the attention of the query that produced target token `t`
        /// (the last row produced `<eos>`).
        public var crossAttention: Tensor
    }

    /// Translates English text (tokenised like the corpus: lower case, punctuation dropped).
    public func translate(_ texts: [String]) throws -> [Translation] {
        let sentences = texts.map(TranslationCorpus.tokenizeEnglish)
        let decoded = try greedyDecode(try sourceIDs(sentences), recordCrossAttention: true)
        return try sentences.indices.map { i in
            let full = try decoded.crossAttention(sentence: i)                       // [L, H, T, S_padded]
            let attention = try full.slice(axis: 3, 0..<(config.isBottleneck ? 1 : sentences[i].count))
            return Translation(source: sentences[i], target: targetVocabulary.decode(decoded.ids[i]), crossAttention: attention)
        }
    }
}

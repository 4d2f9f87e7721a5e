// Training and evaluation of TinyTranslator: AdamW with warmup + cosine decay, gradient clipping, seeded batches,
// checkpoints; held-out exact match by source length, and how well each cross-attention head aligns.
import AttendNN
import Foundation

/// Everything that defines a training run (the defaults produced the committed demo model).
public struct TranslatorTrainingOptions: Sendable, Equatable {
    public var steps = 2000
    public var batchSize = 64
    /// Seeds the initial weights, the batch order and dropout.
    public var seed: UInt64 = 1
    /// Seeds the corpus (the held-out sentences are the same for every training seed).
    public var corpusSeed: UInt64 = 2024
    public var trainSentences = 40_000
    public var heldOutSentences = 2_000
    public var learningRate: Float = 2e-3
    public var warmupSteps = 150
    public var weightDecay: Float = 0.01
    public var clipNorm: Float = 1
    public var bottleneck = false
    public var dModel = 96
    public var layers = 2
    public var heads = 4
    public var ffnDim = 256
    public var dropout: Float = 0
    /// Save a checkpoint every this many steps (0: only at the end).
    public var checkpointEvery = 400

    public init() {}

    public func config(sourceVocabSize: Int, targetVocabSize: Int) -> TinyTranslatorConfig {
        TinyTranslatorConfig(dModel: dModel, encoderLayers: layers, decoderLayers: layers, attentionHeads: heads, ffnDim: ffnDim,
                             sourceVocabSize: sourceVocabSize, targetVocabSize: targetVocabSize, dropout: dropout,
                             bottleneck: bottleneck)
    }

    /// Provenance strings stored with the model.
    public var provenance: [String: String] {
        ["steps": String(steps), "batch_size": String(batchSize), "seed": String(seed), "corpus_seed": String(corpusSeed),
         "train_sentences": String(trainSentences), "held_out_sentences": String(heldOutSentences),
         "learning_rate": String(learningRate), "warmup_steps": String(warmupSteps), "weight_decay": String(weightDecay),
         "clip_norm": String(clipNorm)]
    }
}

/// One batch as ids: padded sources, decoder inputs (`<bos>` + target) and outputs (target + `<eos>`).
struct TranslationBatch {
    var source: [[Int]]
    var targetIn: [[Int]]
    var targetOut: [Int]   // flattened [B·T], `<pad>` where there is nothing to predict

    init(_ pairs: [(source: [Int], target: [Int])]) {
        let s = pairs.map(\.source.count).max() ?? 0
        let t = (pairs.map(\.target.count).max() ?? 0) + 1
        let pad = WordVocabulary.pad
        source = pairs.map { $0.source + Array(repeating: pad, count: s - $0.source.count) }
        targetIn = pairs.map { [WordVocabulary.bos] + $0.target + Array(repeating: pad, count: t - 1 - $0.target.count) }
        targetOut = pairs.flatMap { $0.target + [WordVocabulary.eos] + Array(repeating: pad, count: t - 1 - $0.target.count) }
    }
}

public enum TranslatorTraining {
    /// The held-out sentences (a function of the corpus seed only) and training sentences that never repeat them.
    public static func corpus(_ o: TranslatorTrainingOptions) -> (train: [TranslationPair], heldOut: [TranslationPair]) {
        let heldOut = heldOutSentences(count: o.heldOutSentences, corpusSeed: o.corpusSeed)
        let excluded = Set(heldOut.map(\.sourceText))
        let train = TranslationCorpus.generate(count: o.trainSentences + o.heldOutSentences, seed: o.corpusSeed)
            .filter { !excluded.contains($0.sourceText) }
            .prefix(o.trainSentences)
        return (Array(train), heldOut)
    }

    /// The first `count` held-out sentences (cheap to regenerate for evaluation).
    public static func heldOutSentences(count: Int, corpusSeed: UInt64 = TranslatorTrainingOptions().corpusSeed) -> [TranslationPair] {
        TranslationCorpus.generate(count: count, seed: corpusSeed ^ 0xA5A5_5A5A_0F0F_F0F0)
    }

    /// A fresh model for the options.
    public static func makeModel(_ o: TranslatorTrainingOptions) throws -> TinyTranslator {
        let src = WordVocabulary(words: TranslationCorpus.sourceWords), tgt = WordVocabulary(words: TranslationCorpus.targetWords)
        return try TinyTranslator(config: o.config(sourceVocabSize: src.count, targetVocabSize: tgt.count),
                                  sourceVocabulary: src, targetVocabulary: tgt, seed: o.seed)
    }

    /// Trains `model` on `pairs` from `startStep` (0, or the step of the checkpoint resumed from) to `o.steps`.
    /// - Parameters:
    ///   - checkpoint: where to save checkpoints (params + AdamW state + step); resumed from when `resume` and it exists
    ///   - log: receives one record per step (CSV and the caller's printer)
    /// - Returns: the per-step losses of this run
    @discardableResult
    public static func train(_ model: TinyTranslator, on pairs: [TranslationPair], options o: TranslatorTrainingOptions,
                             log: TrainingLog? = nil, checkpoint: URL? = nil, resume: Bool = false, stopAfter: Int? = nil) throws -> [Float] {
        let examples = pairs.map { (source: model.sourceVocabulary.encode($0.source), target: model.targetVocabulary.encode($0.target)) }
        guard !examples.isEmpty else { throw ModelError.invalidInput("no training sentences") }
        let shuffler = EpochShuffler(count: examples.count, batchSize: o.batchSize, seed: o.seed)
        return try TrainingLoop.run(model: model, settings: o, log: log, checkpoint: checkpoint, resume: resume,
                                    stopAfter: stopAfter) { step, tape in
            let batch = TranslationBatch(shuffler.batch(step: step).map { examples[$0] })
            var ctx = ForwardContext(tape: tape, dropout: model.config.dropout, rng: shuffler.rng(step: step))
            let logits = try model(source: batch.source, targetIn: batch.targetIn, &ctx)                 // [B, T, V]
            let flat = try logits.reshaped([-1, model.config.targetVocabSize])                            // [B·T, V]
            let hits = flat.value.argmaxHits(targets: batch.targetOut, ignoreIndex: WordVocabulary.pad)
            return TrainingStepResult(loss: try Variable.crossEntropy(flat, targets: batch.targetOut, ignoreIndex: WordVocabulary.pad),
                                      hits: hits.hits, counted: hits.counted)
        }
    }
}

/// Held-out quality of a translator: exact match overall and by source length, and per cross-attention head the share
/// of generated content words whose most-attended source token is their gold aligned word.
public struct TranslationEvaluation: Sendable {
    public struct Bucket: Sendable { public var length: Int; public var correct: Int; public var total: Int }
    public var sentences = 0
    public var exactMatches = 0
    public var exactMatch: Double { sentences == 0 ? 0 : Double(exactMatches) / Double(sentences) }
    /// Exact matches by source length (words).
    public var byLength: [Bucket] = []
    /// `[layer][head]`: aligned content words / content words, over correctly translated sentences.
    public var headAlignment: [[Double]] = []
    /// The same over content words that took part in an adjective–noun swap.
    public var swappedAlignment: [[Double]] = []
    public var contentWords = 0
    public var swappedWords = 0

    /// The cross-attention head that aligns best.
    public var bestHead: (layer: Int, head: Int, alignment: Double, swapped: Double)? {
        var best: (Int, Int, Double, Double)? = nil
        for (l, row) in headAlignment.enumerated() {
            for (h, a) in row.enumerated() where best == nil || a > best!.2 {
                best = (l, h, a, swappedAlignment[l][h])
            }
        }
        return best
    }
}

extension TinyTranslator {
    /// Greedy-decodes `pairs` in batches (sorted by length) and scores them against the references.
    public func evaluate(_ pairs: [TranslationPair], batchSize: Int = 128) throws -> TranslationEvaluation {
        var e = TranslationEvaluation()
        let layers = decoderLayers.count, heads = config.attentionHeads
        var hits = [[Int]](repeating: [Int](repeating: 0, count: heads), count: layers)
        var swappedHits = hits
        var buckets: [Int: (Int, Int)] = [:]
        let order = pairs.indices.sorted { pairs[$0].source.count < pairs[$1].source.count }
        for chunk in stride(from: 0, to: order.count, by: Swift.max(batchSize, 1)) {
            let batch = order[chunk..<Swift.min(chunk + batchSize, order.count)].map { pairs[$0] }
            let ids = try sourceIDs(batch.map(\.source))
            let decoded = try greedyDecode(ids, recordCrossAttention: !config.isBottleneck)
            for (b, pair) in batch.enumerated() {
                let output = targetVocabulary.decode(decoded.ids[b])
                let correct = output == pair.target
                e.sentences += 1
                if correct { e.exactMatches += 1 }
                let bucket = buckets[pair.source.count] ?? (0, 0)
                buckets[pair.source.count] = (bucket.0 + (correct ? 1 : 0), bucket.1 + 1)
                guard correct, !config.isBottleneck else { continue }
                let w = try decoded.crossAttention(sentence: b)                               // [L, H, T, S]
                let (t, s) = (w.shape[2], w.shape[3])
                for (i, role) in pair.roles.enumerated() where role.isContent && i < t {
                    e.contentWords += 1
                    if pair.swapped[i] { e.swappedWords += 1 }
                    for l in 0..<layers {
                        for h in 0..<heads {
                            let row = ((l * heads + h) * t + i) * s
                            var best = 0
                            for j in 1..<pair.source.count where w.scalars[row + j] > w.scalars[row + best] { best = j }
                            if pair.alignment[i].contains(best) {
                                hits[l][h] += 1
                                if pair.swapped[i] { swappedHits[l][h] += 1 }
                            }
                        }
                    }
                }
            }
        }
        e.byLength = buckets.keys.sorted().map { TranslationEvaluation.Bucket(length: $0, correct: buckets[$0]!.0, total: buckets[$0]!.1) }
        e.headAlignment = hits.map { $0.map { Double($0) / Double(Swift.max(e.contentWords, 1)) } }
        e.swappedAlignment = swappedHits.map { $0.map { Double($0) / Double(Swift.max(e.swappedWords, 1)) } }
        return e
    }
}

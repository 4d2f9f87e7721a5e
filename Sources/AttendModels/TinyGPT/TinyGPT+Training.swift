// Training TinyGPT on repeated random spans, and measuring induction: the loss on a span's second occurrence
// against its first, and each head's prefix-matching score.
import AttendNN
import Foundation

/// Sequences made of repeated random spans: `[span₁] [gap₁] [span₁] [span₂] [gap₂] [span₂] …` cut to the
/// sequence length, each span `minSpan…maxSpan` distinct random tokens, each gap `0…maxGap` random tokens.
/// The second copy of a span is predictable only by looking back — by induction — and since span lengths and
/// gaps vary, no fixed positional offset can do it.
public enum InductionTask {
    public struct Sequence: Sendable {
        public var tokens: [Int]
        /// Where the first span starts the first and the second time, and its length.
        public var first: Int, second: Int, span: Int
    }

    public static func sequence(length: Int, vocab: Int, minSpan: Int, maxSpan: Int, maxGap: Int, rng: inout SeededRNG) -> Sequence {
        var tokens: [Int] = []
        var firstSegment: (Int, Int, Int)? = nil
        while tokens.count < length {
            let span = Swift.min(vocab, minSpan + Int(rng.next() % UInt64(Swift.max(1, maxSpan - minSpan + 1))))
            let gap = Int(rng.next() % UInt64(maxGap + 1))
            var pool = Array(0..<vocab)
            pool.shuffle(using: &rng)
            let s = Array(pool.prefix(span))
            let start = tokens.count
            tokens += s
            tokens += (0..<gap).map { _ in Int(rng.next() % UInt64(vocab)) }
            if firstSegment == nil { firstSegment = (start, tokens.count, span) }
            tokens += s
        }
        let (first, second, span) = firstSegment ?? (0, 0, 0)
        return Sequence(tokens: Array(tokens.prefix(length)), first: first, second: second, span: Swift.min(span, Swift.max(0, length - second)))
    }

    /// The evaluation batch: `count` sequences of one random span of distinct tokens and its immediate repeat
    /// (length `2·span`), the standard probe for prefix matching, from a seed disjoint from training's.
    public static func evaluationBatch(options o: InductionTrainingOptions, count: Int = 32) -> [Sequence] {
        var rng = SeededRNG(seed: 0xE7A1_0000 &+ o.seed)
        let span = o.sequenceLength / 2
        return (0..<count).map { _ in
            var pool = Array(0..<o.vocabSize)
            pool.shuffle(using: &rng)
            let s = Array(pool.prefix(Swift.min(span, o.vocabSize)))
            return Sequence(tokens: s + s, first: 0, second: s.count, span: s.count)
        }
    }
}

public struct InductionTrainingOptions: Sendable, Equatable {
    public var steps = 3000
    public var batchSize = 32
    public var seed: UInt64 = 1
    public var learningRate: Float = 3e-3
    public var warmupSteps = 100
    public var weightDecay: Float = 0.01
    public var clipNorm: Float = 1
    public var vocabSize = 64
    public var sequenceLength = 64
    public var minSpan = 4
    public var maxSpan = 32
    public var maxGap = 6
    public var hiddenSize = 64
    public var heads = 4
    public var layers = 2
    public var intermediateSize = 0
    public var checkpointEvery = 500

    public init() {}

    public var config: TinyGPTConfig {
        TinyGPTConfig(vocabSize: vocabSize, maxPositionEmbeddings: sequenceLength, hiddenSize: hiddenSize, numLayers: layers,
                      numHeads: heads, intermediateSize: intermediateSize)
    }

    public var provenance: [String: String] {
        ["steps": String(steps), "batch_size": String(batchSize), "seed": String(seed), "learning_rate": String(learningRate),
         "warmup_steps": String(warmupSteps), "weight_decay": String(weightDecay), "clip_norm": String(clipNorm),
         "span": "\(minSpan)-\(maxSpan)", "max_gap": String(maxGap), "sequence_length": String(sequenceLength)]
    }
}

public enum InductionTraining {
    public static func makeModel(_ o: InductionTrainingOptions) throws -> TinyGPT { try TinyGPT(config: o.config, seed: o.seed) }

    /// The training batch of step `step` (a function of seed and step, so resuming reproduces it).
    public static func batch(step: Int, options o: InductionTrainingOptions) -> [[Int]] {
        var rng = EpochShuffler(count: 1, batchSize: 1, seed: o.seed).rng(step: step)
        return (0..<o.batchSize).map { _ in
            InductionTask.sequence(length: o.sequenceLength, vocab: o.vocabSize, minSpan: o.minSpan, maxSpan: o.maxSpan,
                                   maxGap: o.maxGap, rng: &rng).tokens
        }
    }

    /// Next-token training on every position; returns the per-step losses of this run.
    @discardableResult
    public static func train(_ model: TinyGPT, options o: InductionTrainingOptions, log: TrainingLog? = nil,
                             checkpoint: URL? = nil, resume: Bool = false, stopAfter: Int? = nil) throws -> [Float] {
        try TrainingLoop.run(model: model, settings: o, log: log, checkpoint: checkpoint, resume: resume,
                             stopAfter: stopAfter) { step, tape in
            let ids = batch(step: step, options: o)
            let inputs = ids.map { Array($0.dropLast()) }
            let targets = ids.flatMap { Array($0.dropFirst()) }
            var ctx = ForwardContext(tape: tape)
            let logits = try model(inputs, &ctx).reshaped([-1, o.vocabSize])                  // [B·(T−1), V]
            let hits = logits.value.argmaxHits(targets: targets)
            return TrainingStepResult(loss: try Variable.crossEntropy(logits, targets: targets), hits: hits.hits, counted: hits.counted)
        }
    }
}

/// How much a model does induction on repeated spans.
public struct InductionEvaluation: Sendable {
    /// Mean loss (nats) predicting the tokens of the span's first occurrence (after its first token): unpredictable.
    public var firstOccurrenceLoss: Double
    /// Mean loss predicting the same tokens in the second occurrence: predictable by induction.
    public var repeatLoss: Double
    /// Top-1 accuracy on the second occurrence.
    public var repeatAccuracy: Double
    /// `[layer][head]`: mean attention from each token of the second occurrence to the token right after that
    /// token's first occurrence (Olsson et al.'s prefix-matching score).
    public var prefixMatching: [[Double]]
    /// `[layer][head]`: mean attention to the previous token (what a layer-1 "previous-token head" does).
    public var previousToken: [[Double]]

    public var lossDrop: Double { firstOccurrenceLoss - repeatLoss }

    /// The strongest induction head.
    public var bestInductionHead: (layer: Int, head: Int, score: Double) {
        var best = (0, 0, -1.0)
        for (l, row) in prefixMatching.enumerated() { for (h, s) in row.enumerated() where s > best.2 { best = (l, h, s) } }
        return best
    }
}

extension TinyGPT {
    /// Measures induction on `sequences` (each a span repeated; see ``InductionTask/evaluationBatch(options:count:)``).
    public func evaluateInduction(_ sequences: [InductionTask.Sequence]) throws -> InductionEvaluation {
        let recorder = IntermediateRecorder { $0.hasSuffix(".weights") }
        var ctx = ForwardContext.inference(observer: recorder)
        let inputs = sequences.map(\.tokens)
        let logits = try self(inputs, &ctx).value                                         // [B, T, V]
        let (t, v) = (logits.shape[1], logits.shape[2])
        var first = 0.0, firstN = 0, second = 0.0, secondN = 0, correct = 0
        func nll(_ b: Int, _ pos: Int, _ target: Int) -> (Double, Bool) {
            let o = (b * t + pos) * v
            var m = -Float.infinity, best = 0
            for j in 0..<v where logits.scalars[o + j] > m { m = logits.scalars[o + j]; best = j }
            var s = 0.0
            for j in 0..<v { s += Foundation.exp(Double(logits.scalars[o + j] - m)) }
            return (Double(m) + Foundation.log(s) - Double(logits.scalars[o + target]), best == target)
        }
        for (b, seq) in sequences.enumerated() {
            for i in 1..<seq.span {
                // logits at position p predict token p + 1
                let (l1, _) = nll(b, seq.first + i - 1, seq.tokens[seq.first + i])
                let (l2, ok) = nll(b, seq.second + i - 1, seq.tokens[seq.second + i])
                first += l1; firstN += 1
                second += l2; secondN += 1
                if ok { correct += 1 }
            }
        }
        var prefix: [[Double]] = [], previous: [[Double]] = []
        for l in 0..<blocks.count {
            guard let w = recorder["L\(l).weights"] else { continue }                      // [B, H, T, T]
            let h = w.shape[1]
            var pm = [Double](repeating: 0, count: h), pt = [Double](repeating: 0, count: h)
            var n = 0, np = 0
            for (b, seq) in sequences.enumerated() {
                for i in 0..<(seq.span - 1) {
                    let query = seq.second + i, key = seq.first + i + 1
                    n += 1
                    for hi in 0..<h { pm[hi] += Double(w[b, hi, query, key]) }
                }
                for query in 1..<t {
                    np += 1
                    for hi in 0..<h { pt[hi] += Double(w[b, hi, query, query - 1]) }
                }
            }
            prefix.append(pm.map { $0 / Double(Swift.max(n, 1)) })
            previous.append(pt.map { $0 / Double(Swift.max(np, 1)) })
        }
        return InductionEvaluation(firstOccurrenceLoss: first / Double(Swift.max(firstN, 1)),
                                   repeatLoss: second / Double(Swift.max(secondN, 1)),
                                   repeatAccuracy: Double(correct) / Double(Swift.max(secondN, 1)),
                                   prefixMatching: prefix, previousToken: previous)
    }

    /// Writes `config.json` (with `training` provenance) and `model.safetensors` into `folder`.
    public func save(to folder: URL, training: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try DemoModels.writeConfig(config, training: training, to: folder.appendingPathComponent("config.json"))
        try DemoModels.saveWeights(self, folder: folder, metadata: ["format": "pt"])
    }

    /// Loads a folder written by ``save(to:training:)``, strictly.
    public static func load(folder: URL) throws -> TinyGPT {
        let configURL = folder.appendingPathComponent(ModelFolder.configFile)
        let config = try DemoModels.readConfig(TinyGPTConfig.self, from: configURL)
        try config.validate(source: configURL.path)
        try checkAgainstWeights(config, configURL: configURL, folder: folder)
        let model = try TinyGPT(config: config)
        try DemoModels.loadWeights(model, folder: folder)
        return model
    }

    /// Refuses a config whose sizes the weights file cannot hold before the model is built: building allocates and
    /// randomly initialises every parameter the config asks for (a fuzzed config of 30527 × 536 took 12 s in a debug
    /// build before the weights' shapes were ever compared). Reads only the safetensors header.
    static func checkAgainstWeights(_ config: TinyGPTConfig, configURL: URL, folder: URL) throws {
        let (v, d) = (config.vocabSize, config.hiddenSize)
        // The parameters any such model has at least: token embedding and head [V, D] each, and per layer Q, K, V, O
        // [D, D] plus, with an MLP, two [D, I] matrices (bounded by ConfigCheck: no overflow).
        let perLayer = 4 * d * d + 2 * d * config.intermediateSize
        try DemoModels.checkAgainstWeights(
            configURL: configURL, folder: folder,
            shapes: [("transformer.wte.weight", [v, d], "vocab_size \(v) and hidden_size \(d)")],
            needed: 2 * v * d + config.numLayers * perLayer,
            sizes: "num_layers \(config.numLayers), hidden_size \(d), intermediate_size \(config.intermediateSize) and vocab_size \(v)")
    }

    /// The embedded induction model.
    public static func demo() throws -> TinyGPT {
        try load(folder: DemoModels.requireFolder(DemoModels.inductionGPT, trainCommand: "attend train induction"))
    }
}

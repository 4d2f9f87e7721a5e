// Generation with a Llama model: the prompt is run once (prefill), then one token at a time on the key/value
// cache (decode). Greedy or sampled (temperature, top-k, top-p, seeded: the same seed gives the same tokens),
// stopping on end-of-turn tokens, on stop strings or after `maxTokens`; every token is handed to a callback as it
// comes, with its text (the streaming UTF-8 decoder holds back split characters and anything that may begin a stop
// string), its log-probabilities and, when asked, which earlier positions it attended to.
import AttendNN
import AttendTokenizers
import Foundation

/// How the next token is picked from the logits.
public struct SamplingOptions: Sendable, Equatable {
    /// 0: greedy (the largest logit); otherwise logits are divided by it before the softmax.
    public var temperature: Float = 0
    /// Keep only the k most likely tokens (nil or 0: all).
    public var topK: Int?
    /// Keep the smallest set of most likely tokens whose probabilities sum to at least p (nil or 1: all).
    public var topP: Float?
    /// Seed of the sampler's random numbers.
    public var seed: UInt64 = 0

    public init(temperature: Float = 0, topK: Int? = nil, topP: Float? = nil, seed: UInt64 = 0) {
        (self.temperature, self.topK, self.topP, self.seed) = (temperature, topK, topP, seed)
    }

    /// The next token from `logits` `[V]`.
    public func pick(_ logits: [Float], rng: inout SeededRNG) -> Int {
        guard temperature > 0 else { return Self.argmax(logits) }
        var order = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if let k = topK, k > 0, k < order.count { order.removeSubrange(k...) }
        let m = logits[order[0]]
        var p = order.map { Foundation.exp(Double((logits[$0] - m) / temperature)) }
        let total = p.reduce(0, +)
        if let topP, topP < 1 {
            var sum = 0.0, keep = 0
            while keep < p.count { sum += p[keep] / total; keep += 1; if sum >= Double(topP) { break } }
            order.removeSubrange(keep...); p.removeSubrange(keep...)
        }
        var r = Double(rng.nextUnit()) * p.reduce(0, +)
        for (i, w) in p.enumerated() { r -= w; if r < 0 { return order[i] } }
        return order[order.count - 1]
    }

    /// The index of the largest value (the first of equals).
    public static func argmax(_ z: [Float]) -> Int {
        var best = 0
        for i in z.indices where z[i] > z[best] { best = i }
        return best
    }
}

/// What to generate and when to stop.
public struct GenerationOptions: Sendable {
    public var maxTokens = 128
    public var sampling = SamplingOptions()
    /// Text that ends the generation (not included in the output).
    public var stop: [String] = []
    /// Stop on the model's end-of-turn tokens (`<|im_end|>`, `<|endoftext|>`, the EOS id).
    public var stopOnEndOfTurn = true
    /// The K most likely tokens of every step with their log-probabilities (0: none).
    public var topLogprobs = 0
    /// Record, for every generated token, its attention to the earlier positions (summed over all layers and
    /// heads, or one layer, or one layer's head).
    public var lookback: LookbackSelection?

    public init(maxTokens: Int = 128, sampling: SamplingOptions = SamplingOptions(), stop: [String] = [],
                stopOnEndOfTurn: Bool = true, topLogprobs: Int = 0, lookback: LookbackSelection? = nil) {
        (self.maxTokens, self.sampling, self.stop, self.stopOnEndOfTurn) = (maxTokens, sampling, stop, stopOnEndOfTurn)
        (self.topLogprobs, self.lookback) = (topLogprobs, lookback)
    }
}

/// Which attention a generated token's lookback reads: every layer and head (averaged), one layer (averaged over
/// its heads) or one head.
public struct LookbackSelection: Sendable, Equatable {
    public var layer: Int?
    public var head: Int?
    public init(layer: Int? = nil, head: Int? = nil) { (self.layer, self.head) = (layer, head) }
}

/// One generated token.
public struct GenerationStep: Sendable {
    public var id: Int
    /// Its text as far as it can be shown now (may be empty while a character or a possible stop string is pending).
    public var text: String
    /// Its log-probability under the model (temperature 1).
    public var logprob: Float
    /// The most likely tokens of this step, `(id, log-probability)`, most likely first.
    public var topLogprobs: [(id: Int, logprob: Float)]
    /// Attention of the position that produced this token to every position `0…` it could see (averaged as chosen).
    public var attention: [Float]?
    /// The same row for each query head `[H][positions]`, averaged over the chosen layers (all, or the one chosen).
    public var headAttention: [[Float]]? = nil
}

/// The result of a generation.
public struct GenerationResult: Sendable {
    public var inputIds: [Int]
    /// The generated ids (without a final end-of-turn token).
    public var outputIds: [Int]
    /// Their text (special tokens skipped; cut before a stop string).
    public var text: String
    public var steps: [GenerationStep]
    /// `"stop"` (end of turn or a stop string) or `"length"` (max tokens or the context is full).
    public var finishReason: String
    /// Wall-clock seconds of the first forward pass (the prompt: prefill) and of the later ones (decode).
    public var prefillSeconds: Double = 0
    public var decodeSeconds: Double = 0
    /// Positions run in the prefill (the prompt less what the cache already held) and decode steps run.
    public var prefillTokens = 0
    public var decodeSteps = 0
}

extension LlamaModel {
    /// The ids that end a turn: the EOS id, `<|im_end|>` and `<|endoftext|>` when the vocabulary has them.
    public var endOfTurnIds: Set<Int> {
        var ids = Set(["<|im_end|>", "<|endoftext|>", "<|eot_id|>"].compactMap { tokenizer.id(for: $0) })
        if let eos = tokenizer.eosTokenId { ids.insert(eos) }
        return ids
    }

    /// Continues `prompt` (ids), calling `onText` with each piece of text as soon as it can be shown (a token's
    /// text, less any bytes of an unfinished character or a possible stop string, which come with a later piece).
    /// - Parameters:
    ///   - cache: a cache already holding `prompt`'s first `cache.count` positions (a conversation's history) or a
    ///     new one; it holds the prompt and the generated tokens afterwards.
    ///   - onStep: called with every generated token as soon as it is picked (its text piece may be empty; text held
    ///     back then comes with a later step, and a last piece only through `onText` and the result); throwing
    ///     from it (a client that went away) ends the generation with that error.
    public func generate(prompt: [Int], options: GenerationOptions, cache: LlamaCache? = nil,
                         onText: (String) throws -> Void = { _ in },
                         onStep: ((GenerationStep) throws -> Void)? = nil) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw ModelError.invalidInput("the prompt is empty") }
        let cache = cache ?? LlamaCache(config: config)
        guard cache.count < prompt.count else {
            throw ModelError.invalidInput("the cache holds \(cache.count) positions, more than the prompt's \(prompt.count)")
        }
        let endOfTurn = options.stopOnEndOfTurn ? endOfTurnIds : []
        var rng = SeededRNG(seed: options.sampling.seed)
        var stream = tokenizer.makeStreamDecoder(skipSpecialTokens: true)
        var (outputIds, steps, text, shown) = ([Int](), [GenerationStep](), "", 0)
        var finish = "length"
        var pending = Array(prompt[cache.count...])
        var clock = (prefill: 0.0, decode: 0.0, prefillTokens: pending.count, decodeSteps: 0)
        while outputIds.count < options.maxTokens && cache.count + pending.count <= config.contextLength {
            let recorder = options.lookback.map { LookbackRecorder($0, layers: config.numLayers) }
            let started = DispatchTime.now().uptimeNanoseconds
            let logits = try forward(pending, cache: cache, observer: recorder).scalars                 // [V]
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            if outputIds.isEmpty { clock.prefill += seconds } else { clock.decode += seconds; clock.decodeSteps += 1 }
            let next = options.sampling.pick(logits, rng: &rng)
            let logprobs = Self.logSoftmax(logits)
            if endOfTurn.contains(next) { finish = "stop"; break }
            outputIds.append(next)
            text += stream.append(next)
            // Stop strings: cut at the first one; otherwise show all but a tail that may begin one.
            var stopped = false
            if let cut = options.stop.compactMap({ text.range(of: $0)?.lowerBound }).min() {
                text = String(text[..<cut]); stopped = true
            }
            let holdBack = stopped ? 0 : Self.pendingStopPrefix(text, options.stop)
            let visible = text.count - holdBack
            let piece = visible > shown ? String(text.dropFirst(shown).prefix(visible - shown)) : ""
            shown = Swift.max(shown, visible)
            let top = options.topLogprobs > 0 ? Self.top(logprobs, options.topLogprobs) : []
            let step = GenerationStep(id: next, text: piece, logprob: logprobs[next], topLogprobs: top,
                                      attention: recorder?.summary(keys: cache.count),
                                      headAttention: recorder?.headSummary(keys: cache.count))
            steps.append(step)
            if !piece.isEmpty { try onText(piece) }
            try onStep?(step)
            if stopped { finish = "stop"; break }
            pending = [next]
        }
        if finish != "stop" || options.stop.isEmpty {
            let rest = stream.finish()
            text += rest
        }
        if text.count > shown, let last = steps.indices.last {
            let piece = String(text.dropFirst(shown))
            shown = text.count
            steps[last].text += piece
            try onText(piece)
        }
        return GenerationResult(inputIds: prompt, outputIds: outputIds, text: text, steps: steps, finishReason: finish,
                                prefillSeconds: clock.prefill, decodeSeconds: clock.decode,
                                prefillTokens: clock.prefillTokens, decodeSteps: clock.decodeSteps)
    }

    /// Length of the longest tail of `text` that is a proper prefix of a stop string.
    static func pendingStopPrefix(_ text: String, _ stops: [String]) -> Int {
        var longest = 0
        for s in stops where !s.isEmpty {
            for n in stride(from: Swift.min(s.count - 1, text.count), to: longest, by: -1)
            where text.hasSuffix(String(s.prefix(n))) { longest = n; break }
        }
        return longest
    }

    /// `log softmax(z)`, in Double.
    static func logSoftmax(_ z: [Float]) -> [Float] {
        let m = z.max() ?? 0
        let lse = Double(m) + Foundation.log(z.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) })
        return z.map { Float(Double($0) - lse) }
    }

    static func top(_ logprobs: [Float], _ k: Int) -> [(id: Int, logprob: Float)] {
        let order = logprobs.indices.sorted { logprobs[$0] > logprobs[$1] || (logprobs[$0] == logprobs[$1] && $0 < $1) }
        return order.prefix(k).map { ($0, logprobs[$0]) }
    }
}

/// Collects the attention of one decoding step's query (the last position) and averages it as chosen.
final class LookbackRecorder: IntermediateObserver {
    let selection: LookbackSelection
    let layers: Int
    var sum: [Float] = []
    var parts = 0
    /// Per query head, summed over the observed layers: `[H][keys]`.
    var headSums: [[Float]] = []
    var layersSeen = 0

    init(_ selection: LookbackSelection, layers: Int) { (self.selection, self.layers) = (selection, layers) }

    func wants(_ name: String) -> Bool {
        guard name.hasSuffix(".weights") else { return false }
        guard let layer = selection.layer else { return true }
        return name == "L\(layer).weights"
    }

    func observe(_ name: String, _ value: Tensor) {
        // value: [1, H, T, P+T]; the last query row of the chosen heads.
        let (h, t, keys) = (value.shape[1], value.shape[2], value.shape[3])
        if sum.isEmpty { sum = [Float](repeating: 0, count: keys) }
        if headSums.isEmpty { headSums = [[Float]](repeating: [Float](repeating: 0, count: keys), count: h) }
        let heads = selection.head.map { [$0].filter { $0 >= 0 && $0 < h } } ?? Array(0..<h)
        for head in heads {
            let base = (head * t + (t - 1)) * keys
            for j in 0..<keys { sum[j] += value.scalars[base + j] }
            parts += 1
        }
        for head in 0..<Swift.min(h, headSums.count) {
            let base = (head * t + (t - 1)) * keys
            for j in 0..<Swift.min(keys, headSums[head].count) { headSums[head][j] += value.scalars[base + j] }
        }
        layersSeen += 1
    }

    /// Each query head's row over the `keys` positions, averaged over the observed layers.
    func headSummary(keys: Int) -> [[Float]] {
        guard layersSeen > 0 else { return [] }
        return headSums.map { $0.prefix(keys).map { $0 / Float(layersSeen) } }
    }

    /// The averaged row over the `keys` positions.
    func summary(keys: Int) -> [Float] {
        guard parts > 0 else { return [] }
        return sum.prefix(keys).map { $0 / Float(parts) }
    }
}

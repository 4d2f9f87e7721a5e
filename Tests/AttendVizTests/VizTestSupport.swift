import AttendNN
import AttendTestSupport
import AttendViz
import Foundation
import Testing

/// all-MiniLM-L6-v2 loaded once for every test of this target.
enum MiniLM {
    static func embedder() throws -> SentenceEmbedder { try SharedModels.miniLM() }

    /// The tutorials' sentence (fixture sentence 1).
    static let animal = "The animal didn't cross the street because it was too tired"

    static let traces = Mutex<[String: ExplainTrace]>([:])

    /// The captured run of `text`, computed once per text.
    static func trace(_ text: String = animal) throws -> ExplainTrace {
        if let t = traces.withLock({ $0[text] }) { return t }
        let t = try ExplainTrace.capture(embedder: embedder(), text: text, modelName: "all-MiniLM-L6-v2")
        traces.withLock { $0[text] = t }
        return t
    }

    static func fixtureSentence(_ index: Int) throws -> [String: Any] {
        let sentences = try #require(minilmFixture?["sentences"] as? [[String: Any]], "../shared/fixtures/minilm-public.json is missing")
        return sentences[index]
    }
}

/// A tiny lock for test-wide caches (Swift Testing runs tests in parallel).
final class Mutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// A model-free trace shaped like an encoder-decoder's: encoder self-attention over source tokens (the last
/// one padding, masked), decoder causal self-attention, and decoder × encoder cross-attention. Every layer runs
/// through `MultiHeadAttention` and is captured by the observer, exactly as a real model would report it.
enum Synthetic {
    static let source = ["<s>", "the", "red", "car", "</s>", "<pad>"]
    static let target = ["<s>", "la", "voiture", "rouge", "."]

    static func trace(heads: Int = 2, dim: Int = 8, seed: UInt64 = 7) throws -> ExplainTrace {
        var rng = SeededRNG(seed: seed)
        let (ls, lt) = (source.count, target.count)
        let src = Tensor.randomNormal([1, ls, dim], rng: &rng)             // [1, Ls, E]
        let tgt = Tensor.randomNormal([1, lt, dim], rng: &rng)             // [1, Lt, E]
        let padding = try Tensor(shape: [1, ls], scalars: (0..<ls).map { $0 == ls - 1 ? 0 : 1 })   // [1, Ls], 1 = real
        let capture = AttentionCapture()
        let enc = try MultiHeadAttention(embedDim: dim, heads: heads, rng: &rng)
        let dec = try MultiHeadAttention(embedDim: dim, heads: heads, rng: &rng)
        let cross = try MultiHeadAttention(embedDim: dim, heads: heads, rng: &rng)
        _ = try enc(query: src, keyPaddingMask: padding, observer: capture, name: "enc.L0")
        _ = try dec(query: tgt, isCausal: true, observer: capture, name: "dec.L0.self")
        _ = try cross(query: tgt, key: src, keyPaddingMask: padding, observer: capture, name: "dec.L0.cross")
        let padMask = (0..<ls).map { i in (0..<ls).map { j in j != ls - 1 } }
        let causal = (0..<lt).map { i in (0..<lt).map { j in j <= i } }
        let crossMask = (0..<lt).map { _ in (0..<ls).map { j in j != ls - 1 } }
        let layers = [
            try capture.layer("enc.L0", label: "encoder layer 0", kind: .selfAttention,
                              queryTokens: source, keyTokens: source, mask: padMask),
            try capture.layer("dec.L0.self", label: "decoder layer 0 · self", kind: .causalSelfAttention,
                              queryTokens: target, keyTokens: target, mask: causal),
            try capture.layer("dec.L0.cross", label: "decoder layer 0 · cross", kind: .crossAttention,
                              queryTokens: target, keyTokens: source, mask: crossMask),
        ]
        return ExplainTrace(model: "synthetic-translator", text: "the red car", tokens: source, layers: layers)
    }

    /// One self-attention layer over `n` tokens whose heads have known patterns:
    /// head 0 looks at the previous token, head 1 at [CLS], head 2 at itself, head 3 uniformly.
    static func patterned(n: Int) throws -> ExplainTrace {
        let tokens = ["[CLS]"] + (1..<(n - 1)).map { $0 % 7 == 0 ? "," : "w\($0)" } + ["[SEP]"]
        var w = [Float](repeating: 0, count: 4 * n * n)
        for i in 0..<n {
            w[(0 * n + i) * n + max(0, i - 1)] = 1
            w[(1 * n + i) * n + 0] = 1
            w[(2 * n + i) * n + i] = 1
            for j in 0..<n { w[(3 * n + i) * n + j] = 1 / Float(n) }
        }
        let layer = try AttentionLayerTrace(name: "L0", label: "layer 0", kind: .selfAttention, queryTokens: tokens,
                                            keyTokens: tokens, weights: Tensor(shape: [4, n, n], scalars: w))
        return ExplainTrace(model: "patterns", text: tokens.joined(separator: " "), tokens: tokens, layers: [layer])
    }
}

// Where TinyGPT's induction head looks while it generates: for each generated token, the earlier position one head
// attended to most. On a repeated span, an induction head looks at the token after the current token's earlier
// occurrence — the token it is about to copy. Shared by `attend generate --explain` and the server.
import AttendNN
import AttendTensor

extension TinyGPT {
    /// The position a head attended to most while writing one generated token, and its weight.
    public struct Lookback: Sendable, Equatable {
        public var position: Int
        public var weight: Float
        public init(position: Int, weight: Float) { self.position = position; self.weight = weight }
    }

    /// A random span of `span` distinct tokens (seeded) followed by its first three, and how many tokens complete
    /// the repeat: the default prompt of `attend generate`.
    public static func repeatedSpanPrompt(vocabSize: Int, span: Int, seed: UInt64) -> (tokens: [Int], rest: Int) {
        var rng = SeededRNG(seed: seed)
        var pool = Array(0..<vocabSize)
        pool.shuffle(using: &rng)
        let s = Array(pool.prefix(min(span, vocabSize)))
        return (s + s.prefix(3), s.count - 3)
    }

    /// One full pass over `prompt + generated` (all but the last token): for each generated token, the position
    /// head `head` of layer `layer` (both 0-based) attended to most from the query that predicted it.
    /// Empty when the model reports no weights for that layer.
    public func lookbacks(prompt: [Int], generated: [Int], layer: Int, head: Int) throws -> [Lookback] {
        guard !prompt.isEmpty, !generated.isEmpty else { return [] }
        let name = "L\(layer).weights"
        let recorder = IntermediateRecorder { $0 == name }
        var ctx = ForwardContext.inference(observer: recorder)
        let all = prompt + generated
        _ = try self([Array(all.dropLast())], &ctx)
        guard let w = recorder[name] else { return [] }               // [1, H, T, T]
        guard w.shape.count == 4, (0..<w.shape[1]).contains(head) else {
            throw ModelError.invalidInput("head \(head + 1) does not exist in layer \(layer + 1) (\(w.shape))")
        }
        var looks: [Lookback] = []
        for t in 0..<generated.count {
            let q = prompt.count - 1 + t
            let row = (0...q).map { w[0, head, q, $0] }
            let best = row.indices.max { row[$0] < row[$1] } ?? 0
            looks.append(Lookback(position: best, weight: row[best]))
        }
        return looks
    }
}

// TinyGPT behind the model seam: text is a line of syllables ("na ro zi") or token ids, one per token.
import AttendNN
import Foundation

extension TinyGPT: AttendModel {
    public var family: String { config.modelType }

    /// One causal self-attention site per block, `"L0"` … `"L{n-1}"`, labelled `"layer i"`.
    public var attentionSites: [AttentionSite] {
        (0..<config.numLayers).map {
            AttentionSite(name: "L\($0)", label: "layer \($0)", kind: .causalSelfAttention, heads: config.numHeads,
                          queries: .source, keys: .source,
                          note: "q and k are shown after the rotary position embedding (RoPE), as the scores use them")
        }
    }

    /// The ids of a line of syllables or decimal ids (`"na ro zi"`, `"44 53 63"`).
    /// - Throws: ``ModelError/invalidInput(_:)`` naming a word that is not a token, or an empty line.
    public func ids(_ text: String) throws -> [Int] {
        let words = text.split(whereSeparator: { $0.isWhitespace || $0 == "," }).map(String.init)
        guard !words.isEmpty else { throw ModelError.invalidInput("no tokens: give syllables such as \"na ro zi na ro\" or token ids") }
        guard words.count <= config.maxPositionEmbeddings else {
            throw ModelError.sequenceTooLong(length: words.count, max: config.maxPositionEmbeddings)
        }
        return try words.map { w in
            guard let id = Self.token(w), id >= 0, id < config.vocabSize else {
                throw ModelError.invalidInput("\"\(w)\" is not a token of this model: use syllables \(Self.syllable(0)) … "
                    + "\(Self.syllable(config.vocabSize - 1)) (consonant of bdfghjklmnprstvz + vowel of aeio) or ids 0…\(config.vocabSize - 1)")
            }
            return id
        }
    }

    /// Each token as its syllable.
    public func tokens(_ text: String) throws -> [String] { try ids(text).map(Self.syllable) }

    /// Runs the model on the tokens of `text`; the observer receives "L{i}.q/k/v/weights/context" per block.
    public func runAttention(_ text: String, observer: any IntermediateObserver) throws -> AttentionRun {
        let ids = try ids(text)
        var ctx = ForwardContext.inference(observer: observer)
        _ = try self([ids], &ctx)                                                                    // [1, T, V]
        return AttentionRun(text: text, sourceTokens: ids.map(Self.syllable))
    }
}

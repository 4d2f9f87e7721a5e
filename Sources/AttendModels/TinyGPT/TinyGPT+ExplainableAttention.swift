// TinyGPT for value-norm (its value projection reads LN₁ of the block's input) and grad-attention
// (y = log-probability of a target token at the last position).
import AttendNN
import Foundation

extension TinyGPT: ExplainableAttention {
    /// A line of syllables or ids (`"na ro zi"`, `"5 9 13"`).
    func explainIDs(_ text: String) throws -> [Int] {
        let words = text.split(whereSeparator: { $0.isWhitespace || $0 == "," }).map(String.init)
        guard !words.isEmpty else { throw ModelError.invalidInput("no tokens: give syllables such as \"na ro zi na ro\" or token ids") }
        return try words.map { w in
            guard let id = Self.token(w), id >= 0, id < config.vocabSize else {
                throw ModelError.invalidInput("\"\(w)\" is not a token of this model: use syllables \(Self.syllable(0)) … \(Self.syllable(config.vocabSize - 1)) or ids 0…\(config.vocabSize - 1)")
            }
            return id
        }
    }

    public func valueSites(_ text: String) throws -> [ValueSite] {
        let ids = try explainIDs(text)
        let tokens = ids.map(Self.syllable)
        let run = try tracedForward([ids], tape: nil)
        return try blocks.indices.map { l in
            ValueSite(weights: try run.attention[l].select(axis: 0, 0), input: try run.valueInputs[l].select(axis: 0, 0),   // [H, T, T], [T, D]
                      attention: blocks[l].attention, queryTokens: tokens, keyTokens: tokens)
        }
    }

    public func attentionGradients(_ text: String, target: GradientTarget) throws -> AttentionGradients {
        guard case .nextToken(let name) = target else {
            throw ModelError.invalidInput("a decoder explains the probability of a next token: give --target-token, not a target sentence")
        }
        guard let token = Self.token(name), token >= 0, token < config.vocabSize else {
            throw ModelError.invalidInput("target token \"\(name)\" is not a token of this model (syllables \(Self.syllable(0)) … \(Self.syllable(config.vocabSize - 1)) or ids 0…\(config.vocabSize - 1))")
        }
        return try attentionGradients(ids: explainIDs(text), target: token)
    }

    /// y = log p(`target` | `ids`) at the last position.
    public func attentionGradients(ids: [Int], target: Int) throws -> AttentionGradients {
        guard !ids.isEmpty else { throw ModelError.invalidInput("no tokens to explain") }
        guard target >= 0, target < config.vocabSize else {
            throw ModelError.invalidInput("target token \(target) is outside the vocabulary of \(config.vocabSize)")
        }
        let tape = Tape()
        let run = try tracedForward([ids], tape: tape, tapAttention: true)
        // −log p(target) at the last position only (the others are ignored).
        let nll = try Variable.crossEntropy(run.logits, targets: Array(repeating: -100, count: ids.count - 1) + [target])  // []
        try tape.backward(nll, seed: Tensor(shape: nll.shape, scalars: [-1]))                        // d(−nll) = d log p
        return try AttentionGradients.collect(run.attention, run.attentionTaps, tape: tape, output: -nll.value.scalars[0],
                                              tokens: ids.map(Self.syllable), target: GradientTarget.nextToken(Self.syllable(target)).description)
    }
}

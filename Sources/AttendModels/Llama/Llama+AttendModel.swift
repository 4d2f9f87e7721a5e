// A Llama model behind the model seam: text is cut by its byte-level BPE tokenizer (special tokens such as
// `<|im_start|>` matched whole, nothing added), every layer is one causal self-attention site.
import AttendNN
import AttendTokenizers
import Foundation

extension LlamaModel: AttendModel {
    public var family: String { Self.architecture }

    /// One causal self-attention site per layer, `"L0"` … `"L{n-1}"`, labelled `"layer i"`; the note says how the
    /// query heads share key/value heads.
    public var attentionSites: [AttentionSite] {
        (0..<config.numLayers).map {
            AttentionSite(name: "L\($0)", label: "layer \($0)", kind: .causalSelfAttention, heads: config.numHeads,
                          queries: .source, keys: .source, note: siteNote)
        }
    }

    /// What the views should say about q, k and v: RoPE, and grouped-query sharing.
    public var siteNote: String {
        let g = config.groupSize
        let sharing = (0..<config.numKeyValueHeads).map { "heads \($0 * g)–\($0 * g + g - 1) → key/value head \($0)" }
            .joined(separator: ", ")
        return "q and k are shown after the rotary position embedding (RoPE, θ = \(Int(config.ropeTheta))), as the scores use them; "
            + "grouped-query attention: the \(config.numHeads) query heads share \(config.numKeyValueHeads) key/value heads, "
            + "query head h reads key/value head h / \(g) (\(sharing))"
    }

    /// The key/value head query head `head` reads.
    public func keyValueHead(of head: Int) -> Int { head / config.groupSize }

    /// The ids of `text` (no BOS added; special tokens written in the text are matched).
    /// - Throws: ``ModelError/invalidInput(_:)`` for an empty text, ``ModelError/sequenceTooLong(length:max:)``.
    public func ids(_ text: String) throws -> [Int] {
        let ids = tokenizer.encode(text)
        guard !ids.isEmpty else { throw ModelError.invalidInput("the text has no tokens: give some text") }
        guard ids.count <= config.contextLength else {
            throw ModelError.sequenceTooLong(length: ids.count, max: config.contextLength)
        }
        return ids
    }

    /// A token as text for people: its bytes as UTF-8 (a piece of a character shows as U+FFFD).
    public func tokenText(_ id: Int) -> String { String(decoding: tokenizer.bytes(of: id), as: UTF8.self) }

    public func tokens(_ text: String) throws -> [String] { try ids(text).map(tokenText) }

    /// Runs the model on the tokens of `text`; the observer receives "L{i}.attn_norm/q/k/v/weights/context" per layer
    /// (`attn_norm`: the RMSNormed hidden state `[1, T, D]` the q, k and v projections read).
    public func runAttention(_ text: String, observer: any IntermediateObserver) throws -> AttentionRun {
        let ids = try ids(text)
        _ = try forward(ids, cache: LlamaCache(config: config), observer: observer)                   // [V]
        return AttentionRun(text: text, sourceTokens: ids.map(tokenText),
                            embeddingsFormula: "token embedding (no position is added: RoPE rotates q and k in every layer)")
    }
}

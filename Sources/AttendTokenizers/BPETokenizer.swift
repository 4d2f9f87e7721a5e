import Foundation

/// How a byte-level BPE vocabulary splits text into words before merging.
public enum BPEPreTokenizerKind: String, Sendable, Hashable, CaseIterable {
    /// GPT-2's pattern (`GPT2Split`), as `tokenizers`' ByteLevel(use_regex: true).
    case gpt2
    /// Every numeric scalar on its own first (Digits(individual_digits: true)), then
    /// GPT-2's pattern: llama.cpp's `smollm` / `starcoder` split and the one in
    /// SmolLM2's Hub `tokenizer.json`. It differs from `.gpt2` for SmolLM2 only on
    /// non-ASCII numerals (its merges never join ASCII digits).
    case gpt2IndividualDigits

    /// Whose reading of a GGUF `tokenizer.ggml.pre` name to follow.
    public enum Reference: Sendable { case transformers, llamaCpp }

    /// The split for a GGUF `tokenizer.ggml.pre` value. Transformers (the reference
    /// Attend is tested against) builds plain GPT-2 ByteLevel for `gpt2`, `smollm`,
    /// `starcoder` and other names it has no regex for; llama.cpp isolates digits for
    /// `smollm`, `starcoder`, `refact`, `codeshell`, `command-r`, `exaone`, `minerva`.
    /// Nil for names that need another regex (`llama3`, `qwen2`, `gpt-4o`, …), not implemented.
    public init?(ggufPre name: String?, reference: Reference = .transformers) {
        let digits: Set<String> = ["smollm", "starcoder", "refact", "codeshell", "command-r", "exaone", "minerva"]
        let plain: Set<String> = ["gpt2", "gpt-2", "default", "olmo", "jais", "poro-chat", "bloom"]
        guard let name else { self = .gpt2; return }
        if digits.contains(name) {
            self = reference == .llamaCpp ? .gpt2IndividualDigits : .gpt2
        } else if plain.contains(name) {
            self = .gpt2
        } else {
            return nil
        }
    }

    public var preTokenizer: any PreTokenizer {
        switch self {
        case .gpt2: return ByteLevelPreTokenizer(useRegex: true)
        case .gpt2IndividualDigits:
            return SequencePreTokenizer([DigitsPreTokenizer(individualDigits: true), ByteLevelPreTokenizer(useRegex: true)])
        }
    }
}

/// A byte-level BPE tokenizer for decoder language models (GPT-2 family, SmolLM2):
/// a `Tokenizer` with BPE model, ByteLevel split and decoder, plus the ids a
/// generator needs (BOS, EOS) and byte-exact streaming decoding.
///
///     let t = try BPETokenizer(tokens: ggufTokens, merges: ggufMerges, tokenTypes: ggufTypes,
///                              bosId: 1, eosId: 2, preTokenizer: .gpt2)
///     let ids = t.encode("<|im_start|>user\nHi<|im_end|>\n")   // special tokens matched in the text
///     var stream = t.makeStreamDecoder()
///     for id in generated { print(stream.append(id), terminator: "") }
///
/// `encode` adds no BOS/EOS (SmolLM2's `add_bos_token` is false; prepend `bosTokenId`
/// yourself when a model wants it). Special and added tokens are found in the text
/// before it is split, as in `tokenizers`.
public struct BPETokenizer: Sendable {
    public let tokenizer: Tokenizer
    public let bosTokenId: Int?
    public let eosTokenId: Int?
    public let padTokenId: Int?

    /// Wraps a loaded tokenizer (e.g. `Tokenizer(folder:)` of a GPT-2 folder).
    public init(tokenizer: Tokenizer, bosTokenId: Int? = nil, eosTokenId: Int? = nil, padTokenId: Int? = nil) {
        self.tokenizer = tokenizer
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.padTokenId = padTokenId
    }

    /// Builds the tokenizer from plain values, as a GGUF file stores them
    /// (`tokenizer.ggml.tokens`, `.merges`, `.token_type`, `.bos_token_id`, …).
    ///
    /// - Parameters:
    ///   - tokens: the vocabulary, id = index, in the byte-level alphabet (a token
    ///     spelled otherwise is respelled: `" x"` becomes `"Ġx"`).
    ///   - merges: `"a b"` in rank order.
    ///   - tokenTypes: GGUF token types; 3 (control) become special added tokens,
    ///     4 (user-defined) plain added tokens, both matched whole in the text
    ///     (as transformers' GGUF loader does; a control token spelled outside the
    ///     byte-level alphabet is skipped there and here).
    /// - Throws: `TokenizerError.invalidVocabulary` for a malformed merge, a merge of
    ///   tokens not in `tokens`, a `tokenTypes` of another length, or an id out of range.
    public init(tokens: [String], merges: [String], tokenTypes: [Int]? = nil,
                bosId: Int? = nil, eosId: Int? = nil, padId: Int? = nil,
                preTokenizer: BPEPreTokenizerKind = .gpt2, ignoreMerges: Bool = false) throws {
        guard !tokens.isEmpty else { throw TokenizerError.invalidVocabulary(reason: "no tokens", file: nil) }
        // As transformers' GGUF loader: a token written outside the byte alphabet (e.g. with a
        // real space) is respelled in it; of two equal tokens the later id wins.
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            let spelled = ByteLevelAlphabet.decode(token) != nil ? token : ByteLevelAlphabet.encode(Array(token.utf8))
            vocabulary[spelled] = id
        }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(merges.count)
        for (rank, line) in merges.enumerated() {
            guard let pair = BytePairEncoding.parseMerge(line) else {
                throw TokenizerError.invalidVocabulary(reason: "merge \(rank) '\(line)' is not two tokens separated by a space", file: nil)
            }
            pairs.append(pair)
        }
        let model = try BytePairEncoding(vocabulary: vocabulary, merges: pairs, byteLevel: true, ignoreMerges: ignoreMerges)
        var added: [AddedToken] = []
        if let tokenTypes {
            guard tokenTypes.count == tokens.count else {
                throw TokenizerError.invalidVocabulary(reason: "\(tokenTypes.count) token types for \(tokens.count) tokens", file: nil)
            }
            for (id, type) in tokenTypes.enumerated() {
                let token = tokens[id]
                if type == 3 && ByteLevelAlphabet.decode(token) != nil {
                    added.append(AddedToken(id: id, content: token, normalized: false, special: true))
                } else if type == 4 && vocabulary[token] == id {
                    added.append(AddedToken(id: id, content: token, normalized: false, special: false))
                }
            }
        }
        for (role, id) in [("bos_token_id", bosId), ("eos_token_id", eosId), ("padding_token_id", padId)] {
            if let id, !tokens.indices.contains(id) {
                throw TokenizerError.invalidVocabulary(reason: "\(role) \(id) is outside the \(tokens.count) tokens", file: nil)
            }
        }
        let tokenizer = Tokenizer(normalizer: nil, preTokenizer: preTokenizer.preTokenizer, model: model,
                                  postProcessor: nil, decoder: ByteLevelDecoder(), addedTokens: added,
                                  padTokenId: padId)
        self.init(tokenizer: tokenizer, bosTokenId: bosId, eosTokenId: eosId, padTokenId: padId)
    }

    /// A Hugging Face folder: `tokenizer.json` (BPE) and, when present,
    /// `tokenizer_config.json` for the names of `bos_token`, `eos_token`, `pad_token`.
    public init(folder: URL) throws {
        let tokenizer = try Tokenizer(folder: folder)
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        var bos: Int?, eos: Int?, pad: Int?
        if FileManager.default.fileExists(atPath: configURL.path) {
            let names = try decodeJSONFile(GenerationTokenNames.self, from: configURL)
            bos = names.bos.flatMap(tokenizer.id(for:))
            eos = names.eos.flatMap(tokenizer.id(for:))
            pad = names.pad.flatMap(tokenizer.id(for:))
        }
        self.init(tokenizer: tokenizer, bosTokenId: bos, eosTokenId: eos, padTokenId: pad)
    }

    // MARK: - Encoding and decoding

    /// The ids of `text`: special/added tokens matched, no BOS/EOS added.
    public func encode(_ text: String) -> [Int] {
        tokenizer.encode(text, addSpecialTokens: false).ids
    }

    /// The full encoding (tokens, offsets in Unicode scalars of `text`).
    public func encoding(_ text: String) -> Encoding {
        tokenizer.encode(text, addSpecialTokens: false)
    }

    /// The text of `ids` (bytes joined, invalid UTF-8 as U+FFFD). Unknown ids are skipped;
    /// with `skipSpecialTokens`, so are special tokens (`<|im_start|>` …).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
    }

    /// The bytes token `id` stands for (empty for an unknown id).
    public func bytes(of id: Int) -> [UInt8] {
        guard let token = tokenizer.token(for: id) else { return [] }
        return ByteLevelAlphabet.bytes(ofToken: token)
    }

    public func token(for id: Int) -> String? { tokenizer.token(for: id) }
    public func id(for token: String) -> Int? { tokenizer.id(for: token) }
    public var vocabularySize: Int { tokenizer.vocabularySize }

    /// Whether `id` is a special token (dropped by `decode(_:skipSpecialTokens: true)`).
    public func isSpecial(_ id: Int) -> Bool {
        tokenizer.addedTokens.contains { $0.id == id && $0.special }
    }

    /// A decoder for ids that arrive one at a time (generation).
    public func makeStreamDecoder(skipSpecialTokens: Bool = false) -> BPEStreamDecoder {
        BPEStreamDecoder(tokenizer: self, skipSpecialTokens: skipSpecialTokens)
    }
}

/// Turns generated ids into text as they come: `append(id)` returns the text that
/// is complete so far, holding back the bytes of a character split across tokens.
/// The concatenation of all returned pieces plus `finish()` equals
/// `decode(allIds, skipSpecialTokens:)`.
public struct BPEStreamDecoder: Sendable {
    private let tokenizer: BPETokenizer
    private let skipped: Set<Int>
    private var utf8 = UTF8StreamDecoder()

    init(tokenizer: BPETokenizer, skipSpecialTokens: Bool) {
        self.tokenizer = tokenizer
        skipped = skipSpecialTokens ? Set(tokenizer.tokenizer.addedTokens.filter(\.special).map(\.id)) : []
    }

    /// Adds one id; returns the newly completed text (often "", e.g. mid-emoji).
    public mutating func append(_ id: Int) -> String {
        guard !skipped.contains(id) else { return "" }
        return utf8.append(tokenizer.bytes(of: id))
    }

    /// The rest (an unfinished character becomes U+FFFD); the decoder is then empty.
    public mutating func finish() -> String { utf8.finish() }

    /// Bytes waiting for the rest of their character.
    public var pendingBytes: [UInt8] { utf8.pendingBytes }
}

/// `bos_token`, `eos_token`, `pad_token` of `tokenizer_config.json` (string or `{"content": …}`).
private struct GenerationTokenNames: Decodable {
    var bos, eos, pad: String?
    enum CodingKeys: String, CodingKey { case bos = "bos_token", eos = "eos_token", pad = "pad_token" }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bos = try? c.decodeIfPresent(TokenName.self, forKey: .bos)?.content
        eos = try? c.decodeIfPresent(TokenName.self, forKey: .eos)?.content
        pad = try? c.decodeIfPresent(TokenName.self, forKey: .pad)?.content
    }
}

import Foundation

// Loading a tokenizer from a model folder: `tokenizer.json` when present, else the
// BERT files `vocab.txt` + `tokenizer_config.json` (as `BertTokenizerFast` would
// convert them). Every failure is a `TokenizerError` naming the file.

extension Tokenizer {
    /// Loads the tokenizer of a model folder: `tokenizer.json` if it exists, else
    /// `vocab.txt` with the options of `tokenizer_config.json`. Special-token names
    /// come from `special_tokens_map.json` / `tokenizer_config.json` when present.
    public init(folder: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TokenizerError.fileNotFound(folder)
        }
        let fm = FileManager.default
        let jsonURL = folder.appendingPathComponent("tokenizer.json")
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        let mapURL = folder.appendingPathComponent("special_tokens_map.json")
        let vocabURL = folder.appendingPathComponent("vocab.txt")

        let config = fm.fileExists(atPath: configURL.path) ? try decodeJSONFile(TokenizerConfigFile.self, from: configURL) : nil
        let map = fm.fileExists(atPath: mapURL.path) ? try decodeJSONFile(SpecialTokensMapFile.self, from: mapURL) : nil
        var names = SpecialTokenNames()
        for source in [config?.names, map?.names] {
            guard let source else { continue }
            if let v = source.cls { names.cls = v }
            if let v = source.sep { names.sep = v }
            if let v = source.pad { names.pad = v }
            if let v = source.unk { names.unk = v }
            if let v = source.mask { names.mask = v }
        }
        if fm.fileExists(atPath: jsonURL.path) {
            try self.init(tokenizerJSON: jsonURL, names: names, modelMaxLength: config?.modelMaxLength)
        } else if fm.fileExists(atPath: vocabURL.path) {
            try self.init(vocabFile: vocabURL, config: config, names: names)
        } else {
            throw TokenizerError.noTokenizerFiles(folder: folder)
        }
    }

    /// Loads a `tokenizer.json` on its own.
    public init(tokenizerJSON url: URL) throws {
        try self.init(tokenizerJSON: url, names: nil, modelMaxLength: nil)
    }

    /// The BERT fallback: `vocab.txt` plus, optionally, `tokenizer_config.json`
    /// (`do_lower_case`, `strip_accents`, `tokenize_chinese_chars`, special tokens).
    /// Builds BertNormalizer → BertPreTokenizer → WordPiece → BertProcessing, WordPiece decoder.
    public init(vocabFile: URL, tokenizerConfig configURL: URL? = nil) throws {
        let config = try configURL.map { try decodeJSONFile(TokenizerConfigFile.self, from: $0) }
        var names = SpecialTokenNames()
        if let n = config?.names {
            names = SpecialTokenNames(cls: n.cls ?? names.cls, sep: n.sep ?? names.sep, pad: n.pad ?? names.pad,
                                      unk: n.unk ?? names.unk, mask: n.mask ?? names.mask)
        }
        try self.init(vocabFile: vocabFile, config: config, names: names)
    }

    /// Reads `tokenizer.json` contents already in memory; errors name `source`.
    public init(tokenizerJSONData data: Data, source: URL = URL(fileURLWithPath: "tokenizer.json")) throws {
        try self.init(file: try decodeTokenizerFile(data, file: source), names: nil, modelMaxLength: nil)
    }

    /// As ``init(tokenizerJSONData:source:)``, with ``VocabularyScanner`` on or off (tests compare the two).
    init(tokenizerJSONData data: Data, scanVocabulary: Bool) throws {
        let file = try decodeTokenizerFile(data, file: URL(fileURLWithPath: "tokenizer.json"), scanVocabulary: scanVocabulary)
        try self.init(file: file, names: nil, modelMaxLength: nil)
    }

    private init(tokenizerJSON url: URL, names: SpecialTokenNames?, modelMaxLength: Int?) throws {
        try self.init(file: try decodeTokenizerFile(try readFile(url), file: url), names: names, modelMaxLength: modelMaxLength)
    }

    private init(file: TokenizerFile, names: SpecialTokenNames?, modelMaxLength: Int?) throws {
        var names = names ?? SpecialTokenNames()
        if let wordPiece = file.model.value as? WordPiece { names.unk = wordPiece.unkToken }
        if let padToken = file.padding?.padToken { names.pad = padToken }
        self.init(normalizer: file.normalizer?.value, preTokenizer: file.preTokenizer?.value, model: file.model.value,
                  postProcessor: file.postProcessor?.value, decoder: file.decoder?.value,
                  addedTokens: file.addedTokens, specialTokens: names,
                  padTokenId: file.padding?.padId, padTypeId: file.padding?.padTypeId ?? 0,
                  configuredMaxLength: file.truncation?.maxLength, modelMaxLength: modelMaxLength)
    }

    private init(vocabFile: URL, config: TokenizerConfigFile?, names: SpecialTokenNames) throws {
        let model = try WordPiece(vocabFile: vocabFile, unkToken: names.unk)
        guard let clsId = model.id(for: names.cls) else {
            throw TokenizerError.missingToken(names.cls, role: "cls_token", file: vocabFile)
        }
        guard let sepId = model.id(for: names.sep) else {
            throw TokenizerError.missingToken(names.sep, role: "sep_token", file: vocabFile)
        }
        let lowercase = config?.doLowerCase ?? true
        let normalizer = BertNormalizer(cleanText: true, handleChineseChars: config?.tokenizeChineseChars ?? true,
                                        stripAccents: config?.stripAccents, lowercase: lowercase)
        var seen = Set<Int>()
        let added = [names.pad, names.unk, names.cls, names.sep, names.mask]
            .compactMap { name in model.id(for: name).map { AddedToken(id: $0, content: name, normalized: false, special: true) } }
            .filter { seen.insert($0.id).inserted }
            .sorted { $0.id < $1.id }
        self.init(normalizer: normalizer, preTokenizer: BertPreTokenizer(), model: model,
                  postProcessor: BertProcessing(cls: (names.cls, clsId), sep: (names.sep, sepId)),
                  decoder: WordPieceDecoder(), addedTokens: added, specialTokens: names,
                  modelMaxLength: config?.modelMaxLength)
    }
}

// MARK: - File formats

/// Reads and decodes a JSON file; every failure names the file.
func decodeJSONFile<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
    try decodeJSON(type, from: try readFile(url), file: url)
}

/// Decodes JSON `data`; every failure names `url`. `userInfo` reaches the types' decoders.
func decodeJSON<T: Decodable>(_ type: T.Type, from data: Data, file url: URL,
                              userInfo: [CodingUserInfoKey: any Sendable] = [:]) throws -> T {
    if let offset = JSONLexer.nestingBeyond(in: data) {
        throw TokenizerError.malformedFile(url, reason: "arrays and objects nested deeper than \(JSONLexer.foundationMaximumDepth) levels (at byte \(offset))")
    }
    do {
        let decoder = JSONDecoder()
        decoder.userInfo = userInfo
        return try decoder.decode(T.self, from: data)
    } catch let error as TokenizerError {
        throw error.attributed(to: url)
    } catch let error as DecodingError {
        throw TokenizerError.malformedFile(url, reason: describe(error))
    } catch {
        throw TokenizerError.malformedFile(url, reason: "\(error)")
    }
}

/// Decodes `tokenizer.json`: with `scanVocabulary`, ``VocabularyScanner`` reads the model's vocabulary (the bulk of
/// the file) first and the `model` decoder takes it from there instead of building it through `JSONDecoder`.
func decodeTokenizerFile(_ data: Data, file url: URL, scanVocabulary: Bool = true) throws -> TokenizerFile {
    var userInfo: [CodingUserInfoKey: any Sendable] = [:]
    if scanVocabulary, let vocab = VocabularyScanner.modelVocabulary(in: data) {
        userInfo[PreparsedVocabulary.key] = PreparsedVocabulary(vocab)
    }
    return try decodeJSON(TokenizerFile.self, from: data, file: url, userInfo: userInfo)
}

private func describe(_ error: DecodingError) -> String {
    func path(_ p: [any CodingKey]) -> String {
        p.isEmpty ? "top level" : p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context):
        return "missing field '\(key.stringValue)' at \(path(context.codingPath))"
    case .typeMismatch(let type, let context):
        return "expected \(type) at \(path(context.codingPath)): \(context.debugDescription)"
    case .valueNotFound(let type, let context):
        return "missing \(type) value at \(path(context.codingPath))"
    case .dataCorrupted(let context):
        let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
        return "\(context.debugDescription)\(underlying) at \(path(context.codingPath))"
    @unknown default:
        return "\(error)"
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private func componentType(_ decoder: any Decoder) throws -> (type: String?, container: KeyedDecodingContainer<AnyKey>) {
    let c = try decoder.container(keyedBy: AnyKey.self)
    return (try c.decodeIfPresent(String.self, forKey: AnyKey("type")), c)
}

/// The parts of `tokenizer.json` this package reads, under the file's own key names.
struct TokenizerFile: Decodable {
    var addedTokens: [AddedToken]
    var normalizer: NormalizerEntry?
    var preTokenizer: PreTokenizerEntry?
    var model: ModelEntry
    var postProcessor: PostProcessorEntry?
    var decoder: DecoderEntry?
    var truncation: TruncationEntry?
    var padding: PaddingEntry?

    enum CodingKeys: String, CodingKey {
        case addedTokens = "added_tokens", normalizer, preTokenizer = "pre_tokenizer", model
        case postProcessor = "post_processor", decoder, truncation, padding
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        addedTokens = try c.decodeIfPresent([AddedToken].self, forKey: .addedTokens) ?? []
        normalizer = try c.decodeIfPresent(NormalizerEntry.self, forKey: .normalizer)
        preTokenizer = try c.decodeIfPresent(PreTokenizerEntry.self, forKey: .preTokenizer)
        model = try c.decode(ModelEntry.self, forKey: .model)
        postProcessor = try c.decodeIfPresent(PostProcessorEntry.self, forKey: .postProcessor)
        self.decoder = try c.decodeIfPresent(DecoderEntry.self, forKey: .decoder)
        // Informational only, so an unusual shape is ignored rather than fatal.
        truncation = try? c.decodeIfPresent(TruncationEntry.self, forKey: .truncation)
        padding = try? c.decodeIfPresent(PaddingEntry.self, forKey: .padding)
        // A ByteLevel pre-tokenizer hands the model byte-level text: the BPE model maps the bytes itself.
        if var bpe = model.value as? BytePairEncoding {
            bpe.byteLevel = preTokenizer.map { containsByteLevel($0.value) } ?? false
            model = ModelEntry(bpe)
        }
    }
}

struct NormalizerEntry: Decodable {
    let value: any Normalizer
    init(from decoder: any Decoder) throws {
        let (type, c) = try componentType(decoder)
        switch type {
        case "BertNormalizer": value = try BertNormalizer(from: decoder)
        case "Lowercase": value = LowercaseNormalizer()
        case "NFD": value = NFDNormalizer()
        case "StripAccents": value = StripAccentsNormalizer()
        case "Sequence": value = SequenceNormalizer(try c.decode([NormalizerEntry].self, forKey: AnyKey("normalizers")).map(\.value))
        default: throw TokenizerError.unsupportedComponent(kind: "normalizer", type: type ?? "(no type)", file: nil)
        }
    }
}

struct PreTokenizerEntry: Decodable {
    let value: any PreTokenizer
    init(from decoder: any Decoder) throws {
        let (type, c) = try componentType(decoder)
        switch type {
        case "BertPreTokenizer": value = BertPreTokenizer()
        case "Whitespace": value = WhitespacePreTokenizer()
        case "WhitespaceSplit": value = WhitespaceSplitPreTokenizer()
        case "Sequence": value = SequencePreTokenizer(try c.decode([PreTokenizerEntry].self, forKey: AnyKey("pretokenizers")).map(\.value))
        case "ByteLevel":
            if try c.decodeIfPresent(Bool.self, forKey: AnyKey("add_prefix_space")) == true {
                throw TokenizerError.unsupportedComponent(kind: "pre_tokenizer", type: "ByteLevel with add_prefix_space true", file: nil)
            }
            value = ByteLevelPreTokenizer(useRegex: try c.decodeIfPresent(Bool.self, forKey: AnyKey("use_regex")) ?? true)
        case "Digits":
            value = DigitsPreTokenizer(individualDigits: try c.decodeIfPresent(Bool.self, forKey: AnyKey("individual_digits")) ?? false)
        case "Split": value = try splitPreTokenizer(c)
        default: throw TokenizerError.unsupportedComponent(kind: "pre_tokenizer", type: type ?? "(no type)", file: nil)
        }
    }
}

/// `{"type": "Split", "pattern": {"String": s} | {"Regex": r}, "behavior": b, "invert": false}`.
private func splitPreTokenizer(_ c: KeyedDecodingContainer<AnyKey>) throws -> SplitPreTokenizer {
    let behaviorName = try c.decode(String.self, forKey: AnyKey("behavior"))
    guard let behavior = SplitPreTokenizer.Behavior(rawValue: behaviorName) else {
        throw TokenizerError.unsupportedComponent(kind: "pre_tokenizer", type: "Split with behavior '\(behaviorName)'", file: nil)
    }
    if try c.decodeIfPresent(Bool.self, forKey: AnyKey("invert")) == true {
        throw TokenizerError.unsupportedComponent(kind: "pre_tokenizer", type: "Split with invert true", file: nil)
    }
    let pattern = try c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("pattern"))
    if let literal = try pattern.decodeIfPresent(String.self, forKey: AnyKey("String")) {
        return SplitPreTokenizer(pattern: .string(Array(literal.unicodeScalars)), behavior: behavior)
    }
    let regex = try pattern.decode(String.self, forKey: AnyKey("Regex"))
    guard regex == SplitPreTokenizer.gpt2Regex, behavior == .isolated else {
        throw TokenizerError.unsupportedComponent(kind: "pre_tokenizer", type: "Split with Regex '\(regex)' (\(behaviorName))", file: nil)
    }
    return SplitPreTokenizer(pattern: .gpt2, behavior: behavior)
}

/// Whether a (possibly nested) pre-tokenizer includes ByteLevel.
private func containsByteLevel(_ p: any PreTokenizer) -> Bool {
    if p is ByteLevelPreTokenizer { return true }
    if let s = p as? SequencePreTokenizer { return s.preTokenizers.contains(where: containsByteLevel) }
    return false
}

struct ModelEntry: Decodable {
    let value: any TokenizerModel

    init(_ value: any TokenizerModel) { self.value = value }

    /// `merges` as `["a b", …]` (older files) or `[["a", "b"], …]` (newer ones).
    private struct Merge: Decodable {
        let pair: (String, String)
        init(from decoder: any Decoder) throws {
            if let line = try? decoder.singleValueContainer().decode(String.self) {
                guard let pair = BytePairEncoding.parseMerge(line) else {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "merge '\(line)' is not two tokens separated by a space"))
                }
                self.pair = pair
            } else {
                let parts = try decoder.singleValueContainer().decode([String].self)
                guard parts.count == 2 else {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "merge has \(parts.count) tokens, expected 2"))
                }
                pair = (parts[0], parts[1])
            }
        }
    }

    private struct BPEFields: Decodable {
        var vocab: [String: Int]
        var merges: [Merge]
        var unkToken: String?
        var ignoreMerges: Bool?
        var byteFallback: Bool?
        var continuingSubwordPrefix: String?
        var endOfWordSuffix: String?
        var dropout: Double?
        enum CodingKeys: String, CodingKey {
            case vocab, merges, dropout
            case unkToken = "unk_token", ignoreMerges = "ignore_merges", byteFallback = "byte_fallback"
            case continuingSubwordPrefix = "continuing_subword_prefix", endOfWordSuffix = "end_of_word_suffix"
        }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            vocab = try decodeVocabulary(c, key: .vocab, decoder: decoder)
            merges = try c.decode([Merge].self, forKey: .merges)
            unkToken = try c.decodeIfPresent(String.self, forKey: .unkToken)
            ignoreMerges = try c.decodeIfPresent(Bool.self, forKey: .ignoreMerges)
            byteFallback = try c.decodeIfPresent(Bool.self, forKey: .byteFallback)
            continuingSubwordPrefix = try c.decodeIfPresent(String.self, forKey: .continuingSubwordPrefix)
            endOfWordSuffix = try c.decodeIfPresent(String.self, forKey: .endOfWordSuffix)
            dropout = try c.decodeIfPresent(Double.self, forKey: .dropout)
        }
    }

    private struct WordPieceFields: Decodable {
        var vocab: [String: Int]
        var unkToken: String?
        var continuingSubwordPrefix: String?
        var maxInputCharsPerWord: Int?
        enum CodingKeys: String, CodingKey {
            case vocab
            case unkToken = "unk_token"
            case continuingSubwordPrefix = "continuing_subword_prefix"
            case maxInputCharsPerWord = "max_input_chars_per_word"
        }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            vocab = try decodeVocabulary(c, key: .vocab, decoder: decoder)
            unkToken = try c.decodeIfPresent(String.self, forKey: .unkToken)
            continuingSubwordPrefix = try c.decodeIfPresent(String.self, forKey: .continuingSubwordPrefix)
            maxInputCharsPerWord = try c.decodeIfPresent(Int.self, forKey: .maxInputCharsPerWord)
        }
    }

    init(from decoder: any Decoder) throws {
        let (type, c) = try componentType(decoder)
        // Old files may omit the model's type; a WordPiece has no merges.
        let inferred = type ?? (c.contains(AnyKey("merges")) ? "BPE" : "WordPiece")
        if inferred == "BPE" {
            let f = try BPEFields(from: decoder)
            if f.byteFallback == true {
                throw TokenizerError.unsupportedComponent(kind: "model", type: "BPE with byte_fallback true", file: nil)
            }
            if let d = f.dropout, d > 0 {
                throw TokenizerError.unsupportedComponent(kind: "model", type: "BPE with dropout \(d)", file: nil)
            }
            for (field, v) in [("continuing_subword_prefix", f.continuingSubwordPrefix), ("end_of_word_suffix", f.endOfWordSuffix)] {
                if let v, !v.isEmpty {
                    throw TokenizerError.unsupportedComponent(kind: "model", type: "BPE with \(field) '\(v)'", file: nil)
                }
            }
            value = try BytePairEncoding(vocabulary: f.vocab, merges: f.merges.map(\.pair), byteLevel: false,
                                         ignoreMerges: f.ignoreMerges ?? false, unkToken: f.unkToken)
            return
        }
        guard inferred == "WordPiece" else {
            throw TokenizerError.unsupportedComponent(kind: "model", type: inferred, file: nil)
        }
        let f = try WordPieceFields(from: decoder)
        value = try WordPiece(vocabulary: f.vocab, unkToken: f.unkToken ?? "[UNK]",
                              continuingSubwordPrefix: f.continuingSubwordPrefix ?? "##",
                              maxInputCharsPerWord: f.maxInputCharsPerWord ?? 100)
    }
}

struct PostProcessorEntry: Decodable {
    let value: any PostProcessor
    init(from decoder: any Decoder) throws {
        let (type, c) = try componentType(decoder)
        switch type {
        case "TemplateProcessing": value = try TemplateProcessing(from: decoder)
        case "BertProcessing": value = try BertProcessing(from: decoder)
        case "RobertaProcessing": value = try RobertaProcessing(from: decoder)
        case "ByteLevel":
            value = ByteLevelPostProcessor(trimOffsets: try c.decodeIfPresent(Bool.self, forKey: AnyKey("trim_offsets")) ?? true,
                                           addPrefixSpace: try c.decodeIfPresent(Bool.self, forKey: AnyKey("add_prefix_space")) ?? true)
        default: throw TokenizerError.unsupportedComponent(kind: "post_processor", type: type ?? "(no type)", file: nil)
        }
    }
}

struct DecoderEntry: Decodable {
    let value: any TokenDecoder
    init(from decoder: any Decoder) throws {
        let (type, _) = try componentType(decoder)
        switch type {
        case "WordPiece": value = try WordPieceDecoder(from: decoder)
        case "ByteLevel": value = ByteLevelDecoder()
        default: throw TokenizerError.unsupportedComponent(kind: "decoder", type: type ?? "(no type)", file: nil)
        }
    }
}

struct TruncationEntry: Decodable {
    var maxLength: Int?
    enum CodingKeys: String, CodingKey { case maxLength = "max_length" }
}

struct PaddingEntry: Decodable {
    var padId: Int?
    var padTypeId: Int?
    var padToken: String?
    enum CodingKeys: String, CodingKey {
        case padId = "pad_id", padTypeId = "pad_type_id", padToken = "pad_token"
    }
}

/// A special token in `tokenizer_config.json` / `special_tokens_map.json`: either
/// a string or an object with a `content` field.
struct TokenName: Decodable {
    let content: String
    init(from decoder: any Decoder) throws {
        if let s = try? decoder.singleValueContainer().decode(String.self) {
            content = s
        } else {
            content = try decoder.container(keyedBy: AnyKey.self).decode(String.self, forKey: AnyKey("content"))
        }
    }
}

struct SpecialTokenFields: Decodable {
    var cls, sep, pad, unk, mask: String?
    enum CodingKeys: String, CodingKey {
        case cls = "cls_token", sep = "sep_token", pad = "pad_token", unk = "unk_token", mask = "mask_token"
    }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cls = try c.decodeIfPresent(TokenName.self, forKey: .cls)?.content
        sep = try c.decodeIfPresent(TokenName.self, forKey: .sep)?.content
        pad = try c.decodeIfPresent(TokenName.self, forKey: .pad)?.content
        unk = try c.decodeIfPresent(TokenName.self, forKey: .unk)?.content
        mask = try c.decodeIfPresent(TokenName.self, forKey: .mask)?.content
    }
}

/// `special_tokens_map.json`.
struct SpecialTokensMapFile: Decodable {
    var names: SpecialTokenFields
    init(from decoder: any Decoder) throws { names = try SpecialTokenFields(from: decoder) }
}

/// `tokenizer_config.json` (the BERT options and special tokens).
struct TokenizerConfigFile: Decodable {
    var doLowerCase: Bool?
    var stripAccents: Bool?
    var tokenizeChineseChars: Bool?
    var modelMaxLength: Int?
    var names: SpecialTokenFields

    enum CodingKeys: String, CodingKey {
        case doLowerCase = "do_lower_case", stripAccents = "strip_accents"
        case tokenizeChineseChars = "tokenize_chinese_chars", modelMaxLength = "model_max_length"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        doLowerCase = try c.decodeIfPresent(Bool.self, forKey: .doLowerCase)
        stripAccents = try c.decodeIfPresent(Bool.self, forKey: .stripAccents)
        tokenizeChineseChars = try c.decodeIfPresent(Bool.self, forKey: .tokenizeChineseChars)
        // Often a huge float (1e30) meaning "no limit".
        let maxLength = try? c.decodeIfPresent(Double.self, forKey: .modelMaxLength)
        modelMaxLength = maxLength.flatMap { $0 }.flatMap { $0 >= 1 && $0 < 1e9 ? Int($0) : nil }
        names = try SpecialTokenFields(from: decoder)
    }
}

/// `model.vocab`: the copy ``VocabularyScanner`` read before the Codable pass when there is one (the same object of
/// the same file), else decoded here.
private func decodeVocabulary<K: CodingKey>(_ c: KeyedDecodingContainer<K>, key: K, decoder: any Decoder) throws -> [String: Int] {
    if let pre = decoder.userInfo[PreparsedVocabulary.key] as? PreparsedVocabulary, c.contains(key) { return pre.vocab }
    return try c.decode([String: Int].self, forKey: key)
}

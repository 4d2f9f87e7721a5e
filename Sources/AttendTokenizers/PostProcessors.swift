/// The last encoding stage: wraps the model's tokens of one text (or two) with
/// special tokens such as `[CLS] … [SEP]` and assigns segment (type) ids.
public protocol PostProcessor: Sendable {
    /// How many special tokens `process` adds for one text, or for a pair.
    func addedTokenCount(isPair: Bool) -> Int
    /// Combines the encodings of the text(s) (no special tokens yet) into the final one.
    /// With `addSpecialTokens == false` only the type ids of the template apply.
    func process(_ first: Encoding, pair second: Encoding?, addSpecialTokens: Bool) -> Encoding
}

/// `{"type": "TemplateProcessing", "single": [...], "pair": [...], "special_tokens": {...}}`.
///
/// A template is a list of pieces, `{"SpecialToken": {"id": "[CLS]", "type_id": 0}}`
/// or `{"Sequence": {"id": "A", "type_id": 0}}`; BERT's are
/// `[CLS]:0 $A:0 [SEP]:0` and `[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1`.
/// Special tokens get offset `0..<0`, special-token mask 1, no word or sequence id.
public struct TemplateProcessing: PostProcessor, Decodable, Hashable {
    public enum Piece: Sendable, Hashable {
        /// The first (`A`, `isPairSequence == false`) or second (`B`) text.
        case sequence(isPairSequence: Bool, typeId: Int)
        /// A key of `specialTokens`.
        case specialToken(String, typeId: Int)
    }

    /// What a special-token name of the template stands for (usually one token).
    public struct SpecialToken: Sendable, Hashable, Decodable {
        public var id: String
        public var ids: [Int]
        public var tokens: [String]
        public init(id: String, ids: [Int], tokens: [String]) {
            self.id = id
            self.ids = ids
            self.tokens = tokens
        }
    }

    public let single: [Piece]
    public let pair: [Piece]
    public let specialTokens: [String: SpecialToken]

    /// - Throws: `TokenizerError.missingToken` when the template names a special
    ///   token absent from `specialTokens`, or one whose ids and tokens differ in count.
    public init(single: [Piece], pair: [Piece], specialTokens: [String: SpecialToken]) throws {
        for piece in single + pair {
            guard case .specialToken(let name, _) = piece else { continue }
            guard let s = specialTokens[name], s.ids.count == s.tokens.count else {
                throw TokenizerError.missingToken(name, role: "TemplateProcessing special token", file: nil)
            }
        }
        self.init(validated: single, pair: pair, specialTokens: specialTokens)
    }

    /// For templates whose special tokens are known to be in `specialTokens`.
    init(validated single: [Piece], pair: [Piece], specialTokens: [String: SpecialToken]) {
        self.single = single
        self.pair = pair
        self.specialTokens = specialTokens
    }

    private enum CodingKeys: String, CodingKey {
        case single, pair
        case specialTokens = "special_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(single: try c.decode([DecodedPiece].self, forKey: .single).map(\.piece),
                      pair: try c.decodeIfPresent([DecodedPiece].self, forKey: .pair)?.map(\.piece) ?? [],
                      specialTokens: try c.decodeIfPresent([String: SpecialToken].self, forKey: .specialTokens) ?? [:])
    }

    /// `{"SpecialToken": {"id", "type_id"}}` or `{"Sequence": {"id": "A"|"B", "type_id"}}`.
    private struct DecodedPiece: Decodable {
        let piece: Piece
        private enum Keys: String, CodingKey { case specialToken = "SpecialToken", sequence = "Sequence" }
        private struct Body: Decodable {
            let id: String
            let typeId: Int
            enum CodingKeys: String, CodingKey { case id, typeId = "type_id" }
        }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            if let body = try c.decodeIfPresent(Body.self, forKey: .specialToken) {
                piece = .specialToken(body.id, typeId: body.typeId)
            } else if let body = try c.decodeIfPresent(Body.self, forKey: .sequence) {
                guard body.id == "A" || body.id == "B" else {
                    throw DecodingError.dataCorruptedError(forKey: .sequence, in: c,
                        debugDescription: "template sequence id must be \"A\" or \"B\", not \"\(body.id)\"")
                }
                piece = .sequence(isPairSequence: body.id == "B", typeId: body.typeId)
            } else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                    debugDescription: "template piece must be {\"SpecialToken\": …} or {\"Sequence\": …}"))
            }
        }
    }

    public func addedTokenCount(isPair: Bool) -> Int {
        (isPair ? pair : single).reduce(0) { n, piece in
            if case .specialToken(let name, _) = piece { return n + (specialTokens[name]?.ids.count ?? 0) }
            return n
        }
    }

    public func process(_ first: Encoding, pair second: Encoding?, addSpecialTokens: Bool) -> Encoding {
        let template = second == nil ? single : pair
        var out = Encoding()
        out.reserveCapacity(first.count + (second?.count ?? 0) + addedTokenCount(isPair: second != nil))
        for piece in template {
            switch piece {
            case .sequence(let isPairSequence, let typeId):
                if isPairSequence {
                    if let second { out.append(contentsOf: second, typeId: typeId) }
                } else {
                    out.append(contentsOf: first, typeId: typeId)
                }
            case .specialToken(let name, let typeId):
                guard addSpecialTokens, let special = specialTokens[name] else { continue }
                for (id, token) in zip(special.ids, special.tokens) {
                    out.append(id: id, token: token, typeId: typeId, special: 1, offset: .none, wordId: nil, sequenceId: nil)
                }
            }
        }
        return out
    }
}

/// `{"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}`:
/// `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]`, type ids 0 up to the first
/// `[SEP]` and 1 after it. The same as the equivalent `TemplateProcessing`.
public struct BertProcessing: PostProcessor, Decodable, Hashable {
    public let cls: (token: String, id: Int)
    public let sep: (token: String, id: Int)
    private let template: TemplateProcessing

    public init(cls: (token: String, id: Int), sep: (token: String, id: Int)) {
        self.cls = cls
        self.sep = sep
        var specials: [String: TemplateProcessing.SpecialToken] = [:]
        specials[cls.token] = TemplateProcessing.SpecialToken(id: cls.token, ids: [cls.id], tokens: [cls.token])
        specials[sep.token] = TemplateProcessing.SpecialToken(id: sep.token, ids: [sep.id], tokens: [sep.token])
        template = TemplateProcessing(
            validated: [.specialToken(cls.token, typeId: 0), .sequence(isPairSequence: false, typeId: 0), .specialToken(sep.token, typeId: 0)],
            pair: [.specialToken(cls.token, typeId: 0), .sequence(isPairSequence: false, typeId: 0), .specialToken(sep.token, typeId: 0),
                   .sequence(isPairSequence: true, typeId: 1), .specialToken(sep.token, typeId: 1)],
            specialTokens: specials)
    }

    private enum CodingKeys: String, CodingKey { case sep, cls }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func tokenAndId(_ key: CodingKeys) throws -> (String, Int) {
            var u = try c.nestedUnkeyedContainer(forKey: key)
            return (try u.decode(String.self), try u.decode(Int.self))
        }
        let cls = try tokenAndId(.cls), sep = try tokenAndId(.sep)
        self.init(cls: (cls.0, cls.1), sep: (sep.0, sep.1))
    }

    public static func == (a: BertProcessing, b: BertProcessing) -> Bool {
        a.cls == b.cls && a.sep == b.sep
    }
    public func hash(into h: inout Hasher) {
        h.combine(cls.token); h.combine(cls.id); h.combine(sep.token); h.combine(sep.id)
    }

    public func addedTokenCount(isPair: Bool) -> Int { isPair ? 3 : 2 }

    public func process(_ first: Encoding, pair second: Encoding?, addSpecialTokens: Bool) -> Encoding {
        template.process(first, pair: second, addSpecialTokens: addSpecialTokens)
    }
}

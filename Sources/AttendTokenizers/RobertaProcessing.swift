/// `{"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": true, "add_prefix_space": false}`:
/// `<s> A </s>` and `<s> A </s> </s> B </s>`, every type id 0 (RoBERTa and MPNet have no segment embeddings).
/// `trim_offsets` and `add_prefix_space` only concern byte-level offsets; they are read and kept, and change
/// nothing for WordPiece models such as MPNet.
public struct RobertaProcessing: PostProcessor, Decodable, Hashable {
    public let cls: (token: String, id: Int)
    public let sep: (token: String, id: Int)
    public let trimOffsets: Bool
    public let addPrefixSpace: Bool
    private let template: TemplateProcessing

    public init(cls: (token: String, id: Int), sep: (token: String, id: Int), trimOffsets: Bool = true, addPrefixSpace: Bool = false) {
        self.cls = cls
        self.sep = sep
        self.trimOffsets = trimOffsets
        self.addPrefixSpace = addPrefixSpace
        var specials: [String: TemplateProcessing.SpecialToken] = [:]
        specials[cls.token] = TemplateProcessing.SpecialToken(id: cls.token, ids: [cls.id], tokens: [cls.token])
        specials[sep.token] = TemplateProcessing.SpecialToken(id: sep.token, ids: [sep.id], tokens: [sep.token])
        template = TemplateProcessing(
            validated: [.specialToken(cls.token, typeId: 0), .sequence(isPairSequence: false, typeId: 0), .specialToken(sep.token, typeId: 0)],
            pair: [.specialToken(cls.token, typeId: 0), .sequence(isPairSequence: false, typeId: 0), .specialToken(sep.token, typeId: 0),
                   .specialToken(sep.token, typeId: 0), .sequence(isPairSequence: true, typeId: 0), .specialToken(sep.token, typeId: 0)],
            specialTokens: specials)
    }

    private enum CodingKeys: String, CodingKey {
        case sep, cls
        case trimOffsets = "trim_offsets", addPrefixSpace = "add_prefix_space"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func tokenAndId(_ key: CodingKeys) throws -> (String, Int) {
            var u = try c.nestedUnkeyedContainer(forKey: key)
            return (try u.decode(String.self), try u.decode(Int.self))
        }
        let cls = try tokenAndId(.cls), sep = try tokenAndId(.sep)
        self.init(cls: (cls.0, cls.1), sep: (sep.0, sep.1),
                  trimOffsets: try c.decodeIfPresent(Bool.self, forKey: .trimOffsets) ?? true,
                  addPrefixSpace: try c.decodeIfPresent(Bool.self, forKey: .addPrefixSpace) ?? false)
    }

    public static func == (a: RobertaProcessing, b: RobertaProcessing) -> Bool {
        a.cls == b.cls && a.sep == b.sep && a.trimOffsets == b.trimOffsets && a.addPrefixSpace == b.addPrefixSpace
    }
    public func hash(into h: inout Hasher) {
        h.combine(cls.token); h.combine(cls.id); h.combine(sep.token); h.combine(sep.id)
        h.combine(trimOffsets); h.combine(addPrefixSpace)
    }

    public func addedTokenCount(isPair: Bool) -> Int { isPair ? 4 : 2 }

    public func process(_ first: Encoding, pair second: Encoding?, addSpecialTokens: Bool) -> Encoding {
        template.process(first, pair: second, addSpecialTokens: addSpecialTokens)
    }
}

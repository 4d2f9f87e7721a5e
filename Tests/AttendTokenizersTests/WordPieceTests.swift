import Foundation
import Testing
import AttendTensor
@testable import AttendTokenizers

/// WordPiece on a hand-made vocabulary (no model needed).
@Suite("WordPiece (tiny vocabulary)")
struct WordPieceTests {
    static let model: WordPiece? = try? WordPiece(vocabulary: Dictionary(uniqueKeysWithValues: tinyVocab.enumerated().map { ($1, $0) }))

    /// Tokenizes one whole word with the model alone.
    func pieces(_ word: String, _ model: WordPiece) -> [String] {
        let text = NormalizedString(word)
        var tokens: [ModelToken] = []
        model.tokenize(text, word: 0..<text.count, into: &tokens)
        return tokens.map { model.token(for: $0.id) ?? "?" }
    }

    @Test(arguments: [
        ("unaffable", ["un", "##aff", "##able"]),
        ("wanted", ["want", "##ed"]),
        ("running", ["runn", "##ing"]),
        ("abc", ["abc"]),                  // longest match first, not a ##b ##c
        ("abcc", ["abc", "##c"]),
        ("abbc", ["ab", "##bc"]),
        ("ab", ["ab"]),
        ("a", ["a"]),
        ("unwanted", ["[UNK]"]),           // "##want" missing: the whole word is one [UNK]
        ("xyz", ["[UNK]"]),
        ("xxxx", ["x", "##xx", "##x"]),
        ("é", ["é"]),
        ("éü", ["é", "##ü"]),
        ("##b", ["##b"]),                  // the first piece is looked up as written, as in `tokenizers`
        ("#b", ["[UNK]"]),
    ])
    func greedyLongestMatchFirst(_ word: String, _ expected: [String]) throws {
        let model = try #require(Self.model)
        #expect(pieces(word, model) == expected, "\(word)")
    }

    @Test func tokenRangesCoverTheWord() throws {
        let model = try #require(Self.model)
        let text = NormalizedString("xx unaffable")
        var tokens: [ModelToken] = []
        model.tokenize(text, word: 3..<12, into: &tokens)
        #expect(tokens.map(\.range) == [3..<5, 5..<8, 8..<12])
        tokens.removeAll()
        model.tokenize(text, word: 0..<0, into: &tokens)
        #expect(tokens.isEmpty, "an empty word has no tokens")
    }

    @Test(arguments: [(4, "xxxx", ["x", "##xx", "##x"]), (4, "xxxxx", ["[UNK]"]), (1, "x", ["x"]), (1, "ab", ["[UNK]"])])
    func maxInputCharsPerWord(_ limit: Int, _ word: String, _ expected: [String]) throws {
        let vocab = Dictionary(uniqueKeysWithValues: tinyVocab.enumerated().map { ($1, $0) })
        let model = try WordPiece(vocabulary: vocab, maxInputCharsPerWord: limit)
        #expect(pieces(word, model) == expected, "limit \(limit), word \(word)")
    }

    @Test func maxInputCharsCountsScalarsNotBytes() throws {
        let model = try WordPiece(vocabulary: ["[UNK]": 0, "é": 1, "##é": 2], maxInputCharsPerWord: 3)
        #expect(pieces("ééé", model) == ["é", "##é", "##é"])   // 3 scalars, 6 bytes
        #expect(pieces("éééé", model) == ["[UNK]"])
    }

    @Test func customAndEmptyPrefix() throws {
        let at = try WordPiece(vocabulary: ["[UNK]": 0, "un": 1, "@@aff": 2, "@@able": 3, "##aff": 4], continuingSubwordPrefix: "@@")
        #expect(pieces("unaffable", at) == ["un", "@@aff", "@@able"])
        let none = try WordPiece(vocabulary: ["[UNK]": 0, "un": 1, "aff": 2, "able": 3], continuingSubwordPrefix: "")
        #expect(pieces("unaffable", none) == ["un", "aff", "able"])
    }

    @Test func unknownTokenMustBeInTheVocabulary() {
        #expect(throws: TokenizerError.missingToken("<unk>", role: "unk_token", file: nil)) {
            try WordPiece(vocabulary: ["a": 0], unkToken: "<unk>")
        }
        #expect(throws: TokenizerError.self) { try WordPiece(vocabulary: [:]) }
        #expect(throws: TokenizerError.self) { try WordPiece(vocabulary: ["[UNK]": 0, "a": -1]) }
        #expect(throws: TokenizerError.self) { try WordPiece(vocabulary: ["[UNK]": 0, "a": 1_000_000_000]) }
    }

    @Test func vocabularyLookups() throws {
        let model = try #require(Self.model)
        #expect(model.id(for: "##aff") == tinyVocab.firstIndex(of: "##aff"))
        #expect(model.id(for: "nope") == nil)
        #expect(model.token(for: 5) == "un")
        #expect(model.token(for: -1) == nil)
        #expect(model.token(for: tinyVocab.count) == nil)
        #expect(model.vocabulary.count == tinyVocab.count)
        #expect(model.unkTokenId == 1)
    }

    /// Byte-exact lookups: "é" precomposed and "e" + U+0301 are different tokens (as in `tokenizers`).
    @Test func lookupIsByteExactNotCanonicalEquivalence() throws {
        // (A Swift dictionary literal cannot even hold both keys: they compare equal as `String`s.)
        let folder = try TemporaryFolder()
        try folder.write("vocab.txt", "[UNK]\n\u{E9}\ne\u{301}\n")
        let model = try WordPiece(vocabFile: folder.url.appendingPathComponent("vocab.txt"))
        #expect(model.id(for: "\u{E9}") == 1)
        #expect(model.id(for: "e\u{301}") == 2)
        #expect(model.token(for: 1)?.unicodeScalars.count == 1 && model.token(for: 2)?.unicodeScalars.count == 2)
    }

    @Test func vocabTxtLastDuplicateWinsAndLinesKeepSpaces() throws {
        let folder = try TemporaryFolder()
        try folder.write("vocab.txt", "[UNK]\r\na\nb\na\n")
        let model = try WordPiece(vocabFile: folder.url.appendingPathComponent("vocab.txt"))
        #expect(model.id(for: "a") == 3, "Python's load_vocab keeps the last id of a repeated token")
        #expect(model.token(for: 1) == "a" && model.token(for: 3) == "a")
        #expect(model.id(for: "[UNK]") == 0, "CRLF line ends are stripped")
    }

    /// The lookup cap (`end <= start + longest entry`) never changes results: compare with
    /// the plain definition on random words over a small alphabet.
    @Test func matchesPlainDefinitionOnRandomWords() throws {
        let model = try #require(Self.model)
        let vocab = Set(tinyVocab)
        func plain(_ word: [Character]) -> [String] {
            var out: [String] = []
            var start = 0
            while start < word.count {
                var end = word.count
                var found: String?
                while end > start {
                    let piece = (start > 0 ? "##" : "") + String(word[start..<end])
                    if vocab.contains(piece) { found = piece; break }
                    end -= 1
                }
                guard let found else { return ["[UNK]"] }
                out.append(found)
                start = end
            }
            return out
        }
        var rng = SeededRNG(seed: 7)
        let alphabet = Array("abcxé")
        for _ in 0..<2000 {
            let word = (0..<Int(rng.next() % 8 + 1)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            #expect(pieces(String(word), model) == plain(word), "\(String(word))")
        }
    }
}

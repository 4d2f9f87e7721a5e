import AttendTestSupport
import Foundation
import Testing
@testable import AttendTokenizers

/// ``VocabularyScanner`` reads `model.vocab` ahead of the Codable pass: on real files it must give exactly what
/// JSONDecoder gives, and on anything it does not read cleanly it must answer nil (the Codable pass then decides).
@Suite("tokenizer.json: the fast model.vocab reader")
struct VocabularyScannerTests {
    /// JSONDecoder's reading of model.vocab: the independent reference.
    static func reference(_ data: Data) throws -> [String: Int] {
        struct File: Decodable { struct Model: Decodable { let vocab: [String: Int] }; let model: Model }
        return try JSONDecoder().decode(File.self, from: data).model.vocab
    }

    static var files: [URL] {
        let resources = packageRoot.appendingPathComponent("Tests/AttendTokenizersTests/Resources")
        var urls = [resources.appendingPathComponent("smollm2-tokenizer.json"), resources.appendingPathComponent("tiny-bpe-tokenizer.json")]
        for model in ["all-MiniLM-L6-v2", "all-mpnet-base-v2"] {
            let url = installedModelFolder(model).appendingPathComponent("tokenizer.json")
            if FileManager.default.fileExists(atPath: url.path) { urls.append(url) }
        }
        return urls
    }

    @Test func equalsJSONDecoderOnRealFiles() throws {
        for url in Self.files {
            let data = try Data(contentsOf: url)
            let fast = try #require(VocabularyScanner.modelVocabulary(in: data), "\(url.lastPathComponent): the scanner gave up")
            let expected = try Self.reference(data)
            #expect(fast.count == expected.count, "\(url.path)")
            #expect(fast == expected, "\(url.path)")
        }
    }

    @Test func readsEscapesAndSkipsEverythingElse() throws {
        let json = #"""
        {"version": "1.0", "added_tokens": [{"id": 0, "content": "[PAD]", "special": true, "x": null, "y": -1.5e3}],
         "normalizer": {"type": "BertNormalizer", "nested": [[1, 2], {"vocab": {"not": 9}}]},
         "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {
            "plain": 0, "caf\u00e9": 1, "\ud83d\ude00": 2, "tab\there": 3, "quote\"d": 4, "back\\slash": 5,
            "sl\/ash": 6, "é直接": 7, "": 8, "big": 123456789
         }, "max_input_chars_per_word": 100}}
        """#
        let data = Data(json.utf8)
        let fast = try #require(VocabularyScanner.modelVocabulary(in: data))
        #expect(fast == (try Self.reference(data)))
        #expect(fast["café"] == 1 && fast["😀"] == 2 && fast["tab\there"] == 3 && fast["quote\"d"] == 4)
        #expect(fast["back\\slash"] == 5 && fast["sl/ash"] == 6 && fast["é直接"] == 7 && fast[""] == 8 && fast["big"] == 123456789)
    }

    @Test(arguments: [
        #"{"model": {"vocab": {"a": 1, "a": 2}}}"#,               // duplicate token
        #"{"model": {"vocab": {"a": 1.5}}}"#,                     // not an integer
        #"{"model": {"vocab": {"a": 1e3}}}"#,
        #"{"model": {"vocab": {"a": "1"}}}"#,
        #"{"model": {"vocab": {"a": 01}}}"#,
        #"{"model": {"vocab": {"a": 99999999999999999999}}}"#,     // overflows Int
        #"{"model": {"vocab": {"\ud83d": 1}}}"#,                  // lone high surrogate
        #"{"model": {"vocab": {"\ude00": 1}}}"#,                  // lone low surrogate
        #"{"model": {"vocab": {"\x": 1}}}"#,                      // unknown escape
        #"{"model": {"vocab": {"a": 1,}}}"#,                      // trailing comma
        #"{"model": {"vocab": {"a": 1}"#,                         // truncated
        #"{"model": {"vocab": ["a"]}}"#,                          // not an object
        #"{"model": {"type": "WordPiece"}}"#,                     // no vocab
        #"{"model": "WordPiece"}"#,                               // model not an object
        #"{"vocab": {"a": 1}}"#,                                  // vocab outside model
        #"[1, 2]"#,
        "",
    ])
    func givesUpOnWhatItDoesNotReadCleanly(_ json: String) {
        #expect(VocabularyScanner.modelVocabulary(in: Data(json.utf8)) == nil, "\(json)")
    }

    @Test func givesUpOnInvalidUTF8AndControlCharacters() {
        var bytes = Array(#"{"model": {"vocab": {"a"#.utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array(#"": 1}}}"#.utf8)
        #expect(VocabularyScanner.modelVocabulary(in: Data(bytes)) == nil)
        let control = Data(("{\"model\": {\"vocab\": {\"a\u{01}b\": 1}}}").utf8)
        #expect(VocabularyScanner.modelVocabulary(in: control) == nil)
    }

    /// The tokenizer is the same with the scanner's copy of the vocabulary and without it, on every real file.
    @Test func tokenizerIsTheSameEitherWay() throws {
        for url in Self.files {
            let data = try Data(contentsOf: url)
            let fast = try Tokenizer(tokenizerJSONData: data, scanVocabulary: true)
            let slow = try Tokenizer(tokenizerJSONData: data, scanVocabulary: false)
            #expect(fast.vocabularySize == slow.vocabularySize, "\(url.path)")
            for sample in ["Hello, world!", "  code: for (i = 0; i < n; i++) {}", "naïve café 😀 直接", "UNAFFABLE ##ing"] {
                #expect(fast.encode(sample).ids == slow.encode(sample).ids, "\(url.lastPathComponent): \(sample)")
            }
        }
    }
}

import Foundation
import Testing
@testable import AttendTokenizers

/// Loading from files: typed errors that name the file and the component type.
@Suite("Loading and errors")
struct LoadingTests {
    /// Writes a tokenizer.json into a temporary folder and loads that folder.
    func load(_ json: String) throws -> Tokenizer {
        let folder = try TemporaryFolder()
        try folder.write("tokenizer.json", json)
        return try Tokenizer(folder: folder.url)
    }

    @Test(arguments: [
        ("normalizer", #"{"type": "NFKC"}"#, "NFKC"),
        ("normalizer", #"{"type": "Sequence", "normalizers": [{"type": "Lowercase"}, {"type": "Precompiled", "precompiled_charsmap": ""}]}"#, "Precompiled"),
        ("pre_tokenizer", #"{"type": "Punctuation", "behavior": "Isolated"}"#, "Punctuation"),
        ("pre_tokenizer", #"{"type": "Sequence", "pretokenizers": [{"type": "Metaspace"}]}"#, "Metaspace"),
        ("post_processor", #"{"type": "Sequence"}"#, "Sequence"),
        ("decoder", #"{"type": "Metaspace"}"#, "Metaspace"),
    ])
    func unknownComponentTypesAreTypedErrors(_ kind: String, _ component: String, _ type: String) throws {
        var json = tinyTokenizerJSON(vocab: tinyVocab)
        let key = "\"\(kind)\": "
        let range = try #require(json.range(of: key))
        // Replace the component's object (up to the matching brace) by `component`.
        var depth = 0, end = range.upperBound
        for i in json[range.upperBound...].indices {
            if json[i] == "{" { depth += 1 }
            if json[i] == "}" { depth -= 1; if depth == 0 { end = json.index(after: i); break } }
        }
        json.replaceSubrange(range.upperBound..<end, with: component)
        do {
            _ = try load(json)
            Issue.record("loading a \(kind) of type \(type) should fail")
        } catch let error as TokenizerError {
            guard case .unsupportedComponent(let k, let t, let file) = error else {
                Issue.record("expected unsupportedComponent, got \(error)")
                return
            }
            #expect(k == kind && t == type)
            #expect(file?.lastPathComponent == "tokenizer.json")
            #expect(error.description.contains(type) && error.description.contains("tokenizer.json"), "\(error)")
        }
    }

    @Test func unsupportedModelNamesItsType() throws {
        let json = tinyTokenizerJSON(vocab: tinyVocab).replacingOccurrences(of: #""type": "WordPiece", "unk_token""#,
                                                                           with: #""type": "Unigram", "unk_token""#)
        #expect(throws: TokenizerError.unsupportedComponent(kind: "model", type: "Unigram", file: URL(fileURLWithPath: "/nowhere"))) {
            _ = try Tokenizer(tokenizerJSONData: Data(json.utf8), source: URL(fileURLWithPath: "/nowhere"))
        }
    }

    @Test func missingFolderAndFiles() throws {
        let nowhere = URL(fileURLWithPath: "/nonexistent/attend-\(UUID().uuidString)")
        #expect(throws: TokenizerError.fileNotFound(nowhere)) { try Tokenizer(folder: nowhere) }
        #expect(throws: TokenizerError.fileNotFound(nowhere.appendingPathComponent("tokenizer.json"))) {
            try Tokenizer(tokenizerJSON: nowhere.appendingPathComponent("tokenizer.json"))
        }
        let empty = try TemporaryFolder()
        #expect(throws: TokenizerError.noTokenizerFiles(folder: empty.url)) { try Tokenizer(folder: empty.url) }
        try empty.write("tokenizer_config.json", #"{"do_lower_case": true}"#)
        #expect(throws: TokenizerError.noTokenizerFiles(folder: empty.url)) { try Tokenizer(folder: empty.url) }
    }

    @Test(arguments: ["", "{not json", "[1, 2]", #"{"added_tokens": []}"#, #"{"model": {"type": "WordPiece"}}"#])
    func corruptTokenizerJSONNamesTheFile(_ contents: String) throws {
        let folder = try TemporaryFolder()
        try folder.write("tokenizer.json", contents)
        do {
            _ = try Tokenizer(folder: folder.url)
            Issue.record("corrupt tokenizer.json \(contents.debugDescription) loaded")
        } catch let error as TokenizerError {
            guard case .malformedFile(let url, let reason) = error else {
                Issue.record("expected malformedFile, got \(error)")
                return
            }
            #expect(url.lastPathComponent == "tokenizer.json")
            #expect(!reason.isEmpty)
            #expect(error.description.contains("tokenizer.json"), "\(error)")
        }
    }

    @Test func missingFieldIsReportedWithItsPath() throws {
        do {
            _ = try load(#"{"model": {"type": "WordPiece", "unk_token": "[UNK]"}}"#)
            Issue.record("a WordPiece without vocab loaded")
        } catch let error as TokenizerError {
            #expect(error.description.contains("vocab"), "\(error)")
        }
    }

    @Test func corruptAuxiliaryFilesNameThemselves() throws {
        let folder = try TemporaryFolder()
        try folder.write("tokenizer.json", tinyTokenizerJSON(vocab: tinyVocab))
        try folder.write("tokenizer_config.json", "{oops")
        #expect(throws: TokenizerError.self) { try Tokenizer(folder: folder.url) }
        do { _ = try Tokenizer(folder: folder.url) } catch let error as TokenizerError {
            #expect(error.description.contains("tokenizer_config.json"), "\(error)")
        }
        try folder.write("tokenizer_config.json", #"{"model_max_length": 1000000000000000019884624838656, "unk_token": {"content": "[UNK]"}}"#)
        let t = try Tokenizer(folder: folder.url)
        #expect(t.modelMaxLength == nil, "an 'infinite' model_max_length is no limit")
        #expect(t.configuredMaxLength == 16)
    }

    @Test func missingUnkTokenNamesTheFile() throws {
        let folder = try TemporaryFolder()
        try folder.write("vocab.txt", "a\nb\n")
        do {
            _ = try Tokenizer(folder: folder.url)
            Issue.record("vocab.txt without [UNK] loaded")
        } catch let error as TokenizerError {
            #expect(error == .missingToken("[UNK]", role: "unk_token", file: folder.url.appendingPathComponent("vocab.txt")))
        }
        try folder.write("vocab.txt", "[UNK]\na\n")
        #expect(throws: TokenizerError.missingToken("[CLS]", role: "cls_token", file: folder.url.appendingPathComponent("vocab.txt"))) {
            try Tokenizer(folder: folder.url)
        }
    }

    @Test func templateWithUndeclaredSpecialTokenFails() throws {
        let post = #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {}}"#
        let json = tinyTokenizerJSON(vocab: tinyVocab, postProcessor: post)
        #expect(throws: TokenizerError.self) { try Tokenizer(tokenizerJSONData: Data(json.utf8)) }
    }

    /// The vocab.txt fallback builds the same pipeline as the BERT tokenizer.json.
    @Test func vocabTxtFallbackMatchesTokenizerJSON() throws {
        let folder = try TemporaryFolder()
        try folder.write("vocab.txt", tinyVocab.joined(separator: "\n") + "\n")
        try folder.write("tokenizer_config.json", #"{"do_lower_case": true, "tokenize_chinese_chars": true, "strip_accents": null, "model_max_length": 512}"#)
        let fallback = try Tokenizer(folder: folder.url)
        let json = try tinyTokenizer(vocab: tinyVocab)
        #expect(fallback.modelMaxLength == 512)
        #expect(fallback.configuredMaxLength == nil)
        for text in ["The CAT sat, on the mat!", "unaffable wanted", "我北京", "Café naïve", "a [MASK] b", ""] {
            #expect(fallback.encode(text) == json.encode(text), "\(text)")
            #expect(fallback.encode(text, pair: "hello world") == json.encode(text, pair: "hello world"), "\(text)")
        }
    }

    @Test func vocabTxtOptionsAreHonoured() throws {
        let folder = try TemporaryFolder()
        try folder.write("vocab.txt", (tinyVocab + ["The", "CAT", "Café"]).joined(separator: "\n") + "\n")
        try folder.write("tokenizer_config.json", #"{"do_lower_case": false, "tokenize_chinese_chars": false}"#)
        let cased = try Tokenizer(folder: folder.url)
        #expect(cased.encode("The CAT Café 北京").tokens == ["[CLS]", "The", "CAT", "Café", "[UNK]", "[SEP]"])
    }
}

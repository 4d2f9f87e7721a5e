import Foundation
import Testing
@testable import AttendTokenizers

/// The installed all-MiniLM-L6-v2: `$ATTEND_HOME/models/NAME`, else `~/.cache/attend/models/NAME`.
/// Tests that need it fail (never skip) with instructions when it is missing.
enum MiniLM {
    static let name = "all-MiniLM-L6-v2"

    static var folder: URL {
        let env = ProcessInfo.processInfo.environment
        let home: URL
        if let custom = env["ATTEND_HOME"], !custom.isEmpty {
            home = URL(fileURLWithPath: custom)
        } else {
            home = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/attend")
        }
        return home.appendingPathComponent("models").appendingPathComponent(name)
    }

    struct NotInstalled: Error, CustomStringConvertible {
        let folder: URL
        var description: String {
            """
            \(MiniLM.name) is not installed (looked for \(folder.path)/tokenizer.json). \
            Install it with `attend models install \(MiniLM.name)` (CI installs it) or set ATTEND_HOME.
            """
        }
    }

    static func requireFolder() throws -> URL {
        let f = folder
        guard FileManager.default.fileExists(atPath: f.appendingPathComponent("tokenizer.json").path) else {
            throw NotInstalled(folder: f)
        }
        return f
    }

    private static let fromFolder = Result { try Tokenizer(folder: requireFolder()) }
    private static let fromVocab = Result {
        let f = try requireFolder()
        return try Tokenizer(vocabFile: f.appendingPathComponent("vocab.txt"),
                             tokenizerConfig: f.appendingPathComponent("tokenizer_config.json"))
    }

    /// The tokenizer read from tokenizer.json (loaded once).
    static func tokenizer() throws -> Tokenizer { try fromFolder.get() }
    /// The fallback tokenizer built from vocab.txt + tokenizer_config.json.
    static func vocabTokenizer() throws -> Tokenizer { try fromVocab.get() }

    /// tokenizer.json parsed as a JSON object, for building variants.
    static func tokenizerJSONObject() throws -> [String: Any] {
        let data = try Data(contentsOf: requireFolder().appendingPathComponent("tokenizer.json"))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NotInstalled(folder: folder)
        }
        return object
    }
}

/// "equal" or where two arrays first differ, with a little context, for failure messages.
func firstDifference<T: Equatable>(_ actual: [T], _ expected: [T]) -> String {
    let n = min(actual.count, expected.count)
    for i in 0..<n where actual[i] != expected[i] {
        let lo = max(0, i - 2)
        return "first difference at index \(i): got \(actual[i]) expected \(expected[i]); "
            + "got[\(lo)...] = \(Array(actual[lo..<min(actual.count, i + 3)])), expected[\(lo)...] = \(Array(expected[lo..<min(expected.count, i + 3)]))"
    }
    if actual.count != expected.count {
        return "lengths differ: got \(actual.count) expected \(expected.count); extra: "
            + (actual.count > n ? "\(Array(actual[n..<min(actual.count, n + 5)]))" : "\(Array(expected[n..<min(expected.count, n + 5)]))")
    }
    return "equal"
}

/// Expects equal arrays; on failure reports only where they first differ (not both arrays).
func expectEqual<T: Equatable>(_ actual: [T], _ expected: [T], _ label: @autoclosure () -> String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual != expected else { return }
    Issue.record("\(label()): \(firstDifference(actual, expected))", sourceLocation: sourceLocation)
}

/// A temporary folder removed when the value is deinitialised.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("attend-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

let defaultModelFields = "\"unk_token\": \"[UNK]\", \"continuing_subword_prefix\": \"##\", \"max_input_chars_per_word\": 100"
let defaultDecoder = "{\"type\": \"WordPiece\", \"prefix\": \"##\", \"cleanup\": true}"

/// A tiny BERT-style tokenizer.json around `vocab` (ids = positions), no model needed.
func tinyTokenizerJSON(vocab: [String], normalizer: String = #"{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}"#,
                       preTokenizer: String = #"{"type": "BertPreTokenizer"}"#,
                       model extra: String = defaultModelFields,
                       postProcessor: String? = nil, decoder: String = defaultDecoder) -> String {
    func quoted(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed]), as: UTF8.self)
            .dropFirst().dropLast().description
    }
    let vocabJSON = vocab.enumerated().map { "\(quoted($0.element)): \($0.offset)" }.joined(separator: ", ")
    func id(_ t: String) -> Int { vocab.firstIndex(of: t) ?? -1 }
    let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].filter { vocab.contains($0) }
    let added = specials.map {
        #"{"id": \#(id($0)), "content": "\#($0)", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}"#
    }.joined(separator: ", ")
    let post = postProcessor ?? #"{"type": "BertProcessing", "sep": ["[SEP]", \#(id("[SEP]"))], "cls": ["[CLS]", \#(id("[CLS]"))]}"#
    return """
    {"version": "1.0", "truncation": {"max_length": 16, "strategy": "LongestFirst", "stride": 0}, "padding": null,
     "added_tokens": [\(added)],
     "normalizer": \(normalizer), "pre_tokenizer": \(preTokenizer),
     "post_processor": \(post), "decoder": \(decoder),
     "model": {"type": "WordPiece", \(extra), "vocab": {\(vocabJSON)}}}
    """
}

func tinyTokenizer(vocab: [String], normalizer: String? = nil, preTokenizer: String? = nil, model: String? = nil) throws -> Tokenizer {
    var json = tinyTokenizerJSON(vocab: vocab)
    if normalizer != nil || preTokenizer != nil || model != nil {
        json = tinyTokenizerJSON(vocab: vocab,
                                 normalizer: normalizer ?? #"{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}"#,
                                 preTokenizer: preTokenizer ?? #"{"type": "BertPreTokenizer"}"#,
                                 model: model ?? defaultModelFields)
    }
    return try Tokenizer(tokenizerJSONData: Data(json.utf8))
}

/// A small vocabulary for algorithm tests.
let tinyVocab = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "un", "##aff", "##able", "want", "##ed", "runn", "##ing", ",", ".", "!", "'", "t", "s",
    "a", "ab", "abc", "##b", "##c", "##bc", "b", "c", "the", "cat", "sat", "on", "mat", "hello", "world",
    "cafe", "é", "##ü", "naive", "我", "北", "京", "x", "##x", "##xx", "don", "?",
]

import Foundation

/// Everything that can go wrong while loading a tokenizer. Each case names the
/// file (and, for configuration problems, the component and its `type`).
public enum TokenizerError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// A required file does not exist.
    case fileNotFound(URL)
    /// The file exists but could not be read.
    case unreadableFile(URL, reason: String)
    /// The file is not valid JSON, or lacks a required field, or has a field of the wrong type.
    case malformedFile(URL, reason: String)
    /// A component (`normalizer`, `pre_tokenizer`, `model`, `post_processor`,
    /// `decoder`) has a `type` this package does not implement.
    case unsupportedComponent(kind: String, type: String, file: URL?)
    /// A token the configuration refers to (e.g. the `unk_token`, or a special token
    /// of the post-processor) is not in the vocabulary.
    case missingToken(String, role: String, file: URL?)
    /// The vocabulary itself is unusable (empty, negative or absurdly sparse ids).
    case invalidVocabulary(reason: String, file: URL?)
    /// A folder holds neither `tokenizer.json` nor `vocab.txt`.
    case noTokenizerFiles(folder: URL)

    public var description: String {
        switch self {
        case .fileNotFound(let url):
            return "tokenizer file not found: \(url.path)"
        case .unreadableFile(let url, let reason):
            return "cannot read \(url.lastPathComponent) (\(url.path)): \(reason)"
        case .malformedFile(let url, let reason):
            return "malformed \(url.lastPathComponent) (\(url.path)): \(reason)"
        case .unsupportedComponent(let kind, let type, let file):
            let supported = Self.supportedTypes[kind].map { " (supported: \($0.joined(separator: ", ")))" } ?? ""
            return "\(Self.where(file))\(kind) type '\(type)' is not supported by AttendTokenizers\(supported)"
        case .missingToken(let token, let role, let file):
            return "\(Self.where(file))\(role) '\(token)' is not in the vocabulary"
        case .invalidVocabulary(let reason, let file):
            return "\(Self.where(file))invalid vocabulary: \(reason)"
        case .noTokenizerFiles(let folder):
            return "no tokenizer in \(folder.path): expected tokenizer.json, or vocab.txt (+ tokenizer_config.json)"
        }
    }

    public var errorDescription: String? { description }

    /// The same error, attributed to `file` if it did not name one yet.
    func attributed(to file: URL) -> TokenizerError {
        switch self {
        case .unsupportedComponent(let kind, let type, nil): return .unsupportedComponent(kind: kind, type: type, file: file)
        case .missingToken(let token, let role, nil): return .missingToken(token, role: role, file: file)
        case .invalidVocabulary(let reason, nil): return .invalidVocabulary(reason: reason, file: file)
        default: return self
        }
    }

    private static func `where`(_ file: URL?) -> String {
        file.map { "\($0.lastPathComponent) (\($0.path)): " } ?? ""
    }

    static let supportedTypes: [String: [String]] = [
        "normalizer": ["BertNormalizer", "Lowercase", "NFD", "StripAccents", "Sequence"],
        "pre_tokenizer": ["BertPreTokenizer", "Whitespace", "WhitespaceSplit", "Sequence", "ByteLevel", "Digits", "Split"],
        "model": ["WordPiece", "BPE"],
        "post_processor": ["TemplateProcessing", "BertProcessing", "RobertaProcessing", "ByteLevel"],
        "decoder": ["WordPiece", "ByteLevel"],
    ]
}

// Errors every model family reports: a folder that is missing or malformed, an input the model cannot take.

/// Errors from model folders and model inputs.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case invalidConfig(String, String)
    case invalidWeights(String, String)
    case invalidInput(String)
    case sequenceTooLong(length: Int, max: Int)

    public var description: String {
        switch self {
        case .missingFile(let p): return "\(p): file not found"
        case let .invalidConfig(p, m): return "\(p): \(m)"
        case let .invalidWeights(p, m): return "\(p): \(m)"
        case .invalidInput(let m): return m
        case let .sequenceTooLong(l, m): return "sequence of \(l) tokens is longer than the model's \(m) positions"
        }
    }
}

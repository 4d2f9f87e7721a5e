import AttendModels
import Foundation

/// Models loaded once per test process and shared by every suite that needs them.
public enum SharedModels {
    private static let miniLMResult: Result<SentenceEmbedder, Error> = Result {
        try SentenceEmbedder.load(folder: installedModelFolder("all-MiniLM-L6-v2"))
    }

    /// The installed all-MiniLM-L6-v2; the error says how to install it.
    public static func miniLM() throws -> SentenceEmbedder {
        switch miniLMResult {
        case .success(let e): return e
        case .failure(let error): throw MissingModel(name: "all-MiniLM-L6-v2", underlying: "\(error)")
        }
    }

    public struct MissingModel: Error, CustomStringConvertible {
        public var name: String
        public var underlying: String
        public var description: String {
            "\(name) is not usable (\(underlying)); install it with `swift run attend models install \(name)`"
        }
    }
}

/// Turns tokens back into text (the inverse direction of the model and pre-tokenizer).
public protocol TokenDecoder: Sendable {
    func decode(_ tokens: [String]) -> String
}

/// `{"type": "WordPiece", "prefix": "##", "cleanup": true}`.
///
/// Every token but the first is preceded by a space unless it starts with
/// `prefix`, in which case the prefix is removed (`play ##ing` → `playing`).
/// With `cleanup`, each token then gets `tokenizers`' English clean-up, applied to
/// that token (with its leading space) only, in this order:
/// `" ."→"."`, `" ?"→"?"`, `" !"→"!"`, `" ,"→","`, `" ' "→"'"`, `" n't"→"n't"`,
/// `" 'm"→"'m"`, `" do not"→" don't"`, `" 's"→"'s"`, `" 've"→"'ve"`, `" 're"→"'re"`.
public struct WordPieceDecoder: TokenDecoder, Codable, Hashable {
    public var prefix: String
    public var cleanup: Bool

    public init(prefix: String = "##", cleanup: Bool = true) {
        self.prefix = prefix
        self.cleanup = cleanup
    }

    enum CodingKeys: String, CodingKey { case prefix, cleanup }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prefix = try c.decodeIfPresent(String.self, forKey: .prefix) ?? "##"
        cleanup = try c.decodeIfPresent(Bool.self, forKey: .cleanup) ?? true
    }

    private static let replacements: [([UInt8], [UInt8])] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
        (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    public func decode(_ tokens: [String]) -> String {
        let prefixBytes = Array(prefix.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(tokens.reduce(0) { $0 + $1.utf8.count + 1 })
        for (i, token) in tokens.enumerated() {
            var piece = Array(token.utf8)
            if i != 0 {
                if !prefixBytes.isEmpty && piece.starts(with: prefixBytes) {
                    piece.removeFirst(prefixBytes.count)
                } else {
                    piece.insert(0x20, at: 0)
                }
            }
            if cleanup {
                for (pattern, replacement) in Self.replacements {
                    piece = replacingAll(pattern, with: replacement, in: piece)
                }
            }
            out += piece
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Byte-wise, left to right, non-overlapping replacement (like Rust's `str::replace`).
func replacingAll(_ pattern: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
    guard !pattern.isEmpty, bytes.count >= pattern.count else { return bytes }
    var out: [UInt8] = []
    var i = 0
    var changed = false
    while i < bytes.count {
        if i + pattern.count <= bytes.count && bytes[i] == pattern[0] && bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
            if !changed { out.reserveCapacity(bytes.count); out += bytes[0..<i]; changed = true }
            out += replacement
            i += pattern.count
        } else {
            if changed { out.append(bytes[i]) }
            i += 1
        }
    }
    return changed ? out : bytes
}

/// The second stage of a tokenizer: splits the normalized text into words, each
/// of which the model tokenizes on its own. Words are ranges of
/// `NormalizedString.scalars`; pre-tokenizers here only split (none rewrites text).
///
/// `preTokenize` receives the current words (initially the whole text) and
/// replaces them by their pieces, in order.
public protocol PreTokenizer: Sendable {
    func preTokenize(_ text: NormalizedString, words: inout [Range<Int>])
}

/// `{"type": "BertPreTokenizer"}`: splits on whitespace (removed) and isolates
/// every punctuation character (ASCII punctuation or category P*) as its own word.
public struct BertPreTokenizer: PreTokenizer, Codable, Hashable {
    public init() {}
    public func preTokenize(_ text: NormalizedString, words: inout [Range<Int>]) {
        var out: [Range<Int>] = []
        out.reserveCapacity(text.count / 4 + 4)
        text.scalars.withUnsafeBufferPointer { s in
            for word in words {
                var start = word.lowerBound
                for i in word {
                    let c = s[i]
                    if UnicodeClass.isWhitespace(c) {
                        if start < i { out.append(start..<i) }
                        start = i + 1
                    } else if UnicodeClass.isPunctuation(c) {
                        if start < i { out.append(start..<i) }
                        out.append(i..<(i + 1))
                        start = i + 1
                    }
                }
                if start < word.upperBound { out.append(start..<word.upperBound) }
            }
        }
        words = out
    }
}

/// `{"type": "WhitespaceSplit"}`: splits on whitespace (`White_Space`), removed.
public struct WhitespaceSplitPreTokenizer: PreTokenizer, Codable, Hashable {
    public init() {}
    public func preTokenize(_ text: NormalizedString, words: inout [Range<Int>]) {
        var out: [Range<Int>] = []
        out.reserveCapacity(text.count / 4 + 4)
        for word in words {
            var start = word.lowerBound
            for i in word where UnicodeClass.isWhitespace(text.scalars[i]) {
                if start < i { out.append(start..<i) }
                start = i + 1
            }
            if start < word.upperBound { out.append(start..<word.upperBound) }
        }
        words = out
    }
}

/// `{"type": "Whitespace"}`: the regex `\w+|[^\w\s]+` — runs of word characters
/// and runs of other non-space characters; whitespace is removed.
public struct WhitespacePreTokenizer: PreTokenizer, Codable, Hashable {
    public init() {}

    private enum Kind { case space, word, other }

    public func preTokenize(_ text: NormalizedString, words: inout [Range<Int>]) {
        var out: [Range<Int>] = []
        out.reserveCapacity(text.count / 4 + 4)
        for word in words {
            var start = word.lowerBound
            var current = Kind.space
            for i in word {
                let c = text.scalars[i]
                let kind: Kind = UnicodeClass.isWordCharacter(c) ? .word : (UnicodeClass.isWhitespace(c) ? .space : .other)
                if kind != current {
                    if current != .space && start < i { out.append(start..<i) }
                    start = i
                    current = kind
                }
            }
            if current != .space && start < word.upperBound { out.append(start..<word.upperBound) }
        }
        words = out
    }
}

/// `{"type": "Sequence", "pretokenizers": [...]}`: applies each pre-tokenizer to
/// the pieces of the previous one.
public struct SequencePreTokenizer: PreTokenizer {
    public var preTokenizers: [any PreTokenizer]
    public init(_ preTokenizers: [any PreTokenizer]) { self.preTokenizers = preTokenizers }
    public func preTokenize(_ text: NormalizedString, words: inout [Range<Int>]) {
        for p in preTokenizers { p.preTokenize(text, words: &words) }
    }
}

import ArgumentParser
import Attend
import Foundation

struct NeighborsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbors",
        abstract: "Vocabulary pieces nearest to a word (or to word arithmetic) in the model's input-embedding space.",
        discussion: """
        Looks only at the word-embedding table (the vectors a token has before any attention), by cosine
        similarity. An expression like "king - man + woman" adds and subtracts those vectors; a word the
        tokenizer splits into several pieces uses the mean of its pieces' vectors. The words of the query
        themselves are left out of the results, as analogy demos do. A contextual model's input table is not
        word2vec: the results are shown as they are, good or bad.

        Examples:
          attend neighbors cat
          attend neighbors "king - man + woman" --top 5
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var precisionOption: PrecisionOption
    @Argument(help: "A word, or words joined by + and -.") var expression: String
    @Option(name: .long, help: "How many neighbours to show.") var top = 10
    @Flag(name: .long, help: "Also list ## continuation pieces and special tokens.") var allPieces = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            guard top >= 1 else { throw CLIError("--top must be at least 1, got \(top)") }
            let terms = try Self.parse(expression)
            let embedder = try modelOptions.loadEmbedder(precision: precisionOption.precision)
            let table = embedder.model.embeddings.words.weight.value   // [vocab, hidden]
            let (vocab, dim) = (table.shape[0], table.shape[1])
            var query = [Float](repeating: 0, count: dim)
            var excluded = Set<Int>()
            var explained: [String] = []
            for (sign, word) in terms {
                let e = embedder.tokenizer.encode(word, addSpecialTokens: false)
                guard !e.ids.isEmpty else { throw CLIError("\"\(word)\" has no tokens") }
                if e.ids.contains(where: { $0 == embedder.tokenizer.unkTokenId }) {
                    Terminal.printWarning("\"\(word)\" contains an unknown piece ([UNK])")
                }
                if e.ids.count > 1 { explained.append("\"\(word)\" = mean of \(e.tokens.joined(separator: " "))") }
                for id in e.ids { excluded.insert(id) }
                for id in e.ids { for d in 0..<dim { query[d] += sign * table.scalars[id * dim + d] / Float(e.ids.count) } }
            }
            var scored: [(Int, Float)] = []
            scored.reserveCapacity(vocab)
            for id in 0..<vocab where !excluded.contains(id) {
                let token = embedder.tokenizer.token(for: id) ?? ""
                if !allPieces && (token.hasPrefix("##") || (token.hasPrefix("[") && token.hasSuffix("]"))) { continue }
                scored.append((id, cosineSimilarity(query, Array(table.scalars[(id * dim)..<((id + 1) * dim)]))))
            }
            let best = scored.sorted { $0.1 > $1.1 }.prefix(top)
            if json {
                print(JSONValue.object([
                    ("expression", .string(expression)),
                    ("neighbors", .array(best.map { id, c in
                        .object([("token", .string(embedder.tokenizer.token(for: id) ?? "")), ("id", .int(id)), ("cosine", .float(c))])
                    })),
                ]).rendered())
                return
            }
            print("Nearest to \(expression) in the input-embedding table (\(vocab) pieces × \(dim) dims):")
            for line in explained { print("  " + Terminal.dim(line)) }
            let width = best.map { (embedder.tokenizer.token(for: $0.0) ?? "").count }.max() ?? 0
            for (rank, (id, c)) in best.enumerated() {
                print("  " + padLeft(String(rank + 1), 3) + "  " + padRight(embedder.tokenizer.token(for: id) ?? "?", width) + "  " + fmt(c, decimals: 3))
            }
        }
    }

    /// "king - man + woman" → [(+1, king), (−1, man), (+1, woman)]
    static func parse(_ expression: String) throws -> [(Float, String)] {
        var terms: [(Float, String)] = []
        var sign: Float = 1
        var expectWord = true
        for raw in expression.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            let part = String(raw)
            if part == "+" || part == "-" {
                guard !expectWord else { throw CLIError("expression \"\(expression)\": '\(part)' must come between two words") }
                sign = part == "-" ? -1 : 1
                expectWord = true
            } else {
                guard expectWord else { throw CLIError("expression \"\(expression)\": put + or - between words (\"a - b + c\")") }
                terms.append((sign, part))
                expectWord = false
            }
        }
        guard !terms.isEmpty, !expectWord else { throw CLIError("expression \"\(expression)\" is empty or ends with an operator") }
        return terms
    }
}

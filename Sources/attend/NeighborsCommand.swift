import ArgumentParser
import Attend
import Foundation

struct NeighborsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbors",
        abstract: "Vocabulary pieces nearest to a word (or to word arithmetic) in the model's input-embedding space.",
        discussion: """
        Looks only at the word-embedding table (the vectors a token has before any attention), by cosine \
        similarity. An expression like "king - man + woman" adds and subtracts those vectors; a word the \
        tokenizer splits into several pieces uses the mean of its pieces' vectors. The words of the query \
        themselves are left out of the results, as analogy demos do. A contextual model's input table is not \
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
            let parsed = try NeighborExpression(parsing: expression)
            let embedder = try modelOptions.loadEmbedder(precision: precisionOption.precision)
            let table = embedder.model.wordEmbeddings.weight.value   // [vocab, hidden]
            let found = try EmbeddingNeighbors(of: parsed, table: table, tokenizer: embedder.tokenizer, top: top, allPieces: allPieces) {
                Terminal.printWarning("\"\($0)\" contains an unknown piece ([UNK])")
            }
            if json {
                print(JSONValue.object([
                    ("expression", .string(expression)),
                    ("neighbors", .array(found.neighbors.map { n in
                        .object([("token", .string(n.token ?? "")), ("id", .int(n.id)), ("cosine", .float(n.cosine))])
                    })),
                ]).rendered())
                return
            }
            print("Nearest to \(expression) in the input-embedding table (\(found.vocabularySize) pieces × \(found.dimensions) dims):")
            for line in found.explanations { print("  " + Terminal.dim(line)) }
            let width = found.neighbors.map { ($0.token ?? "").count }.max() ?? 0
            for (rank, n) in found.neighbors.enumerated() {
                print("  " + padLeft(String(rank + 1), 3) + "  " + padRight(n.token ?? "?", width) + "  " + fmt(n.cosine, decimals: 3))
            }
        }
    }
}

import ArgumentParser
import Attend
import Foundation

struct SimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similarity",
        abstract: "Cosine similarity matrix of sentence embeddings.",
        discussion: """
        Examples:
          attend similarity "The cat sat on the mat" "A cat was sitting on a mat" "Stock prices fell"
          attend similarity --json "a" "b"
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var precisionOption: PrecisionOption
    @Argument(help: "Two or more texts (stdin, one per line, when omitted).") var texts: [String] = []
    @Flag(help: "Print JSON: {\"texts\", \"matrix\"}.") var json = false

    func run() throws {
        try runReportingErrors {
            let inputs = try TextInput.read(arguments: texts)
            guard inputs.count >= 2 else { throw CLIError("similarity needs at least two texts, got \(inputs.count)") }
            let embedder = try modelOptions.loadEmbedder(precision: precisionOption.precision)
            let vectors = try embedder.embed(inputs).map(\.vector)
            let matrix = cosineSimilarityMatrix(vectors)   // [n][n]
            if json {
                print(JSONValue.object([
                    ("texts", .array(inputs.map { .string($0) })),
                    ("matrix", .array(matrix.map { .array($0.map { .float($0) }) })),
                ]).rendered())
                return
            }
            let labels = inputs.indices.map { "[\($0)]" }
            for (i, t) in inputs.enumerated() { print("\(labels[i]) \(t)") }
            print("")
            print("cosine " + labels.map { padLeft($0, 7) }.joined())
            for (i, row) in matrix.enumerated() {
                print(padRight(labels[i], 7) + row.map { padLeft(fmt($0, decimals: 3), 7) }.joined())
            }
        }
    }
}

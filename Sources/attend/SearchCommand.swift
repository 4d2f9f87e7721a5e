import ArgumentParser
import Attend
import Foundation

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Semantic search: attention as a soft database lookup over a corpus.",
        discussion: """
        Each non-blank line of the corpus is a document. The query's embedding is compared with every \
        document's (cosine similarity); ranking by cosine is the "hard" lookup. The "soft" lookup is what \
        attention does: weights = softmax(cosine / temperature) over the whole corpus, summing to 1 — \
        the query attends to the documents as a query attends to keys. A lower temperature makes it \
        sharper (toward the single best match), a higher one spreads it out.

        Examples:
          attend search --corpus Examples/corpus.txt "a pet sleeping indoors"
          attend search --corpus Examples/corpus.txt --top 3 --temperature 0.1 --json "stock market"
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var precisionOption: PrecisionOption
    @Option(name: .long, help: "A text file, one document per line.") var corpus: String
    @Option(name: .long, help: "How many results to show.") var top = 5
    @Option(name: .long, help: "Softmax temperature of the soft lookup (> 0).") var temperature: Float = 0.05
    @Argument(help: "The query.") var query: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            guard top >= 1 else { throw CLIError("--top must be at least 1, got \(top)") }
            guard temperature > 0, temperature.isFinite else { throw CLIError("--temperature must be a positive number, got \(temperature)") }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: corpus, isDirectory: &isDir) else {
                throw CLIError("\(corpus): no such file")
            }
            guard !isDir.boolValue else { throw CLIError("\(corpus): is a directory, expected a text file with one document per line") }
            guard let data = FileManager.default.contents(atPath: corpus) else { throw CLIError("\(corpus): cannot be read") }
            let documents = TextInput.lines(of: data, source: corpus).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            guard !documents.isEmpty else { throw CLIError("\(corpus): no non-blank lines to search") }
            if query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { Terminal.printWarning("the query is blank") }
            let embedder = try modelOptions.loadEmbedder(precision: precisionOption.precision)
            let progress = Progress(label: "embedding corpus")
            let docVectors = try embedder.embed(documents) { progress.update($0, $1) }.map(\.vector)
            let q = try embedder.embed([query])[0].vector
            let lookup = try SoftLookup(query: q, documents: docVectors, temperature: temperature)
            let ranked = lookup.top(top)
            let (cosines, weights) = (lookup.cosines, lookup.weights)
            if json {
                print(JSONValue.object([
                    ("query", .string(query)),
                    ("temperature", .float(temperature)),
                    ("results", .array(ranked.enumerated().map { r, i in
                        .object([("rank", .int(r + 1)), ("line", .string(documents[i])),
                                 ("cosine", .float(cosines[i])), ("weight", .float(weights[i]))])
                    })),
                    ("weights", .array(weights.map { .float($0) })),
                    ("effective_documents", .float(lookup.effectiveDocuments)),
                ]).rendered())
                return
            }
            print("Query: \(query)")
            print("\(documents.count) documents; soft lookup weights = softmax(cosine / \(fmt(temperature, decimals: 3))), summing to 1\n")
            print("  rank  cosine  weight  document")
            for (r, i) in ranked.enumerated() {
                let bar = String(repeating: "▇", count: Int((weights[i] * 20).rounded()))
                print("  " + padLeft(String(r + 1), 4) + "  " + padLeft(fmt(cosines[i], decimals: 3), 6) + "  "
                      + padLeft(fmt(weights[i], decimals: 3), 6) + "  " + documents[i] + (bar.isEmpty ? "" : "  " + Terminal.dim(bar)))
            }
            let shown = lookup.share(of: ranked)
            print("\nThe top \(ranked.count) hold \(fmt(shown * 100, decimals: 1))% of the attention; it is spread like "
                  + "\(fmt(lookup.effectiveDocuments, decimals: 1)) equally weighted documents (exp of the entropy).")
        }
    }
}

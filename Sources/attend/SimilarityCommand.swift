import ArgumentParser
import Attend
import Foundation

struct SimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similarity",
        abstract: "Cosine similarity matrix of sentence embeddings, and why two sentences get their score.",
        discussion: """
        With --explain and two texts, the cosine is split exactly into token × token contributions: with mean \
        pooling, cos(a, b) = Σ_i Σ_j (h_i · g_j) / (n · m · ‖ē_a‖ · ‖ē_b‖), where h_i and g_j are the last-layer \
        vectors of the n tokens of a and the m tokens of b and ē_a, ē_b their means. The table's cells sum to the \
        cosine; each row (column) sum is what one token of a (b) adds. Then the score is carried back to the input \
        words with integrated gradients over the word embeddings (baseline: the word embeddings of every token but \
        [CLS]/[SEP] set to zero, positions and token types kept; --steps points on the path), whose attributions sum \
        to the score minus the baseline's score; the completeness error is printed. Integrated gradients run the \
        model forward and backward on Attend's autograd, once per step, so they take a few seconds; \
        --no-input-attribution skips them.

        With --explain, --json prints {"cosine", "tokens_a", "tokens_b", "contributions", "row_sums", \
        "column_sums", "input_attributions"}, and --format svg or html writes a heatmap (blue pulls together, red \
        apart) to --out FILE.

        Examples:
          attend similarity "The cat sat on the mat" "A cat was sitting on a mat" "Stock prices fell"
          attend similarity --json "a" "b"
          attend similarity "The cat sat on the mat" "A cat was sitting on a mat" --explain
          attend similarity "The cat sat on the mat" "A dog lay on the rug" --explain --format html --out why.html
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var precisionOption: PrecisionOption
    @Argument(help: "Two or more texts (stdin, one per line, when omitted).") var texts: [String] = []
    @Flag(help: "Print JSON: {\"texts\", \"matrix\"} (with --explain: the explanation).") var json = false
    @Flag(help: "Explain the similarity of two texts token by token (and word by word).") var explain = false
    @Option(name: .long, help: "With --explain: text, json, svg or html.") var format: String = "text"
    @Option(name: .long, help: "With --explain: write to this file instead of stdout.") var out: String?
    @Option(name: .long, help: "With --explain: points on the integrated-gradients path.") var steps: Int = 32
    @Flag(inversion: .prefixedNo, help: "With --explain: carry the score back to the input words (integrated gradients).")
    var inputAttribution = true

    func run() throws {
        try runReportingErrors {
            let inputs = try TextInput.read(arguments: texts)
            if explain { return try runExplain(inputs) }
            guard inputs.count >= 2 else { throw CLIError("similarity needs at least two texts, got \(inputs.count)") }
            // One batch (embed's default) or less: packing the weights first would not pay for itself.
            let embedder = try modelOptions.loadEmbedder(precision: precisionOption.precision,
                                                         prepack: inputs.count > SentenceEmbedder.defaultBatchSize)
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

    func runExplain(_ inputs: [String]) throws {
        guard inputs.count == 2 else { throw CLIError("--explain needs exactly two texts, got \(inputs.count)") }
        let format = json ? "json" : self.format.lowercased()
        guard ["text", "json", "svg", "html"].contains(format) else {
            throw CLIError("unknown format '\(self.format)': use text, json, svg or html")
        }
        guard (1...1000).contains(steps) else { throw CLIError("--steps must be between 1 and 1000, got \(steps)") }
        if let out { try ExplainOutput.checkWritable(out) }
        let embedder = try modelOptions.loadEmbedder(precision: precisionOption.precision)
        let explanation: SimilarityExplanation
        var attributions: (a: TokenAttribution, b: TokenAttribution)? = nil
        do {
            explanation = try SimilarityExplanation.explain(embedder: embedder, inputs[0], inputs[1])
            if inputAttribution && format != "svg" {
                let start = Date()
                attributions = try IntegratedGradients.similarity(embedder: embedder, inputs[0], inputs[1], steps: steps)
                let seconds = Date().timeIntervalSince(start)
                if seconds > 1 && Terminal.stderrIsTerminal {
                    Terminal.printWarning(String(format: "integrated gradients took %.1f s (%d forward and backward passes per text on the autograd path)", seconds, steps + 1))
                }
            }
        } catch {
            throw CLIError("\(error)")
        }
        let model = modelOptions.model
        switch format {
        case "json":
            try ExplainOutput.emit(explanation.jsonReport(model: model, attributions: attributions).rendered() + "\n",
                                   to: out, defaultName: nil, describe: "JSON")
        case "svg":
            try ExplainOutput.emit(explanation.view(model: model).svg(), to: out, defaultName: "attend-similarity.svg",
                                   describe: "SVG heatmap of the token × token contributions")
        case "html":
            try ExplainOutput.emit(explanation.html(model: model, attributions: attributions), to: out,
                                   defaultName: "attend-similarity.html", describe: "HTML page")
        default:
            let color: TerminalColor = out == nil && Terminal.useColor ? .detect() : .none
            try ExplainOutput.emit(explanation.textReport(model: model, color: color, attributions: attributions),
                                   to: out, defaultName: nil, describe: "text")
        }
    }
}

import ArgumentParser
import Attend
import Foundation

struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Scaled dot-product attention on your own numbers, every step shown.",
        discussion: """
        FILE is a JSON object:
          {"q": [[…], …], "k": [[…], …], "v": [[…], …],
           "mask": "causal" | [[true, false, …], …] | [[0, -1e9, …], …],   (optional)
           "scale": 0.125,                                                 (optional, default 1/√d_k)
           "heads": 2}                                                     (optional, splits the last axis)
        q is Lq×d, k is Lk×d, v is Lk×d_v (a single query may be a flat vector). A boolean mask is \
        Lq×Lk with true = may attend; a numeric mask is added to the scaled scores. A query row whose \
        every key is masked gets zero weights and a zero output.

        Output (--json): {"scores": QKᵀ, "scaled_scores": QKᵀ·scale, "weights": softmax rows, \
        "output": weights·V, "scale": …} (plus "masked_scores" when a mask is given, null where masked). \
        With heads > 1, scores and weights gain a leading heads axis and output is the heads' \
        outputs concatenated along the feature axis (no output projection).

        Examples:
          attend attention Examples/tutorial.json
          attend attention Examples/causal-two-heads.json --json
        """)

    @Argument(help: "A JSON file with q, k, v and optional mask, scale, heads.")
    var file: String

    @Flag(name: .long, help: "Print the results as JSON on stdout.")
    var json = false

    @Option(name: .long, help: "Decimals in the text trace.")
    var decimals = 4

    func run() throws {
        try runReportingErrors {
            let input = try AttentionProblem.load(path: file)
            let trace = try input.run()
            if json {
                print(try AttentionReport.json(input: input, trace: trace).rendered())
            } else {
                let digits = Swift.max(0, Swift.min(decimals, 8))
                print(try AttentionReport.text(input: input, trace: trace, decimals: digits, style: Terminal.style), terminator: "")
            }
        }
    }
}

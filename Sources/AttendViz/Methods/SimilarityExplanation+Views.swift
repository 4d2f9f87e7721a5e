// What `attend similarity --explain` prints and draws (and what a server can send): the token × token table,
// the per-token sums, and the input-word attributions of integrated gradients.
import AttendNN
import Foundation

extension SimilarityExplanation {
    /// The n × m contributions as a signed heatmap.
    public func view(model: String) -> MatrixView {
        MatrixView(title: "similarity · \(model) · cosine \(String(format: "%.4f", cosine))",
                   subtitle: "\(textA)” · “\(textB)", matrix: contributions, rowTokens: tokensA, columnTokens: tokensB,
                   rowAxis: "tokens of a", columnAxis: "tokens of b", valueName: "contribution",
                   footnotes: ["C_ij = h_i·g_j / (n·m·‖ē_a‖·‖ē_b‖), last-layer vectors, mean pooling; Σ C_ij = \(String(format: "%.6f", total)) = cosine \(String(format: "%.6f", cosine))",
                               "blue: the pair pulls the sentences together; red: apart"],
                   signed: true)
    }

    /// The terminal report: the table, what each token adds, the strongest pairs, and (when given) the
    /// input-word attributions of both sides.
    public func textReport(model: String, color: TerminalColor, attributions: (a: TokenAttribution, b: TokenAttribution)? = nil) -> String {
        var out = view(model: model).text(color: color)
        out += "\nWhat each token adds to the cosine (its row or column of the table):\n"
        func bars(_ tokens: [String], _ values: [Double]) -> String {
            let top = max(values.map(abs).max() ?? 0, 1e-12)
            let w = min(14, tokens.map { VizFormat.width($0) }.max() ?? 0)
            return zip(tokens, values).map { t, v in
                let n = Int((abs(v) / top * 20).rounded())
                return "  " + VizFormat.padRight(VizFormat.truncate(t, w), w) + " " + VizFormat.padLeft(String(format: "%+.4f", v), 8)
                    + (n > 0 ? " " + String(repeating: v < 0 ? "-" : "█", count: n) : "")
            }.joined(separator: "\n") + "\n"
        }
        out += "a: “\(textA)”\n" + bars(tokensA, rowSums)
        out += "b: “\(textB)”\n" + bars(tokensB, columnSums)
        out += "\nStrongest pairs:\n"
        for p in topPairs(5) {
            out += "  \(tokensA[p.i]) · \(tokensB[p.j])  \(String(format: "%+.4f", p.value))\n"
        }
        if let attributions {
            out += "\nInput words (integrated gradients over the word embeddings, \(attributions.a.steps) steps; baseline: \(IntegratedGradients.baselineDescription)):\n"
            for side in [attributions.a, attributions.b] {
                out += "“\(side.text)”: cos \(String(format: "%.4f", side.score)) − baseline \(String(format: "%.4f", side.baselineScore))"
                    + " = \(String(format: "%.4f", side.score - side.baselineScore)); Σ attributions \(String(format: "%.4f", side.attributions.reduce(0, +)))"
                    + " (completeness error \(String(format: "%.2e", side.completenessError)), \(String(format: "%.3f", 100 * side.relativeCompletenessError))% of the score)\n"
                out += bars(side.tokens, side.attributions)
            }
        }
        return out
    }

    /// `json` plus `"model"` and, when given, `"input_attributions": {"a": …, "b": …, "baseline": …}`.
    public func jsonReport(model: String, attributions: (a: TokenAttribution, b: TokenAttribution)? = nil) -> JSONValue {
        guard case .object(var o) = json else { return json }
        o.append(("model", .string(model)))
        if let attributions {
            o.append(("input_attributions", .object([
                ("method", .string("integrated gradients")),
                ("baseline", .string(IntegratedGradients.baselineDescription)),
                ("a", attributions.a.json), ("b", attributions.b.json),
            ])))
        }
        return .object(o)
    }

    /// The offline page: the heatmap, the per-token sums and the input-word attributions.
    public func html(model: String, attributions: (a: TokenAttribution, b: TokenAttribution)? = nil) -> String {
        var tables: [(title: String, rows: [(String, Double)])] = [
            ("tokens of a: what each adds (row sums)", Array(zip(tokensA, rowSums))),
            ("tokens of b: what each adds (column sums)", Array(zip(tokensB, columnSums))),
        ]
        if let attributions {
            for (name, side) in [("a", attributions.a), ("b", attributions.b)] {
                tables.append(("input words of \(name), integrated gradients (Σ = \(String(format: "%.4f", side.attributions.reduce(0, +))), y(x) − y(x′) = \(String(format: "%.4f", side.score - side.baselineScore)))",
                               Array(zip(side.tokens, side.attributions))))
            }
        }
        return view(model: model).html(tables: tables)
    }
}

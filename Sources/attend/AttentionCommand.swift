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
        q is Lq×d, k is Lk×d, v is Lk×d_v (a single query may be a flat vector). A boolean mask is
        Lq×Lk with true = may attend; a numeric mask is added to the scaled scores. A query row whose
        every key is masked gets zero weights and a zero output.

        Output (--json): {"scores": QKᵀ, "scaled_scores": QKᵀ·scale, "weights": softmax rows,
        "output": weights·V, "scale": …} (plus "masked_scores" when a mask is given, null where masked).
        With heads > 1, scores and weights gain a leading heads axis and output is the heads'
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
            let input = try AttentionInput.load(path: file)
            let trace = try input.run()
            if json {
                print(JSONOut.render(try AttentionReport.json(input: input, trace: trace)))
            } else {
                print(try AttentionReport.text(input: input, trace: trace, decimals: Swift.max(0, Swift.min(decimals, 8))), terminator: "")
            }
        }
    }
}

/// Renders an attention trace as JSON or as a readable, step-by-step text.
enum AttentionReport {
    /// Drops the heads axis when there is one head and the query axis when q was a vector.
    static func shaped(_ t: Tensor, input: AttentionInput) throws -> Tensor {
        var x = try t.select(axis: 0, 0)                         // [H, Lq, X]
        if input.heads == 1 { x = try x.select(axis: 0, 0) }     // [Lq, X]
        if input.queryIsVector { x = try x.select(axis: -2, 0) } // [X] or [H, X]
        return x
    }

    static func json(input: AttentionInput, trace: AttentionTrace) throws -> JSONOut.Value {
        let output = try trace.output.mergeHeads().select(axis: 0, 0)   // [Lq, d_v] heads concatenated
        var pairs: [(String, JSONOut.Value)] = [
            ("scores", JSONOut.tensor(try shaped(trace.scores, input: input))),
            ("scaled_scores", JSONOut.tensor(try shaped(trace.scaledScores, input: input))),
            ("weights", JSONOut.tensor(try shaped(trace.weights, input: input))),
            ("output", JSONOut.tensor(input.queryIsVector ? try output.select(axis: 0, 0) : output)),
            ("scale", .number(trace.scale)),
        ]
        if input.mask != nil {
            pairs.append(("masked_scores", JSONOut.tensor(try shaped(trace.maskedScores, input: input))))
        }
        return .object(pairs)
    }

    static func text(input: AttentionInput, trace: AttentionTrace, decimals: Int) throws -> String {
        var out = ""
        let d = input.headDim
        let scaleText = input.scale == nil
            ? "1/√d_k = 1/√\(d) = \(fmt(trace.scale, decimals: decimals))"
            : "\(fmt(trace.scale, decimals: decimals)) (given)"
        let maskText: String
        switch input.mask {
        case nil: maskText = "none"
        case .causal: maskText = "causal (query i sees keys 0…i)"
        case .boolean: maskText = "boolean (true = may attend)"
        case .additive: maskText = "additive (added to the scaled scores)"
        }
        out += Terminal.bold("Attention") + ": \(input.lq) quer\(input.lq == 1 ? "y" : "ies") × \(input.lk) key\(input.lk == 1 ? "" : "s"), "
        out += "d_k = \(d), d_v = \(input.dValue / input.heads), \(input.heads) head\(input.heads == 1 ? "" : "s"), scale = \(scaleText), mask: \(maskText)\n"
        let qLabels = (0..<input.lq).map { "q\($0)" }, kLabels = (0..<input.lk).map { "k\($0)" }
        for h in 0..<input.heads {
            let sel = { (t: Tensor) throws -> Tensor in try t.select(axis: 0, 0).select(axis: 0, h) }
            if input.heads > 1 {
                out += "\n" + Terminal.bold("── Head \(h) (features \(h * d)..<\((h + 1) * d)) ──") + "\n"
            }
            out += "\n" + Terminal.bold("1. Scores S = Q·Kᵀ") + "\n"
            out += matrix(try sel(trace.scores), rows: qLabels, cols: kLabels, decimals: decimals)
            out += "\n" + Terminal.bold("2. Scaled scores S × \(fmt(trace.scale, decimals: decimals))") + "\n"
            out += matrix(try sel(trace.scaledScores), rows: qLabels, cols: kLabels, decimals: decimals)
            if input.mask != nil {
                out += "\n" + Terminal.bold("3. Masked scores") + " (−∞ = may not attend)\n"
                out += matrix(try sel(trace.maskedScores), rows: qLabels, cols: kLabels, decimals: decimals)
            }
            let w = try sel(trace.weights)
            out += "\n" + Terminal.bold("\(input.mask != nil ? 4 : 3). Weights = softmax of each row") + " (each row sums to 1)\n"
            out += matrix(w, rows: qLabels, cols: kLabels, decimals: decimals, rowSums: true)
            out += "\n" + Terminal.bold("\(input.mask != nil ? 5 : 4). Output = weights · V") + " (each output row is a weighted sum of value rows)\n"
            let o = try sel(trace.output)
            let dv = o.shape[1]
            let vName = "v"
            for i in 0..<input.lq {
                let row = (0..<input.lk).map { w[i, $0] }
                let terms: String
                if row.allSatisfy({ $0 == 0 }) {
                    terms = "0 (every key masked)"
                } else {
                    let shown = (0..<input.lk).filter { row[$0] != 0 }
                    let limited = shown.count > 8 ? Array(shown.sorted { row[$0] > row[$1] }.prefix(8)).sorted() : shown
                    terms = limited.map { "\(fmt(row[$0], decimals: 3)) × \(vName)\($0)" }.joined(separator: " + ")
                        + (limited.count < shown.count ? " + … (\(shown.count - limited.count) smaller terms)" : "")
                }
                let values = (0..<Swift.min(dv, 8)).map { fmt(o[i, $0], decimals: decimals) }.joined(separator: ", ")
                out += "  o\(i) = \(terms)\n       = [\(values)\(dv > 8 ? ", …" : "")]\n"
            }
        }
        if input.heads > 1 {
            out += "\n" + Terminal.bold("Concatenated output") + " (heads side by side along the feature axis, no output projection)\n"
            let merged = try trace.output.mergeHeads().select(axis: 0, 0)   // [Lq, d_v]
            out += matrix(merged, rows: (0..<input.lq).map { "o\($0)" }, cols: (0..<merged.shape[1]).map { "f\($0)" }, decimals: decimals)
        }
        return out
    }

    /// A labelled matrix; wide or tall ones are elided with `…`.
    static func matrix(_ m: Tensor, rows: [String], cols: [String], decimals: Int, rowSums: Bool = false) -> String {
        let maxCols = 12, maxRows = 24
        let colIdx = cols.count <= maxCols ? Array(cols.indices) : Array(0..<(maxCols - 2)) + [cols.count - 1]
        let rowIdx = rows.count <= maxRows ? Array(rows.indices) : Array(0..<(maxRows - 2)) + [rows.count - 1]
        var cells: [[String]] = rowIdx.map { i in colIdx.map { fmt(m[i, $0], decimals: decimals) } }
        var header = colIdx.map { cols[$0] }
        if cols.count > maxCols {
            header.insert("…", at: maxCols - 2)
            for r in cells.indices { cells[r].insert("…", at: maxCols - 2) }
        }
        if rowSums {
            header.append("Σ")
            for (r, i) in rowIdx.enumerated() {
                let s = (0..<cols.count).reduce(Float(0)) { $0 + m[i, $1] }
                cells[r].append(fmt(s, decimals: decimals))
            }
        }
        let width = Swift.max(header.map(\.count).max() ?? 0, cells.flatMap { $0 }.map(\.count).max() ?? 0)
        let labelWidth = rows.map(\.count).max() ?? 0
        var out = "  " + String(repeating: " ", count: labelWidth) + header.map { "  " + padLeft($0, width) }.joined() + "\n"
        for (r, i) in rowIdx.enumerated() {
            if rows.count > maxRows && r == maxRows - 2 {
                out += "  " + padRight("⋮", labelWidth) + "\n"
            }
            out += "  " + padRight(rows[i], labelWidth) + cells[r].map { "  " + padLeft($0, width) }.joined() + "\n"
        }
        return out
    }
}

// The step-by-step report of an attention problem: the JSON of `attend attention --json` and the readable trace
// (scores, scaled scores, masked scores, softmax weights, output as weighted sums of value rows, per head).
import AttendNN
import AttendTensor
import Foundation

/// Renders an attention trace as JSON or as a readable, step-by-step text.
public enum AttentionReport {
    /// Drops the heads axis when there is one head and the query axis when q was a vector.
    static func shaped(_ t: Tensor, input: AttentionProblem) throws -> Tensor {
        var x = try t.select(axis: 0, 0)                         // [H, Lq, X]
        if input.heads == 1 { x = try x.select(axis: 0, 0) }     // [Lq, X]
        if input.queryIsVector { x = try x.select(axis: -2, 0) } // [X] or [H, X]
        return x
    }

    /// `{"scores", "scaled_scores", "weights", "output", "scale"}` (plus `"masked_scores"` with a mask), with the
    /// nesting of the input: a leading heads axis when `heads` > 1, no query axis when `q` was a vector.
    public static func json(input: AttentionProblem, trace: AttentionTrace) throws -> JSONValue {
        let output = try trace.output.mergeHeads().select(axis: 0, 0)   // [Lq, d_v] heads concatenated
        var pairs: JSONObject = [
            "scores": JSONValue.tensor(try shaped(trace.scores, input: input)),
            "scaled_scores": JSONValue.tensor(try shaped(trace.scaledScores, input: input)),
            "weights": JSONValue.tensor(try shaped(trace.weights, input: input)),
            "output": JSONValue.tensor(input.queryIsVector ? try output.select(axis: 0, 0) : output),
            "scale": .float(trace.scale),
        ]
        if input.mask != nil {
            pairs.append(("masked_scores", JSONValue.tensor(try shaped(trace.maskedScores, input: input))))
        }
        return .object(pairs)
    }

    /// The readable trace; `style` makes headings bold on a colour terminal.
    public static func text(input: AttentionProblem, trace: AttentionTrace, decimals: Int, style: TextStyle) throws -> String {
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
        out += style.bold("Attention") + ": \(input.lq) quer\(input.lq == 1 ? "y" : "ies") × \(input.lk) key\(input.lk == 1 ? "" : "s"), "
        out += "d_k = \(d), d_v = \(input.dValue / input.heads), \(input.heads) head\(input.heads == 1 ? "" : "s"), scale = \(scaleText), mask: \(maskText)\n"
        let qLabels = (0..<input.lq).map { "q\($0)" }, kLabels = (0..<input.lk).map { "k\($0)" }
        for h in 0..<input.heads {
            let sel = { (t: Tensor) throws -> Tensor in try t.select(axis: 0, 0).select(axis: 0, h) }
            if input.heads > 1 {
                out += "\n" + style.bold("── Head \(h) (features \(h * d)..<\((h + 1) * d)) ──") + "\n"
            }
            out += "\n" + style.bold("1. Scores S = Q·Kᵀ") + "\n"
            out += matrix(try sel(trace.scores), rows: qLabels, cols: kLabels, decimals: decimals)
            out += "\n" + style.bold("2. Scaled scores S × \(fmt(trace.scale, decimals: decimals))") + "\n"
            out += matrix(try sel(trace.scaledScores), rows: qLabels, cols: kLabels, decimals: decimals)
            if input.mask != nil {
                out += "\n" + style.bold("3. Masked scores") + " (−∞ = may not attend)\n"
                out += matrix(try sel(trace.maskedScores), rows: qLabels, cols: kLabels, decimals: decimals)
            }
            let w = try sel(trace.weights)
            out += "\n" + style.bold("\(input.mask != nil ? 4 : 3). Weights = softmax of each row") + " (each row sums to 1)\n"
            out += matrix(w, rows: qLabels, cols: kLabels, decimals: decimals, rowSums: true)
            out += "\n" + style.bold("\(input.mask != nil ? 5 : 4). Output = weights · V") + " (each output row is a weighted sum of value rows)\n"
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
            out += "\n" + style.bold("Concatenated output") + " (heads side by side along the feature axis, no output projection)\n"
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

private func fmt(_ x: Float, decimals: Int) -> String { VizFormat.decimal(x, decimals: decimals) }
private func padLeft(_ s: String, _ width: Int) -> String { VizFormat.padLeft(s, width) }
private func padRight(_ s: String, _ width: Int) -> String { VizFormat.padRight(s, width) }

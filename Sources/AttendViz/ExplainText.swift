// The step-by-step trace of one head, with the real numbers, as a reader would check it by hand:
// tokens → embeddings → Q, K, V → scores → scaled scores → softmax weights → output, then in words.
import AttendNN
import Foundation

public struct ExplainText: Sendable {
    public var trace: ExplainTrace
    public var layerIndex: Int
    public var head: Int
    /// The token whose output is worked out (`--token`); nil shows every token's strongest link instead.
    public var focus: Int?
    public var decimals: Int = 4
    public var style: TextStyle
    /// Values in the heatmap cells.
    public var showValues: Bool = false
    /// Matrices show at most this many rows and columns (the rest elided with `…`).
    public var maxTokens: Int = 16
    /// Vector dimensions shown before `…`.
    public var maxDims: Int = 6
    /// A line under the title saying where the model came from.
    public var modelNote: String?

    public init(trace: ExplainTrace, layer: Int, head: Int, focus: Int? = nil, color: TerminalColor = .none,
                showValues: Bool = false, modelNote: String? = nil) {
        self.trace = trace
        self.layerIndex = layer
        self.head = head
        self.focus = focus
        self.style = TextStyle(color: color)
        self.showValues = showValues
        self.modelNote = modelNote
    }

    func n(_ x: Float) -> String { VizFormat.number(x, decimals: decimals) }
    /// Weights: fixed decimals, never scientific.
    func nw(_ x: Float) -> String { VizFormat.number(x, decimals: decimals, fixed: true) }

    public func render() throws -> String {
        let layer = try trace.layer(layerIndex)
        let h = try layer.head(head)
        if let focus, !(focus >= 0 && focus < layer.queryLength) {
            throw VizError.tokenIndexOutOfRange(focus, count: layer.queryLength)
        }
        let qt = layer.queryTokens, kt = layer.keyTokens
        let (lq, lk) = (layer.queryLength, layer.keyLength)
        let cross = layer.kind == .crossAttention
        var out = ""

        // Title.
        out += style.bold("attend explain") + " · model " + style.bold(trace.model) + "\n"
        if let modelNote { out += style.dim(modelNote) + "\n" }
        out += "“\(VizFormat.truncate(trace.text, 200))”\n"
        out += "\(layer.label) (layers 0…\(trace.layers.count - 1)), head \(head) (heads 0…\(layer.heads - 1)), "
            + "d_k = \(h.dk)"
        if let focus { out += ", token \(focus) \(VizFormat.quoted(qt[focus]))" }
        out += "\n"
        if trace.wasTruncated { out += style.dim("(the input was cut to the model's limit of \(trace.tokens.count) tokens)") + "\n" }

        // 1. Tokens.
        var step = 1
        out += "\n" + style.bold("\(step). Tokens") + " (\(trace.tokens.count)"
            + (cross ? "; this layer: \(lq) decoder tokens attend to \(lk) encoder tokens" : "") + ")\n"
        out += tokenList(trace.tokens)
        if qt != trace.tokens { out += "   decoder tokens (the rows of this layer):\n" + tokenList(qt) }
        step += 1

        // 2. Embeddings.
        if let e = trace.embeddings, e.rank == 2, e.shape[0] == trace.tokens.count {
            out += "\n" + style.bold("\(step). Embeddings") + " x = \(trace.embeddingsFormula ?? "LayerNorm(token + position + segment embedding)"): "
                + "\(e.shape[0]) × \(e.shape[1]), first \(min(maxDims, e.shape[1])) dimensions\n"
            out += vectors(e, labels: trace.tokens, keep: focus.map { [$0] } ?? [])
            if layerIndex > 0 {
                out += style.dim("   \(layer.label) reads the hidden states after layer \(layerIndex - 1), not these: each layer transforms them and passes them on.") + "\n"
            }
            step += 1
        }

        // 3. Q, K, V.
        let cols = "\(head * h.dk)..<\((head + 1) * h.dk)"
        out += "\n" + style.bold("\(step). Queries, keys and values of head \(head)") + ": Q = x·W_Qᵀ + b_Q, K = x·W_Kᵀ + b_K, "
            + "V = x·W_Vᵀ + b_V, keeping columns \(cols) (\(h.dk) of each projection)\n"
        if cross {
            out += "   Q comes from the decoder tokens; K and V from the encoder's output (its memory of the source).\n"
        }
        if let note = layer.note { out += "   \(note).\n" }
        out += "   Q (\(lq) × \(h.dk))\n" + vectors(h.q, labels: qt, keep: focus.map { [$0] } ?? [])
        out += "   K (\(lk) × \(h.dk))\n" + vectors(h.k, labels: kt, keep: [])
        out += "   V (\(lk) × \(h.v.shape[1]))\n" + vectors(h.v, labels: kt, keep: [])
        step += 1

        // 4. Scores.
        let keepCols = focus.map { f in topKeys(h.weights, row: f, count: 4) } ?? []
        let keepRows = focus.map { [$0] } ?? []
        out += "\n" + style.bold("\(step). Scores S = Q·Kᵀ") + " (\(lq) × \(lk)): row i, column j = q_i · k_j, "
            + "how well query i matches key j\n"
        out += matrix(h.scores, rows: qt, cols: kt, keepRows: keepRows, keepCols: keepCols)
        step += 1

        // 5. Scaled.
        let scaleText = layer.scale == nil
            ? "S / √d_k = S / √\(h.dk) = S × \(n(h.scale))"
            : "S × \(n(h.scale)) (the model's scale)"
        out += "\n" + style.bold("\(step). Scaled scores \(scaleText)") + ": keeps the softmax from saturating as d_k grows\n"
        out += matrix(h.scaledScores, rows: qt, cols: kt, keepRows: keepRows, keepCols: keepCols)
        step += 1
        if let bias = h.scoreBias {
            out += "\n" + style.bold("\(step). Position bias B of head \(head)") + ": a learned number for each relative position j − i "
                + "(one bucket per near distance, wider buckets farther away), the same in every layer, added to the scaled scores\n"
            out += matrix(bias, rows: qt, cols: kt, keepRows: keepRows, keepCols: keepCols)
            step += 1
        }
        if let masked = h.maskedScores {
            let title = h.scoreBias == nil ? "Masked scores" : (h.mask == nil ? "Scores with the bias S/√d_k + B" : "Scores with the bias, masked")
            let what = h.scoreBias == nil ? ": −∞ where a query may not attend, so its weight is exactly 0"
                : ": what the softmax reads" + (h.mask == nil ? "" : "; −∞ where a query may not attend")
            out += "\n" + style.bold("\(step). \(title)") + what + "\n"
            out += matrix(masked, rows: qt, cols: kt, keepRows: keepRows, keepCols: keepCols)
            step += 1
        }

        // 6. Weights.
        out += "\n" + style.bold("\(step). Weights = softmax of each row") + ": w_ij = exp(s_ij − m_i) / Σ_j exp(s_ij − m_i), "
            + "m_i the row's maximum; Σ = row sum\n"
        out += matrix(h.weights, rows: qt, cols: kt, keepRows: keepRows, keepCols: keepCols, rowSums: true, mask: layer.mask)
        if layer.mask != nil { out += style.dim("   — = masked: the query may not attend there (weight exactly 0, unlike a weight that is merely small)") + "\n" }
        out += "\n   Heatmap (rows attend to columns)\n"
        out += TerminalHeatmap(weights: layer.weightRows(head: head), rowTokens: qt, columnTokens: kt, mask: layer.mask,
                               color: style.color, showValues: showValues, focusRow: focus, maxTokens: 40).render()
            .split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
        step += 1

        // 7. Output.
        let dv = h.output.shape[1]
        if let f = focus {
            out += "\n" + style.bold("\(step). Output of \(VizFormat.quoted(qt[f])) = Σ_j w_\(f)j · v_j") + ": a weighted sum of the value rows "
                + "(\(dv) dimensions; head \(head)'s slice of the context, before W_O mixes the heads)\n"
            out += weightedSum(h, row: f)
            out += "\n   Where \(VizFormat.quoted(qt[f])) looks, largest first:\n"
            out += bars(h.weights, row: f, keys: kt)
            out += "\n" + style.bold("In words:") + " " + inWords(h, row: f, layerLabel: layer.label) + "\n"
        } else {
            out += "\n" + style.bold("\(step). Output = W·V") + " (\(lq) × \(dv)): each row is a weighted sum of the value rows "
                + "(head \(head)'s slice of the context, before W_O mixes the heads)\n"
            out += vectors(h.output, labels: qt, keep: [])
            out += "\n   Each token's strongest link (pass --token to work one out in full):\n"
            for i in VizFormat.elided(count: lq, budget: maxTokens) {
                let j = topKeys(h.weights, row: i, count: 1).first ?? 0
                out += "   " + VizFormat.padLeft(String(i), String(lq - 1).count) + " "
                    + VizFormat.padRight(VizFormat.truncate(qt[i], 12), 12) + " → " + VizFormat.truncate(kt[j], 16)
                    + " (\(n(h.weights[i, j])))\n"
            }
        }
        step += 1

        // 8. The head as a whole.
        let summary = HeadSummary(layer: layer, layerIndex: layerIndex, head: head)
        out += "\n" + style.bold("This head overall") + " (averaged over its rows): \(summary.line).\n"
        out += style.dim("   Scores recomputed here from Q and K in double precision; the weights and output are the model's own "
                         + "(they agree to \(String(format: "%.1e", Double(h.recomputationError)))).") + "\n"
        return out
    }

    /// `0 [CLS]  1 the  2 animal …`, wrapped at about 100 columns; long lists elided.
    func tokenList(_ tokens: [String]) -> String {
        var lines: [String] = []
        var line = "  "
        let shown = VizFormat.elided(count: tokens.count, budget: 64, keep: focus.map { [$0] } ?? [])
        for (n, i) in shown.enumerated() {
            var item = "\(i) \(tokens[i])"
            if n > 0 && i != shown[n - 1] + 1 { item = "…  " + item }
            if VizFormat.width(line) + VizFormat.width(item) + 2 > 100 && line != "  " {
                lines.append(line)
                line = "  "
            }
            line += " " + item + " "
        }
        lines.append(line)
        return lines.map { String($0.reversed().drop { $0 == " " }.reversed()) }.joined(separator: "\n") + "\n"
    }

    /// Rows of vectors: the first few dimensions, then `…`.
    func vectors(_ m: Tensor, labels: [String], keep: [Int]) -> String {
        let dims = m.shape[1]
        let shownDims = min(maxDims, dims)
        let rows = VizFormat.elided(count: m.shape[0], budget: maxTokens, keep: keep)
        let cells = rows.map { i in (0..<shownDims).map { n(m[i, $0]) } }
        let w = cells.flatMap { $0 }.map(\.count).max() ?? 1
        let lw = rowLabelWidth(labels, rows)
        var out = ""
        for (r, i) in rows.enumerated() {
            if r > 0 && i != rows[r - 1] + 1 { out += "   " + String(repeating: " ", count: lw) + " ⋮\n" }
            out += "   " + rowLabel(i, labels, lw) + "  [" + cells[r].map { VizFormat.padLeft($0, w) }.joined(separator: ", ")
                + (dims > shownDims ? ", …]" : "]") + "\n"
        }
        return out
    }

    func rowLabelWidth(_ labels: [String], _ rows: [Int]) -> Int {
        let iw = String(max(0, labels.count - 1)).count
        return iw + 1 + min(12, rows.map { VizFormat.width(labels[$0]) }.max() ?? 0)
    }

    func rowLabel(_ i: Int, _ labels: [String], _ width: Int) -> String {
        let iw = String(max(0, labels.count - 1)).count
        let mark = focus == i ? "▸" : " "
        return mark + VizFormat.padRight(VizFormat.padLeft(String(i), iw) + " " + VizFormat.truncate(labels[i], 12), width)
    }

    /// A labelled matrix: column indices and tokens on top, `…`/`⋮` where elided, optional row sums.
    func matrix(_ m: Tensor, rows: [String], cols: [String], keepRows: [Int], keepCols: [Int], rowSums: Bool = false,
                mask: [[Bool]]? = nil) -> String {
        let number = rowSums ? nw : self.n
        let n = { (i: Int, j: Int) -> String in (mask?[i][j] ?? true) ? number(m[i, j]) : "—" }
        let rowIdx = VizFormat.elided(count: rows.count, budget: maxTokens, keep: keepRows)
        let colIdx = VizFormat.elided(count: cols.count, budget: maxTokens, keep: keepCols)
        var slots: [Int?] = []
        for (k, c) in colIdx.enumerated() {
            if k > 0 && c != colIdx[k - 1] + 1 { slots.append(nil) }
            slots.append(c)
        }
        let cells: [[String]] = rowIdx.map { i in slots.map { $0.map { n(i, $0) } ?? "…" } }
        let sums: [String] = rowIdx.map { i in number((0..<cols.count).reduce(Float(0)) { $0 + m[i, $1] }) }
        let numberWidth = max(cells.flatMap { $0 }.map(\.count).max() ?? 1, rowSums ? (sums.map(\.count).max() ?? 1) : 1)
        let w = max(numberWidth, 5)
        let lw = rowLabelWidth(rows, rowIdx)
        var out = "   " + String(repeating: " ", count: lw + 1)
        out += slots.map { " " + VizFormat.padLeft($0.map(String.init) ?? "", w) }.joined() + (rowSums ? " " + VizFormat.padLeft("", w) : "") + "\n"
        out += "   " + String(repeating: " ", count: lw + 1)
        out += slots.map { " " + VizFormat.padLeft($0.map { VizFormat.truncate(cols[$0], w) } ?? "", w) }.joined()
            + (rowSums ? " " + VizFormat.padLeft("Σ", w) : "") + "\n"
        for (r, i) in rowIdx.enumerated() {
            if r > 0 && i != rowIdx[r - 1] + 1 { out += "   " + String(repeating: " ", count: lw) + " ⋮\n" }
            out += "   " + rowLabel(i, rows, lw) + " " + cells[r].map { " " + VizFormat.padLeft($0, w) }.joined()
                + (rowSums ? " " + VizFormat.padLeft(sums[r], w) : "") + "\n"
        }
        return out
    }

    /// Keys of `row` by decreasing weight.
    func topKeys(_ w: Tensor, row: Int, count: Int) -> [Int] {
        Array((0..<w.shape[1]).sorted { w[row, $0] > w[row, $1] || (w[row, $0] == w[row, $1] && $0 < $1) }.prefix(count))
    }

    /// `o = 0.6466 × v[2 animal] + … = [ … ]`
    func weightedSum(_ h: HeadTrace, row f: Int) -> String {
        let lk = h.weights.shape[1]
        let order = topKeys(h.weights, row: f, count: lk).filter { h.weights[f, $0] > 0 }
        let shown = Array(order.prefix(5))
        let rest = order.dropFirst(5)
        var terms = shown.map { "\(nw(h.weights[f, $0])) × v[\($0) \(h.keyTokens[$0])]" }
        if !rest.isEmpty {
            let restSum = rest.reduce(Float(0)) { $0 + h.weights[f, $1] }
            terms.append("… (\(rest.count) smaller terms, weights summing to \(nw(restSum)))")
        }
        var out = "   o = " + terms.joined(separator: "\n     + ") + "\n"
        let dv = h.output.shape[1]
        let dims = min(maxDims, dv)
        // The weighted sum written out for the first dimensions, then the model's result.
        let values = (0..<dims).map { n(h.output[f, $0]) }.joined(separator: ", ")
        out += "     = [\(values)\(dv > dims ? ", …" : "")]\n"
        if !shown.isEmpty {
            let d0 = shown.map { j -> String in
                let v = h.v[j, 0]
                return "\(nw(h.weights[f, j]))·" + (v < 0 ? "(\(n(v)))" : n(v))
            }.joined(separator: " + ")
            out += style.dim("     e.g. dimension 0: \(d0)\(rest.isEmpty ? "" : " + …") = \(n(h.output[f, 0]))") + "\n"
        }
        return out
    }

    /// The weights of one row as bars, largest first.
    func bars(_ w: Tensor, row f: Int, keys: [String]) -> String {
        let order = topKeys(w, row: f, count: keys.count)
        let shown = Array(order.prefix(maxTokens))
        let maxW = max(w[f, order.first ?? 0], 1e-9)
        let iw = String(max(0, keys.count - 1)).count
        let label = { (j: Int) in VizFormat.padLeft(String(j), iw) + " " + VizFormat.truncate(keys[j], 14) }
        let lw = shown.map { VizFormat.width(label($0)) }.max() ?? 0
        var out = ""
        for j in shown {
            let frac = Double(w[f, j] / maxW)
            let cells = frac * 30
            var bar = String(repeating: "█", count: Int(cells))
            let part = cells - Double(Int(cells))
            let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
            bar += eighths[min(7, Int(part * 8))]
            let masked = allowed(f, j) ? "" : "  (masked)"
            out += "     " + VizFormat.padRight(label(j), lw) + "  " + nw(w[f, j]) + "  " + bar + masked + "\n"
        }
        if order.count > shown.count {
            let rest = order.dropFirst(shown.count).reduce(Float(0)) { $0 + w[f, $1] }
            out += "     … \(order.count - shown.count) more, together \(nw(rest))\n"
        }
        return out
    }

    private func allowed(_ i: Int, _ j: Int) -> Bool {
        (try? trace.layer(layerIndex).mayAttend(i, j)) ?? true
    }

    /// "“it” gives 0.65 of its attention to “animal”, 0.04 to “tired”, …; 0.17 goes to [CLS] and [SEP]."
    func inWords(_ h: HeadTrace, row f: Int, layerLabel: String) -> String {
        let lk = h.weights.shape[1]
        let order = topKeys(h.weights, row: f, count: lk)
        let special = Set(order.filter { HeadSummary.classify(h.keyTokens[$0]).map { $0 == .cls || $0 == .sep } ?? false })
        let specialSum = special.reduce(Float(0)) { $0 + h.weights[f, $1] }
        var named: [Int] = []
        var covered = specialSum
        for j in order where !special.contains(j) {
            if named.count >= 5 || (!named.isEmpty && (covered >= 0.9 || h.weights[f, j] < 0.01)) { break }
            named.append(j)
            covered += h.weights[f, j]
        }
        func w2(_ x: Float) -> String { String(format: "%.2f", Double(x)) }
        let selfAttention = h.kind != .crossAttention
        let parts = named.enumerated().map { k, j -> String in
            let who = selfAttention && j == f ? "itself" : VizFormat.quoted(h.keyTokens[j])
            return k == 0 ? "\(w2(h.weights[f, j])) of its attention to \(who)" : "\(w2(h.weights[f, j])) to \(who)"
        }
        var s = "in \(layerLabel), head \(h.head), \(VizFormat.quoted(h.queryTokens[f])) gives "
        if parts.count > 1 {
            s += parts.dropLast().joined(separator: ", ") + " and " + (parts.last ?? "")
        } else {
            s += parts.first ?? "no attention to any token"
        }
        if !special.isEmpty && specialSum >= 0.005 {
            let names = Array(Set(special.map { h.keyTokens[$0] })).sorted().joined(separator: " and ")
            s += "; \(w2(specialSum)) goes to \(names)"
        }
        let rest = 1 - covered
        let restCount = lk - named.count - special.count
        if restCount > 0 && rest > 0.005 {
            s += "; the other \(restCount) token\(restCount == 1 ? "" : "s") share \(w2(max(0, rest)))"
        }
        s += "."
        if let top = named.first, h.weights[f, top] >= 0.5, !(selfAttention && top == f) {
            s += " Its output is therefore mostly \(VizFormat.quoted(h.keyTokens[top]))'s value vector."
        }
        return s
    }
}

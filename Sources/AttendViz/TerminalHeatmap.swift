// A heatmap of attention weights for the terminal: coloured cells (truecolor or 256 colours) with a legend,
// or ASCII shades when colour is off; token labels on both axes (columns read top to bottom); values on request.
import AttendNN
import Foundation

public struct TerminalHeatmap: Sendable {
    /// `[Lq][Lk]`
    public var weights: [[Float]]
    public var rowTokens: [String]
    public var columnTokens: [String]
    /// `[Lq][Lk]`, true = may attend; masked cells are drawn blank (ASCII) or hatched, never as zero.
    public var mask: [[Bool]]?
    public var color: TerminalColor
    /// Print each cell's value (two decimals) instead of a plain shade.
    public var showValues: Bool
    /// A row to mark with `▸`.
    public var focusRow: Int?
    /// At most this many rows and columns; the rest are elided with `…` (the focus row and its strongest keys stay).
    public var maxTokens: Int
    public var ramp: ColorRamp = .viridis

    /// ASCII shades from lowest to highest.
    public static let shades = Array(".:-=+*#%@")

    public init(weights: [[Float]], rowTokens: [String], columnTokens: [String], mask: [[Bool]]? = nil,
                color: TerminalColor, showValues: Bool = false, focusRow: Int? = nil, maxTokens: Int = 40) {
        self.weights = weights
        self.rowTokens = rowTokens
        self.columnTokens = columnTokens
        self.mask = mask
        self.color = color
        self.showValues = showValues
        self.focusRow = focusRow
        self.maxTokens = maxTokens
    }

    /// One head of a layer.
    public init(layer: AttentionLayerTrace, head: Int, color: TerminalColor, showValues: Bool = false,
                focusRow: Int? = nil, maxTokens: Int = 40) {
        self.init(weights: layer.weightRows(head: head), rowTokens: layer.queryTokens, columnTokens: layer.keyTokens,
                  mask: layer.mask, color: color, showValues: showValues, focusRow: focusRow, maxTokens: maxTokens)
    }

    func allowed(_ i: Int, _ j: Int) -> Bool { mask?[i][j] ?? true }

    /// The largest unmasked weight (the top of the colour scale), 1 when there is none.
    public var scaleMax: Float {
        var m: Float = 0
        for i in weights.indices { for j in weights[i].indices where allowed(i, j) { m = max(m, weights[i][j]) } }
        return m > 0 ? m : 1
    }

    public func render() -> String {
        let lq = rowTokens.count, lk = columnTokens.count
        var keepCols: [Int] = []
        if let f = focusRow, f < lq {
            keepCols = (0..<lk).sorted { weights[f][$0] > weights[f][$1] }.prefix(4).map { $0 }
        }
        let rows = VizFormat.elided(count: lq, budget: maxTokens, keep: focusRow.map { [$0] } ?? [])
        let cols = VizFormat.elided(count: lk, budget: maxTokens, keep: keepCols)
        let vmax = scaleMax
        let cellWidth = showValues ? 4 : 2
        let indexWidth = String(max(0, lq - 1)).count
        let labelWidth = min(12, rows.map { VizFormat.width(rowTokens[$0]) }.max() ?? 0)
        let prefixWidth = 2 + indexWidth + 1 + labelWidth + 1
        // Columns with gap markers: nil = "…".
        var colSlots: [Int?] = []
        for (n, c) in cols.enumerated() {
            if n > 0 && c != cols[n - 1] + 1 { colSlots.append(nil) }
            colSlots.append(c)
        }
        var out = ""
        // Column labels, top to bottom, one character per line (a wide character fills a 2-column cell).
        let labelHeight = min(8, cols.map { columnTokens[$0].count }.max() ?? 0)
        for line in 0..<labelHeight {
            var s = String(repeating: " ", count: prefixWidth)
            for slot in colSlots {
                guard let c = slot else { s += padCell(line == 0 ? "…" : "", cellWidth); continue }
                let chars = Array(columnTokens[c])
                var ch = line < chars.count ? String(chars[line]) : ""
                if line == labelHeight - 1 && chars.count > labelHeight { ch = "…" }
                s += padCell(ch, cellWidth)
            }
            out += trimRight(s) + "\n"
        }
        for (n, i) in rows.enumerated() {
            if n > 0 && i != rows[n - 1] + 1 { out += String(repeating: " ", count: 2 + indexWidth) + " ⋮\n" }
            let marker = focusRow == i ? "▸ " : "  "
            var s = marker + VizFormat.padLeft(String(i), indexWidth) + " "
                + VizFormat.padRight(VizFormat.truncate(rowTokens[i], labelWidth), labelWidth) + " "
            for slot in colSlots {
                guard let j = slot else { s += padCell("…", cellWidth); continue }
                s += cell(weights[i][j], allowed: allowed(i, j), vmax: vmax, width: cellWidth)
            }
            out += (color == .none ? trimRight(s) : s) + "\n"
        }
        out += legend(vmax: vmax)
        return out
    }

    func padCell(_ s: String, _ w: Int) -> String {
        // The label sits on the cell's first column (values: the second), so it lines up with the shade below it.
        let lead = showValues ? 1 : 0
        return VizFormat.padRight(String(repeating: " ", count: lead) + s, w)
    }

    func trimRight(_ s: String) -> String {
        var s = s
        while s.last == " " { s.removeLast() }
        return s
    }

    func cell(_ w: Float, allowed: Bool, vmax: Float, width: Int) -> String {
        let t = Double(max(0, w) / vmax)
        switch color {
        case .none:
            if !allowed { return String(repeating: " ", count: width) }
            if showValues { return VizFormat.padLeft(VizFormat.compactWeight(w), width) }
            let k = min(Self.shades.count - 1, Int(t * Double(Self.shades.count - 1) + 0.5))
            return String(repeating: Self.shades[k], count: width)
        case .ansi256, .truecolor:
            if !allowed {
                // Masked: hatched on the terminal's own background, unlike any weight colour.
                return TextStyle.reset + String(repeating: "╱", count: width)
            }
            let bg = ramp.color(t)
            let fg: RGB = bg.luminance > 0.5 ? RGB(0, 0, 0) : RGB(255, 255, 255)
            let text = showValues ? VizFormat.padLeft(VizFormat.compactWeight(w), width) : String(repeating: " ", count: width)
            return color.sgr(bg, background: true) + color.sgr(fg, background: false) + text + TextStyle.reset
        }
    }

    func legend(vmax: Float) -> String {
        let top = VizFormat.number(vmax, decimals: 4)
        let hasMask = mask?.contains { $0.contains(false) } ?? false
        var s = "  scale (linear): 0 "
        switch color {
        case .none:
            s += String(Self.shades) + " " + top
            if hasMask { s += "   blank = masked (may not attend)" }
        case .ansi256, .truecolor:
            for k in 0..<10 { s += color.sgr(ramp.color(Double(k) / 9), background: true) + "  " }
            s += TextStyle.reset + " " + top
            if hasMask { s += "   ╱╱ = masked (may not attend)" }
        }
        if showValues { s += "   cells: weight, 2 decimals" }
        return s + "\n"
    }
}

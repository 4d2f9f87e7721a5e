// Views of one token × token matrix from an explanation method: a terminal table, a self-contained SVG heatmap
// and an offline HTML page. Signed matrices (similarity contributions) use a diverging ramp centred on zero;
// non-negative ones (rollout, flow, value-norm, grad-attention) the usual sequential ramp from zero to the max.
import AttendNN
import Foundation

/// A labelled matrix and how to draw it.
public struct MatrixView: Sendable {
    public var title: String
    public var subtitle: String
    /// `[rows][columns]`
    public var matrix: [[Double]]
    public var rowTokens: [String]
    public var columnTokens: [String]
    public var rowAxis: String
    public var columnAxis: String
    /// What a cell is (legend title), e.g. "weight", "contribution".
    public var valueName: String
    /// Lines printed under the view (definitions, sums).
    public var footnotes: [String]
    /// Draw values below zero on a diverging ramp (red < 0 < blue).
    public var signed: Bool

    public init(title: String, subtitle: String, matrix: [[Double]], rowTokens: [String], columnTokens: [String],
                rowAxis: String, columnAxis: String, valueName: String, footnotes: [String] = [], signed: Bool) {
        self.title = title
        self.subtitle = subtitle
        self.matrix = matrix
        self.rowTokens = rowTokens
        self.columnTokens = columnTokens
        self.rowAxis = rowAxis
        self.columnAxis = columnAxis
        self.valueName = valueName
        self.footnotes = footnotes
        self.signed = signed
    }

    /// A method's result drawn as a non-negative heatmap.
    /// - Parameter layerLabel: how the model names the layer (`"decoder 1 · self"`), default `"layer N"`.
    public init(_ r: MethodResult, model: String, text: String, layerLabel: String? = nil) {
        var where_ = layerLabel ?? r.layer.map { "layer \($0)" } ?? ""
        if let h = r.head { where_ += " · head \(h)" }
        let title = "\(r.method.rawValue) · \(model)\(where_.isEmpty ? "" : " · " + where_)"
        self.init(title: title, subtitle: text, matrix: r.matrix.map { $0.map(Double.init) }, rowTokens: r.queryTokens,
                  columnTokens: r.keyTokens, rowAxis: "output position (row)", columnAxis: "input token (column)",
                  valueName: r.method.rawValue, footnotes: r.notes, signed: false)
    }

    /// Red (negative) → white (0) → blue (positive).
    public static let diverging = ColorRamp(stops: [0xb2182b, 0xd6604d, 0xf4a582, 0xfddbc7, 0xf7f7f7,
                                                    0xd1e5f0, 0x92c5de, 0x4393c3, 0x2166ac].map(RGB.init(hex:)))

    /// The largest |value| (the ends of the colour scale), 1 when all are zero.
    public var scale: Double {
        let m = matrix.reduce(0.0) { max($0, $1.reduce(0.0) { max($0, signed ? abs($1) : $1) }) }
        return m > 0 ? m : 1
    }

    /// 0…1 position on the ramp.
    func position(_ v: Double) -> Double { signed ? 0.5 + 0.5 * v / scale : max(0, v) / scale }
    var ramp: ColorRamp { signed ? Self.diverging : .blues }

    /// A table for the terminal: one row per row token, cells in thousandths of the scale's unit
    /// (`valueName` × 1000, signed), coloured when `color` is not `.none`.
    public func text(color: TerminalColor, maxTokens: Int = 40) -> String {
        let rows = VizFormat.elided(count: rowTokens.count, budget: maxTokens)
        let cols = VizFormat.elided(count: columnTokens.count, budget: maxTokens)
        let cellWidth = 5
        let labelWidth = min(14, rows.map { VizFormat.width(rowTokens[$0]) }.max() ?? 0)
        let style = TextStyle(color: color)
        var out = style.bold(title) + "\n"
        if !subtitle.isEmpty { out += "“\(subtitle)”\n" }
        out += "\n"
        let labelHeight = min(10, cols.map { columnTokens[$0].count }.max() ?? 0)
        for line in 0..<labelHeight {
            var s = String(repeating: " ", count: labelWidth + 2)
            for c in cols {
                let chars = Array(columnTokens[c])
                var ch = line < chars.count ? String(chars[line]) : ""
                if line == labelHeight - 1 && chars.count > labelHeight { ch = "…" }
                s += VizFormat.padLeft(ch, cellWidth - 1) + " "
            }
            while s.last == " " { s.removeLast() }
            out += s + "\n"
        }
        for i in rows {
            var s = VizFormat.padRight(VizFormat.truncate(rowTokens[i], labelWidth), labelWidth) + "  "
            for j in cols {
                let v = matrix[i][j]
                let cell = VizFormat.padLeft(String(Int((v * 1000).rounded())), cellWidth - 1) + " "
                if color == .none {
                    s += cell
                } else {
                    let bg = ramp.color(position(v))
                    let fg: RGB = bg.luminance > 0.5 ? RGB(0, 0, 0) : RGB(255, 255, 255)
                    s += color.sgr(bg, background: true) + color.sgr(fg, background: false) + cell + TextStyle.reset
                }
            }
            if color == .none { while s.last == " " { s.removeLast() } }
            out += s + "\n"
        }
        if rows.count < rowTokens.count || cols.count < columnTokens.count {
            out += "  (\(rowTokens.count) × \(columnTokens.count); showing \(rows.count) × \(cols.count))\n"
        }
        out += "  cells: \(valueName) × 1000; rows: \(rowAxis); columns: \(columnAxis)\n"
        for f in footnotes { out += "  " + f + "\n" }
        return out
    }

    /// A self-contained SVG heatmap (no scripts, fonts or links), with a tooltip on every cell.
    public func svg() -> String {
        let lq = rowTokens.count, lk = columnTokens.count
        let cell = max(10, min(36, (560 / Double(max(lq, lk, 1))).rounded(.down)))
        let labelSize = min(13, max(7, cell * 0.75))
        let rowLabelWidth = min(160, rowTokens.map { SVG.textWidth($0, size: labelSize) }.max() ?? 0) + 28
        let colLabelHeight = min(140, (columnTokens.map { SVG.textWidth($0, size: labelSize) }.max() ?? 0) * 0.87) + 26
        let top = 58 + colLabelHeight, left = 24 + rowLabelWidth
        let gridW = cell * Double(lk), gridH = cell * Double(lq)
        let footH = Double(footnotes.count) * 14 + 20
        let width = max(left + gridW + 120, SVG.textWidth(title, size: 16) * 1.08 + 32,
                        SVG.textWidth(VizFormat.truncate(subtitle, 110), size: 12) + 40,
                        (footnotes.map { SVG.textWidth($0, size: 10) }.max() ?? 0) + 32)
        let height = top + gridH + 40 + footH
        var s = SVG.header(width: width, height: height, title: title)
        s += "<text x=\"16\" y=\"24\" font-size=\"16\" font-weight=\"bold\">\(VizFormat.xmlEscape(title))</text>\n"
        s += "<text x=\"16\" y=\"42\" font-size=\"12\" fill=\"#555\">“\(VizFormat.xmlEscape(VizFormat.truncate(subtitle, 110)))”</text>\n"
        s += "<text x=\"14\" y=\"\(SVG.f(top + gridH / 2))\" font-size=\"12\" fill=\"#333\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 14 \(SVG.f(top + gridH / 2)))\">\(VizFormat.xmlEscape(rowAxis))</text>\n"
        s += "<text x=\"\(SVG.f(left + gridW / 2))\" y=\"\(SVG.f(top + gridH + 22))\" font-size=\"12\" fill=\"#333\" "
            + "text-anchor=\"middle\">\(VizFormat.xmlEscape(columnAxis))</text>\n"
        s += "<g font-size=\"\(SVG.f(labelSize))\" text-anchor=\"end\">\n"
        for (i, t) in rowTokens.enumerated() {
            s += "<text x=\"\(SVG.f(left - 6))\" y=\"\(SVG.f(top + (Double(i) + 0.5) * cell + labelSize * 0.35))\">"
                + "\(VizFormat.xmlEscape(VizFormat.truncate(t, 24)))</text>\n"
        }
        s += "</g>\n<g font-size=\"\(SVG.f(labelSize))\">\n"
        for (j, t) in columnTokens.enumerated() {
            let x = left + (Double(j) + 0.5) * cell + labelSize * 0.35, y = top - 6
            s += "<text x=\"\(SVG.f(x))\" y=\"\(SVG.f(y))\" transform=\"rotate(-60 \(SVG.f(x)) \(SVG.f(y)))\">"
                + "\(VizFormat.xmlEscape(VizFormat.truncate(t, 24)))</text>\n"
        }
        s += "</g>\n<g id=\"cells\" shape-rendering=\"crispEdges\">\n"
        let tooltips = lq * lk <= 4096
        for i in 0..<lq {
            for j in 0..<lk {
                let v = matrix[i][j]
                let tip = tooltips ? "<title>\(VizFormat.xmlEscape(rowTokens[i])) · \(VizFormat.xmlEscape(columnTokens[j])): "
                    + String(format: "%.5f", v) + "</title>" : ""
                s += "<rect x=\"\(SVG.f(left + Double(j) * cell))\" y=\"\(SVG.f(top + Double(i) * cell))\" width=\"\(SVG.f(cell))\" "
                    + "height=\"\(SVG.f(cell))\" fill=\"\(ramp.color(position(v)).hex)\">\(tip)</rect>\n"
            }
        }
        s += "</g>\n"
        s += "<rect x=\"\(SVG.f(left))\" y=\"\(SVG.f(top))\" width=\"\(SVG.f(gridW))\" height=\"\(SVG.f(gridH))\" fill=\"none\" stroke=\"#888\" stroke-width=\"0.5\"/>\n"
        // Legend.
        let lx = left + gridW + 28, ly = top, lh = min(220, max(80, gridH))
        s += "<defs><linearGradient id=\"ramp\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
        for (k, c) in ramp.stops.enumerated() {
            s += "<stop offset=\"\(SVG.f(Double(k) / Double(ramp.stops.count - 1)))\" stop-color=\"\(c.hex)\"/>"
        }
        s += "</linearGradient></defs>\n<g id=\"legend\" font-size=\"11\">\n"
        s += "<text x=\"\(SVG.f(lx))\" y=\"\(SVG.f(ly - 8))\" font-weight=\"bold\">\(VizFormat.xmlEscape(valueName))</text>\n"
        s += "<rect x=\"\(SVG.f(lx))\" y=\"\(SVG.f(ly))\" width=\"14\" height=\"\(SVG.f(lh))\" fill=\"url(#ramp)\" stroke=\"#888\" stroke-width=\"0.5\"/>\n"
        for k in 0...4 {
            let v = signed ? scale * (Double(k) / 2 - 1) : scale * Double(k) / 4
            let y = ly + lh - lh * Double(k) / 4
            s += "<line x1=\"\(SVG.f(lx + 14))\" y1=\"\(SVG.f(y))\" x2=\"\(SVG.f(lx + 18))\" y2=\"\(SVG.f(y))\" stroke=\"#555\"/>"
            s += "<text x=\"\(SVG.f(lx + 21))\" y=\"\(SVG.f(y + 4))\">\(String(format: "%.4f", v))</text>\n"
        }
        s += "</g>\n"
        for (k, f) in footnotes.enumerated() {
            s += "<text x=\"16\" y=\"\(SVG.f(top + gridH + 44 + Double(k) * 14))\" font-size=\"10\" fill=\"#555\">\(VizFormat.xmlEscape(f))</text>\n"
        }
        s += "<text x=\"16\" y=\"\(SVG.f(height - 8))\" font-size=\"10\" fill=\"#777\">made by attend</text>\n</svg>\n"
        return s
    }

    /// One offline HTML page: the SVG heatmap and, under it, named tables (e.g. per-token sums).
    public func html(tables: [(title: String, rows: [(String, Double)])] = []) -> String {
        var s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(VizFormat.xmlEscape(title))</title>\n"
        s += "<style>body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:24px;color:#222}"
            + "table{border-collapse:collapse;margin:8px 24px 16px 0;display:inline-table;vertical-align:top}"
            + "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}"
            + "caption{font-weight:bold;text-align:left;padding:4px 0}</style></head><body>\n"
        let svgBody = svg().split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")   // drop <?xml?>
        s += "<figure>\(svgBody)</figure>\n"
        for t in tables {
            s += "<table><caption>\(VizFormat.xmlEscape(t.title))</caption>\n"
            let top = max(t.rows.reduce(0.0) { max($0, abs($1.1)) }, 1e-300)   // each table on its own scale
            for (label, v) in t.rows {
                let bg = Self.diverging.color(0.5 + 0.5 * v / top).hex
                s += "<tr><td>\(VizFormat.xmlEscape(label))</td><td class=\"n\" style=\"background:\(bg)\">\(String(format: "%.5f", v))</td></tr>\n"
            }
            s += "</table>\n"
        }
        s += "</body></html>\n"
        return s
    }
}

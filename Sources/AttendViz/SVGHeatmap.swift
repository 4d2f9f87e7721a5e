// Self-contained SVG views of one head: a heatmap with labelled axes, legend and title, and a flow view
// (tokens in two columns, lines weighted by attention). No scripts, no external fonts or links.
import AttendNN
import Foundation

/// What both SVG views need to say in their titles.
public struct SVGCaption: Sendable {
    public var model: String
    public var layerLabel: String
    public var head: Int
    public var text: String
    public init(model: String, layerLabel: String, head: Int, text: String) {
        self.model = model
        self.layerLabel = layerLabel
        self.head = head
        self.text = text
    }

    var title: String { "\(model) · \(layerLabel) · head \(head)" }
}

/// Room for the title (16 px bold) and the quoted sentence (12 px) of a view.
func captionWidth(_ caption: SVGCaption, prefix: String) -> Double {
    max(480, SVG.textWidth(prefix + caption.title, size: 16) * 1.08 + 32,
        SVG.textWidth(VizFormat.truncate(caption.text, 110), size: 12) + 40)
}

/// Small SVG-writing helpers.
enum SVG {
    static func f(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(format: "%.2f", r).replacingOccurrences(of: "0$", with: "", options: .regularExpression)
    }

    /// Approximate text width for a sans-serif font (for layout only).
    static func textWidth(_ s: String, size: Double) -> Double { Double(VizFormat.width(s)) * size * 0.6 }

    static let font = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""

    static func header(width: Double, height: Double, title: String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
            + "viewBox=\"0 0 \(f(width)) \(f(height))\" \(font) font-size=\"12\">\n"
            + "<title>\(VizFormat.xmlEscape(title))</title>\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    }

    /// The hatch that marks masked cells: grey stripes, unlike any colour of the ramp (zero is near-white).
    static let maskPattern = """
        <defs><pattern id="masked" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">\
        <rect width="6" height="6" fill="#e0e0e0"/><line x1="0" y1="0" x2="0" y2="6" stroke="#8c8c8c" stroke-width="2"/>\
        </pattern></defs>\n
        """
}

public struct SVGHeatmap: Sendable {
    public var weights: [[Float]]
    public var rowTokens: [String]
    public var columnTokens: [String]
    public var mask: [[Bool]]?
    public var caption: SVGCaption
    public var kind: AttentionKind
    public var showValues: Bool
    public var focusRow: Int?
    public var ramp: ColorRamp = .blues

    public init(layer: AttentionLayerTrace, head: Int, caption: SVGCaption, showValues: Bool = false, focusRow: Int? = nil) {
        weights = layer.weightRows(head: head)
        rowTokens = layer.queryTokens
        columnTokens = layer.keyTokens
        mask = layer.mask
        kind = layer.kind
        self.caption = caption
        self.showValues = showValues
        self.focusRow = focusRow
    }

    public func render() -> String {
        let lq = rowTokens.count, lk = columnTokens.count
        let n = max(lq, lk, 1)
        let cell = max(10, min(36, (560 / Double(n)).rounded(.down)))
        let labelSize = min(13, max(7, cell * 0.75))
        let rowLabelWidth = min(160, (rowTokens.map { SVG.textWidth($0, size: labelSize) }.max() ?? 0)) + 28
        let colLabelHeight = min(140, (columnTokens.map { SVG.textWidth($0, size: labelSize) }.max() ?? 0) * 0.87) + 26
        let top = 58 + colLabelHeight
        let left = 24 + rowLabelWidth
        let gridW = cell * Double(lk), gridH = cell * Double(lq)
        let legendW = 90.0
        let width = max(left + gridW + legendW + 20, captionWidth(caption, prefix: "Attention weights · "))
        let height = top + gridH + 56
        let vmax = scaleMax
        let hasMask = mask?.contains { $0.contains(false) } ?? false
        let tooltips = lq * lk <= 4096
        var s = SVG.header(width: width, height: height, title: "Attention weights · " + caption.title)
        if hasMask { s += SVG.maskPattern }
        // Title and subtitle.
        s += "<text x=\"16\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Attention weights · \(VizFormat.xmlEscape(caption.title))</text>\n"
        s += "<text x=\"16\" y=\"42\" font-size=\"12\" fill=\"#555\">“\(VizFormat.xmlEscape(VizFormat.truncate(caption.text, 110)))”</text>\n"
        // Axis titles.
        let rowTitle = kind == .crossAttention ? "decoder token (query)" : "query: the attending token"
        let colTitle = kind == .crossAttention ? "encoder token (key)" : "key: the attended-to token"
        s += "<text x=\"14\" y=\"\(SVG.f(top + gridH / 2))\" font-size=\"12\" fill=\"#333\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 14 \(SVG.f(top + gridH / 2)))\">\(rowTitle)</text>\n"
        s += "<text x=\"\(SVG.f(left + gridW / 2))\" y=\"\(SVG.f(top + gridH + 22))\" font-size=\"12\" fill=\"#333\" "
            + "text-anchor=\"middle\">\(colTitle)</text>\n"
        // Row labels.
        s += "<g font-size=\"\(SVG.f(labelSize))\" text-anchor=\"end\">\n"
        for (i, t) in rowTokens.enumerated() {
            let bold = focusRow == i ? " font-weight=\"bold\"" : ""
            s += "<text x=\"\(SVG.f(left - 6))\" y=\"\(SVG.f(top + (Double(i) + 0.5) * cell + labelSize * 0.35))\"\(bold)>"
                + "\(VizFormat.xmlEscape(VizFormat.truncate(t, 24)))</text>\n"
        }
        s += "</g>\n"
        // Column labels, rotated.
        s += "<g font-size=\"\(SVG.f(labelSize))\">\n"
        for (j, t) in columnTokens.enumerated() {
            let x = left + (Double(j) + 0.5) * cell + labelSize * 0.35, y = top - 6
            s += "<text x=\"\(SVG.f(x))\" y=\"\(SVG.f(y))\" transform=\"rotate(-60 \(SVG.f(x)) \(SVG.f(y)))\">"
                + "\(VizFormat.xmlEscape(VizFormat.truncate(t, 24)))</text>\n"
        }
        s += "</g>\n"
        // Cells.
        s += "<g id=\"cells\" shape-rendering=\"crispEdges\">\n"
        for i in 0..<lq {
            for j in 0..<lk {
                let allowed = mask?[i][j] ?? true
                let w = weights[i][j]
                let fill = allowed ? ramp.color(Double(max(0, w) / vmax)).hex : "url(#masked)"
                let tip = tooltips ? "<title>\(VizFormat.xmlEscape(rowTokens[i])) → \(VizFormat.xmlEscape(columnTokens[j])): "
                    + (allowed ? VizFormat.number(w, decimals: 4) : "masked") + "</title>" : ""
                s += "<rect x=\"\(SVG.f(left + Double(j) * cell))\" y=\"\(SVG.f(top + Double(i) * cell))\" "
                    + "width=\"\(SVG.f(cell))\" height=\"\(SVG.f(cell))\" fill=\"\(fill)\">\(tip)</rect>\n"
            }
        }
        s += "</g>\n"
        if showValues && cell >= 18 {
            s += "<g font-size=\"\(SVG.f(cell * 0.34))\" text-anchor=\"middle\">\n"
            for i in 0..<lq {
                for j in 0..<lk where mask?[i][j] ?? true {
                    let c = ramp.color(Double(max(0, weights[i][j]) / vmax))
                    s += "<text x=\"\(SVG.f(left + (Double(j) + 0.5) * cell))\" y=\"\(SVG.f(top + (Double(i) + 0.5) * cell + cell * 0.12))\" "
                        + "fill=\"\(c.luminance > 0.55 ? "#1a1a1a" : "#ffffff")\">\(VizFormat.compactWeight(weights[i][j]))</text>\n"
                }
            }
            s += "</g>\n"
        }
        // Grid outline and focus row.
        s += "<rect x=\"\(SVG.f(left))\" y=\"\(SVG.f(top))\" width=\"\(SVG.f(gridW))\" height=\"\(SVG.f(gridH))\" fill=\"none\" stroke=\"#888\" stroke-width=\"0.5\"/>\n"
        if let f = focusRow, f >= 0, f < lq {
            s += "<rect x=\"\(SVG.f(left - 1))\" y=\"\(SVG.f(top + Double(f) * cell - 1))\" width=\"\(SVG.f(gridW + 2))\" "
                + "height=\"\(SVG.f(cell + 2))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n"
        }
        // Legend: gradient bar with ticks, then the masked swatch.
        let lx = left + gridW + 28, ly = top, lh = min(220, max(80, gridH))
        s += "<defs><linearGradient id=\"ramp\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
        for (k, c) in ramp.stops.enumerated() {
            s += "<stop offset=\"\(SVG.f(Double(k) / Double(ramp.stops.count - 1)))\" stop-color=\"\(c.hex)\"/>"
        }
        s += "</linearGradient></defs>\n"
        s += "<g id=\"legend\" font-size=\"11\">\n"
        s += "<text x=\"\(SVG.f(lx))\" y=\"\(SVG.f(ly - 8))\" font-weight=\"bold\">weight</text>\n"
        s += "<rect x=\"\(SVG.f(lx))\" y=\"\(SVG.f(ly))\" width=\"14\" height=\"\(SVG.f(lh))\" fill=\"url(#ramp)\" stroke=\"#888\" stroke-width=\"0.5\"/>\n"
        for k in 0...4 {
            let v = vmax * Float(k) / 4
            let y = ly + lh - lh * Double(k) / 4
            s += "<line x1=\"\(SVG.f(lx + 14))\" y1=\"\(SVG.f(y))\" x2=\"\(SVG.f(lx + 18))\" y2=\"\(SVG.f(y))\" stroke=\"#555\"/>"
            s += "<text x=\"\(SVG.f(lx + 21))\" y=\"\(SVG.f(y + 4))\">\(VizFormat.number(v, decimals: 2))</text>\n"
        }
        var ny = ly + lh + 22
        if hasMask {
            s += "<rect x=\"\(SVG.f(lx))\" y=\"\(SVG.f(ny))\" width=\"14\" height=\"14\" fill=\"url(#masked)\" stroke=\"#888\" stroke-width=\"0.5\"/>"
            s += "<text x=\"\(SVG.f(lx + 20))\" y=\"\(SVG.f(ny + 11))\">masked</text>\n"
            ny += 22
        }
        s += "<text x=\"\(SVG.f(lx))\" y=\"\(SVG.f(ny + 4))\" fill=\"#666\">linear, 0 – max</text>\n"
        s += "</g>\n"
        s += "<text x=\"16\" y=\"\(SVG.f(height - 10))\" font-size=\"10\" fill=\"#777\">each row sums to 1 · made by attend explain</text>\n"
        s += "</svg>\n"
        return s
    }

    /// Largest unmasked weight (top of the colour scale).
    public var scaleMax: Float {
        var m: Float = 0
        for i in weights.indices { for j in weights[i].indices where mask?[i][j] ?? true { m = max(m, weights[i][j]) } }
        return m > 0 ? m : 1
    }
}

/// Tokens in two columns, a line from each query to each key whose opacity and width follow the weight.
public struct SVGFlow: Sendable {
    public var weights: [[Float]]
    public var rowTokens: [String]
    public var columnTokens: [String]
    public var mask: [[Bool]]?
    public var caption: SVGCaption
    public var kind: AttentionKind
    /// Only this query's lines (the tutorials' picture of one word attending).
    public var focusRow: Int?
    /// Lines below this weight are left out (they would be invisible).
    public var threshold: Float = 0.01

    public init(layer: AttentionLayerTrace, head: Int, caption: SVGCaption, focusRow: Int? = nil) {
        weights = layer.weightRows(head: head)
        rowTokens = layer.queryTokens
        columnTokens = layer.keyTokens
        mask = layer.mask
        kind = layer.kind
        self.caption = caption
        self.focusRow = focusRow
    }

    public func render() -> String {
        let lq = rowTokens.count, lk = columnTokens.count
        let rowH: Double = max(lq, lk) <= 40 ? 24 : 15
        let size: Double = rowH >= 24 ? 14 : 10
        let lt = kind == .crossAttention ? "decoder (queries)" : "attends (query)"
        let rt = kind == .crossAttention ? "encoder (keys)" : "is attended to (key)"
        let leftW = max(min(180, (rowTokens.map { SVG.textWidth($0, size: size) }.max() ?? 0)), SVG.textWidth(lt, size: 12)) + 40
        let rightW = min(180, (columnTokens.map { SVG.textWidth($0, size: size) }.max() ?? 0)) + 40
        let gap = 260.0
        let top = 96.0
        let xL = 20 + leftW, xR = xL + gap
        let width = max(xR + rightW + 20, captionWidth(caption, prefix: "Attention flow · "))
        let height = top + rowH * Double(max(lq, lk)) + 40
        let color = "#1f77b4"
        var s = SVG.header(width: width, height: height, title: "Attention flow · " + caption.title)
        s += "<text x=\"16\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Attention flow · \(VizFormat.xmlEscape(caption.title))</text>\n"
        s += "<text x=\"16\" y=\"42\" font-size=\"12\" fill=\"#555\">“\(VizFormat.xmlEscape(VizFormat.truncate(caption.text, 110)))”</text>\n"
        let focusText = focusRow.map { " of “\(VizFormat.xmlEscape(rowTokens[$0]))”" } ?? ""
        s += "<text x=\"16\" y=\"60\" font-size=\"11\" fill=\"#555\">line opacity and width = attention weight\(focusText); "
            + "weights below \(VizFormat.number(threshold, decimals: 2)) not drawn</text>\n"
        s += "<text x=\"\(SVG.f(xL))\" y=\"\(SVG.f(top - 14))\" font-size=\"11\" fill=\"#333\" text-anchor=\"end\" font-weight=\"bold\">\(lt)</text>\n"
        s += "<text x=\"\(SVG.f(xR))\" y=\"\(SVG.f(top - 14))\" font-size=\"11\" fill=\"#333\" font-weight=\"bold\">\(rt)</text>\n"
        func y(_ i: Int) -> Double { top + (Double(i) + 0.5) * rowH }
        // Lines first, so the words sit on top.
        s += "<g id=\"lines\" stroke=\"\(color)\" stroke-linecap=\"round\" fill=\"none\">\n"
        for i in 0..<lq where focusRow == nil || focusRow == i {
            for j in 0..<lk where (mask?[i][j] ?? true) && weights[i][j] >= threshold {
                let w = Double(weights[i][j])
                s += "<line x1=\"\(SVG.f(xL + 8))\" y1=\"\(SVG.f(y(i)))\" x2=\"\(SVG.f(xR - 8))\" y2=\"\(SVG.f(y(j)))\" "
                    + "stroke-opacity=\"\(SVG.f(min(1, 0.1 + 0.9 * w)))\" stroke-width=\"\(SVG.f(0.6 + 5 * w))\">"
                    + "<title>\(VizFormat.xmlEscape(rowTokens[i])) → \(VizFormat.xmlEscape(columnTokens[j])): \(VizFormat.number(weights[i][j], decimals: 4))</title></line>\n"
            }
        }
        s += "</g>\n"
        s += "<g font-size=\"\(SVG.f(size))\">\n"
        for (i, t) in rowTokens.enumerated() {
            let faded = focusRow != nil && focusRow != i
            let style = focusRow == i ? " font-weight=\"bold\" fill=\"#d62728\"" : (faded ? " fill=\"#999\"" : "")
            s += "<text x=\"\(SVG.f(xL))\" y=\"\(SVG.f(y(i) + size * 0.35))\" text-anchor=\"end\"\(style)>\(VizFormat.xmlEscape(VizFormat.truncate(t, 24)))</text>\n"
        }
        for (j, t) in columnTokens.enumerated() {
            var style = ""
            if let f = focusRow {
                let w = weights[f][j]
                if w >= 0.1 { style = " font-weight=\"bold\"" } else if w < threshold { style = " fill=\"#999\"" }
            }
            s += "<text x=\"\(SVG.f(xR))\" y=\"\(SVG.f(y(j) + size * 0.35))\"\(style)>\(VizFormat.xmlEscape(VizFormat.truncate(t, 24)))</text>\n"
            if let f = focusRow, weights[f][j] >= 0.05 {
                let x = xR + SVG.textWidth(VizFormat.truncate(t, 24), size: size) + 8
                s += "<text x=\"\(SVG.f(x))\" y=\"\(SVG.f(y(j) + size * 0.35))\" font-size=\"\(SVG.f(size * 0.8))\" fill=\"#1f77b4\">\(VizFormat.number(weights[f][j], decimals: 2))</text>\n"
            }
        }
        s += "</g>\n"
        s += "<text x=\"16\" y=\"\(SVG.f(height - 10))\" font-size=\"10\" fill=\"#777\">made by attend explain</text>\n"
        s += "</svg>\n"
        return s
    }
}

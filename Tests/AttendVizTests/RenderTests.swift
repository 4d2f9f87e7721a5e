import AttendNN
import AttendTestSupport
import AttendViz
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses XML and keeps what the tests look at: element names, attributes, text.
final class XMLCollector: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String]; var text: String; var parents: [String] }
    var elements: [Element] = []
    var stack: [Int] = []
    var error: Error?

    static func parse(_ xml: String) -> XMLCollector {
        let c = XMLCollector()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = c
        if !parser.parse() { c.error = parser.parserError ?? NSError(domain: "xml", code: 1) }
        return c
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let parents = stack.map { elements[$0].name + (elements[$0].attributes["id"].map { "#" + $0 } ?? "") }
        elements.append(Element(name: name, attributes: attributes, text: "", parents: parents))
        stack.append(elements.count - 1)
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        _ = stack.popLast()
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = stack.last { elements[i].text += string }
    }
    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }

    func all(_ name: String, inside parent: String? = nil) -> [Element] {
        elements.filter { $0.name == name && (parent == nil || $0.parents.contains(parent!)) }
    }
}

@Suite("Golden views of all-MiniLM-L6-v2", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct MiniLMGoldenTests {
    static let caption = SVGCaption(model: "all-MiniLM-L6-v2", layerLabel: "layer 5", head: 11, text: MiniLM.animal)

    @Test func textTraceGolden() throws {
        let trace = try MiniLM.trace()
        let text = try ExplainText(trace: trace, layer: 5, head: 11, focus: 10, color: .none).render()
        try Golden.check(text, "animal-L5-H11-it.txt")
        #expect(text.contains("“it” gives 0.65 of its attention to “animal”"))
        #expect(text.contains("0.02 to “street”"))
        #expect(text.contains("S / √d_k = S / √32"))
        #expect(!text.contains("\u{1B}"), "no escape codes when colour is off")
    }

    @Test func heatmapSVGGoldenAndXML() throws {
        let layer = try MiniLM.trace().layer(5)
        let svg = SVGHeatmap(layer: layer, head: 11, caption: Self.caption, showValues: true, focusRow: 10).render()
        try Golden.check(svg, "animal-L5-H11-heatmap.svg")
        let xml = XMLCollector.parse(svg)
        #expect(xml.error == nil, "SVG is well-formed XML: \(String(describing: xml.error))")
        #expect(xml.elements.first?.name == "svg")
        #expect(xml.all("rect", inside: "g#cells").count == 15 * 15)
        let texts = xml.all("text").map(\.text)
        #expect(texts.contains { $0.contains("all-MiniLM-L6-v2") && $0.contains("layer 5") && $0.contains("head 11") })
        for token in layer.keyTokens { #expect(texts.filter { $0 == token }.count >= 2, "\(token) labels a row and a column") }
        #expect(!xml.all("text", inside: "g#legend").isEmpty)
        #expect(texts.contains(".65"), "values on request")
    }

    @Test func flowSVGGoldenAndXML() throws {
        let layer = try MiniLM.trace().layer(5)
        let svg = SVGFlow(layer: layer, head: 11, caption: Self.caption, focusRow: 10).render()
        try Golden.check(svg, "animal-L5-H11-flow.svg")
        let xml = XMLCollector.parse(svg)
        #expect(xml.error == nil)
        let lines = xml.all("line", inside: "g#lines")
        #expect(!lines.isEmpty && lines.count <= 15)
        // The strongest line goes to "animal" and is the widest.
        let titles = xml.all("title", inside: "g#lines").map(\.text)
        #expect(titles.count == lines.count && titles.allSatisfy { $0.hasPrefix("it → ") })
        let widths = lines.map { Double($0.attributes["stroke-width"] ?? "") ?? 0 }
        let widest = widths.indices.max { widths[$0] < widths[$1] }
        #expect(widest.map { titles[$0] }?.hasPrefix("it → animal: 0.646") == true)
    }
}

@Suite("Views of a model-free encoder-decoder trace")
struct RenderTests {
    /// Cross-attention: decoder rows × encoder columns, the masked padding column drawn unlike a zero weight.
    @Test func crossAttentionSVGGolden() throws {
        let trace = try Synthetic.trace()
        let caption = SVGCaption(model: trace.model, layerLabel: trace.layers[2].label, head: 0, text: trace.text)
        let svg = SVGHeatmap(layer: trace.layers[2], head: 0, caption: caption).render()
        try Golden.check(svg, "synthetic-cross-heatmap.svg")
        let xml = XMLCollector.parse(svg)
        #expect(xml.error == nil)
        let cells = xml.all("rect", inside: "g#cells")
        #expect(cells.count == 5 * 6)
        let masked = cells.filter { $0.attributes["fill"] == "url(#masked)" }
        #expect(masked.count == 5, "one masked (padding) cell per decoder row")
        let maskedTitles = xml.all("title", inside: "g#cells").filter { $0.text.hasSuffix(": masked") }
        #expect(maskedTitles.count == 5 && maskedTitles.allSatisfy { $0.text.contains("→ <pad>") })
        #expect(xml.all("text").contains { $0.text.contains("decoder token") })
        #expect(xml.all("text").contains { $0.text == "masked" }, "legend explains the hatch")
        let flow = SVGFlow(layer: trace.layers[2], head: 0, caption: caption).render()
        #expect(XMLCollector.parse(flow).error == nil)
        #expect(!flow.contains("→ &lt;pad&gt;"), "no line into a masked key")
    }

    @Test func terminalHeatmapASCIIGolden() throws {
        let trace = try Synthetic.trace()
        let causal = TerminalHeatmap(layer: trace.layers[1], head: 0, color: .none).render()
        let cross = TerminalHeatmap(layer: trace.layers[2], head: 1, color: .none, showValues: true, focusRow: 2).render()
        try Golden.check(causal + "\n" + cross, "synthetic-terminal.txt")
        #expect(!causal.contains("\u{1B}"))
        // Causal row 0 may attend only to key 0 (weight 1, the top shade); the masked rest is blank, not a shade.
        let row0 = causal.split(separator: "\n").first { $0.hasPrefix("  0 <s>") }
        #expect(row0?.split(separator: " ").last == "@@", "row 0: \(row0 ?? "missing")")
        // Cross row 2: the padding column is blank while the other cells carry values.
        let row2 = cross.split(separator: "\n").first { $0.hasPrefix("▸ 2 voiture") }
        #expect(row2.map { $0.split(separator: " ").count } == 3 + 5, "5 values, masked cell blank: \(row2 ?? "missing")")
        #expect(causal.contains("blank = masked"))
    }

    /// The step-by-step text of a cross-attention head with a mask: both token lists, the masked scores step,
    /// the masked key marked in the bars and never named as a target.
    @Test func textTraceOfMaskedCrossAttention() throws {
        let text = try ExplainText(trace: try Synthetic.trace(), layer: 2, head: 1, focus: 2).render()
        #expect(text.contains("5 decoder tokens attend to 6 encoder tokens"))
        #expect(text.contains("Masked scores") && text.contains("-∞"))
        #expect(text.contains("<pad>  0.0000") && text.contains("(masked)"))
        #expect(text.contains("“voiture” gives"))
        #expect(!text.contains("itself"), "no self in cross-attention")
        #expect(throws: VizError.tokenIndexOutOfRange(9, count: 5)) {
            try ExplainText(trace: try Synthetic.trace(), layer: 2, head: 1, focus: 9).render()
        }
    }

    @Test func terminalHeatmapColourModes() throws {
        let layer = try Synthetic.trace().layers[1]
        let truecolor = TerminalHeatmap(layer: layer, head: 0, color: .truecolor).render()
        #expect(truecolor.contains("\u{1B}[48;2;"))
        #expect(truecolor.contains("╱╱"), "masked cells are hatched")
        #expect(truecolor.contains("masked"))
        let ansi = TerminalHeatmap(layer: layer, head: 0, color: .ansi256, showValues: true).render()
        #expect(ansi.contains("\u{1B}[48;5;") && !ansi.contains("48;2;"))
        #expect(TerminalColor.detect(environment: ["COLORTERM": "truecolor"]) == .truecolor)
        #expect(TerminalColor.detect(environment: [:]) == .ansi256)
    }

    /// 256 tokens: every view stays bounded (elided text, one rect per cell in SVG, one canvas in HTML).
    @Test func longInputsAreElided() throws {
        let trace = try Synthetic.patterned(n: 256)
        let heat = TerminalHeatmap(layer: trace.layers[0], head: 0, color: .none, focusRow: 200).render()
        let lines = heat.split(separator: "\n")
        #expect(lines.count < 60 && lines.allSatisfy { $0.count < 140 })
        #expect(heat.contains("▸ 200"))
        let svg = SVGHeatmap(layer: trace.layers[0], head: 1, caption: SVGCaption(model: "m", layerLabel: "layer 0", head: 1, text: "t")).render()
        #expect(XMLCollector.parse(svg).error == nil)
        let html = try HTMLReport(trace: trace).render()
        #expect(html.components(separatedBy: "<canvas").count - 1 == 3)
        #expect(html.utf8.count < 2_000_000)
    }

    @Test func htmlIsStandalone() throws {
        let html = try HTMLReport(trace: try Synthetic.trace(), layer: 2, head: 1, focus: 3).render()
        for banned in ["http://", "https://", "<link", "src=\"", "@import", "url(http"] {
            #expect(!html.contains(banned), "no network: found \(banned)")
        }
        #expect(html.contains("<script id=\"attend-data\" type=\"application/json\">"))
        #expect(html.contains("__attendTest"))
        // The embedded data cannot close its script element.
        let data = html.components(separatedBy: "<script id=\"attend-data\" type=\"application/json\">")[1]
            .components(separatedBy: "</script>")[0]
        #expect(!data.contains("<"))
        let json = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]
        let layers = try #require(json?["layers"] as? [[String: Any]])
        #expect(layers.count == 3 && (layers[2]["kind"] as? String) == "cross" && (layers[2]["masked"] as? Bool) == true)
        #expect((layers[2]["queryTokens"] as? [String]) == Synthetic.target)
        // Weights round-trip through the UInt16 encoding; masked cells are 65535.
        let base64 = try #require(layers[2]["weights"] as? String)
        let bytes = try #require(Data(base64Encoded: base64))
        #expect(bytes.count == 2 * 2 * 5 * 6)
        let codes = stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
        let w = try Synthetic.trace().layers[2].weights.scalars
        for (k, code) in codes.enumerated() {
            if k % 6 == 5 { #expect(code == 65535) } else { #expect(abs(Float(code) / 65534 - w[k]) < 2e-5) }
        }
    }

    @Test func goldenNormaliserToleratesLastDigitAndWidth() {
        #expect(Golden.difference("w = 0.6466  x", "w =  0.6467 x") == nil)
        #expect(Golden.difference("w = 0.6466", "w = 0.6469") != nil)
        #expect(Golden.difference("head 11", "head 12") != nil, "integers are exact")
        #expect(Golden.difference("L5 #2171b5 ███▍", "L5 #2172b5 ██") == nil)
        #expect(Golden.difference("L5", "L6") != nil)
        #expect(Golden.difference("3.20e-06", "3.21e-06") == nil)
        #expect(Golden.difference("the cat", "the dog") != nil)
    }
}

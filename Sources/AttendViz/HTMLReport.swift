// One standalone HTML page (no network; scripts and styles inline from Resources/) with three views of a model run:
// a head view (tokens in two columns, lines whose opacity is the weight, heads overlaid in colours),
// a model view (layers × heads grid of small heatmaps on one canvas) and a per-head summary.
// Heatmaps are drawn to canvas, so 256 tokens stay usable.
import AttendNN
import Foundation

public struct HTMLReport: Sendable {
    public var trace: ExplainTrace
    /// The layer and head shown first.
    public var layer: Int
    public var head: Int
    /// A token to isolate in the head view at first (hover another to change it).
    public var focus: Int?

    public init(trace: ExplainTrace, layer: Int = 0, head: Int = 0, focus: Int? = nil) throws {
        guard !trace.layers.isEmpty else { throw VizError.invalidTrace("nothing to show: the trace has no attention layers") }
        let lt = try trace.layer(layer)
        guard head >= 0 && head < lt.heads else { throw VizError.headOutOfRange(head, heads: lt.heads) }
        self.trace = trace
        self.layer = layer
        self.head = head
        self.focus = focus
    }

    /// Weights travel as little-endian UInt16: `round(w · 65534)`, and 65535 for a masked cell.
    static let maskedCode: UInt16 = 65535

    static func encode(_ layer: AttentionLayerTrace) -> String {
        let (h, lq, lk) = (layer.heads, layer.queryLength, layer.keyLength)
        var bytes = [UInt8](repeating: 0, count: h * lq * lk * 2)
        let w = layer.weights.scalars
        for hi in 0..<h {
            for i in 0..<lq {
                for j in 0..<lk {
                    let idx = (hi * lq + i) * lk + j
                    let code: UInt16 = layer.mayAttend(i, j)
                        ? UInt16(max(0, min(65534, (Double(w[idx]) * 65534).rounded())))
                        : maskedCode
                    bytes[2 * idx] = UInt8(code & 0xFF)
                    bytes[2 * idx + 1] = UInt8(code >> 8)
                }
            }
        }
        return Data(bytes).base64EncodedString()
    }

    /// The data the page's script reads.
    func payload() throws -> String {
        let summaries = HeadSummary.all(trace)
        var layers: [[String: Any]] = []
        for (li, lt) in trace.layers.enumerated() {
            layers.append([
                "label": lt.label,
                "kind": lt.kind.rawValue,
                "queryTokens": lt.queryTokens,
                "keyTokens": lt.keyTokens,
                "heads": lt.heads,
                "masked": lt.mask?.contains { $0.contains(false) } ?? false,
                "weights": Self.encode(lt),
                "summary": summaries[li].map { s -> [String: Any] in
                    var shares: [String: Double] = [:]
                    for (t, v) in s.shares { shares[t.rawValue] = (v * 1000).rounded() / 1000 }
                    return ["mostly": s.mostly.rawValue, "share": (s.mostlyShare * 1000).rounded() / 1000,
                            "top": s.top.rawValue, "topShare": (s.topShare * 1000).rounded() / 1000,
                            "entropy": (s.entropy * 100).rounded() / 100, "maxEntropy": (s.maxEntropy * 100).rounded() / 100,
                            "shares": shares]
                },
            ])
        }
        var initial: [String: Any] = ["layer": layer, "head": head]
        if let focus { initial["token"] = focus }
        let root: [String: Any] = [
            "model": trace.model, "text": trace.text, "tokens": trace.tokens, "truncated": trace.wasTruncated,
            "initial": initial, "layers": layers,
        ]
        let data = try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
        // Inside <script>: never let the data close the element.
        return String(decoding: data, as: UTF8.self)
            .replacingOccurrences(of: "<", with: "\\u003c")
            .replacingOccurrences(of: ">", with: "\\u003e")
    }

    public func render() throws -> String {
        let title = "Attention · \(trace.model) · “\(VizFormat.truncate(trace.text, 60))”"
        return try HTMLPage.render(
            title: VizFormat.xmlEscape(title), model: VizFormat.xmlEscape(trace.model), text: VizFormat.xmlEscape(trace.text),
            meta: HTMLPage.meta(tokenCount: trace.tokens.count, layers: trace.layers.count, truncated: trace.wasTruncated),
            data: try payload())
    }
}

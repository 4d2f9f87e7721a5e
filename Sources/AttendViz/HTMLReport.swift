// One standalone HTML page (no network; scripts and styles inline from Resources/) with three views of a model run:
// a head view (tokens in two columns, lines whose opacity is the weight, heads overlaid in colours),
// a model view (layers × heads grid of small heatmaps on one canvas) and a per-head summary.
// Heatmaps are drawn to canvas, so 256 tokens stay usable.
import AttendNN
import AttendTensor
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

    /// The data the page's script reads (keys in alphabetical order, as the page has always received them).
    func payload() throws -> String {
        let summaries = HeadSummary.all(trace)
        func rounded(_ x: Double, _ scale: Double) -> JSONValue { .double((x * scale).rounded() / scale) }
        var layers: [JSONValue] = []
        for (li, lt) in trace.layers.enumerated() {
            layers.append(.object([
                ("heads", .int(lt.heads)),
                ("keyTokens", .array(lt.keyTokens.map { .string($0) })),
                ("kind", .string(lt.kind.rawValue)),
                ("label", .string(lt.label)),
                ("masked", .bool(lt.mask?.contains { $0.contains(false) } ?? false)),
                ("queryTokens", .array(lt.queryTokens.map { .string($0) })),
                ("summary", .array(summaries[li].map { s in
                    let shares = s.shares.map { ($0.key.rawValue, rounded($0.value, 1000)) }.sorted { $0.0 < $1.0 }
                    return .object([
                        ("entropy", rounded(s.entropy, 100)), ("maxEntropy", rounded(s.maxEntropy, 100)),
                        ("mostly", .string(s.mostly.rawValue)), ("share", rounded(s.mostlyShare, 1000)),
                        ("shares", .object(JSONObject(shares))),
                        ("top", .string(s.top.rawValue)), ("topShare", rounded(s.topShare, 1000)),
                    ])
                })),
                ("weights", .string(Self.encode(lt))),
            ]))
        }
        var initial: JSONObject = [("head", .int(head)), ("layer", .int(layer))]
        if let focus { initial.append(("token", .int(focus))) }
        let root = JSONValue.object([
            ("initial", .object(initial)), ("layers", .array(layers)), ("model", .string(trace.model)),
            ("text", .string(trace.text)), ("tokens", .array(trace.tokens.map { .string($0) })),
            ("truncated", .bool(trace.wasTruncated)),
        ])
        // Inside <script>: never let the data close the element.
        return root.rendered()
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

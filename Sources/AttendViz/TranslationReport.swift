// What `attend translate` and `attend train translator` show about the toy translator: its evaluation (exact match
// by source length, cross-attention against the bottleneck baseline, per-head alignment) and the cross-attention
// alignment of one translation, as a terminal heatmap (the same ``TerminalHeatmap`` as `attend explain`) or JSON.
import AttendModels
import AttendTensor
import Foundation

public enum TranslationReport {
    // MARK: Evaluation

    /// Exact match by source length, the per-head alignment table and the best head.
    public static func evaluationText(_ e: TranslationEvaluation, title: String) -> String {
        var out = "held-out exact match (\(title)): \(e.exactMatches)/\(e.sentences) = \(String(format: "%.1f", 100 * e.exactMatch))%\n"
        out += "by source length:\n"
        for b in e.byLength {
            out += "  \(padLeft(String(b.length), 3)) words: \(padLeft(String(b.correct), 4))/\(padLeft(String(b.total), 4))"
                + "  \(padLeft(String(format: "%.1f", 100 * Double(b.correct) / Double(max(b.total, 1))), 5))%\n"
        }
        if let best = e.bestHead, e.contentWords > 0 {
            out += "cross-attention alignment (argmax source word = gold word, over \(e.contentWords) content words of correct translations):\n"
            for (l, row) in e.headAlignment.enumerated() {
                out += "  layer \(l + 1): " + row.enumerated().map { "H\($0.offset + 1) \(String(format: "%.1f", 100 * $0.element))%" }
                    .joined(separator: "  ") + "\n"
            }
            out += "  best: layer \(best.layer + 1) head \(best.head + 1): \(String(format: "%.1f", 100 * best.alignment))% "
                + "(\(String(format: "%.1f", 100 * best.swapped))% of the \(e.swappedWords) words in adjective–noun swaps)\n"
        }
        return out
    }

    /// Source-length buckets of the bottleneck comparison.
    public static let lengthBuckets: [ClosedRange<Int>] = [1...4, 5...7, 8...10, 11...13, 14...16, 17...30]

    /// (correct, total) per bucket of ``lengthBuckets``.
    static func bucketRows(_ e: TranslationEvaluation) -> [(correct: Int, total: Int)] {
        lengthBuckets.map { range in
            e.byLength.filter { range.contains($0.length) }.reduce((0, 0)) { ($0.0 + $1.correct, $0.1 + $1.total) }
        }
    }

    /// Exact match by source length, cross-attention against the bottleneck, as a Markdown table.
    public static func bottleneckTable(attention: TranslationEvaluation, bottleneck: TranslationEvaluation) -> String {
        let a = bucketRows(attention), b = bucketRows(bottleneck)
        var out = "| source words | sentences | cross-attention | bottleneck (one vector) |\n|---|---:|---:|---:|\n"
        for (i, range) in lengthBuckets.enumerated() where a[i].total > 0 {
            let label = range.upperBound >= 30 ? "\(range.lowerBound)+" : "\(range.lowerBound)–\(range.upperBound)"
            func p(_ r: (correct: Int, total: Int)) -> String { String(format: "%.1f%%", 100 * Double(r.correct) / Double(max(r.total, 1))) }
            out += "| \(label) | \(a[i].total) | \(p(a[i])) | \(p(b[i])) |\n"
        }
        return out
    }

    /// The whole comparison of `attend translate --evaluate`, as text.
    public static func comparisonText(attention a: TranslationEvaluation, bottleneck b: TranslationEvaluation) -> String {
        func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        return "held-out sentences: \(a.sentences) (never seen in training)\n"
            + "exact match: cross-attention \(pct(a.exactMatch)), bottleneck \(pct(b.exactMatch))\n\n"
            + bottleneckTable(attention: a, bottleneck: b) + "\n"
            + evaluationText(a, title: "cross-attention")
    }

    /// The comparison as JSON: exact match, buckets, per-head alignment, best head (1-based layer and head).
    public static func comparisonJSON(attention a: TranslationEvaluation, bottleneck b: TranslationEvaluation) -> JSONValue {
        func buckets(_ e: TranslationEvaluation) -> JSONValue {
            .array(e.byLength.map { .object([("length", .int($0.length)), ("correct", .int($0.correct)), ("total", .int($0.total))]) })
        }
        var pairs: JSONObject = [
            ("sentences", .int(a.sentences)),
            ("exact_match", .double(a.exactMatch)), ("bottleneck_exact_match", .double(b.exactMatch)),
            ("by_length", buckets(a)), ("bottleneck_by_length", buckets(b)),
            ("head_alignment", .array(a.headAlignment.map { .array($0.map { .double($0) }) })),
            ("swapped_alignment", .array(a.swappedAlignment.map { .array($0.map { .double($0) }) })),
        ]
        if let best = a.bestHead {
            pairs.append(("best_head", .object([("layer", .int(best.layer + 1)), ("head", .int(best.head + 1)),
                                                ("alignment", .double(best.alignment)), ("swapped", .double(best.swapped))])))
        }
        return .object(pairs)
    }

    // MARK: Alignment of one translation

    /// `weights[t][s]` of one head (0-based `layer` and `head`): rows are the target words and `<eos>`.
    public static func alignmentWeights(_ r: TinyTranslator.Translation, layer: Int, head: Int) throws -> [[Float]] {
        let w = r.crossAttention                                   // [L, H, T, S]
        guard w.shape.count == 4, (0..<w.shape[0]).contains(layer), (0..<w.shape[1]).contains(head) else {
            throw TranslationReportError("no head \(head + 1) in layer \(layer + 1) of cross-attention \(w.shape)")
        }
        let (t, s) = (w.shape[2], w.shape[3])
        return (0..<t).map { i in (0..<s).map { j in w[layer, head, i, j] } }
    }

    /// The cross-attention of one head as a heatmap (rows: French words as written, columns: English words),
    /// then each French word's most-attended English word and its weight.
    public static func alignmentText(_ r: TinyTranslator.Translation, layer: Int, head: Int, color: TerminalColor) throws -> String {
        let w = try alignmentWeights(r, layer: layer, head: head)
        let rows = Array((r.target + ["<eos>"]).prefix(w.count))
        let map = TerminalHeatmap(weights: Array(w.prefix(rows.count)), rowTokens: rows, columnTokens: r.source, color: color)
        var out = map.render()
        out += TextStyle(color: color).dim("most-attended English word for each French word:") + "\n"
        let labelWidth = (rows.map(\.count).max() ?? 4) + 2
        for (i, word) in rows.enumerated() {
            let row = w[i]
            let best = row.indices.max { row[$0] < row[$1] } ?? 0
            guard best < r.source.count else { continue }
            out += padRight("  " + word, labelWidth) + " → \(r.source[best]) \(VizFormat.decimal(row[best], decimals: 2))\n"
        }
        return out
    }

    /// One translation as JSON: words, the head's weights, each target word's most-attended source word, and with
    /// `allHeads` every head's cross-attention `[layers][heads][target][source]`. `layer` and `head` are 0-based
    /// and written 1-based.
    public static func alignmentJSON(_ r: TinyTranslator.Translation, layer: Int, head: Int, allHeads: Bool) throws -> JSONValue {
        let w = try alignmentWeights(r, layer: layer, head: head)
        var alignment: [JSONValue] = []
        for (i, word) in r.target.enumerated() where i < w.count {
            let best = w[i].indices.max { w[i][$0] < w[i][$1] } ?? 0
            alignment.append(.object([("target", .string(word)), ("source", .string(r.source[best])),
                                      ("source_index", .int(best)), ("weight", .float(w[i][best]))]))
        }
        var pairs: JSONObject = [
            ("source", .array(r.source.map { .string($0) })),
            ("target", .array(r.target.map { .string($0) })),
            ("translation", .string(r.text)),
            ("layer", .int(layer + 1)), ("head", .int(head + 1)),
            ("cross_attention", .array(w.map { .array($0.map { .float($0) }) })),
            ("alignment", .array(alignment)),
        ]
        if allHeads { pairs.append(("cross_attention_all_heads", JSONValue.tensor(r.crossAttention))) }
        return .object(pairs)
    }
}

/// A translation report that cannot be made (a head the model does not have).
public struct TranslationReportError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

private func padLeft(_ s: String, _ width: Int) -> String { VizFormat.padLeft(s, width) }
private func padRight(_ s: String, _ width: Int) -> String { VizFormat.padRight(s, width) }

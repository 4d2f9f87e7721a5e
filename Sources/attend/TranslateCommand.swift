import ArgumentParser
import Attend
import Foundation

struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate English to French with the toy translator, and show its cross-attention alignment.",
        discussion: """
        The embedded TinyTranslator (trained by `attend train translator`, see docs/TRAINING.md) knows the few
        hundred words of its synthetic grammar: nouns like cat, dog, car, mat; adjectives like red, small, old;
        verbs like sees, sat, eats; the, a, my, his, her, this; on, under, near, in front of; not; that; and.

        With --explain, a table shows for each French word how much the decoder's cross-attention looked at each
        English word while writing it (one head: by default the one that aligned best on held-out sentences),
        and the English word it looked at most. Read it by eye: "rouge" looks at "red", and "voiture" at "car",
        although French puts them in the other order.

        --evaluate N scores the embedded translator and its bottleneck baseline (one pooled context vector
        instead of cross-attention) on the first N held-out sentences, with exact match by source length.

        Examples:
          attend translate "the red car"
          attend translate "the small dog sees the red car" --explain
          attend translate "the cat sat on the mat" --json
          attend translate --evaluate 500
        """)

    @Argument(help: "English sentences (default: one per line on stdin).")
    var sentences: [String] = []

    @Flag(name: .long, help: "Show the cross-attention alignment table.")
    var explain = false

    @Flag(name: .long, help: "One JSON object per sentence on stdout.")
    var json = false

    @Option(name: .long, help: "Decoder layer of the head to show (1-based; default: the best-aligned head's).")
    var layer: Int?

    @Option(name: .long, help: "Head to show (1-based; default: the best-aligned head).")
    var head: Int?

    @Option(name: .long, help: "A model folder written by `attend train translator` (default: the embedded model).")
    var model: String?

    @Flag(name: .long, help: "Use the embedded bottleneck baseline.")
    var bottleneck = false

    @Option(name: .long, help: "Evaluate the embedded models on the first N held-out sentences instead of translating.")
    var evaluate: Int?

    func validate() throws {
        if let layer, layer < 1 { throw ValidationError("--layer is 1-based") }
        if let head, head < 1 { throw ValidationError("--head is 1-based") }
        if let evaluate, evaluate < 1 { throw ValidationError("--evaluate needs at least 1 sentence") }
    }

    func run() throws {
        try runReportingErrors {
            if let evaluate { return try runEvaluation(count: evaluate) }
            let translator: TinyTranslator
            let provenance: [String: String]
            if let model {
                let url = URL(fileURLWithPath: model)
                translator = try TinyTranslator.load(folder: url)
                provenance = DemoModels.provenance(url)
            } else {
                translator = try TinyTranslator.demo(bottleneck: bottleneck)
                provenance = DemoModels.folder(bottleneck ? DemoModels.bottleneckTranslator : DemoModels.translator)
                    .map(DemoModels.provenance) ?? [:]
            }
            var texts = sentences
            if texts.isEmpty {
                while let line = readLine() { if !line.trimmingCharacters(in: .whitespaces).isEmpty { texts.append(line) } }
            }
            guard !texts.isEmpty else { throw CLIError("nothing to translate: give a sentence, e.g. attend translate \"the red car\"") }
            let results = try translator.translate(texts)
            let layers = translator.config.decoderLayers, heads = translator.config.attentionHeads
            let l = (layer ?? provenance["alignment_layer"].flatMap { Int($0) } ?? layers) - 1
            let h = (head ?? provenance["alignment_head"].flatMap { Int($0) } ?? 1) - 1
            guard l >= 0, l < layers else { throw CLIError("--layer must be 1…\(layers)") }
            guard h >= 0, h < heads else { throw CLIError("--head must be 1…\(heads)") }
            for (i, r) in results.enumerated() {
                if json {
                    print(try AlignmentTable.json(r, layer: l, head: h, all: explain).rendered())
                } else {
                    if i > 0 { print() }
                    print(r.source.joined(separator: " "))
                    print("→ " + Terminal.bold(r.text))
                    if explain {
                        if translator.config.isBottleneck {
                            print(Terminal.dim("(the bottleneck baseline has no cross-attention over source words: its decoder sees one pooled vector)"))
                        } else {
                            let score = provenance["alignment_score"].map { ", \($0) of content words aligned on held-out sentences" } ?? ""
                            print()
                            print("cross-attention, decoder layer \(l + 1) head \(h + 1)\(layer == nil && head == nil ? " (best-aligned head\(score))" : "")")
                            print(Terminal.dim("each row: a French word as it was written; shade = attention to each English word"))
                            print(try AlignmentTable.text(r, layer: l, head: h), terminator: "")
                        }
                    }
                }
            }
        }
    }

    func runEvaluation(count: Int) throws {
        let pairs = TranslatorTraining.heldOutSentences(count: count)
        let attention = try TinyTranslator.demo()
        let pooled = try TinyTranslator.demo(bottleneck: true)
        let a = try attention.evaluate(pairs), b = try pooled.evaluate(pairs)
        if json {
            func buckets(_ e: TranslationEvaluation) -> JSONValue {
                .array(e.byLength.map { .object([("length", .int($0.length)), ("correct", .int($0.correct)), ("total", .int($0.total))]) })
            }
            var pairsOut: JSONObject = [
                ("sentences", .int(a.sentences)),
                ("exact_match", .double(a.exactMatch)), ("bottleneck_exact_match", .double(b.exactMatch)),
                ("by_length", buckets(a)), ("bottleneck_by_length", buckets(b)),
                ("head_alignment", .array(a.headAlignment.map { .array($0.map { .double($0) }) })),
                ("swapped_alignment", .array(a.swappedAlignment.map { .array($0.map { .double($0) }) })),
            ]
            if let best = a.bestHead {
                pairsOut.append(("best_head", .object([("layer", .int(best.layer + 1)), ("head", .int(best.head + 1)),
                                                        ("alignment", .double(best.alignment)), ("swapped", .double(best.swapped))])))
            }
            print(JSONValue.object(pairsOut).rendered())
            return
        }
        print("held-out sentences: \(a.sentences) (never seen in training)")
        print("exact match: cross-attention \(pct(a.exactMatch)), bottleneck \(pct(b.exactMatch))\n")
        print(BottleneckTable.text(attention: a, bottleneck: b), terminator: "")
        print()
        print(TranslatorReport.text(a, title: "cross-attention"), terminator: "")
    }

    func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
}

/// Exact match by source length, cross-attention against the bottleneck, in length buckets.
enum BottleneckTable {
    static let buckets: [ClosedRange<Int>] = [1...4, 5...7, 8...10, 11...13, 14...16, 17...30]

    static func rows(_ e: TranslationEvaluation) -> [(correct: Int, total: Int)] {
        buckets.map { range in
            e.byLength.filter { range.contains($0.length) }.reduce((0, 0)) { ($0.0 + $1.correct, $0.1 + $1.total) }
        }
    }

    static func text(attention: TranslationEvaluation, bottleneck: TranslationEvaluation) -> String {
        let a = rows(attention), b = rows(bottleneck)
        var out = "| source words | sentences | cross-attention | bottleneck (one vector) |\n|---|---:|---:|---:|\n"
        for (i, range) in buckets.enumerated() where a[i].total > 0 {
            let label = range.upperBound >= 30 ? "\(range.lowerBound)+" : "\(range.lowerBound)–\(range.upperBound)"
            func p(_ r: (correct: Int, total: Int)) -> String { String(format: "%.1f%%", 100 * Double(r.correct) / Double(Swift.max(r.total, 1))) }
            out += "| \(label) | \(a[i].total) | \(p(a[i])) | \(p(b[i])) |\n"
        }
        return out
    }
}

/// The cross-attention of one head as a table a reader can check by eye.
enum AlignmentTable {
    /// `weights[t][s]` of one head.
    static func weights(_ r: TinyTranslator.Translation, layer: Int, head: Int) -> [[Float]] {
        let w = r.crossAttention                                   // [L, H, T, S]
        let (t, s) = (w.shape[2], w.shape[3])
        return (0..<t).map { i in (0..<s).map { j in w[layer, head, i, j] } }
    }

    static func shade(_ x: Float) -> Character {
        switch x {
        case ..<0.05: return "·"
        case ..<0.25: return "░"
        case ..<0.5: return "▒"
        case ..<0.75: return "▓"
        default: return "█"
        }
    }

    static func text(_ r: TinyTranslator.Translation, layer: Int, head: Int) throws -> String {
        let w = weights(r, layer: layer, head: head)
        let rows = r.target + ["<eos>"]
        let labelWidth = (rows.map(\.count).max() ?? 4) + 2
        let widths = r.source.map { Swift.max($0.count, 3) + 2 }
        var out = String(repeating: " ", count: labelWidth) + zip(r.source, widths).map { padRight(" " + $0, $1) }.joined() + "\n"
        for (i, word) in rows.enumerated() where i < w.count {
            let row = w[i]
            let best = row.indices.max { row[$0] < row[$1] } ?? 0
            var line = padRight("  " + word, labelWidth)
            for (j, width) in widths.enumerated() where j < row.count {
                let cell = " " + String(repeating: shade(row[j]), count: width - 2) + " "
                line += j == best ? Terminal.bold(cell) : cell
            }
            line += "  → \(r.source[best]) \(fmt(row[best], decimals: 2))"
            out += line + "\n"
        }
        out += Terminal.dim("  shades: · <5%  ░ <25%  ▒ <50%  ▓ <75%  █ ≥75%") + "\n"
        return out
    }

    static func json(_ r: TinyTranslator.Translation, layer: Int, head: Int, all: Bool) throws -> JSONValue {
        let w = weights(r, layer: layer, head: head)
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
        if all { pairs.append(("cross_attention_all_heads", JSONValue.tensor(r.crossAttention))) }
        return .object(pairs)
    }
}

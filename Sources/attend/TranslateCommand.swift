import ArgumentParser
import Attend
import Foundation

struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate English to French with the toy translator, and show its cross-attention alignment.",
        discussion: """
        The embedded TinyTranslator (trained by `attend train translator`, see docs/TRAINING.md) knows the few \
        hundred words of its synthetic grammar: nouns like cat, dog, car, mat; adjectives like red, small, old; \
        verbs like sees, sat, eats; the, a, my, his, her, this; on, under, near, in front of; not; that; and.

        With --explain, a table shows for each French word how much the decoder's cross-attention looked at each \
        English word while writing it (one head: by default the one that aligned best on held-out sentences), \
        and the English word it looked at most. Read it by eye: "rouge" looks at "red", and "voiture" at "car", \
        although French puts them in the other order.

        --evaluate N scores the embedded translator and its bottleneck baseline (one pooled context vector \
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
        let heldOut = TranslatorTrainingOptions().heldOutSentences
        if let evaluate, !(1...heldOut).contains(evaluate) {
            throw ValidationError("--evaluate takes 1 to \(heldOut) sentences (the size of the held-out set), got \(evaluate)")
        }
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
                    print(try TranslationReport.alignmentJSON(r, layer: l, head: h, allHeads: explain).rendered())
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
                            let color: TerminalColor = Terminal.useColor ? .detect() : .none
                            print(try TranslationReport.alignmentText(r, layer: l, head: h, color: color), terminator: "")
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
            print(TranslationReport.comparisonJSON(attention: a, bottleneck: b).rendered())
        } else {
            print(TranslationReport.comparisonText(attention: a, bottleneck: b), terminator: "")
        }
    }
}

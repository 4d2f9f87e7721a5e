// What `attend train induction` and `attend generate` show about TinyGPT: the induction measurements (loss on a
// span's first and second occurrence, prefix-matching and previous-token scores per head) and, for a generation,
// where the induction head looked while writing each token.
import AttendModels
import AttendTensor
import Foundation

public enum InductionReport {
    /// The induction measurements, one line per layer, then the strongest induction head (1-based).
    public static func text(_ e: InductionEvaluation) -> String {
        var out = "in-context loss on a repeated span: first occurrence \(String(format: "%.3f", e.firstOccurrenceLoss)) nats, "
            + "second occurrence \(String(format: "%.3f", e.repeatLoss)) nats (drop \(String(format: "%.3f", e.lossDrop)); "
            + "top-1 on the repeat \(String(format: "%.1f", 100 * e.repeatAccuracy))%)\n"
        out += "per head: prefix-matching score (attention to the token after the earlier occurrence) | previous-token score\n"
        for (l, row) in e.prefixMatching.enumerated() {
            out += "  layer \(l + 1): " + row.enumerated().map { h, s in
                "H\(h + 1) \(String(format: "%.2f", s)) | \(String(format: "%.2f", e.previousToken[l][h]))"
            }.joined(separator: "   ") + "\n"
        }
        let best = e.bestInductionHead
        out += "induction head: layer \(best.layer + 1) head \(best.head + 1), prefix-matching score \(String(format: "%.2f", best.score))\n"
        return out
    }

    /// A generation as JSON: tokens as syllables and ids, the head (written 1-based), and where it looked.
    public static func generationJSON(prompt: [Int], generated: [Int], layer: Int, head: Int,
                                      lookbacks: [TinyGPT.Lookback]) -> JSONValue {
        .object([
            ("prompt", .array(prompt.map { .string(TinyGPT.syllable($0)) })),
            ("generated", .array(generated.map { .string(TinyGPT.syllable($0)) })),
            ("prompt_ids", .array(prompt.map { .int($0) })),
            ("generated_ids", .array(generated.map { .int($0) })),
            ("induction_head", .object([("layer", .int(layer + 1)), ("head", .int(head + 1))])),
            ("attended_positions", .array(lookbacks.map { .int($0.position) })),
            ("attended_weights", .array(lookbacks.map { .float($0.weight) })),
        ])
    }

    /// For each generated token: the position the head attended to most, its token and the token before it.
    /// `layer` and `head` are 0-based and printed 1-based; `score` is the head's prefix-matching score if known.
    public static func lookbackText(prompt: [Int], generated: [Int], layer: Int, head: Int, score: String?,
                                    lookbacks: [TinyGPT.Lookback], style: TextStyle) -> String {
        let all = prompt + generated
        var out = "induction head: layer \(layer + 1) head \(head + 1)" + (score.map { " (prefix-matching score \($0))" } ?? "") + "\n"
        out += style.dim("while writing each token, the position it attended to most, and the tokens around it") + "\n"
        for (t, look) in lookbacks.enumerated() where look.position < all.count {
            let q = prompt.count - 1 + t
            let before = look.position > 0 ? TinyGPT.syllable(all[look.position - 1]) : "·"
            out += "  \(TinyGPT.syllable(generated[t]))  ← position \(look.position) \"\(TinyGPT.syllable(all[look.position]))\" "
                + "(weight \(VizFormat.decimal(look.weight, decimals: 2))), which followed \"\(before)\"; the current token is \"\(TinyGPT.syllable(all[q]))\"\n"
        }
        return out
    }
}

// What one head does, in two numbers and a word: how spread out its attention is (entropy) and where
// it mostly looks (itself, the previous or next token, [CLS], [SEP], punctuation).
import AttendNN
import Foundation

/// Where a head's attention goes, averaged over its query rows.
public struct HeadSummary: Sendable, Equatable {
    /// Where attention can go; the shares of one head need not sum to 1 (the rest is `other`).
    public enum Target: String, Sendable, CaseIterable {
        case itself = "self", previous, next, cls = "[CLS]", sep = "[SEP]", punctuation, other

        /// For prose: "itself", "the previous token", …
        public var phrase: String {
            switch self {
            case .itself: return "itself"
            case .previous: return "the previous token"
            case .next: return "the next token"
            case .cls: return "[CLS] (the start token)"
            case .sep: return "[SEP] (the end token)"
            case .punctuation: return "punctuation"
            case .other: return "the other tokens, spread out"
            }
        }
    }

    public var layer: Int
    public var head: Int
    /// Mean over query rows of the row entropy, in bits.
    public var entropy: Double
    /// log₂ of the mean number of keys a row may attend to: the entropy of uniform attention.
    public var maxEntropy: Double
    /// Mean weight per target (self/previous/next only for self-attention), `other` = the remainder.
    public var shares: [Target: Double]
    /// The largest share, `other` when no target takes a third of the attention.
    public var mostly: Target
    public var mostlyShare: Double
    /// The largest named target (never `other`), even when it takes less than a third.
    public var top: Target
    public var topShare: Double

    /// The summary of `head` of `layer` (index `layerIndex` in the trace).
    public init(layer trace: AttentionLayerTrace, layerIndex: Int, head: Int) {
        let rows = trace.weightRows(head: head)
        let (lq, lk) = (trace.queryLength, trace.keyLength)
        let isSelf = trace.kind != .crossAttention && lq == lk
        var totals: [Target: Double] = [:]
        var entropy = 0.0, maxEntropy = 0.0
        var counted = 0
        let keyKinds = trace.keyTokens.map(HeadSummary.classify)
        for i in 0..<lq {
            let row = rows[i]
            let allowed = (0..<lk).filter { trace.mayAttend(i, $0) }
            guard !allowed.isEmpty, row.contains(where: { $0 > 0 }) else { continue }
            counted += 1
            var h = 0.0
            for j in allowed where row[j] > 0 { h -= Double(row[j]) * log2(Double(row[j])) }
            entropy += h
            maxEntropy += log2(Double(allowed.count))
            var rest = 1.0
            func add(_ t: Target, _ w: Float) { totals[t, default: 0] += Double(w); rest -= Double(w) }
            // [CLS] and [SEP] first (a head parking its attention there is the better-known story),
            // then position (itself, previous, next), then punctuation.
            for j in 0..<lk where row[j] > 0 {
                if let k = keyKinds[j], k != .punctuation { add(k, row[j]); continue }
                if isSelf && j == i { add(.itself, row[j]); continue }
                if isSelf && j == i - 1 { add(.previous, row[j]); continue }
                if isSelf && j == i + 1 { add(.next, row[j]); continue }
                if let k = keyKinds[j] { add(k, row[j]) }
            }
            totals[.other, default: 0] += max(0, rest)
        }
        let n = Double(max(1, counted))
        var shares: [Target: Double] = [:]
        for t in Target.allCases where isSelf || ![.itself, .previous, .next].contains(t) { shares[t] = (totals[t] ?? 0) / n }
        self.layer = layerIndex
        self.head = head
        self.entropy = entropy / n
        self.maxEntropy = maxEntropy / n
        self.shares = shares
        let best = Target.allCases.filter { $0 != .other && shares[$0] != nil }.max { (shares[$0] ?? 0) < (shares[$1] ?? 0) } ?? .other
        top = best
        topShare = shares[best] ?? 0
        if (shares[best] ?? 0) >= 1.0 / 3.0 {
            mostly = best
            mostlyShare = shares[best] ?? 0
        } else {
            mostly = .other
            mostlyShare = shares[.other] ?? 0
        }
    }

    /// `.cls`, `.sep`, `.punctuation` or nil for a key token.
    public static func classify(_ token: String) -> Target? {
        switch token {
        case "[CLS]", "<s>", "<bos>", "<BOS>": return .cls
        case "[SEP]", "</s>", "<eos>", "<EOS>": return .sep
        default: break
        }
        let text = token.hasPrefix("##") ? String(token.dropFirst(2)) : token
        let scalars = text.unicodeScalars.filter { $0 != "Ġ" && $0 != "▁" }
        guard !scalars.isEmpty else { return nil }
        let isPunct = scalars.allSatisfy { u in
            switch u.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                 .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
            default: return "$+<=>^`|~".unicodeScalars.contains(u)
            }
        }
        return isPunct ? .punctuation : nil
    }

    /// One line: `mostly [CLS] (0.62); entropy 1.4 of 3.9 bits`.
    public var line: String {
        let target = mostly == .other
            ? "spread out: no single place takes a third of its attention (largest: \(top.phrase), \(String(format: "%.2f", topShare)))"
            : "mostly looks at \(mostly.phrase) (\(String(format: "%.2f", mostlyShare)) of its attention on average)"
        return "\(target); entropy \(String(format: "%.2f", entropy)) of \(String(format: "%.2f", maxEntropy)) bits"
    }

    /// Every head of every layer.
    public static func all(_ trace: ExplainTrace) -> [[HeadSummary]] {
        trace.layers.enumerated().map { li, layer in (0..<layer.heads).map { HeadSummary(layer: layer, layerIndex: li, head: $0) } }
    }
}

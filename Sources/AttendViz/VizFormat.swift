// Small text helpers shared by every view: number formatting, padding, escaping, eliding long axes.
import Foundation

/// Number and text formatting for the views and the text reports every front-end prints.
public enum VizFormat {
    /// The number style of the step-by-step reports (attention trace, search, neighbours): `decimals` decimals in
    /// the usual range, `%.3e` for magnitudes from 1e6 up or below 1e-4, `-∞`, `∞`, `NaN`.
    public static func decimal(_ x: Float, decimals: Int = 4) -> String {
        if x == -.infinity { return "-∞" }
        if x == .infinity { return "∞" }
        if x.isNaN { return "NaN" }
        let a = abs(x)
        if a != 0 && (a >= 1e6 || a < 1e-4) { return String(format: "%.3e", Double(x)) }
        return String(format: "%.\(decimals)f", Double(x))
    }

    /// Fixed decimals in the usual range, scientific outside it (`3.2e-06`), `-∞` for masked scores.
    /// With `fixed`, tiny values print as `0.0000` instead (weights, where 1e-8 and 0 mean the same to a reader).
    public static func number(_ x: Float, decimals: Int = 4, fixed: Bool = false) -> String {
        if x == -.infinity { return "-∞" }
        if x == .infinity { return "∞" }
        if x.isNaN { return "NaN" }
        let a = abs(x)
        if a != 0 && (a >= 1e6 || (!fixed && a < 0.5 * pow(10, Float(-decimals)))) { return String(format: "%.2e", Double(x)) }
        let s = String(format: "%.\(max(0, decimals))f", Double(x))
        return s == "-" + String(format: "%.\(max(0, decimals))f", 0.0) ? String(s.dropFirst()) : s
    }

    /// A weight with two decimals and no leading zero (`.65`, `1.0`), 3 characters: for heatmap cells.
    public static func compactWeight(_ x: Float) -> String {
        if x.isNaN { return "NaN" }
        if x >= 0.995 { return "1.0" }
        let s = String(format: "%.2f", Double(max(0, x)))   // "0.65"
        return String(s.dropFirst())                        // ".65"
    }

    /// Display width of a string in a monospaced terminal (every Character counts 1; CJK counts 2).
    public static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { acc, u in
            let v = u.value
            if u.properties.generalCategory == .nonspacingMark || u.properties.generalCategory == .enclosingMark { return acc }
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v)
            return acc + (wide ? 2 : 1)
        }
    }

    public static func padLeft(_ s: String, _ w: Int) -> String {
        let n = width(s)
        return n >= w ? s : String(repeating: " ", count: w - n) + s
    }

    public static func padRight(_ s: String, _ w: Int) -> String {
        let n = width(s)
        return n >= w ? s : s + String(repeating: " ", count: w - n)
    }

    /// Cuts `s` to at most `w` display columns, ending in `…` when cut.
    public static func truncate(_ s: String, _ w: Int) -> String {
        guard width(s) > w else { return s }
        guard w > 1 else { return w == 1 ? "…" : "" }
        var out = ""
        for c in s {
            if width(out + String(c)) > w - 1 { break }
            out.append(c)
        }
        return out + "…"
    }

    /// Escapes text for XML/HTML content and attribute values.
    public static func xmlEscape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // XML 1.0 forbids most control characters, even escaped.
                if u.value < 0x20 && u != "\n" && u != "\t" && u != "\r" { out += "\u{FFFD}" } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }

    /// A token as shown in quotes in prose: `“animal”`.
    public static func quoted(_ token: String) -> String { "“\(token)”" }

    /// Which indices of an axis of `count` to show within about `budget` entries: all when they fit, otherwise
    /// the first and last few, every index in `keep` (and its neighbours when room allows), in order.
    /// Gaps are where the views print `…`.
    public static func elided(count: Int, budget: Int, keep: [Int] = []) -> [Int] {
        guard count > budget, budget >= 4 else { return Array(0..<count) }
        var chosen = Set<Int>()
        let keepValid = keep.filter { $0 >= 0 && $0 < count }
        for k in keepValid { chosen.insert(k) }
        let edge = max(1, (budget - chosen.count) / 3)
        for i in 0..<min(edge, count) { chosen.insert(i) }
        for i in max(0, count - max(1, edge / 2))..<count { chosen.insert(i) }
        // Fill the rest near the kept indices, then from the start.
        var radius = 1
        while chosen.count < budget && radius < count {
            var added = false
            for k in keepValid {
                for c in [k - radius, k + radius] where c >= 0 && c < count && chosen.count < budget && !chosen.contains(c) {
                    chosen.insert(c); added = true
                }
            }
            if !added { break }
            radius += 1
            if radius > 2 { break }
        }
        var i = 0
        while chosen.count < budget && i < count { chosen.insert(i); i += 1 }
        return chosen.sorted()
    }
}

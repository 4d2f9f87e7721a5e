import Foundation
import Testing

/// Golden files compared after normalising numbers: the text with every number and `#rrggbb` colour taken out
/// (and runs of spaces and bar characters collapsed, since widths follow the numbers) must be identical; the
/// numbers must agree to `atol + rtol·|golden|` plus one unit in the golden's last printed digit (a value that
/// sits on a rounding boundary may print either way), colours to ±3 per channel.
///
/// Set `ATTEND_UPDATE_GOLDENS=1` to rewrite the files from the current output.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")

    struct Normalised: Equatable {
        var skeleton: String
        var numbers: [(value: Double, unit: Double, text: String)]
        var colors: [[Int]]

        static func == (a: Normalised, b: Normalised) -> Bool {
            a.skeleton == b.skeleton && a.numbers.map(\.text) == b.numbers.map(\.text) && a.colors == b.colors
        }
    }

    // A number not glued to a word or a '#': 12, -0.6466, .65, 3.20e-06.
    static let numberPattern = try! NSRegularExpression(
        pattern: #"(?<![\w#.])-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?(?![\w])"#)
    static let colorPattern = try! NSRegularExpression(pattern: #"#[0-9a-fA-F]{6}\b"#)

    static func normalise(_ text: String) -> Normalised {
        var skeleton = ""
        var numbers: [(Double, Double, String)] = []
        var colors: [[Int]] = []
        let ns = text as NSString
        var tokens: [(NSRange, Bool)] = []   // (range, isColor)
        for m in colorPattern.matches(in: text, range: NSRange(location: 0, length: ns.length)) { tokens.append((m.range, true)) }
        for m in numberPattern.matches(in: text, range: NSRange(location: 0, length: ns.length))
        where !tokens.contains(where: { NSIntersectionRange($0.0, m.range).length > 0 }) {
            tokens.append((m.range, false))
        }
        tokens.sort { $0.0.location < $1.0.location }
        var pos = 0
        for (range, isColor) in tokens {
            skeleton += ns.substring(with: NSRange(location: pos, length: range.location - pos))
            let s = ns.substring(with: range)
            if isColor {
                skeleton += "#color"
                let v = Int(s.dropFirst(), radix: 16) ?? 0
                colors.append([(v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF])
            } else {
                skeleton += "§"
                numbers.append((Double(s) ?? .nan, unit(of: s), s))
            }
            pos = range.location + range.length
        }
        skeleton += ns.substring(from: pos)
        // Widths follow the numbers: collapse runs of spaces and of bar characters.
        skeleton = skeleton.replacingOccurrences(of: #"[█▉▊▋▌▍▎▏]+"#, with: "▇", options: .regularExpression)
        skeleton = skeleton.replacingOccurrences(of: #"[ \t]+"#, with: " ", options: .regularExpression)
        skeleton = skeleton.replacingOccurrences(of: #" +\n"#, with: "\n", options: .regularExpression)
        return Normalised(skeleton: skeleton, numbers: numbers, colors: colors)
    }

    /// One unit in the last printed digit: 0.0001 for "0.6466", 1e-8 for "3.20e-06" (mantissa digits), 0 for "12".
    static func unit(of s: String) -> Double {
        let lower = s.lowercased()
        let parts = lower.split(separator: "e", maxSplits: 1)
        let mantissa = String(parts[0])
        let exponent = parts.count > 1 ? Double(parts[1]) ?? 0 : 0
        // Integers (indices, counts, head numbers) must match exactly.
        guard mantissa.contains(".") else { return 0 }
        let decimals = mantissa.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
        return pow(10, -Double(decimals) + exponent)
    }

    /// The first difference between `actual` and `golden`, or nil when they agree.
    static func difference(_ actual: String, _ golden: String, atol: Double = 1e-6, rtol: Double = 1e-4) -> String? {
        let a = normalise(actual), g = normalise(golden)
        if a.skeleton != g.skeleton {
            let al = a.skeleton.components(separatedBy: "\n"), gl = g.skeleton.components(separatedBy: "\n")
            for i in 0..<max(al.count, gl.count) {
                let x = i < al.count ? al[i] : "<end>", y = i < gl.count ? gl[i] : "<end>"
                if x != y { return "text differs at line \(i + 1) (§ = a number):\n  got:      \(x)\n  expected: \(y)" }
            }
        }
        guard a.numbers.count == g.numbers.count else { return "\(a.numbers.count) numbers, golden has \(g.numbers.count)" }
        var failures: [String] = []
        var worst = (excess: 0.0, index: -1)
        for (i, (x, y)) in zip(a.numbers, g.numbers).enumerated() {
            let bound = atol + rtol * abs(y.value) + 1.01 * y.unit
            let diff = abs(x.value - y.value)
            if !(diff <= bound) || x.value.isNaN != y.value.isNaN {
                if failures.count < 5 { failures.append("#\(i): got \(x.text), expected \(y.text)") }
                if diff - bound > worst.excess || worst.index < 0 { worst = (diff - bound, i) }
            }
        }
        if !failures.isEmpty { return "numbers outside tolerance (worst #\(worst.index)): " + failures.joined(separator: "; ") }
        guard a.colors.count == g.colors.count else { return "\(a.colors.count) colours, golden has \(g.colors.count)" }
        for (i, (x, y)) in zip(a.colors, g.colors).enumerated() where zip(x, y).contains(where: { abs($0 - $1) > 3 }) {
            return "colour #\(i) differs: \(x) vs \(y)"
        }
        return nil
    }

    /// Compares `actual` with the golden file `name`, recording an issue on a difference.
    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["ATTEND_UPDATE_GOLDENS"] == "1" {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: url)
            return
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("golden \(name) is missing; run with ATTEND_UPDATE_GOLDENS=1 to create it", sourceLocation: sourceLocation)
            return
        }
        if let diff = difference(actual, String(decoding: data, as: UTF8.self)) {
            let saved = FileManager.default.temporaryDirectory.appendingPathComponent("actual-" + name)
            try? Data(actual.utf8).write(to: saved)
            Issue.record("\(name): \(diff)\n(actual output saved to \(saved.path))", sourceLocation: sourceLocation)
        }
    }
}

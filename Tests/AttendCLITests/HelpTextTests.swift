import Foundation
import Testing

/// Every `--help` is written as paragraphs without hard line breaks inside sentences, so it wraps cleanly at any
/// terminal width. Rendered with a very wide COLUMNS (so swift-argument-parser wraps nothing itself), a help text
/// must not contain a line that stops mid-sentence followed by a line that carries on in lower case — except for
/// example lines, which are commands of their own.
@Suite("attend --help texts")
struct HelpTextTests {
    /// Subcommands whose help another change rewrites; each entry says why it is excused (none now).
    static let pending: Set<[String]> = []

    static func help(_ path: [String]) throws -> String {
        let r = try CLI.run(path + ["--help"], env: ["COLUMNS": "5000"])
        #expect(r.status == 0, "attend \(path.joined(separator: " ")) --help: \(r.stderr)")
        return r.stdout
    }

    /// The subcommands listed under SUBCOMMANDS: in a help text.
    static func subcommands(in help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        return help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// Every command path: the root, each subcommand and theirs.
    static func allCommands() throws -> [[String]] {
        var out: [[String]] = [[]]
        var queue: [[String]] = [[]]
        while let path = queue.popLast() {
            for sub in subcommands(in: try help(path)) where sub != "help" {
                out.append(path + [sub])
                queue.append(path + [sub])
            }
        }
        return out
    }

    /// Pairs of lines where a sentence is broken: the first ends inside a sentence (a letter, digit, comma or
    /// dash), the second carries on in lower case or with an opening parenthesis. Example lines (`attend …`) and
    /// option-name lines (ending in `>`) are their own lines.
    static func brokenSentences(in text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var found: [String] = []
        for (a, b) in zip(lines, lines.dropFirst()) {
            let end = a.trimmingCharacters(in: .whitespaces)
            let next = b.trimmingCharacters(in: .whitespaces)
            guard let last = end.last, let first = next.first else { continue }
            let endsInside = last.isLetter || last.isNumber || ",;-–—".contains(last)
            let carriesOn = first.isLowercase || first == "("
            // Example lines (`attend …`, or a client command beside it such as `curl …`) stand alone.
            let isExample = ["attend ", "curl ", "swift ", "python3 "].contains { next.hasPrefix($0) }
            if endsInside && carriesOn && !isExample {
                found.append("\(end) ⏎ \(next)")
            }
        }
        return found
    }

    @Test func theCheckFindsABrokenSentence() {
        #expect(Self.brokenSentences(in: "Each line of the corpus is compared with every\ndocument's embedding.").count == 1)
        #expect(Self.brokenSentences(in: "A sentence.\n\nExamples:\n  attend search --top 3\n  attend neighbors cat").isEmpty)
        #expect(Self.brokenSentences(in: "  --temperature <temperature>\n                          Softmax temperature.").isEmpty)
    }

    @Test func noHelpTextBreaksASentence() throws {
        let commands = try Self.allCommands()
        #expect(commands.count >= 12, "found only \(commands)")
        for path in commands where !Self.pending.contains(path) {
            let broken = Self.brokenSentences(in: try Self.help(path))
            let listing = broken.joined(separator: "\n")
            #expect(broken.isEmpty, "attend \(path.joined(separator: " ")) --help breaks sentences:\n\(listing)")
        }
    }
}

import ArgumentParser
import Attend
import Foundation

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Split text into the model's tokens and ids, with offsets back into the text.",
        discussion: """
        Offsets count Unicode scalars (code points) from the start of the text, as Hugging Face's do. \
        Without --max-length nothing is truncated.

        Examples:
          attend tokenize "The animal didn't cross the street"
          attend tokenize "naïve café" --json
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Argument(help: "The text (or several; each is tokenized alone). Reads stdin when omitted.") var texts: [String] = []
    @Option(name: .long, help: "Truncate to this many tokens, [CLS] and [SEP] included.") var maxLength: Int?
    @Flag(name: .long, help: "Leave out [CLS] and [SEP].") var noSpecialTokens = false
    @Flag(help: "Print one JSON object per text.") var json = false

    func run() throws {
        try runReportingErrors {
            if let m = maxLength, m < 2 { throw CLIError("--max-length must be at least 2, got \(m)") }
            let tokenizer = try modelOptions.loadTokenizer()
            for text in try TextInput.read(arguments: texts) {
                let e = tokenizer.encode(text, addSpecialTokens: !noSpecialTokens, maxLength: maxLength)
                if e.wasTruncated { Terminal.printWarning("truncated to \(e.count) tokens") }
                if json {
                    print(JSONValue.object([
                        ("text", .string(text)),
                        ("tokens", .array(e.tokens.map { .string($0) })),
                        ("ids", .array(e.ids.map { .int($0) })),
                        ("offsets", .array(e.offsets.map { .array([.int($0.start), .int($0.end)]) })),
                        ("truncated", .bool(e.wasTruncated)),
                    ]).rendered())
                    continue
                }
                let scalars = Array(text.unicodeScalars)
                print("\(e.count) tokens")
                let tokWidth = max(5, e.tokens.map(\.count).max() ?? 0)
                print("  " + padLeft("#", 4) + "  " + padRight("token", tokWidth) + "  " + padLeft("id", 6) + "  text")
                for i in 0..<e.count {
                    let o = e.offsets[i]
                    let piece = o.end > o.start && o.end <= scalars.count
                        ? String(String.UnicodeScalarView(scalars[o.start..<o.end])) : ""
                    print("  " + padLeft(String(i), 4) + "  " + padRight(e.tokens[i], tokWidth) + "  " + padLeft(String(e.ids[i]), 6)
                          + "  " + (piece.isEmpty ? Terminal.dim("(special)") : "\(piece)  [\(o.start), \(o.end))"))
                }
            }
        }
    }
}

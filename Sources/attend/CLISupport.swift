import ArgumentParser
import Attend
import Foundation

/// An error the CLI reports as one line on stderr, exiting with `code`.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var code: Int32 = 1
    init(_ message: String, code: Int32 = 1) { self.message = message; self.code = code }
    var description: String { message }
}

/// Runs a command body, turning any thrown error into `attend: error: …` on stderr and a non-zero exit.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as CLIError {
        Terminal.printError(e.message)
        throw ExitCode(e.code)
    } catch let e as ExitCode {
        throw e
    } catch {
        Terminal.printError("\(error)")
        throw ExitCode(1)
    }
}

enum Terminal {
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
    /// Colour only on a terminal, and never when NO_COLOR is set.
    static var useColor: Bool { stdoutIsTerminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("attend: error: \(message)\n".utf8))
    }

    static func printWarning(_ message: String) {
        FileHandle.standardError.write(Data("attend: warning: \(message)\n".utf8))
    }

    /// Bold and dim for the library's text reports: escape codes only when ``useColor``.
    static var style: TextStyle { TextStyle(color: useColor ? .ansi256 : .none) }
    static func bold(_ s: String) -> String { style.bold(s) }
    static func dim(_ s: String) -> String { style.dim(s) }
}

/// Formats numbers for the readable traces: 4 decimals in the usual range, scientific outside it.
func fmt(_ x: Float, decimals: Int = 4) -> String { VizFormat.decimal(x, decimals: decimals) }

/// Pads `s` on the left to `width` characters.
func padLeft(_ s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s : String(repeating: " ", count: width - n) + s
}

/// Pads `s` on the right to `width` characters.
func padRight(_ s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s : s + String(repeating: " ", count: width - n)
}

extension SentenceEmbedder {
    /// `--batch-size`'s help in every command that embeds.
    static let batchSizeHelp = "Texts per forward pass at most (a pass also holds at most --max-batch-tokens tokens)."
    /// `--max-batch-tokens`'s help in every command that embeds.
    static let maxBatchTokensHelp = "Tokens per forward pass at most, counted with padding (texts × the longest one's tokens; "
        + "a longer text still runs alone). Fewer keep a pass's activations in the caches."

    /// Rejects a batch size or token budget below 1, naming the option.
    static func validateBatching(batchSize: Int, maxBatchTokens: Int) throws {
        guard batchSize >= 1 else { throw CLIError("--batch-size must be at least 1, got \(batchSize)") }
        guard maxBatchTokens >= 1 else { throw CLIError("--max-batch-tokens must be at least 1, got \(maxBatchTokens)") }
    }
}

import ArgumentParser
import Attend
import Foundation

/// `--model NAME|FOLDER`, shared by every command that runs a pretrained model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A known model name (installed with `attend models install NAME`) or a folder in Hugging Face layout.",
        valueName: "name|folder"))
    var model: String = "all-MiniLM-L6-v2"

    func folder() throws -> URL {
        do {
            return try ModelStore.resolve(model)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// `prepack: false` for commands that embed a few sentences and exit (see ``SentenceEncoders/load(folder:precision:prepack:)``).
    func loadEmbedder(precision: InferencePrecision = .fp32, prepack: Bool = true) throws -> SentenceEmbedder {
        let folder = try folder()
        if precision == .bf16 && Kernels.bf16KernelName == "portable" {
            Terminal.printWarning("no vector bf16 kernel for this CPU: --precision bf16 runs on portable C, slower than fp32")
        }
        if precision == .int8 && Kernels.int8KernelName == "portable" {
            Terminal.printWarning("no vector int8 kernel for this CPU: --precision int8 runs on portable C, slower than fp32")
        }
        do {
            return try SentenceEmbedder.load(folder: folder, precision: precision, prepack: prepack)
        } catch {
            throw CLIError("cannot load model '\(model)' from \(folder.path): \(error)")
        }
    }

    func loadTokenizer() throws -> Tokenizer {
        let folder = try folder()
        do {
            return try Tokenizer(folder: folder)
        } catch {
            throw CLIError("cannot load the tokenizer of '\(model)' from \(folder.path): \(error)")
        }
    }
}

/// `--precision fp32|bf16|int8`, for the commands that run a model's linear layers.
struct PrecisionOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Arithmetic of the linear layers: fp32 (default; PyTorch's results), bf16 (weights and activations rounded to bfloat16, Float32 sums: faster on CPUs with AVX-512 BF16, embeddings within cosine 0.999 of fp32) or int8 (weights quantized per output channel, activations per row, exact int32 sums: fastest with AVX-512 VNNI or AVX-VNNI; embeddings within cosine 0.99 of fp32).",
        valueName: "fp32|bf16|int8"))
    var precision: InferencePrecision = .fp32
}

extension InferencePrecision: ExpressibleByArgument {}

/// Reads texts from arguments, or one per line from stdin; warns about blank and invalid lines.
enum TextInput {
    static func read(arguments: [String], allowStdin: Bool = true) throws -> [String] {
        if !arguments.isEmpty { return arguments }
        guard allowStdin else { return [] }
        if isatty(STDIN_FILENO) != 0 {
            throw CLIError("no text given: pass texts as arguments or pipe them on stdin, one per line")
        }
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return lines(of: data, source: "stdin")
    }

    /// Splits UTF-8 data into lines (`\n` or `\r\n`), replacing invalid UTF-8 with U+FFFD (with a warning).
    static func lines(of data: Data, source: String) -> [String] {
        var lines: [String] = []
        var start = data.startIndex
        var number = 0
        func add(_ slice: Data) {
            number += 1
            var bytes = slice
            if bytes.last == 0x0D { bytes = bytes.dropLast() }
            if let s = String(data: bytes, encoding: .utf8) {
                lines.append(s)
            } else {
                Terminal.printWarning("\(source) line \(number) is not valid UTF-8; invalid bytes replaced with U+FFFD")
                lines.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        while let nl = data[start...].firstIndex(of: 0x0A) {
            add(data[start..<nl])
            start = data.index(after: nl)
        }
        if start < data.endIndex { add(data[start...]) }
        return lines
    }
}

/// A progress line on stderr, only when stderr is a terminal.
struct Progress {
    let label: String
    let enabled = Terminal.stderrIsTerminal

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(done)/\(total)".utf8))
        if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

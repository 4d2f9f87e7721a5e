import ArgumentParser
import Attend
import Foundation

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Attention on a sentence, step by step, with a real model's numbers; heatmaps, SVG and HTML views.",
        discussion: """
        Text (the default) walks one head of one layer: the tokens, their embeddings, Q, K and V, the scores Q·Kᵀ, the scaled scores, the softmax weights with row sums and a heatmap, and for --token the output as a weighted sum of value vectors, in numbers and in words.

        Numbering, the same for every model: --layer counts the model's attention layers from 0 in model order, and --head counts the heads of that layer from 0 (as in PyTorch); a negative --layer or --head counts from the end (--layer=-1 is the last layer). For BERT and tiny-gpt layer i is the i-th block. For tiny-translator the layers are the encoder's self-attention layers first, then for each decoder layer its causal self-attention and its cross-attention: with 2 + 2 layers, 0 and 1 are encoder 0 and 1 · self, 2 is decoder 0 · self, 3 decoder 0 · cross, 4 decoder 1 · self and 5 decoder 1 · cross. Every output names the layer it shows (for example "decoder 1 · cross").

        Formats:
          text   the step-by-step trace (colour on a terminal unless NO_COLOR is set; --values prints weights in the heatmap)
          json   every intermediate of the chosen layer and head: tokens, q, k, v, scores, scaled_scores, weights, output, …
          svg    one head: --view heatmap (default; labelled axes, legend, title) or --view flow (two token columns, lines weighted by attention)
          html   one standalone page, no network: head view, model view (layers × heads), per-head summary
        SVG and HTML go to --out FILE; without it they go to stdout, or to attend-explain.svg/.html when stdout is a terminal.

        Methods (--method; see docs/EXPLAINING.md for what each shows and does not): raw (default) is one head's softmax weights, the views above. rollout multiplies the head-averaged, residual-augmented attention of the layers up to --layer: R₀ = I, Â_l = ½·mean_h A_l + ½·I, R_{l+1} = Â_l·R_l (rows sum to 1). flow is the maximum flow from each input token to each output token through the layered graph of those Â_l (exact; at most 40 tokens). value-norm is ‖α^h_ij·f^h(x_j)‖ with f^h(x) = (x·W_V^h + b_V^h)·W_O^h for --head h, or ‖Σ_h α^h_ij·f^h(x_j)‖ for the whole layer without --head; x_j is what the value projection reads (a cross-attention layer of tiny-translator: the encoder's output for source token j), and on smollm2-135m the quantized W_V and W_O are dequantized and query head h reads value head h / 3 (grouped-query attention). grad-attention is Chefer et al.'s R ← R + mean_h(∂y/∂A_l ⊙ A_l)⁺·R from R = I, where y is the cosine similarity of the mean-pooled embedding to --target "another sentence" (sentence encoders: all-MiniLM-L6-v2, all-mpnet-base-v2), the log-probability of --target-token as the next token after the text (decoders: tiny-gpt, and smollm2-135m, whose target must be one token such as " cat" with its leading space, on texts of at most 128 tokens), or, for tiny-translator, the log-probability of --target-token at the output position where its translation emits that word (a word of the translation, or <eos>); for the translator, --layer chooses what is composed: an encoder layer composes the encoder's self-attention layers up to it (source × source), a decoder self-attention layer the decoder's causal self-attention layers up to it (target × target), and cross-attention layers are refused; without --layer, rollout, flow and grad-attention on the translator compose the decoder's self-attention layers. Its gradients come from Attend's autograd through the whole model on the Float32 reference path (SmolLM2's quantized weights are dequantized for the run), a slower path. With a method, every format shows that method's token × token matrix (text: a table in thousandths; json: {"method", "matrix", "query_tokens", "key_tokens", …}; svg: a heatmap; html: a page with the heatmap), and --token prints that token's row in words.

        Model: --model takes a folder, an installed name, or an embedded demo model, and the family comes from the folder's config.json (model_type). The embedded demos work offline: tiny-translator (English → French; the text is the English source, and the target is the translator's own greedy translation after <bos>, fed back teacher-forced, so decoder rows are target words and cross-attention columns are source words) and tiny-gpt (a line of syllables such as "na ro zi"; its layer 1 has an induction head). The default is all-MiniLM-L6-v2 when installed (attend models install all-MiniLM-L6-v2); the output always says which model was used.

        Examples:
          attend explain "The animal didn't cross the street because it was too tired" --model all-MiniLM-L6-v2 --layer 5 --head 11 --token it
          attend explain "The cat sat on the mat" --format svg --view flow --token cat --out cat.svg
          attend explain "The cat sat on the mat" --format html --out cat.html
          attend explain "The cat sat on the mat" --layer 2 --head 3 --format json
          attend explain "the small dog sees the red car" --model tiny-translator --format html --out t.html
          attend explain "na ro zi li bo si va ba na ro zi" --model tiny-gpt
          attend explain "The animal didn't cross the street because it was too tired" --method rollout --token it
          attend explain "The animal didn't cross the street because it was too tired" --method value-norm --layer 5 --head 11 --format svg --out vn.svg
          attend explain "The cat sat on the mat" --method grad-attention --target "A cat was sitting on a mat" --format json
          attend explain "de fe ge bi do pa de fe ge" --model tiny-gpt --method grad-attention --target-token bi
          attend explain "A man is playing a guitar" --model all-mpnet-base-v2 --method grad-attention --target "Someone plays music"
          attend explain "The cat sat on the" --model smollm2-135m --method grad-attention --target-token " mat"
          attend explain "the small dog sees the red car" --model tiny-translator --method grad-attention --target-token chien --layer 4
          attend explain "The cat sat on the mat because it was tired" --model smollm2-135m --method value-norm --layer 23 --head 0 --token 9
        """)

    @Argument(help: "The sentence to explain.")
    var sentence: String

    @Option(name: .long, help: "Model folder, installed name, or embedded demo (tiny-translator, tiny-gpt); default all-MiniLM-L6-v2.")
    var model: String?

    @Option(name: .long, help: "Layer, from 0 (default: the last layer).")
    var layer: Int?

    @Option(name: .long, help: "Head, from 0 (default: 0).")
    var head: Int?

    @Option(name: .long, help: "A query token (word piece; a target word for decoder layers) or its index: work out its output in full.")
    var token: String?

    @Option(name: .long, help: "text, json, svg or html.")
    var format: String = "text"

    @Option(name: .long, help: "For --format svg: heatmap or flow.")
    var view: String = "heatmap"

    @Option(name: .long, help: "Write to this file instead of stdout.")
    var out: String?

    @Flag(name: .long, help: "Print the weights inside the heatmap cells (text and SVG).")
    var values = false

    @Flag(name: .long, help: "Same as --format json.")
    var json = false

    @Option(name: .long, help: "Decimals in the text trace (0…8).")
    var decimals = 4

    @Option(name: .long, help: "raw (default), rollout, flow, value-norm or grad-attention.")
    var method: ExplainMethod?

    @Option(name: .long, help: "For --method grad-attention on a sentence encoder: the sentence whose cosine similarity is explained.")
    var target: String?

    @Option(name: .long, help: "For --method grad-attention on a decoder: the next token whose log-probability is explained (for tiny-translator: a word of its translation, or <eos>).")
    var targetToken: String?

    func run() throws {
        try runReportingErrors {
            let format = json ? "json" : self.format.lowercased()
            guard ["text", "json", "svg", "html"].contains(format) else {
                throw CLIError("unknown format '\(self.format)': use text, json, svg or html")
            }
            let view = self.view.lowercased()
            guard ["heatmap", "flow"].contains(view) else {
                throw CLIError("unknown view '\(self.view)': use heatmap or flow (with --format svg)")
            }
            try checkMethodOptions()
            if let out { try ExplainOutput.checkWritable(out) }
            let source = try ExplainModel.resolve(model)
            let loaded = try ModelRegistry.load(folder: source.folder, name: source.name)
            // Check the layer and head before running the model.
            let sites = loaded.attentionSites
            guard !sites.isEmpty else { throw CLIError("\(source.name) has no attention layers to explain") }
            let layerIndex = try Self.index(layer ?? defaultLayer(sites), count: sites.count) {
                VizError.layerOutOfRange($0, layers: sites.count)
            }
            let headIndex = try Self.index(head ?? 0, count: sites[layerIndex].heads) {
                VizError.headOutOfRange($0, heads: sites[layerIndex].heads)
            }
            if sites[layerIndex].queries == .source { _ = try focusToken(in: loaded.tokens(sentence), format: format) }
            let trace = try ExplainTrace.capture(loaded, text: sentence)
            // Rows of decoder layers are target tokens, known once the model has run.
            let focus = try focusToken(in: trace.layer(layerIndex).queryTokens,
                                       format: sites[layerIndex].queries == .source ? "" : format)
            let layerTrace = try trace.layer(layerIndex)
            if let method, method != .raw {
                try runMethod(trace: trace, loaded: loaded, source: source, layer: layerIndex,
                              head: head == nil ? nil : headIndex, focus: focus, format: format)
                return
            }
            let caption = SVGCaption(model: source.name, layerLabel: layerTrace.label, head: headIndex, text: sentence)
            switch format {
            case "text":
                let toTerminal = out == nil && Terminal.useColor
                var text = ExplainText(trace: trace, layer: layerIndex, head: headIndex, focus: focus,
                                       color: toTerminal ? TerminalColor.detect() : .none, showValues: values,
                                       modelNote: source.note)
                text.decimals = Swift.max(0, Swift.min(decimals, 8))
                try ExplainOutput.emit(try text.render(), to: out, defaultName: nil, describe: "text trace")
            case "json":
                var value = try ExplainJSON.make(trace: trace, layer: layerIndex, head: headIndex, focus: focus,
                                                 model: ExplainJSON.ModelInfo(path: source.folder.path))
                if method == .raw { value = try Self.withMethodKeys(value, trace: trace, layer: layerIndex, head: headIndex) }
                try ExplainOutput.emit(value.rendered() + "\n", to: out, defaultName: nil, describe: "JSON")
            case "svg":
                let svg = view == "flow"
                    ? SVGFlow(layer: layerTrace, head: headIndex, caption: caption, focusRow: focus).render()
                    : SVGHeatmap(layer: layerTrace, head: headIndex, caption: caption, showValues: values, focusRow: focus).render()
                try ExplainOutput.emit(svg, to: out, defaultName: "attend-explain.svg",
                                       describe: "\(view == "flow" ? "flow" : "heatmap") SVG of \(source.name), \(layerTrace.label), head \(headIndex)")
            default:
                let html = try HTMLReport(trace: trace, layer: layerIndex, head: headIndex, focus: focus).render()
                try ExplainOutput.emit(html, to: out, defaultName: "attend-explain.html",
                                       describe: "HTML views of \(source.name) (\(trace.layers.count) layers × \(layerTrace.heads) heads)")
            }
        }
    }

    /// The index of `--token` among `tokens` (nil without `--token`); warns on text output when it occurs more than once.
    func focusToken(in tokens: [String], format: String) throws -> Int? {
        guard let token else { return nil }
        let found = try ExplainTrace.findToken(token, in: tokens)
        if found.occurrences.count > 1 && format == "text" {
            Terminal.printWarning("“\(token)” occurs \(found.occurrences.count) times (tokens \(found.occurrences.map(String.init).joined(separator: ", "))); "
                                  + "explaining token \(found.index). Pass --token INDEX for another.")
        }
        return found.index
    }

    /// A layer or head index; negative counts from the end.
    static func index(_ i: Int, count: Int, error: (Int) -> VizError) throws -> Int {
        let resolved = i < 0 ? count + i : i
        guard resolved >= 0 && resolved < count else { throw error(i) }
        return resolved
    }
}

/// Which model `explain` runs, and how to say so.
struct ExplainModel {
    var name: String
    var folder: URL
    /// Where it came from, for the text header.
    var note: String

    /// The model named on the command line (an embedded demo model's name, an installed name or a folder), else the
    /// default, all-MiniLM-L6-v2 when it is installed.
    static func resolve(_ requested: String?) throws -> ExplainModel {
        if let requested {
            if let folder = DemoModels.folder(named: requested) {
                return ExplainModel(name: requested, folder: folder, note: "embedded demo model: \(folder.lastPathComponent)")
            }
            let folder = try ModelStore.resolve(requested)
            let isPath = requested.contains("/") || requested.hasPrefix(".") || requested.hasPrefix("~")
            let name = isPath ? folder.lastPathComponent : requested
            return ExplainModel(name: name, folder: folder, note: "model folder: \(folder.path)")
        }
        let fallback = "all-MiniLM-L6-v2"
        do {
            let folder = try ModelStore.resolve(fallback)
            return ExplainModel(name: fallback, folder: folder,
                                note: "default model (no --model given): \(folder.path)")
        } catch {
            throw CLIError("no --model given and the default model \(fallback) is not usable: \(error)")
        }
    }
}

/// Writing results: stdout, a file, or a default file when a page would otherwise flood a terminal.
enum ExplainOutput {
    /// Fails early (before the model runs) when `path` cannot be written.
    static func checkWritable(_ path: String) throws {
        guard !path.isEmpty else { throw CLIError("--out needs a file name, got an empty string") }
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) {
            if isDir.boolValue { throw CLIError("cannot write \(path): it is a directory") }
            guard FileManager.default.isWritableFile(atPath: url.path) else { throw CLIError("cannot write \(path): permission denied") }
            return
        }
        let dir = url.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw CLIError("cannot write \(path): the folder \(dir.path) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: dir.path) else {
            throw CLIError("cannot write \(path): the folder \(dir.path) is not writable")
        }
    }

    static func emit(_ content: String, to out: String?, defaultName: String?, describe: String) throws {
        var path = out
        if path == nil, let defaultName, Terminal.stdoutIsTerminal { path = defaultName }
        guard let path else {
            FileHandle.standardOutput.write(Data(content.utf8))
            return
        }
        do {
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw CLIError("cannot write \(path): \((error as NSError).localizedDescription)")
        }
        let kb = Double(content.utf8.count) / 1024
        FileHandle.standardError.write(Data("attend: wrote \(path) (\(String(format: kb < 1024 ? "%.0f KB" : "%.1f MB", kb < 1024 ? kb : kb / 1024))): \(describe)\n".utf8))
    }
}

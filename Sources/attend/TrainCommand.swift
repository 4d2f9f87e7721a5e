import ArgumentParser
import Attend
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a demo model in Swift, with its loss curve as it goes.",
        discussion: """
        TASK is one of:
          translator   TinyTranslator, an encoder-decoder transformer, on a synthetic English→French corpus \
        (40 000 sentence pairs from a grammar with reordering and agreement; 2 000 held out). With --bottleneck, \
        the baseline whose decoder sees one pooled vector instead of cross-attention.
          induction    TinyGPT, a 2-layer causal transformer, on sequences with a repeated random span, where a \
        layer-2 head becomes an induction head.

        Writes into --out: model/ (config.json with the command and seed, vocab.json, model.safetensors), \
        log.csv (step,lr,loss,accuracy,grad_norm,elapsed_s), checkpoint.safetensors (parameters, AdamW \
        state, step; --resume continues from it and gives the same numbers as an uninterrupted run) and \
        eval.txt. A log line is printed every --log-every steps; on a terminal a progress bar runs on stderr. \
        The defaults finish in a few minutes on 2 cores in a release build (swift build -c release).

        Examples:
          attend train translator --out runs/translator
          attend train translator --bottleneck --out runs/bottleneck
          attend train induction --seed 3 --out runs/induction
          attend train translator --out runs/translator --resume
        """)

    enum Task: String, ExpressibleByArgument, CaseIterable {
        case translator, induction
    }

    @Argument(help: "What to train: translator or induction.")
    var task: Task

    @Option(name: .long, help: "Training steps (default: translator 2000, induction 3000).")
    var steps: Int?

    @Option(name: .long, help: "Seed for the initial weights, batch order and dropout.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Output folder.")
    var out: String?

    @Option(name: .long, help: "Sentences or sequences per batch (default: translator 64, induction 32).")
    var batchSize: Int?

    @Option(name: .long, help: "Peak learning rate (default: translator 2e-3, induction 3e-3).")
    var lr: Float?

    @Flag(name: .long, help: "Translator only: train the bottleneck baseline (one pooled context vector).")
    var bottleneck = false

    @Flag(name: .long, help: "Continue from OUT/checkpoint.safetensors.")
    var resume = false

    @Option(name: .long, help: "Print a log line every N steps.")
    var logEvery = 50

    @Option(name: .long, help: "Save OUT/checkpoint.safetensors every N steps (default: translator 400, induction 500; always at the end).")
    var checkpointEvery: Int?

    @Option(name: .long, help: "Translator only: training sentences (default 40000).")
    var sentences: Int?

    @Option(name: .long, help: "Held-out sentences to evaluate after training (translator; default 2000).")
    var evaluate: Int?

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let lr, !(lr > 0 && lr < 1) { throw ValidationError("--lr must be in (0, 1)") }
        if let sentences, sentences < 1 { throw ValidationError("--sentences must be at least 1") }
        if let evaluate, evaluate < 0 { throw ValidationError("--evaluate must be ≥ 0") }
        if logEvery < 1 { throw ValidationError("--log-every must be at least 1") }
        if let checkpointEvery, checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1") }
        if bottleneck && task != .translator { throw ValidationError("--bottleneck applies to the translator only") }
    }

    func run() throws {
        try runReportingErrors {
            let folder = URL(fileURLWithPath: out ?? "runs/\(task == .translator && bottleneck ? "bottleneck" : task.rawValue)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let command = (["attend", "train"] + CommandLine.arguments.dropFirst(2)).joined(separator: " ")
            let checkpoint = folder.appendingPathComponent("checkpoint.safetensors")
            if resume && !FileManager.default.fileExists(atPath: checkpoint.path) {
                throw CLIError("--resume: no checkpoint at \(checkpoint.path)")
            }
            let progress = TrainingPrinter(logEvery: logEvery)
            let log = try TrainingLog(csv: folder.appendingPathComponent("log.csv"), append: resume, sink: progress.record)
            switch task {
            case .translator: try trainTranslator(folder: folder, command: command, log: log, checkpoint: checkpoint, progress: progress)
            case .induction: try trainInduction(folder: folder, command: command, log: log, checkpoint: checkpoint, progress: progress)
            }
        }
    }

    func trainTranslator(folder: URL, command: String, log: TrainingLog, checkpoint: URL, progress: TrainingPrinter) throws {
        var o = TranslatorTrainingOptions()
        o.seed = seed
        o.bottleneck = bottleneck
        if let steps { o.steps = steps }
        if let checkpointEvery { o.checkpointEvery = checkpointEvery }
        if let batchSize { o.batchSize = batchSize }
        if let lr { o.learningRate = lr }
        if let sentences { o.trainSentences = sentences }
        if let evaluate { o.heldOutSentences = Swift.max(evaluate, 1) }
        let corpus = TranslatorTraining.corpus(o)
        let model = try TranslatorTraining.makeModel(o)
        print("TinyTranslator\(bottleneck ? " (bottleneck baseline)" : ""): \(model.parameterCount) parameters, "
              + "\(corpus.train.count) training pairs, \(corpus.heldOut.count) held out; \(o.steps) steps of \(o.batchSize)")
        if let example = corpus.train.first { print("example: \(example.sourceText)  →  \(example.targetText)") }
        let clock = ContinuousClock(), began = clock.now
        try TranslatorTraining.train(model, on: corpus.train, options: o, log: log, checkpoint: checkpoint, resume: resume)
        progress.finish()
        let seconds = (clock.now - began).seconds
        var training = o.provenance
        training["command"] = command
        training["train_seconds"] = String(format: "%.0f", seconds)
        training["threads"] = String(ProcessInfo.processInfo.activeProcessorCount)
        let evaluation = try model.evaluate(Array(corpus.heldOut.prefix(evaluate ?? corpus.heldOut.count)))
        training["held_out_exact_match"] = String(format: "%.4f", evaluation.exactMatch)
        if let best = evaluation.bestHead, !bottleneck {
            training["alignment_layer"] = String(best.layer + 1)
            training["alignment_head"] = String(best.head + 1)
            training["alignment_score"] = String(format: "%.1f%%", 100 * best.alignment)
        }
        let modelFolder = folder.appendingPathComponent("model")
        try TrainingOutput.replaceFolder(modelFolder) { try model.save(to: $0, training: training) }
        let report = TranslationReport.evaluationText(evaluation, title: bottleneck ? "bottleneck baseline" : "cross-attention")
            + "trained in \(String(format: "%.0f", seconds)) s; model in \(modelFolder.path)\n"
        try Data(report.utf8).write(to: folder.appendingPathComponent("eval.txt"))
        print(report, terminator: "")
    }

    func trainInduction(folder: URL, command: String, log: TrainingLog, checkpoint: URL, progress: TrainingPrinter) throws {
        var o = InductionTrainingOptions()
        o.seed = seed
        if let steps { o.steps = steps }
        if let checkpointEvery { o.checkpointEvery = checkpointEvery }
        if let batchSize { o.batchSize = batchSize }
        if let lr { o.learningRate = lr }
        let model = try InductionTraining.makeModel(o)
        print("TinyGPT: \(model.parameterCount) parameters; \(o.steps) steps of \(o.batchSize) sequences of \(o.sequenceLength) tokens "
              + "(random spans of \(o.minSpan)–\(o.maxSpan) tokens, each repeated after a gap of 0–\(o.maxGap))")
        let clock = ContinuousClock(), began = clock.now
        try InductionTraining.train(model, options: o, log: log, checkpoint: checkpoint, resume: resume)
        progress.finish()
        let seconds = (clock.now - began).seconds
        var training = o.provenance
        training["command"] = command
        training["train_seconds"] = String(format: "%.0f", seconds)
        training["threads"] = String(ProcessInfo.processInfo.activeProcessorCount)
        let evaluation = try model.evaluateInduction(InductionTask.evaluationBatch(options: o))
        let best = evaluation.bestInductionHead
        training["induction_layer"] = String(best.layer + 1)
        training["induction_head"] = String(best.head + 1)
        training["prefix_matching_score"] = String(format: "%.3f", best.score)
        let modelFolder = folder.appendingPathComponent("model")
        try TrainingOutput.replaceFolder(modelFolder) { try model.save(to: $0, training: training) }
        let report = InductionReport.text(evaluation) + "trained in \(String(format: "%.0f", seconds)) s; model in \(modelFolder.path)\n"
        try Data(report.utf8).write(to: folder.appendingPathComponent("eval.txt"))
        print(report, terminator: "")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

/// Prints a log line every `logEvery` steps (stdout) and, only when stderr is a terminal, a progress bar.
final class TrainingPrinter {
    let logEvery: Int
    let showBar = Terminal.stderrIsTerminal
    private var barShown = false

    init(logEvery: Int) { self.logEvery = logEvery }

    func record(_ r: TrainingRecord) {
        if r.step % logEvery == 0 || r.step == r.totalSteps || r.step == 1 {
            clearBar()
            print(r.line)
            fflush(stdout)
        }
        if showBar { drawBar(r) }
    }

    func drawBar(_ r: TrainingRecord) {
        let width = 30
        let done = r.totalSteps == 0 ? width : Swift.min(width, width * r.step / r.totalSteps)
        let rate = r.elapsed > 0 ? Double(r.step) / r.elapsed : 0
        let eta = rate > 0 ? Double(r.totalSteps - r.step) / rate : 0
        let bar = String(repeating: "█", count: done) + String(repeating: "░", count: width - done)
        FileHandle.standardError.write(Data("\r\(bar) \(r.step)/\(r.totalSteps)  loss \(String(format: "%.3f", r.loss))  eta \(String(format: "%.0f", eta))s ".utf8))
        barShown = true
    }

    func clearBar() {
        guard barShown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        barShown = false
    }

    func finish() { clearBar() }
}

/// Writing a trained model so that a kill at any point leaves either the previous folder or the new one whole.
enum TrainingOutput {
    /// Writes into a hidden sibling folder with `write`, then swaps it in with renames: the old folder is moved aside
    /// (and removed) only once the new one is complete. A kill between the two renames leaves no `model` folder and
    /// a hidden complete one, never a half-written `model`.
    static func replaceFolder(_ folder: URL, write: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        let staged = parent.appendingPathComponent(".\(folder.lastPathComponent).partial-\(getpid())")
        let previous = parent.appendingPathComponent(".\(folder.lastPathComponent).previous-\(getpid())")
        try? fm.removeItem(at: staged)
        do {
            try write(staged)
        } catch {
            try? fm.removeItem(at: staged)
            throw error
        }
        if fm.fileExists(atPath: folder.path) {
            guard rename(folder.path, previous.path) == 0 else {
                throw CLIError("cannot replace \(folder.path): \(String(cString: strerror(errno)))")
            }
        }
        guard rename(staged.path, folder.path) == 0 else {
            throw CLIError("cannot move the trained model into \(folder.path): \(String(cString: strerror(errno)))")
        }
        try? fm.removeItem(at: previous)
    }
}

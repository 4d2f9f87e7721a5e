import ArgumentParser
import Attend
import Foundation

extension EmbeddingInputFormat: ExpressibleByArgument {}
extension EmbeddingOutputFormat: ExpressibleByArgument {}
extension VectorElementType: ExpressibleByArgument {}
extension Shard.Key: ExpressibleByArgument {}

/// The streaming-job options of `attend embed` (`--input`/`--output` and friends); the job itself is
/// ``EmbeddingJob`` in AttendSearch.
struct EmbedStreamOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Input file of plain lines or JSON Lines, or - for stdin.", valueName: "file|-")) var input: String?
    @Option(help: ArgumentHelp("Output file (.jsonl, .npy, .fbin) or - for stdout (JSON Lines).", valueName: "file|-")) var output: String?
    @Option(help: ArgumentHelp("text or jsonl (default: from the extension; stdin is text).", valueName: "text|jsonl")) var inputFormat: EmbeddingInputFormat?
    @Option(help: ArgumentHelp("jsonl, npy or fbin (default: from the extension).", valueName: "jsonl|npy|fbin")) var outputFormat: EmbeddingOutputFormat?
    @Option(help: ArgumentHelp("Element type of a binary output.", valueName: "float32|float16")) var dtype: VectorElementType = .float32
    @Option(help: "JSON Lines field holding the text.") var textField = "text"
    @Option(help: "JSON Lines field holding the id (the line number when absent).") var idField = "id"
    @Option(help: "Lines per window: sorted by length inside, the unit of checkpoints and line shards.") var window = 1024
    @Option(help: ArgumentHelp("Embed only shard i of n (0-based).", valueName: "i/n")) var shard: String?
    @Option(help: "Number of shards, the index coming from JOB_COMPLETION_INDEX.") var shards: Int?
    @Option(help: ArgumentHelp("Assign windows of lines, or records by a hash of their id.", valueName: "line|id")) var shardBy: Shard.Key = .line
    @Flag(help: "Keep the text field in the output records (e.g. for `attend index build --embeddings`).") var keepText = false
    @Flag(help: "Drop bad records instead of writing error records.") var skipBad = false
    @Flag(help: "Continue an interrupted run of the same command from its last finished window.") var resume = false
    @Option(help: "Threads for the matrix kernels (default: all cores); the output is the same for any value.") var threads: Int?

    var isStreaming: Bool { input != nil || output != nil }

    func jobOptions(batchSize: Int, maxBatchTokens: Int = SentenceEmbedder.defaultMaxBatchTokens) throws -> EmbeddingJobOptions {
        var o = EmbeddingJobOptions(input: input ?? "-", output: output ?? "-", inputFormat: inputFormat, outputFormat: outputFormat)
        o.elementType = dtype
        o.textField = textField
        o.idField = idField
        o.batchSize = batchSize
        o.maxBatchTokens = maxBatchTokens
        o.window = window
        o.shardKey = shardBy
        o.skipBad = skipBad
        o.keepText = keepText
        o.resume = resume
        do {
            if let shard {
                guard shards == nil else { throw CLIError("give --shard i/n or --shards n, not both") }
                o.shard = try Shard(parsing: shard)
            } else if let shards {
                guard let text = ProcessInfo.processInfo.environment["JOB_COMPLETION_INDEX"], let i = Int(text) else {
                    throw CLIError("--shards needs JOB_COMPLETION_INDEX set to the shard index (as a Kubernetes Indexed Job does); or use --shard i/n")
                }
                o.shard = try Shard(index: i, count: shards)
            }
            try o.validate()
        } catch let e as SearchError {
            throw CLIError(e.message)
        }
        return o
    }

    func run(modelOptions: ModelOptions, precision: InferencePrecision, batchSize: Int, maxBatchTokens: Int) throws {
        let options = try jobOptions(batchSize: batchSize, maxBatchTokens: maxBatchTokens)
        if let threads {
            guard threads >= 1 else { throw CLIError("--threads must be at least 1, got \(threads)") }
            Kernels.maxThreads = threads
        }
        let embedder = try modelOptions.loadEmbedder(precision: precision)
        let name = URL(fileURLWithPath: modelOptions.model).lastPathComponent
        do {
            let identity = try ModelIdentity.of(embedder, name: name)
            let job = try EmbeddingJob(options: options, embedder: embedder, model: identity)
            let line = StreamProgress()
            let summary = try job.run { line.update($0) }
            line.finish()
            if summary.truncated > 0 {
                Terminal.printWarning("\(summary.truncated) documents were longer than the model's token limit and were truncated")
            }
            if summary.errors > 0 {
                Terminal.printWarning("\(summary.errors) bad records \(options.skipBad ? "skipped" : "written as error records")")
            }
        } catch let e as SearchError {
            throw CLIError(e.message)
        }
    }
}

/// Lines, documents/s and (for a file) percentage and ETA on stderr, redrawn in place; only on a terminal.
final class StreamProgress {
    let enabled = Terminal.stderrIsTerminal
    private var drawn = false

    func update(_ p: EmbeddingJobProgress) {
        guard enabled else { return }
        let rate = p.seconds > 0 ? Double(p.documents) / p.seconds : 0
        var text = "\rembedding: \(p.linesRead) lines, \(p.documents) documents, \(Int(rate)) docs/s"
        if let total = p.totalBytes, total > 0, p.bytesRead > 0 {
            let fraction = Double(p.bytesRead) / Double(total)
            let eta = p.seconds * (1 - fraction) / max(fraction, 1e-9)
            text += String(format: ", %.1f%%, ETA %dm%02ds", fraction * 100, Int(eta) / 60, Int(eta) % 60)
        }
        FileHandle.standardError.write(Data((text + "   ").utf8))
        drawn = true
    }

    func finish() { if drawn { FileHandle.standardError.write(Data("\n".utf8)) } }
}

// `attend embed --input … --output …`: a streaming, sharded, resumable embedding job — the map step a distributed
// engine (Spark, a Kubernetes Indexed Job) calls on its slice of a corpus.
//
// The input is read one line at a time. Lines are grouped into windows of `window` lines; inside a window the
// documents are sorted by token count and embedded in batches of `batchSize` (little padding), then the window's
// records are written in input order. Memory is bounded by the window, not by the input. Windows are the unit of
// everything that must be reproducible:
//
// - sharding by line: window k (input lines k·W+1 … (k+1)·W) belongs to shard k mod n, so a shard embeds exactly the
//   batches a single run would, and its bytes are the single run's bytes for those windows. Shards merged window by
//   window, round-robin, equal one run byte for byte. Sharding by id (a 64-bit FNV-1a hash of the id's JSON text,
//   mod n) forms windows of the shard's own records.
// - resume: after each window the outputs are fsync'd and a checkpoint `OUTPUT.progress` records the input lines done
//   and every output's length. `--resume` truncates the `.part` files to those lengths and skips those lines; the
//   windows that follow are the ones an uninterrupted run forms, so the final bytes are the same.
// - batches depend only on the input and the settings, never on timing or the thread count.
//
// Outputs go to `OUTPUT.part` (and its siblings) and are renamed into place only when complete: a killed run never
// leaves a file at the final path.
import AttendModels
import AttendTensor
import Foundation

/// How an input line is read.
public enum EmbeddingInputFormat: String, Sendable, CaseIterable {
    /// Each line is a document's text; its id is the line number.
    case text
    /// Each line is a JSON object with the text in a field (default "text") and an optional id.
    case jsonl

    /// `.jsonl`, `.ndjson` and `.json` are JSON Lines; anything else (and stdin) plain text.
    public static func infer(fromPath path: String) -> EmbeddingInputFormat {
        ["jsonl", "ndjson", "json"].contains(URL(fileURLWithPath: path).pathExtension.lowercased()) ? .jsonl : .text
    }
}

/// Which slice of the input a job embeds.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public enum Key: String, Sendable, CaseIterable { case line, id }
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw SearchError("shard count must be at least 1, got \(count)") }
        guard index >= 0, index < count else { throw SearchError("shard index must be in 0..<\(count), got \(index)") }
        self.index = index
        self.count = count
    }

    /// "i/n", e.g. "0/4".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw SearchError("--shard wants i/n (e.g. 0/4), got \"\(text)\"")
        }
        try self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// 64-bit FNV-1a of bytes: stable across runs, machines and languages.
    public static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

/// Everything that decides an embedding job's output.
public struct EmbeddingJobOptions: Sendable {
    public var input: String
    public var output: String
    public var inputFormat: EmbeddingInputFormat
    public var outputFormat: EmbeddingOutputFormat
    public var elementType: VectorElementType = .float32
    public var textField = "text"
    public var idField = "id"
    public var batchSize = SentenceEmbedder.defaultBatchSize
    /// Tokens per forward pass at most, counted with padding (``SentenceEmbedder/embed(_:batchSize:maxBatchTokens:progress:)``).
    public var maxBatchTokens = SentenceEmbedder.defaultMaxBatchTokens
    /// Lines per window: the unit of sorting, checkpoints and line sharding.
    public var window = 1024
    public var shard: Shard? = nil
    public var shardKey: Shard.Key = .line
    /// Drop bad records instead of writing error records.
    public var skipBad = false
    public var resume = false
    /// Keep the text field in the output records (a corpus index stores the documents' texts).
    public var keepText = false

    public init(input: String, output: String, inputFormat: EmbeddingInputFormat? = nil,
                outputFormat: EmbeddingOutputFormat? = nil) {
        self.input = input
        self.output = output
        self.inputFormat = inputFormat ?? (input == "-" ? .text : .infer(fromPath: input))
        self.outputFormat = outputFormat ?? (output == "-" ? .jsonl : .infer(fromPath: output))
    }

    /// Rejects impossible combinations with one line naming the option.
    public func validate() throws {
        guard batchSize >= 1 else { throw SearchError("--batch-size must be at least 1, got \(batchSize)") }
        guard maxBatchTokens >= 1 else { throw SearchError("--max-batch-tokens must be at least 1, got \(maxBatchTokens)") }
        guard window >= 1 else { throw SearchError("--window must be at least 1, got \(window)") }
        if output == "-" {
            guard outputFormat == .jsonl else { throw SearchError("binary output (\(outputFormat.rawValue)) needs a file, not stdout") }
            guard !resume else { throw SearchError("--resume needs an output file, not stdout") }
        }
        if outputFormat == .fbin && elementType != .float32 { throw SearchError(".fbin holds float32 only; use .npy for float16") }
        if outputFormat == .jsonl && elementType != .float32 { throw SearchError("float16 is for binary outputs (.npy)") }
        if input != "-" && input == output { throw SearchError("--input and --output are the same file") }
    }

    /// The files the job writes beside `output` (path without its extension + suffix).
    public var stem: String {
        let url = URL(fileURLWithPath: output)
        return url.pathExtension.isEmpty ? output : String(output.dropLast(url.pathExtension.count + 1))
    }
    public var metaPath: String { stem + ".meta.json" }
    public var idsPath: String { stem + ".ids.jsonl" }
    public var errorsPath: String { stem + ".errors.jsonl" }
    public var progressPath: String { output + ".progress" }
    public static func partPath(_ path: String) -> String { path + ".part" }
}

/// Where a running job is, for a progress line.
public struct EmbeddingJobProgress: Sendable {
    public var linesRead: Int
    public var documents: Int
    public var bytesRead: Int64
    /// Size of the input file, nil for stdin.
    public var totalBytes: Int64?
    public var seconds: Double
}

/// What a finished job did.
public struct EmbeddingJobSummary: Sendable, Equatable {
    public var linesRead = 0
    /// Records embedded (rows of a binary output).
    public var documents = 0
    public var errors = 0
    public var truncated = 0
    /// Lines found already done in a checkpoint.
    public var resumedLines = 0
}

/// A streaming embedding job over one input and one output.
public final class EmbeddingJob {
    public let options: EmbeddingJobOptions
    public let embedder: SentenceEmbedder
    public let model: ModelIdentity

    public init(options: EmbeddingJobOptions, embedder: SentenceEmbedder, model: ModelIdentity) throws {
        try options.validate()
        self.options = options
        self.embedder = embedder
        self.model = model
    }

    /// Runs the job to the end. `progress` is called after each window.
    @discardableResult
    public func run(progress: ((EmbeddingJobProgress) -> Void)? = nil) throws -> EmbeddingJobSummary {
        let reader = try LineReader(path: options.input)
        let sink = try EmbeddingSink(options: options, model: model)
        var summary = EmbeddingJobSummary()
        if let done = try sink.resumePoint() {
            summary = done.summary
            let skipped = try reader.skip(done.lines)
            guard skipped == done.lines else {
                throw SearchError("\(options.progressPath): records \(done.lines) lines done but \(reader.source) has only \(skipped); the input changed, delete the .progress file to start again")
            }
            summary.resumedLines = done.lines
        }
        let started = Date()
        let totalBytes = FileOps.size(options.input)
        var window: [ParsedRecord] = []
        var windowIndex = options.shardKey == .line ? reader.linesRead / options.window : 0
        /// Embeds and writes the window, then checkpoints: the first `linesDone` input lines are finished.
        func flush(linesDone: Int) throws {
            if !window.isEmpty {
                let out = try embed(window, summary: &summary)
                try sink.write(out)
                window.removeAll(keepingCapacity: true)
            }
            try sink.checkpoint(lines: linesDone, summary: summary)
            progress?(EmbeddingJobProgress(linesRead: linesDone, documents: summary.documents, bytesRead: reader.bytesRead,
                                           totalBytes: totalBytes, seconds: Date().timeIntervalSince(started)))
        }
        while let line = try reader.next() {
            summary.linesRead = line.number
            if options.shardKey == .line {
                // Window k = lines k·W+1 … (k+1)·W; a shard keeps the windows with k mod n = its index.
                let k = (line.number - 1) / options.window
                if k != windowIndex { try flush(linesDone: line.number - 1); windowIndex = k }
                if let shard = options.shard, k % shard.count != shard.index { continue }
                window.append(parse(line))
            } else {
                let record = parse(line)
                if let shard = options.shard {
                    let key = record.id.map { Array($0.rendered().utf8) } ?? Array(String(line.number).utf8)
                    guard Int(Shard.fnv1a(key) % UInt64(shard.count)) == shard.index else { continue }
                }
                window.append(record)
                if window.count == options.window { try flush(linesDone: line.number) }
            }
        }
        summary.linesRead = reader.linesRead
        try flush(linesDone: reader.linesRead)
        try sink.finish(summary: summary)
        return summary
    }

    /// One input line, parsed: either a text to embed or an error.
    struct ParsedRecord {
        var line: Int
        var id: JSONValue?
        var text: String?
        var error: String?
        var passthrough: JSONObject = [:]
    }

    func parse(_ line: InputLine) -> ParsedRecord {
        var r = ParsedRecord(line: line.number)
        guard let string = String(validatingUTF8: line.bytes.map { CChar(bitPattern: $0) } + [0]),
              string.utf8.count == line.bytes.count else {
            r.id = options.inputFormat == .text ? .int(line.number) : nil
            r.error = line.bytes.contains(0) ? "line contains a NUL byte" : "line is not valid UTF-8"
            return r
        }
        switch options.inputFormat {
        case .text:
            r.id = .int(line.number)
            r.text = string
            if options.keepText { r.passthrough["text"] = .string(string) }
        case .jsonl:
            let value: JSONValue
            do { value = try JSONValue.parse(string) } catch let e as JSONSyntaxError {
                r.error = "not valid JSON: \(e.detail)"
                return r
            } catch {
                r.error = "not valid JSON"
                return r
            }
            guard case .object(let object) = value else { r.error = "expected a JSON object, got \(value.kind)"; return r }
            r.id = object[options.idField] ?? .int(line.number)
            guard let field = object[options.textField] else { r.error = "no \"\(options.textField)\" field"; return r }
            guard case .string(let text) = field else { r.error = "\"\(options.textField)\" is \(field.kind), not a string"; return r }
            r.text = text
            for (k, v) in object where k != options.idField && (options.keepText || k != options.textField) { r.passthrough[k] = v }
        }
        return r
    }

    /// Embeds the window's texts (sorted by length inside `SentenceEmbedder.embed`) and returns its records in order.
    func embed(_ records: [ParsedRecord], summary: inout EmbeddingJobSummary) throws -> [EmbeddedRecord] {
        let good = records.indices.filter { records[$0].error == nil }
        let results = try embedder.embed(good.map { records[$0].text ?? "" }, batchSize: options.batchSize,
                                         maxBatchTokens: options.maxBatchTokens)   // [G] vectors
        var vectors = [[Float]?](repeating: nil, count: records.count)
        for (i, r) in zip(good, results) {
            vectors[i] = r.vector
            if r.encoding.wasTruncated { summary.truncated += 1 }
        }
        var out: [EmbeddedRecord] = []
        for (i, r) in records.enumerated() {
            if let v = vectors[i] {
                out.append(EmbeddedRecord(line: r.line, id: r.id ?? .null, passthrough: r.passthrough, vector: v, error: nil))
                summary.documents += 1
            } else {
                summary.errors += 1
                if !options.skipBad {
                    out.append(EmbeddedRecord(line: r.line, id: r.id ?? .null, passthrough: [:], vector: nil, error: r.error))
                }
            }
        }
        return out
    }
}

/// A record ready to write: a vector or an error.
struct EmbeddedRecord {
    var line: Int
    var id: JSONValue
    var passthrough: JSONObject
    var vector: [Float]?
    var error: String?

    var errorJSON: JSONValue {
        .object([("id", id), ("error", .string(error ?? "")), ("line", .int(line))])
    }
}

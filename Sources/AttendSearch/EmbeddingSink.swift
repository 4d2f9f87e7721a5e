// Where an embedding job's records go: stdout, or `.part` files with a checkpoint after every window, renamed into
// place when the job is complete (the main output last, so its presence means the whole job finished).
import AttendTensor
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class EmbeddingSink {
    let options: EmbeddingJobOptions
    let model: ModelIdentity
    private var main: OutputFile?
    private var ids: OutputFile?
    private var errors: OutputFile?
    private var rows = 0

    init(options: EmbeddingJobOptions, model: ModelIdentity) throws {
        self.options = options
        self.model = model
    }

    private var isBinary: Bool { options.outputFormat != .jsonl }

    /// The settings a checkpoint must match to be resumed.
    var settings: JSONValue {
        .object([
            ("input", .string(options.input)), ("input_format", .string(options.inputFormat.rawValue)),
            ("output_format", .string(options.outputFormat.rawValue)), ("dtype", .string(options.elementType.rawValue)),
            ("text_field", .string(options.textField)), ("id_field", .string(options.idField)),
            ("batch_size", .int(options.batchSize)), ("window", .int(options.window)),
            ("shard", options.shard.map { .string($0.description) } ?? .null), ("shard_by", .string(options.shardKey.rawValue)),
            ("skip_bad", .bool(options.skipBad)), ("keep_text", .bool(options.keepText)), ("model", model.json),
        ])
    }

    /// Opens the outputs; with `--resume` and a matching checkpoint, returns what it says is done.
    func resumePoint() throws -> (lines: Int, summary: EmbeddingJobSummary)? {
        guard options.output != "-" else { return nil }
        var keep: [String: Int64] = [:]
        var result: (Int, EmbeddingJobSummary)? = nil
        if options.resume, FileOps.exists(options.progressPath) {
            guard let data = FileManager.default.contents(atPath: options.progressPath) else {
                throw SearchError("\(options.progressPath): cannot be read")
            }
            let p = try JSONValue.parse(data, source: options.progressPath)
            guard p["settings"] == settings else {
                throw SearchError("\(options.progressPath): was written by a run with other settings (input, model, format, shard, window or batch size); run the same command, or delete it to start again")
            }
            guard let lines = p["lines"]?.intValue, let files = p["files"]?.objectValue else {
                throw SearchError("\(options.progressPath): no \"lines\" or \"files\"")
            }
            for (k, v) in files { keep[k] = Int64(v.intValue ?? 0) }
            // Killed while renaming the finished files: put back what was renamed (the main output goes last).
            for path in [options.idsPath, options.errorsPath, options.output]
            where !FileOps.exists(EmbeddingJobOptions.partPath(path)) && FileOps.exists(path) {
                try FileOps.rename(path, to: EmbeddingJobOptions.partPath(path))
            }
            var s = EmbeddingJobSummary()
            s.documents = p["documents"]?.intValue ?? 0
            s.errors = p["errors"]?.intValue ?? 0
            s.truncated = p["truncated"]?.intValue ?? 0
            s.linesRead = lines
            rows = s.documents
            result = (lines, s)
        } else {
            FileOps.remove(options.progressPath)
        }
        main = try OutputFile(path: EmbeddingJobOptions.partPath(options.output), keeping: keep["main"] ?? 0)
        if isBinary {
            if main?.length == 0 { try main?.append(header(rows: 0)) }
            ids = try OutputFile(path: EmbeddingJobOptions.partPath(options.idsPath), keeping: keep["ids"] ?? 0)
            if !options.skipBad {
                errors = try OutputFile(path: EmbeddingJobOptions.partPath(options.errorsPath), keeping: keep["errors"] ?? 0)
            }
        }
        return result
    }

    private func header(rows: Int) -> [UInt8] {
        switch options.outputFormat {
        case .jsonl: return []
        case .npy: return VectorBytes.npyHeader(rows: rows, columns: model.dimension, type: options.elementType)
        case .fbin: return VectorBytes.fbinHeader(rows: rows, columns: model.dimension)
        }
    }

    /// Appends one window's records.
    func write(_ records: [EmbeddedRecord]) throws {
        var mainBytes: [UInt8] = []
        var idBytes: [UInt8] = []
        var errorBytes: [UInt8] = []
        var text = ""
        for r in records {
            if isBinary {
                if let v = r.vector {
                    VectorBytes.append(v, as: options.elementType, to: &mainBytes)
                    var o: JSONObject = [("id", r.id)]
                    o += r.passthrough
                    text.removeAll(keepingCapacity: true)
                    JSONValue.object(o).write(into: &text)
                    idBytes += Array(text.utf8) + [0x0A]
                    rows += 1
                } else {
                    errorBytes += Array(r.errorJSON.rendered().utf8) + [0x0A]
                }
            } else {
                text.removeAll(keepingCapacity: true)
                if let v = r.vector {
                    var o: JSONObject = [("id", r.id)]
                    o += r.passthrough
                    o.append(("embedding", .array(v.map { .float($0) })))
                    JSONValue.object(o).write(into: &text)
                } else {
                    r.errorJSON.write(into: &text)
                }
                mainBytes += Array(text.utf8) + [0x0A]
            }
        }
        if options.output == "-" {
            try writeStdout(mainBytes)
            return
        }
        try main?.append(mainBytes)
        if !idBytes.isEmpty { try ids?.append(idBytes) }
        if !errorBytes.isEmpty { try errors?.append(errorBytes) }
    }

    /// Makes everything written so far durable and records it: `lines` input lines are done.
    func checkpoint(lines: Int, summary: EmbeddingJobSummary) throws {
        guard options.output != "-", let main else { return }
        var files: JSONObject = [("main", .int(Int(main.length)))]
        if let ids { files.append(("ids", .int(Int(ids.length)))) }
        if let errors { files.append(("errors", .int(Int(errors.length)))) }
        for f in [main, ids, errors].compactMap({ $0 }) { try f.sync() }
        let p = JSONValue.object([
            ("version", .int(1)), ("settings", settings), ("lines", .int(lines)),
            ("documents", .int(summary.documents)), ("errors", .int(summary.errors)), ("truncated", .int(summary.truncated)),
            ("files", .object(files)),
        ])
        try FileOps.writeAtomically(Array((p.rendered() + "\n").utf8), to: options.progressPath)
    }

    /// Patches the header, writes the sidecar and renames every file into place, the main output last.
    func finish(summary: EmbeddingJobSummary) throws {
        guard options.output != "-", let main else { return }
        if isBinary { try main.patch(header(rows: rows), at: 0) }
        for f in [main, ids, errors].compactMap({ $0 }) { try f.sync(); f.close() }
        var meta: JSONObject = [
            ("model", model.json), ("format", .string(options.outputFormat.rawValue)),
            ("dtype", .string(options.elementType.rawValue)), ("count", .int(summary.documents)),
            ("errors", .int(summary.errors)), ("truncated", .int(summary.truncated)),
            ("input", .string(options.input)), ("text_field", .string(options.textField)),
            ("shard", options.shard.map { .string($0.description) } ?? .null), ("shard_by", .string(options.shardKey.rawValue)),
            ("window", .int(options.window)), ("batch_size", .int(options.batchSize)),
        ]
        if isBinary {
            meta.append(("ids", .string(URL(fileURLWithPath: options.idsPath).lastPathComponent)))
            if errors != nil && summary.errors > 0 { meta.append(("errors_file", .string(URL(fileURLWithPath: options.errorsPath).lastPathComponent))) }
        }
        try FileOps.writeAtomically(Array((JSONValue.object(meta).rendered() + "\n").utf8), to: options.metaPath)
        if ids != nil { try FileOps.rename(EmbeddingJobOptions.partPath(options.idsPath), to: options.idsPath) }
        if errors != nil {
            if summary.errors > 0 {
                try FileOps.rename(EmbeddingJobOptions.partPath(options.errorsPath), to: options.errorsPath)
            } else {
                FileOps.remove(EmbeddingJobOptions.partPath(options.errorsPath))
                FileOps.remove(options.errorsPath)
            }
        }
        try FileOps.rename(EmbeddingJobOptions.partPath(options.output), to: options.output)
        FileOps.remove(options.progressPath)
    }

    private func writeStdout(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let n = sysWrite(STDOUT_FILENO, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SearchError("stdout: write failed (\(String(cString: strerror(errno))))")
                }
                done += n
            }
        }
    }
}

import ArgumentParser
import Attend
import Foundation

extension VectorStorage: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "f32", "float32": self = .float32
        case "f16", "float16": self = .float16
        case "int8", "i8": self = .int8
        default: return nil
        }
    }
}

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build and inspect a corpus index: a corpus embedded once, searched many times.",
        discussion: """
        Examples:
          attend index build --input docs.jsonl --out corpus.attendindex
          attend index build --input docs.jsonl --out corpus.attendindex --storage f16 --hnsw
          attend index info corpus.attendindex
          attend search --index corpus.attendindex "a pet sleeping indoors"
        """,
        subcommands: [IndexBuildCommand.self, IndexInfoCommand.self, IndexBenchCommand.self])
}

struct IndexBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Embed a corpus and write it as one memory-mappable index file.",
        discussion: """
        The input is plain lines or JSON Lines ({"id", "text", …}; other fields are stored and returned with each hit), \
        embedded as `attend embed --input` does (streaming, bad records reported and left out). The index holds the \
        model's name and SHA-256 (a search with another model is refused), the vectors as float32, float16 or int8 \
        (per-vector scale), the documents, and with --hnsw an HNSW graph for `attend search --approximate`. It is \
        written to OUT.tmp and renamed when complete; the embedding step resumes with --resume. The format is \
        described in docs/SCALE.md.

        Examples:
          attend index build --input docs.jsonl --out corpus.attendindex
          attend index build --input docs.txt --out corpus.attendindex --storage int8 --hnsw --m 16 --ef-construction 100
          attend embed --input docs.jsonl --output vectors.npy --keep-text && attend index build --embeddings vectors.npy --out corpus.attendindex
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: ArgumentHelp("Documents: plain lines or JSON Lines.", valueName: "file")) var input: String?
    @Option(help: ArgumentHelp("Instead of --input: a float32 .npy written by `attend embed --keep-text`, with its .ids.jsonl and .meta.json beside it (nothing is embedded again).", valueName: "file.npy")) var embeddings: String?
    @Option(help: ArgumentHelp("The index file to write.", valueName: "file")) var out: String
    @Option(help: ArgumentHelp("How vectors are stored.", valueName: "f32|f16|int8")) var storage: VectorStorage = .float32
    @Option(help: ArgumentHelp("text or jsonl (default: from the extension).", valueName: "text|jsonl")) var inputFormat: EmbeddingInputFormat?
    @Option(help: "JSON Lines field holding the text.") var textField = "text"
    @Option(help: "JSON Lines field holding the id (the line number when absent).") var idField = "id"
    @Option(help: ArgumentHelp(SentenceEmbedder.batchSizeHelp)) var batchSize = SentenceEmbedder.defaultBatchSize
    @Option(help: ArgumentHelp(SentenceEmbedder.maxBatchTokensHelp)) var maxBatchTokens = SentenceEmbedder.defaultMaxBatchTokens
    @Option(help: "Lines per window of the embedding step.") var window = 1024
    @Flag(help: "Continue an interrupted embedding step.") var resume = false
    @Flag(help: "Also build an HNSW graph for approximate search.") var hnsw = false
    @Option(help: "HNSW links per node (2M on the bottom level).") var m = 16
    @Option(help: "HNSW candidate list while building.") var efConstruction = 100
    @Option(help: "HNSW level seed (the same seed gives the same graph).") var seed: UInt64 = 1

    func run() throws {
        try runReportingErrors {
            guard (input == nil) != (embeddings == nil) else { throw CLIError("give --input FILE (documents) or --embeddings FILE.npy (one of them)") }
            guard out != input, out != embeddings else { throw CLIError("--out is the input file") }
            let hnswParameters = hnsw ? HNSWParameters(m: m, efConstruction: efConstruction, seed: seed) : nil
            if let embeddings {
                do {
                    try hnswParameters?.validate()
                    let job = EmbeddingJobOptions(input: "-", output: embeddings)
                    guard let data = FileManager.default.contents(atPath: job.metaPath) else {
                        throw CLIError("\(job.metaPath): not found; --embeddings needs the .meta.json that `attend embed` writes beside the .npy")
                    }
                    let meta = try JSONValue.parse(data, source: job.metaPath)
                    let identity = try ModelIdentity(json: meta["model"] ?? .null, source: job.metaPath)
                    let summary = try CorpusIndexWriter.write(vectorsNpy: embeddings, records: job.idsPath, model: identity,
                                                              to: out, storage: storage, hnsw: hnswParameters)
                    report(summary)
                } catch let e as SearchError {
                    throw CLIError(e.message)
                } catch let e as JSONSyntaxError {
                    throw CLIError(e.description)
                }
                return
            }
            guard let input else { return }
            let embedder = try modelOptions.loadEmbedder()
            do {
                let identity = try ModelIdentity.of(embedder, name: URL(fileURLWithPath: modelOptions.model).lastPathComponent)
                var options = EmbeddingJobOptions(input: input, output: out + ".embeddings.npy", inputFormat: inputFormat, outputFormat: .npy)
                options.textField = textField
                options.idField = idField
                options.batchSize = batchSize
                options.maxBatchTokens = maxBatchTokens
                options.window = window
                options.resume = resume
                let line = StreamProgress()
                let summary = try CorpusIndexWriter.build(job: options, embedder: embedder, model: identity, to: out, storage: storage,
                                                          hnsw: hnswParameters, jobProgress: { line.update($0) }, embedded: { embedded in
                    line.finish()
                    if embedded.errors > 0 {
                        Terminal.printWarning("\(embedded.errors) bad records left out; they are listed in \(options.errorsPath)")
                    }
                }) { message in
                    if Terminal.stderrIsTerminal { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
                }
                report(summary)
            } catch let e as SearchError {
                throw CLIError(e.message)
            }
        }
    }

    func report(_ summary: CorpusIndexWriter.Summary) {
        var text = "\(out): \(summary.count) documents, \(summary.dimension) dims, \(storage.rawValue), \(summary.bytes) bytes"
        if let s = summary.hnswSeconds { text += String(format: ", HNSW built in %.1f s", s) }
        print(text)
    }
}

struct IndexInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "What an index holds: model, count, dimension, storage, HNSW parameters.",
        discussion: """
        Examples:
          attend index info corpus.attendindex
          attend index info corpus.attendindex --json
        """)

    @Argument(help: "The index file.") var index: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let ix: CorpusIndex
            do { ix = try CorpusIndex(path: index) } catch let e as SearchError { throw CLIError(e.message) }
            var o: JSONObject = [("path", .string(index)), ("model", ix.model.json), ("count", .int(ix.count)),
                                 ("dimension", .int(ix.dimension)), ("storage", .string(ix.storage.rawValue)),
                                 ("bytes_per_vector", .int(ix.storage.bytesPerVector(dimension: ix.dimension)))]
            if let g = ix.graph { o.append(("hnsw", g.parametersJSON)) }
            if json { print(JSONValue.object(o).rendered()); return }
            print("\(index): \(ix.count) documents embedded by \(ix.model.name) (sha256 \(ix.model.sha256.prefix(12))…)")
            print("  \(ix.dimension) dims stored as \(ix.storage.rawValue) (\(ix.storage.bytesPerVector(dimension: ix.dimension)) bytes per vector)")
            if let g = ix.graph { print("  HNSW graph: M \(g.parameters.m), efConstruction \(g.parameters.efConstruction), seed \(g.parameters.seed)") }
        }
    }
}

struct IndexBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time exact and HNSW search on an index with seeded random unit queries (no model needed).",
        discussion: """
        Prints the exact search latency for one query at a time and for a batch, and with an HNSW graph its latency \
        and recall@k against the exact result. Use a release build; numbers from debug builds mean little.

        Examples:
          attend index bench corpus.attendindex --queries 20 --top 10 --ef 64
        """)

    @Argument(help: "The index file.") var index: String
    @Option(help: "Random queries.") var queries = 20
    @Option(help: "k of the top-k.") var top = 10
    @Option(help: "HNSW beam widths to try (comma-separated).") var ef = "32,64,128"
    @Option(help: "Query seed.") var seed: UInt64 = 1
    @Flag(help: "Queries near stored rows (a row plus a little noise, normalised) instead of random directions.") var nearRows = false
    @Option(help: ArgumentHelp("Another index of the same vectors (e.g. float32): also print the recall@k of this index's exact top-k against its exact top-k.", valueName: "file")) var reference: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            guard queries >= 1, top >= 1 else { throw CLIError("--queries and --top must be at least 1") }
            let efs = ef.split(separator: ",").compactMap { Int($0) }
            do {
                let ix = try CorpusIndex(path: index)
                let qs = nearRows ? IndexBenchmark.queriesNearRows(ix, queries, seed: seed)
                    : IndexBenchmark.randomUnitVectors(queries, ix.dimension, seed: seed)
                let result = try IndexBenchmark.run(ix, queries: qs, k: top, efs: ix.graph == nil ? [] : efs)
                if json { print(result.json.rendered()); return }
                print("\(index): \(ix.count) × \(ix.dimension) \(ix.storage.rawValue), \(queries) \(nearRows ? "queries near stored rows" : "random unit queries"), top \(top)")
                print(String(format: "  exact, one query at a time: %.2f ms per query (median)", result.exactMillis))
                print(String(format: "  exact, %d queries in one batch: %.2f ms per query", queries, result.exactBatchMillis))
                if let reference {
                    let other = try CorpusIndex(path: reference)
                    let mine = try ix.searchExact(qs, k: top), theirs = try other.searchExact(qs, k: top)
                    let recall = zip(mine, theirs).map { a, b in Double(Set(a.map(\.index)).intersection(b.map(\.index)).count) / Double(max(1, b.count)) }
                        .reduce(0, +) / Double(qs.count)
                    print(String(format: "  exact recall@%d against %@ (%@): %.4f", top, reference, other.storage.rawValue, recall))
                }
                for a in result.approximate {
                    print(String(format: "  HNSW ef %d: %.3f ms per query (median), recall@%d %.3f, %.1f× faster than exact", a.ef, a.millis, top, a.recall, result.exactMillis / a.millis))
                }
            } catch let e as SearchError {
                throw CLIError(e.message)
            }
        }
    }
}

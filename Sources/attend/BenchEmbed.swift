import Attend
import Foundation

/// `attend bench embed`: sentence-embedding throughput of a model on the baselines' two workloads
/// (1,000 sentences of 12 tokens and 256 of 128, batch 32), tokenisation and pooling included, as
/// `../shared/baselines/bench_onnx.py` and `bench_st.py` time them.
enum EmbedBench {
    struct Case {
        var name: String
        var sentences: [String]
        var tokens: Int
    }

    struct Result {
        var impl: String
        var caseName: String
        var n: Int
        var tokens: Int
        var times: [Double]
        var median: Double { times.sorted()[times.count / 2] }
        var sentencesPerSecond: Double { Double(n) / median }
    }

    /// Sentences of exactly `tokens` ids ([CLS] + words + "." + [SEP]) from single-piece vocabulary words,
    /// like the baselines' `make_sentences` (other words: pass `--short`/`--long` files to use theirs).
    static func makeSentences(count: Int, tokens: Int, tokenizer: Tokenizer, seed: UInt64) -> [String] {
        let words = (2000..<12000).compactMap { tokenizer.token(for: $0) }
            .filter { $0.count >= 3 && $0.allSatisfy { $0.isASCII && $0.isLowercase && $0.isLetter } }
        guard !words.isEmpty else { return [] }
        var rng = SeededRNG(seed: seed &+ UInt64(tokens))
        return (0..<count).map { _ in
            let s = (0..<(tokens - 3)).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ")
            return s.prefix(1).uppercased() + s.dropFirst() + "."
        }
    }

    static func peakRSSMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024   // KiB on Linux
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1024 / 1024   // bytes on Darwin
        #endif
    }

    static func loadLines(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): no such file") }
        return TextInput.lines(of: data, source: path).filter { !$0.isEmpty }
    }

    /// Times `repeats` runs of each case after one warm-up; checks every sentence has the expected length.
    static func run(embedder: SentenceEmbedder, cases: [Case], batchSize: Int, repeats: Int, attentions: Bool,
                    progress: (String) -> Void) throws -> [Result] {
        var results: [Result] = []
        for c in cases {
            let lengths = Set(c.sentences.map { embedder.tokenizer.encode($0).count })
            if lengths != [c.tokens] {
                Terminal.printWarning("\(c.name): sentences tokenize to \(lengths.sorted()) tokens, expected \(c.tokens)")
            }
            for withWeights in attentions ? [false, true] : [false] {
                let label = withWeights ? "attend + all attention weights" : "attend"
                let once = {
                    if withWeights {
                        for start in stride(from: 0, to: c.sentences.count, by: batchSize) {
                            let batch = c.sentences[start..<min(c.sentences.count, start + batchSize)]
                            let encodings = batch.map { embedder.tokenizer.encode($0, maxLength: embedder.maxSeqLength) }
                            let recorder = IntermediateRecorder { $0.hasSuffix(".weights") }
                            _ = try embedder.embedBatch(encodings, observer: recorder)
                        }
                    } else {
                        _ = try embedder.embed(c.sentences, batchSize: batchSize)
                    }
                }
                try once()   // warm-up
                var times: [Double] = []
                for r in 0..<repeats {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try once()
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                    progress("\(c.name) \(label): run \(r + 1)/\(repeats) \(String(format: "%.3f", times.last ?? 0)) s")
                }
                results.append(Result(impl: label, caseName: c.name, n: c.sentences.count, tokens: c.tokens, times: times))
            }
        }
        return results
    }
}

extension BenchCommand {
    func runEmbed() throws {
        guard batchSize >= 1 else { throw CLIError("--batch-size must be at least 1, got \(batchSize)") }
        let embedder = try modelOptions.loadEmbedder()
        let shortSet = try short.map(EmbedBench.loadLines)
            ?? EmbedBench.makeSentences(count: 1000, tokens: 12, tokenizer: embedder.tokenizer, seed: 1)
        let longSet = try long.map(EmbedBench.loadLines)
            ?? EmbedBench.makeSentences(count: 256, tokens: 128, tokenizer: embedder.tokenizer, seed: 1)
        let cases = [EmbedBench.Case(name: "short", sentences: shortSet, tokens: 12),
                     EmbedBench.Case(name: "long", sentences: longSet, tokens: 128)]
        // Verify before timing: the first fixture-style check is that embeddings are unit length and finite.
        let probe = try embedder.embed(["The cat sat on the mat"])[0].vector
        let norm = probe.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        guard probe.allSatisfy({ $0.isFinite }), !embedder.normalize || abs(norm - 1) < 1e-4 else {
            throw CLIError("embedding check failed (norm \(norm)); not timing")
        }
        let progress: (String) -> Void = { line in
            if Terminal.stderrIsTerminal { FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8)) }
        }
        let results = try EmbedBench.run(embedder: embedder, cases: cases, batchSize: batchSize, repeats: repeats,
                                          attentions: attentions, progress: progress)
        if Terminal.stderrIsTerminal { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        let rss = EmbedBench.peakRSSMiB()
        if json {
            print(JSONOut.render(.object([
                ("bench", .string("attend_embed")), ("model", .string(modelOptions.model)),
                ("isa", .string("\(Kernels.activeISA)")), ("batch_size", .int(batchSize)),
                ("peak_rss_mib", .double(rss)),
                ("results", .array(results.map { r in
                    .object([("impl", .string(r.impl)), ("case", .string(r.caseName)), ("n", .int(r.n)),
                             ("tokens", .int(r.tokens)), ("median_s", .double(r.median)),
                             ("min_s", .double(r.times.min() ?? 0)), ("max_s", .double(r.times.max() ?? 0)),
                             ("sent_per_s", .double(r.sentencesPerSecond))])
                })),
            ])))
            return
        }
        print("\(modelOptions.model), batch \(batchSize), ISA \(Kernels.activeISA), \(repeats) runs after a warm-up; tokenisation and pooling included")
        print("case    impl                              sentences  median s   min s    max s   sentences/s")
        for r in results {
            print(padRight(r.caseName, 8) + padRight(r.impl, 34) + padLeft(String(r.n), 9)
                  + String(format: "%10.3f%8.3f%9.3f%13.1f", r.median, r.times.min() ?? 0, r.times.max() ?? 0, r.sentencesPerSecond))
        }
        print(String(format: "peak RSS %.1f MiB", rss))
    }
}

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
        /// Per run, the share of the machine's CPUs other processes used meanwhile (nil: not observable).
        var others: [Double?]
        var waited: Double
        /// Runs during which other processes used under 5% of the CPUs.
        var clean: [Double] { zip(times, others).compactMap { t, o in (o ?? 0) < 0.05 ? t : nil } }
        /// Median over clean runs when at least 3 are clean (as `benchlib.py`), else over all runs.
        var median: Double {
            let pool = clean.count >= 3 ? clean : times
            return pool.sorted()[pool.count / 2]
        }
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

    static func loadLines(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): no such file") }
        return TextInput.lines(of: data, source: path).filter { !$0.isEmpty }
    }

    /// Times `repeats` runs of each case after one warm-up; checks every sentence has the expected length.
    static func run(embedder: SentenceEmbedder, cases: [Case], batchSize: Int, maxBatchTokens: Int, repeats: Int, attentions: Bool,
                    quietWait: Double = 60, progress: (String) -> Void) throws -> [Result] {
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
                        _ = try embedder.embed(c.sentences, batchSize: batchSize, maxBatchTokens: maxBatchTokens)
                    }
                }
                // The machine may be shared: wait for it to go quiet, then note how busy others were per run.
                progress("\(c.name) \(label): waiting for a quiet machine")
                let waited = CPUCounters.waitQuiet(maxSeconds: quietWait)
                try once()   // warm-up
                var times: [Double] = [], others: [Double?] = []
                for r in 0..<repeats {
                    let c0 = CPUCounters.now()
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try once()
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                    times.append(seconds)
                    others.append(c0.flatMap { start in CPUCounters.now()?.othersBusy(since: start, seconds: seconds) })
                    progress("\(c.name) \(label): run \(r + 1)/\(repeats) \(String(format: "%.3f", seconds)) s")
                }
                results.append(Result(impl: label, caseName: c.name, n: c.sentences.count, tokens: c.tokens,
                                      times: times, others: others, waited: waited))
            }
        }
        return results
    }
}

extension BenchCommand {
    func runEmbed() throws {
        try SentenceEmbedder.validateBatching(batchSize: batchSize, maxBatchTokens: maxBatchTokens)
        let embedder = try modelOptions.loadEmbedder(precision: precisionOption.precision)
        var cases: [EmbedBench.Case] = []
        if sets.contains("short") {
            let shortSet = try short.map(EmbedBench.loadLines)
                ?? EmbedBench.makeSentences(count: 1000, tokens: 12, tokenizer: embedder.tokenizer, seed: 1)
            cases.append(EmbedBench.Case(name: "short", sentences: shortSet, tokens: 12))
        }
        if sets.contains("long") {
            let longSet = try long.map(EmbedBench.loadLines)
                ?? EmbedBench.makeSentences(count: 256, tokens: 128, tokenizer: embedder.tokenizer, seed: 1)
            cases.append(EmbedBench.Case(name: "long", sentences: longSet, tokens: 128))
        }
        // Verify before timing: the first fixture-style check is that embeddings are unit length and finite.
        let probe = try embedder.embed(["The cat sat on the mat"])[0].vector
        let norm = probe.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        guard probe.allSatisfy({ $0.isFinite }), !embedder.normalize || abs(norm - 1) < 1e-4 else {
            throw CLIError("embedding check failed (norm \(norm)); not timing")
        }
        let progress: (String) -> Void = { line in
            if Terminal.stderrIsTerminal { FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8)) }
        }
        let results = try EmbedBench.run(embedder: embedder, cases: cases, batchSize: batchSize, maxBatchTokens: maxBatchTokens, repeats: repeats,
                                          attentions: attentions, quietWait: quietWait, progress: progress)
        if Terminal.stderrIsTerminal { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        let rss = peakRSSMiB()
        // Useful work per sentence and the machine's limit, for a fraction of peak comparable across machines.
        let peak = SittingPeak.measure()
        func gflops(_ r: EmbedBench.Result) -> Double { embedder.model.flops(tokens: r.tokens) * r.sentencesPerSecond / 1e9 }
        if json {
            print(JSONValue.object([
                ("bench", .string("attend_embed")), ("model", .string(modelOptions.model)),
                ("isa", .string("\(Kernels.activeISA)")), ("batch_size", .int(batchSize)),
                ("max_batch_tokens", .int(maxBatchTokens)),
                ("precision", .string("\(precisionOption.precision)")),
                ("bf16_native", .bool(Kernels.bf16IsNative)), ("bf16_kernel", .string(Kernels.bf16KernelName)),
                ("int8_kernel", .string(Kernels.int8KernelName)),
                ("peak_rss_mib", .double(rss)), ("peak_fp32_gflops", .double(peak)),
                ("results", .array(results.map { r in
                    .object([("impl", .string(r.impl)), ("case", .string(r.caseName)), ("n", .int(r.n)),
                             ("tokens", .int(r.tokens)), ("median_s", .double(r.median)),
                             ("min_s", .double(r.times.min() ?? 0)), ("max_s", .double(r.times.max() ?? 0)),
                             ("repeats", .int(r.times.count)), ("clean_repeats", .int(r.clean.count)),
                             ("max_other_cpu_frac", .double(r.others.compactMap { $0 }.max() ?? 0)),
                             ("waited_for_quiet_s", .double(r.waited)),
                             ("sent_per_s", .double(r.sentencesPerSecond)),
                             ("gflop_per_sentence", .double(embedder.model.flops(tokens: r.tokens) / 1e9)),
                             ("gflops", .double(gflops(r))), ("fraction_of_fp32_peak", .double(gflops(r) / peak))])
                })),
            ]).rendered())
            return
        }
        let precision: String
        switch precisionOption.precision {
        case .fp32: precision = "fp32"
        case .bf16: precision = "bf16 (\(Kernels.bf16KernelName) kernel)"
        case .int8: precision = "int8 (\(Kernels.int8KernelName) kernel)"
        }
        print("\(modelOptions.model), \(precision), batch \(batchSize) (passes of at most \(maxBatchTokens) tokens), ISA \(Kernels.activeISA), \(repeats) runs after a warm-up; tokenisation and pooling included")
        print("median over runs where other processes used < 5% of the CPUs (over all runs when fewer than 3 were)")
        print("case    impl                              sentences  median s   min s    max s  clean  sentences/s  GFLOPS  of peak")
        for r in results {
            print(padRight(r.caseName, 8) + padRight(r.impl, 34) + padLeft(String(r.n), 9)
                  + String(format: "%10.3f%8.3f%9.3f", r.median, r.times.min() ?? 0, r.times.max() ?? 0)
                  + padLeft("\(r.clean.count)/\(r.times.count)", 7) + String(format: "%13.1f", r.sentencesPerSecond)
                  + String(format: "%8.1f%8.1f%%", gflops(r), 100 * gflops(r) / peak))
        }
        print(SittingPeak.line(peak))
        print(String(format: "peak RSS %.1f MiB", rss))
    }
}

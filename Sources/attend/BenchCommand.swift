import ArgumentParser
import Attend
import Foundation

/// `attend bench gemm`: times the fast SGEMM after checking it against the reference twin.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time Attend's kernels (verified against their reference twins first).",
        discussion: """
        Kernels:
          gemm       single-precision C = A·B (and A·Bᵀ with B stored [n, k] like PyTorch Linear weights). \
        Reports GFLOPS = 2·m·n·k / time: median, min and max over --repeats runs, and the median's fraction of the fp32 \
        FMA peak at the same ISA and thread count, measured first.
          attention  the fused kernel, batch 1, 12 heads, d = 64, N = 512…4096 causal and not (as bench_sdpa.py), \
        GFLOPS = 4·N²·d per head (half when causal) and their fraction of the fp32 peak, then N = 32,768 with its \
        peak RSS.
          embed      sentence embeddings of --model (default all-MiniLM-L6-v2) on the baselines' workloads: \
        1,000 × 12 tokens and 256 × 128 tokens, batch 32, tokenisation and pooling included; sentences per second \
        and peak RSS. Pass the baselines' own sentences with --short/--long (../shared/baselines/make_sentences.py). \
        --attentions also times returning all weights. Each result is also given as a fraction of the machine's \
        fp32 FMA peak (model FLOPs: 2 per multiply-add of the linear layers and attention).
          generate   a decoder LLM (--model, default smollm2-135m) as ../shared/baselines/bench_llama_cpp.py times \
        llama.cpp: prefill of a --prompt-tokens prompt (default 512) and --new-tokens greedy steps (default 128), \
        tokens/s, best of --repeats runs, with the prefill's fraction of the fp32 peak.
          peak       the machine's arithmetic limit for every ISA level Attend can run here: fp32 fused \
        multiply-adds (GFLOPS) and int8 dot products (GOPS), on one thread and on all threads. Other benchmarks \
        divide by it.

        Examples:
          attend bench gemm
          attend bench gemm --m 4096 --n 1536 --k 384 --threads 1
          attend bench gemm --isa avx2 --json
          attend bench attention --lengths 1024 2048 --causal
          attend bench embed --short short.txt --long long.txt --attentions
          attend bench generate --repeats 3 --json
          attend bench peak
        """)

    enum Kernel: String, ExpressibleByArgument, CaseIterable {
        case gemm
        case attention
        case embed
        case generate
        case peak
    }

    @Argument(help: "The kernel to time: \(Kernel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kernel: Kernel

    @Option(help: "Rows of op(A) and C (with --n and --k: time this one shape instead of the defaults).")
    var m: Int?
    @Option(help: "Columns of op(B) and C.")
    var n: Int?
    @Option(help: "The shared dimension.")
    var k: Int?
    @Flag(name: .customLong("trans-b"), help: "With --m/--n/--k: B stored [n, k] (A·Bᵀ).")
    var transB = false

    @Option(help: "Threads the kernel may use (default: all cores).")
    var threads: Int?
    @Option(help: "ISA level to force: generic, avx2, avx512, neon (falls back if the CPU lacks it).")
    var isa: String?
    @Option(help: "Timed runs per shape.")
    var repeats = 10
    @Flag(help: "Print one JSON line instead of a table.")
    var json = false

    // attention
    @Option(name: .customLong("lengths"), parsing: .upToNextOption, help: "attention: sequence lengths N.")
    var lengths: [Int] = [512, 1024, 2048, 4096]
    @Flag(name: .customLong("causal"), help: "attention: causal only.")
    var causalOnly = false
    @Flag(name: .customLong("non-causal"), help: "attention: non-causal only.")
    var nonCausalOnly = false
    @Option(name: .customLong("heads"), help: "attention: heads (batch × heads, e.g. 384 for 32 sentences of MiniLM's 12).")
    var attentionHeads = 12
    @Option(name: .customLong("head-dim"), help: "attention: head dimension d.")
    var headDim = 64
    @Option(name: .customLong("large-n"), help: "attention: one long sequence to show memory stays O(N), with at most 12 heads (0 skips it).")
    var largeN = 32_768

    // embed
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var precisionOption: PrecisionOption
    @Option(help: "embed: the short workload, one sentence per line (default: 1,000 generated 12-token sentences).")
    var short: String?
    @Option(help: "embed: the long workload (default: 256 generated 128-token sentences).")
    var long: String?
    @Option(name: .customLong("batch-size"), help: "embed: sentences per forward pass at most (a pass also holds at most --max-batch-tokens tokens).")
    var batchSize = 32
    @Option(name: .customLong("max-batch-tokens"), help: "embed: tokens per forward pass at most, counted with padding.")
    var maxBatchTokens = SentenceEmbedder.defaultMaxBatchTokens
    @Flag(help: "embed: also time returning every layer's and head's attention weights.")
    var attentions = false
    @Option(name: .customLong("quiet-wait"), help: "attention, embed: seconds to wait for other processes to go quiet before timing (0: don't wait).")
    var quietWait: Double = 60
    @Option(name: .customLong("sets"), parsing: .upToNextOption, help: "embed: which workloads to time: short, long (default: both).")
    var sets: [String] = ["short", "long"]

    // generate
    @Option(name: .customLong("prompt-tokens"), help: "generate: tokens of the prompt run as one prefill.")
    var promptTokens = 512
    @Option(name: .customLong("new-tokens"), help: "generate: greedy decoding steps after the prefill.")
    var newTokens = 128
    @Option(name: .customLong("activations"), help: ArgumentHelp("generate: activations of the quantized products, int16 (default; rounded to 16 bits per 32-value block while decoding), fp32 or int8 (rounded to 8 bits per 32-value block while decoding, on AVX2 / AVX-512 VNNI, as llama.cpp does).", valueName: "int16|fp32|int8"))
    var activations: LlamaActivations = .int16

    struct Shape {
        var m: Int, n: Int, k: Int, transB: Bool
        var label: String { "\(m)×\(k) · \(transB ? "(\(n)×\(k))ᵀ" : "\(k)×\(n)")" }
    }

    /// The linear-layer shapes of a 4096-token batch of all-MiniLM-L6-v2 (d = 384, FFN 1536),
    /// plus short-sentence shapes where M is small.
    static let defaultShapes = [
        Shape(m: 4096, n: 1536, k: 384, transB: false),
        Shape(m: 4096, n: 384, k: 1536, transB: false),
        Shape(m: 4096, n: 1536, k: 384, transB: true),
        Shape(m: 128, n: 1536, k: 384, transB: true),
        Shape(m: 12, n: 1536, k: 384, transB: true),
        Shape(m: 12, n: 384, k: 384, transB: true),
    ]

    func validate() throws {
        let given = [m, n, k].compactMap { $0 }
        if !given.isEmpty && given.count != 3 { throw ValidationError("give all of --m, --n and --k, or none") }
        if given.contains(where: { $0 < 1 }) { throw ValidationError("--m, --n and --k must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        if promptTokens < 1 || newTokens < 1 { throw ValidationError("--prompt-tokens and --new-tokens must be at least 1") }
        if !(quietWait >= 0) { throw ValidationError("--quiet-wait must be 0 or more seconds") }
        for s in sets where s != "short" && s != "long" { throw ValidationError("--sets takes short and/or long, got '\(s)'") }
        if let isa, KernelISA(rawValue: isa) == nil {
            throw ValidationError("unknown ISA '\(isa)'; choose from \(KernelISA.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        if let threads { Kernels.maxThreads = threads }
        if kernel == .peak { return runPeak() }   // measures every ISA level itself
        // Every other benchmark runs on the forced level (the JSON's "isa" names it), not only gemm.
        if let isa { Kernels.forcedISA = KernelISA(rawValue: isa) }
        if kernel == .embed { return try runReportingErrors { try runEmbed() } }
        if kernel == .generate { return try runReportingErrors { try runGenerate() } }
        if kernel == .attention {
            return try runReportingErrors {
                try AttentionBench.run(n: lengths, causal: causalOnly ? true : (nonCausalOnly ? false : nil),
                                       heads: attentionHeads, d: headDim, repeats: repeats, largeN: largeN,
                                       quietWait: quietWait, json: json)
            }
        }
        let shapes: [Shape]
        if let m, let n, let k { shapes = [Shape(m: m, n: n, k: k, transB: transB)] } else { shapes = Self.defaultShapes }

        let worst = Self.verify()
        let verified = worst <= 1e-4
        if !json {
            print("ISA \(Kernels.activeISA), up to \(Kernels.maxThreads) thread(s), \(repeats) runs per shape")
            print(verified
                  ? "verified: fast sgemm matches ReferenceKernels.sgemm on 67×131×259, all four transposes, α=0.75 β=0.5 (max |err| \(worst))"
                  : "FAILED verification: fast sgemm differs from the reference by \(worst)")
        }
        guard verified else {
            if json { print("{\"bench\": \"gemm\", \"verified\": false, \"max_abs_err\": \(worst)}") }
            throw ExitCode.failure
        }

        let peak = SittingPeak.measure()
        var rows: [String] = []
        if !json {
            print(SittingPeak.line(peak))
            print("shape".padding(toLength: 30, withPad: " ", startingAt: 0)
                  + "  median GFLOPS     min     max   median ms   per CPU-second   of peak")
        }
        for shape in shapes {
            let r = Self.time(shape, repeats: repeats)
            if json {
                rows.append("{\"m\": \(shape.m), \"k\": \(shape.k), \"n\": \(shape.n), \"trans_b\": \(shape.transB), "
                            + "\"gflops\": \(Self.f1(r.median)), \"gflops_min\": \(Self.f1(r.min)), "
                            + "\"gflops_max\": \(Self.f1(r.max)), \"ms\": \(String(format: "%.4f", r.ms)), "
                            + "\"gflops_per_cpu_second\": \(Self.f1(r.perCore)), "
                            + "\"fraction_of_fp32_peak\": \(String(format: "%.4f", r.median / peak))}")
            } else {
                print(shape.label.padding(toLength: 30, withPad: " ", startingAt: 0)
                      + Self.f1(r.median).leftPadded(16) + Self.f1(r.min).leftPadded(8)
                      + Self.f1(r.max).leftPadded(8) + String(format: "%12.3f", r.ms)
                      + Self.f1(r.perCore).leftPadded(17) + String(format: "%9.1f%%", 100 * r.median / peak))
            }
        }
        if json {
            print("{\"bench\": \"gemm\", \"verified\": true, \"isa\": \"\(Kernels.activeISA)\", "
                  + "\"threads\": \(Kernels.maxThreads), \"repeats\": \(repeats), \"peak_fp32_gflops\": \(Self.f1(peak)), "
                  + "\"results\": [\(rows.joined(separator: ", "))]}")
        }
    }

    /// Largest |fast − reference| over the four transpose combinations of a small awkward shape.
    static func verify() -> Float {
        let (m, n, k) = (67, 131, 259)
        var rng = SeededRNG(seed: 7)
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        let c0 = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        var worst: Float = 0
        for transA in [false, true] {
            for transB in [false, true] {
                var fast = c0, ref = c0
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        let lda = transA ? m : k, ldb = transB ? k : n
                        fast.withUnsafeMutableBufferPointer { cp in
                            Kernels.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.75,
                                          a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                          beta: 0.5, c: cp.baseAddress!, ldc: n)
                        }
                        ref.withUnsafeMutableBufferPointer { cp in
                            ReferenceKernels.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.75,
                                                   a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                                   beta: 0.5, c: cp.baseAddress!, ldc: n)
                        }
                    }
                }
                for i in fast.indices {
                    let e = abs(fast[i] - ref[i])
                    worst = e.isNaN ? .infinity : max(worst, e)
                }
            }
        }
        return worst
    }

    /// GFLOPS of `repeats` timed runs after a warm-up; each run repeats the call enough times to
    /// last ≥ 20 ms (calibrated during the warm-up), so that short shapes are not timer noise.
    static func time(_ s: Shape, repeats: Int) -> (median: Double, min: Double, max: Double, ms: Double, perCore: Double) {
        var rng = SeededRNG(seed: UInt64(s.m * 31 + s.n))
        let a = (0..<(s.m * s.k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<(s.k * s.n)).map { _ in Float.random(in: -1...1, using: &rng) }
        var c = [Float](repeating: 0, count: s.m * s.n)
        let flops = 2 * Double(s.m) * Double(s.n) * Double(s.k)
        var seconds: [Double] = []
        var cpuSeconds = 0.0
        var calls = 1
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    func call() {
                        Kernels.sgemm(transA: false, transB: s.transB, m: s.m, n: s.n, k: s.k,
                                      a: ap.baseAddress!, lda: s.k, b: bp.baseAddress!, ldb: s.transB ? s.k : s.n,
                                      c: cp.baseAddress!, ldc: s.n)
                    }
                    // Warm-up (caches, packing buffers, threads) that also finds the calls per run.
                    call()
                    while true {
                        let start = DispatchTime.now().uptimeNanoseconds
                        for _ in 0..<calls { call() }
                        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                        if elapsed >= 0.02 || calls >= 1 << 24 { break }
                        calls = min(1 << 24, max(calls * 2, Int(Double(calls) * 0.025 / max(elapsed, 1e-9))))
                    }
                    for _ in 0..<repeats {
                        let cpu0 = processCPUSeconds()
                        let start = DispatchTime.now().uptimeNanoseconds
                        for _ in 0..<calls { call() }
                        let end = DispatchTime.now().uptimeNanoseconds
                        cpuSeconds += processCPUSeconds() - cpu0
                        seconds.append(Double(end - start) / 1e9 / Double(calls))
                    }
                }
            }
        }
        let gflops = seconds.map { flops / $0 / 1e9 }.sorted()
        let median = gflops.count % 2 == 1 ? gflops[gflops.count / 2]
            : (gflops[gflops.count / 2 - 1] + gflops[gflops.count / 2]) / 2
        let medianSeconds = seconds.sorted()[seconds.count / 2]
        let perCore = flops * Double(calls * repeats) / cpuSeconds / 1e9
        return (median, gflops.first!, gflops.last!, medianSeconds * 1e3, perCore)
    }

    /// CPU time of the whole process (all threads), to tell a slow kernel from a busy machine.
    static func processCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func f1(_ x: Double) -> String { String(format: "%.1f", x) }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

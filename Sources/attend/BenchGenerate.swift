import Attend
import Foundation

/// `attend bench generate`: prefill and decode tokens/s of a decoder LLM (default smollm2-135m), timed as
/// `../shared/baselines/bench_llama_cpp.py` times llama.cpp: the same 512-token prompt, one forward pass over
/// it (prefill), then greedy steps of one token each (argmax + forward) for the new tokens; best of the runs.
enum GenerateBench {
    /// The baselines' prompt text (bench_llama_cpp.py, bench_transformers.py), cut to `tokens` tokens.
    static let promptText = String(repeating: "The quick brown fox jumps over the lazy dog while the baker opens his shop. ", count: 60)

    struct Run { var prefill: Double; var decode: Double; var others: Double? }

    /// Multiply-adds per token in the linear layers and the LM head: the model's useful work, ×2 for FLOPs.
    static func macsPerToken(_ c: LlamaConfig) -> Double {
        let (d, hd, kvd, f) = (Double(c.hiddenSize), Double(c.numHeads * c.headDim), Double(c.numKeyValueHeads * c.headDim), Double(c.intermediateSize))
        let perLayer = d * hd + 2 * d * kvd + hd * d + 3 * d * f
        return Double(c.numLayers) * perLayer + d * Double(c.vocabSize)
    }

    /// Attention multiply-adds of query position `p` (0-based) over keys 0…p: QKᵀ and weights·V for every head.
    static func attentionMacs(_ c: LlamaConfig, position p: Int) -> Double {
        Double(c.numLayers * c.numHeads) * 2 * Double(c.headDim) * Double(p + 1)
    }
}

extension BenchCommand {
    func runGenerate() throws {
        let name = modelOptions.model == "all-MiniLM-L6-v2" ? "smollm2-135m" : modelOptions.model
        let url: URL
        do { url = try ModelStore.resolve(name) } catch { throw CLIError("\(error)") }
        let model: LlamaModel
        do { model = try LlamaModel.load(url, path: .quantized, activations: activations) } catch {
            throw CLIError("cannot load model '\(name)' from \(url.path): \(error)")
        }
        let config = model.config
        // int8 takes effect only where the CPU has the integer dot kernels (else the products stay float32).
        let activationsLabel = activations == .int8 && !Kernels.int8ActivationsAvailable ? "fp32 (no int8 kernel on this CPU)"
            : activations == .int16 && !Kernels.int16ActivationsAvailable ? "fp32 (no int16 kernel on this CPU)" : "\(activations)"
        let prompt = Array(model.tokenizer.encode(GenerateBench.promptText).prefix(promptTokens))
        guard prompt.count == promptTokens else {
            throw CLIError("--prompt-tokens \(promptTokens): the benchmark prompt has only \(prompt.count) tokens")
        }
        guard promptTokens + newTokens <= config.contextLength else {
            throw CLIError("--prompt-tokens + --new-tokens = \(promptTokens + newTokens) exceeds the context of \(config.contextLength)")
        }
        let progress: (String) -> Void = { line in
            if Terminal.stderrIsTerminal { FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8)) }
        }
        progress("waiting for a quiet machine")
        let waited = CPUCounters.waitQuiet(maxSeconds: quietWait)
        var runs: [GenerateBench.Run] = []
        var firstOutput: [Int] = []
        for r in 0..<(repeats + 1) {   // run 0 is the warm-up
            let cache = LlamaCache(config: config)
            let c0 = CPUCounters.now()
            let t0 = DispatchTime.now().uptimeNanoseconds
            var logits = try model.forward(prompt, cache: cache).scalars                                 // [V]
            let t1 = DispatchTime.now().uptimeNanoseconds
            var output: [Int] = []
            for _ in 0..<newTokens {
                let next = SamplingOptions.argmax(logits)
                output.append(next)
                logits = try model.forward([next], cache: cache).scalars
            }
            let t2 = DispatchTime.now().uptimeNanoseconds
            let seconds = Double(t2 - t0) / 1e9
            if r == 0 { firstOutput = output; continue }
            guard output == firstOutput else { throw CLIError("run \(r) generated other tokens than the warm-up") }
            runs.append(.init(prefill: Double(t1 - t0) / 1e9, decode: Double(t2 - t1) / 1e9,
                              others: c0.flatMap { CPUCounters.now()?.othersBusy(since: $0, seconds: seconds) }))
            progress("run \(r)/\(repeats): prefill \(String(format: "%.3f", Double(t1 - t0) / 1e9)) s, decode \(String(format: "%.3f", Double(t2 - t1) / 1e9)) s")
        }
        if Terminal.stderrIsTerminal { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        let prefill = Double(promptTokens) / (runs.map(\.prefill).min() ?? .infinity)
        let decode = Double(newTokens) / (runs.map(\.decode).min() ?? .infinity)
        // Useful work: the linear layers and LM head for every token, plus causal attention at its position.
        let macs = GenerateBench.macsPerToken(config)
        let prefillMacs = Double(promptTokens) * macs + (0..<promptTokens).reduce(0.0) { $0 + GenerateBench.attentionMacs(config, position: $1) }
        let prefillGFLOPS = 2 * prefillMacs / Double(promptTokens) * prefill / 1e9
        let decodeGFLOPS = 2 * (macs + GenerateBench.attentionMacs(config, position: promptTokens + newTokens / 2)) * decode / 1e9
        let peak = Kernels.measurePeak(isa: Kernels.activeISA, seconds: 0.2)
        let rss = peakRSSMiB()
        let weightsMiB = Double((try? FileManager.default.attributesOfItem(atPath: model.url.path)[.size] as? Int) ?? 0) / 1048576
        if json {
            print(JSONValue.object([
                ("bench", .string("attend_generate")), ("model", .string(name)), ("isa", .string("\(Kernels.activeISA)")),
                ("threads", .int(Kernels.maxThreads)), ("activations", .string(activationsLabel)),
                ("prompt_tokens", .int(promptTokens)), ("new_tokens", .int(newTokens)),
                ("repeats", .int(repeats)), ("prefill_tok_s", .double(prefill)), ("decode_tok_s", .double(decode)),
                ("prefill_gflops", .double(prefillGFLOPS)), ("decode_gflops", .double(decodeGFLOPS)),
                ("peak_fp32_gflops", .double(peak.fp32AllThreads)), ("peak_int8_gops", .double(peak.int8AllThreads)),
                ("prefill_fraction_of_fp32_peak", .double(prefillGFLOPS / peak.fp32AllThreads)),
                ("decode_weight_gb_s", .double(weightsMiB * 1048576 * decode / 1e9)),
                ("max_other_cpu_frac", .double(runs.compactMap(\.others).max() ?? 0)),
                ("waited_for_quiet_s", .double(waited)), ("peak_rss_mib", .double(rss)),
            ]).rendered())
            return
        }
        print("\(name) (Q4_1 GGUF, quantized path, \(activationsLabel) activations), ISA \(Kernels.activeISA), \(Kernels.maxThreads) thread(s), best of \(repeats) runs after a warm-up")
        print(String(format: "prefill  %d tokens: %8.1f tokens/s  (%.1f GFLOPS of model arithmetic, %.1f%% of the fp32 FMA peak %.0f GFLOPS)",
                     promptTokens, prefill, prefillGFLOPS, 100 * prefillGFLOPS / peak.fp32AllThreads, peak.fp32AllThreads))
        print(String(format: "decode   %d tokens: %8.1f tokens/s  (reads the %.0f MiB of weights once per token: %.1f GB/s)",
                     newTokens, decode, weightsMiB, weightsMiB * 1048576 * decode / 1e9))
        print(String(format: "other processes used at most %.0f%% of the CPUs during a run; peak RSS %.1f MiB",
                     100 * (runs.compactMap(\.others).max() ?? 0), rss))
    }
}

import Attend
import Foundation

/// `attend bench attention`: the fused attention kernel on the baselines' workload (batch 1, 12 heads,
/// d = 64, N = 512…4096, causal and not; `../shared/baselines/bench_sdpa.py` times torch on the same),
/// after checking it against the plain twin `referenceAttention`; then one long sequence (N = 32,768)
/// to show the memory stays O(N): peak RSS is reported after every shape.
///
/// GFLOPS count 4·N²·d per head (2·N²·d for each of QKᵀ and PV), half that when causal, as bench_sdpa.py.
enum AttentionBench {
    struct Result {
        var n: Int
        var causal: Bool
        var heads: Int
        /// Seconds per call, one entry per timed block of calls.
        var seconds: [Double]
        /// Fraction of the machine's CPU time other processes used during each block (nil: unknown).
        var othersBusy: [Double?]
        var flops: Double
        var peakRSSMiB: Double
        /// Seconds spent waiting for the machine to go quiet before timing.
        var waited: Double
        /// Blocks during which other processes used under 5% of the CPUs.
        var clean: [Int] { othersBusy.indices.filter { (othersBusy[$0] ?? 1) < 0.05 } }
        /// The median over clean blocks when there are at least 3 of them, else over all (as benchlib.py).
        var median: Double {
            let use = clean.count >= 3 ? clean.map { seconds[$0] } : seconds
            return use.sorted()[use.count / 2]
        }
        var gflops: Double { flops / median / 1e9 }
        var bestGflops: Double { flops / (seconds.min() ?? median) / 1e9 }
        var medianOthersBusy: Double? {
            let known = othersBusy.compactMap { $0 }.sorted()
            return known.isEmpty ? nil : known[known.count / 2]
        }
    }

    /// Verifies, then times every `n` (causal and not, unless `causal` picks one), then one call at `largeN`
    /// (nil or 0 skips it; with at most 12 heads). Before each shape it waits up to `quietWait` seconds for other processes to use
    /// under 5% of the CPUs; each of the `repeats` timed blocks lasts ≥ 0.2 s, and the median is over the
    /// blocks that stayed clean (≥ 3 of them), else over all — the method of `bench_sdpa.py`. Prints a table,
    /// or one JSON line with `json`. Throws when the fused kernel disagrees with the reference.
    static func run(n: [Int] = [512, 1024, 2048, 4096], causal: Bool? = nil, heads: Int = 12, d: Int = 64,
                    repeats: Int = 10, largeN: Int? = 32_768, quietWait: Double = 30, json: Bool = false) throws {
        guard heads > 0, d > 0, repeats > 0, n.allSatisfy({ $0 > 0 }) else {
            throw CLIError("attention bench: heads, d, repeats and every N must be positive")
        }
        let worst = try verify(d: d)
        if !json {
            print("ISA \(Kernels.activeISA), up to \(Kernels.maxThreads) thread(s), \(repeats) timed blocks per shape, batch 1, \(heads) heads, d = \(d)")
            print("verified: fused attention matches referenceAttention (B=2, H=4/2, Lq=33 and 97, Lk=97, key padding, causal and not; max |err| \(worst))")
        }
        guard worst <= 1e-4 else {
            if json { print("{\"bench\": \"attention\", \"verified\": false, \"max_abs_err\": \(worst)}") }
            throw CLIError("fused attention differs from the reference by \(worst)")
        }
        let modes = causal.map { [$0] } ?? [false, true]
        var results: [Result] = []
        let peak = SittingPeak.measure()
        if !json {
            print(SittingPeak.line(peak))
            print("    N  causal   median GFLOPS   of peak   best GFLOPS   median ms   peak RSS MiB   clean   others busy")
        }
        for size in n {
            for c in modes {
                let r = time(n: size, causal: c, heads: heads, d: d, repeats: repeats, quietWait: quietWait)
                results.append(r)
                if !json { printRow(r, peak: peak) }
            }
        }
        if let largeN, largeN > 0 {
            // At most the baselines' 12 heads: it shows memory, and 384 heads of N = 32,768 took minutes.
            let r = time(n: largeN, causal: !modes.contains(false), heads: min(heads, 12), d: d, repeats: 1, quietWait: quietWait,
                         warmUp: false, blockSeconds: 0)
            results.append(r)
            if !json { printRow(r, peak: peak) }
        }
        if json {
            let rows = results.map { r in
                "{\"N\": \(r.n), \"causal\": \(r.causal), \"heads\": \(r.heads), \"gflops\": \(f1(r.gflops)), \"gflops_best\": \(f1(r.bestGflops)), "
                    + "\"fraction_of_fp32_peak\": \(String(format: "%.4f", r.gflops / peak)), "
                    + "\"median_ms\": \(String(format: "%.3f", r.median * 1e3)), \"blocks\": \(r.seconds.count), "
                    + "\"clean_blocks\": \(r.clean.count), \"waited_for_quiet_s\": \(f1(r.waited)), "
                    + "\"peak_rss_mib\": \(f1(r.peakRSSMiB)), "
                    + "\"others_busy\": \(r.medianOthersBusy.map { String(format: "%.3f", $0) } ?? "null")}"
            }
            print("{\"bench\": \"attention\", \"verified\": true, \"max_abs_err\": \(worst), \"isa\": \"\(Kernels.activeISA)\", "
                  + "\"threads\": \(Kernels.maxThreads), \"peak_fp32_gflops\": \(f1(peak)), \"batch\": 1, \"heads\": \(heads), \"head_dim\": \(d), "
                  + "\"results\": [\(rows.joined(separator: ", "))]}")
        }
    }

    /// Largest |fused − reference| over outputs and weights of a small GQA problem with key padding.
    static func verify(d: Int) throws -> Float {
        var rng = SeededRNG(seed: 17)
        var worst: Float = 0
        for (lq, causal) in [(33, false), (97, true), (97, false)] {
            let q = Tensor.randomNormal([2, 4, lq, d], rng: &rng)
            let k = Tensor.randomNormal([2, 2, 97, d], rng: &rng)
            let v = Tensor.randomNormal([2, 2, 97, d], rng: &rng)
            let pad = try Tensor(shape: [2, 1, 1, 97], scalars: (0..<(2 * 97)).map { Float($0 < 97 + 60 ? 1 : 0) })
            let fused = try scaledDotProductAttention(query: q, key: k, value: v, mask: .boolean(pad), isCausal: causal, returnWeights: true)
            let ref = try referenceAttention(query: q, key: k, value: v, mask: .boolean(pad), isCausal: causal)
            for (a, b) in [(fused.output.scalars, ref.output.scalars), (fused.weights?.scalars ?? [], ref.weights.scalars)] {
                guard a.count == b.count else { return .infinity }
                for i in a.indices {
                    let e = abs(a[i] - b[i])
                    worst = e.isNaN ? .infinity : Swift.max(worst, e)
                }
            }
        }
        return worst
    }

    /// Times `repeats` blocks of calls of the fused kernel on contiguous [1, heads, n, d] inputs; each block
    /// repeats the call until it has lasted `blockSeconds` (calibrated on the warm-up).
    static func time(n: Int, causal: Bool, heads: Int, d: Int, repeats: Int, quietWait: Double,
                     warmUp: Bool = true, blockSeconds: Double = 0.2) -> Result {
        let count = heads * n * d
        var state: UInt32 = 0x1234_5678 &+ UInt32(truncatingIfNeeded: n)
        func random() -> Float {   // xorshift in [−1, 1): cheap enough for 10⁸ values
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return Float(state >> 8) * (2.0 / 16_777_216.0) - 1
        }
        let q = (0..<count).map { _ in random() }, k = (0..<count).map { _ in random() }, v = (0..<count).map { _ in random() }
        var o = [Float](repeating: 0, count: count)
        let shape = Kernels.AttentionShape(batch: 1, heads: heads, kvHeads: heads, queryLength: n, keyLength: n, keyDim: d, valueDim: d)
        let layout = Kernels.HeadLayout.contiguous(heads: heads, length: n, dim: d)
        var seconds: [Double] = [], busy: [Double?] = []
        var waited = 0.0
        q.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    o.withUnsafeMutableBufferPointer { op in
                        func call() {
                            try? Kernels.attention(shape: shape, q: qp.baseAddress!, layout, k: kp.baseAddress!, layout,
                                                   v: vp.baseAddress!, layout, out: op.baseAddress!, layout,
                                                   scale: 1 / Float(d).squareRoot(), isCausal: causal)
                        }
                        var calls = 1
                        if warmUp {
                            let start = DispatchTime.now().uptimeNanoseconds
                            call()
                            let once = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                            calls = Swift.max(1, Int((blockSeconds / Swift.max(once, 1e-6)).rounded(.up)))
                        }
                        waited = CPUCounters.waitQuiet(maxSeconds: quietWait)
                        for _ in 0..<repeats {
                            let load0 = CPUCounters.now()
                            let start = DispatchTime.now().uptimeNanoseconds
                            for _ in 0..<calls { call() }
                            let dt = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                            seconds.append(dt / Double(calls))
                            if let load0, let load1 = CPUCounters.now() {
                                busy.append(load1.othersBusy(since: load0, seconds: dt))
                            } else {
                                busy.append(nil)
                            }
                        }
                    }
                }
            }
        }
        let flops = 4 * Double(n) * Double(n) * Double(d) * Double(heads) * (causal ? 0.5 : 1)
        return Result(n: n, causal: causal, heads: heads, seconds: seconds, othersBusy: busy, flops: flops, peakRSSMiB: peakRSSMiB(),
                      waited: waited)
    }

    static func printRow(_ r: Result, peak: Double) {
        let busy = r.medianOthersBusy.map { String(format: "%.0f%%", $0 * 100) } ?? "?"
        print(String(format: "%5d  ", r.n) + (r.causal ? "   yes" : "    no")
              + String(format: "  %14.1f  %7.1f%%  %12.1f  %10.2f  %13.1f  %6@  ", r.gflops, 100 * r.gflops / peak, r.bestGflops,
                       r.median * 1e3, r.peakRSSMiB,
                       "\(r.clean.count)/\(r.seconds.count)" as NSString)
              + String(repeating: " ", count: Swift.max(0, 12 - busy.count)) + busy)
    }

    static func f1(_ x: Double) -> String { String(format: "%.1f", x) }
}

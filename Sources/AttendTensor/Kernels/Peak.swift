import AttendKernelsC
import Foundation

/// The machine's arithmetic peak for one ISA level: the rate of register-only chains of its widest fp32
/// fused multiply-add and of its int8 dot-product instruction (`attend_peak.h`), on one thread and on
/// every thread at once. Every benchmark divides its useful work by these to give a fraction of peak that
/// can be compared across machines.
public struct MachinePeak: Sendable {
    public var isa: KernelISA
    public var threads: Int
    /// fp32 GFLOPS (2 per fused multiply-add lane) on one thread and on `threads` threads.
    public var fp32OneThread: Double
    public var fp32AllThreads: Double
    /// int8 GOPS (2 per 8-bit multiply-add) on one thread and on `threads` threads.
    public var int8OneThread: Double
    public var int8AllThreads: Double
    /// The int8 instruction sequence measured (e.g. "vpdpbusd zmm (AVX-512 VNNI)").
    public var int8Variant: String
}

extension Kernels {
    /// Measures the fp32 and int8 peak of `isa` (unsupported levels measure generic code), each probe run for
    /// about `seconds` after a calibration, on 1 thread and on `threads` threads (default: ``maxThreads``).
    public static func measurePeak(isa: KernelISA, threads: Int? = nil, seconds: Double = 0.3) -> MachinePeak {
        let width = max(1, threads ?? maxThreads)
        let fp32 = { (iterations: Int64) -> Double in
            var ops = 0.0
            let sink = attend_peak_fp32(isa.cValue, iterations, &ops)
            PeakSink.keep(Double(sink))
            return ops
        }
        var variant = ""
        var name: UnsafePointer<CChar>? = nil
        var probeOps = 0.0
        _ = attend_peak_int8(isa.cValue, 1, &probeOps, &name)
        if let name { variant = String(cString: name) }
        let int8 = { (iterations: Int64) -> Double in
            var ops = 0.0
            var unused: UnsafePointer<CChar>? = nil
            let sink = attend_peak_int8(isa.cValue, iterations, &ops, &unused)
            PeakSink.keep(Double(sink))
            return ops
        }
        return MachinePeak(
            isa: isa, threads: width,
            fp32OneThread: rate(fp32, threads: 1, seconds: seconds),
            fp32AllThreads: rate(fp32, threads: width, seconds: seconds),
            int8OneThread: rate(int8, threads: 1, seconds: seconds),
            int8AllThreads: rate(int8, threads: width, seconds: seconds),
            int8Variant: variant)
    }

    /// Giga-operations per second of `probe` run on `threads` threads at once, the best of three timed runs
    /// of about `seconds` each (iterations calibrated on one thread first).
    static func rate(_ probe: @escaping @Sendable (Int64) -> Double, threads: Int, seconds: Double) -> Double {
        // Calibrate: grow the iteration count until one call takes ≥ 20 ms.
        var iterations: Int64 = 1 << 16
        var elapsed = 0.0
        while true {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = probe(iterations)
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if elapsed >= 0.02 || iterations > (1 << 40) { break }
            iterations *= 4
        }
        iterations = Int64(min(max(1, Double(iterations) * seconds / max(elapsed, 1e-9)), 1e15))
        var best = 0.0
        for _ in 0..<3 {
            let total = OpsCounter()
            let t0 = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { _ in total.add(probe(iterations)) }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = max(best, total.value / wall / 1e9)
        }
        return best
    }
}

/// Keeps the probes' checksums observable so the compiler cannot drop their loops.
enum PeakSink {
    nonisolated(unsafe) static var value = 0.0
    static func keep(_ x: Double) { if x.isNaN { value += 1 } }
}

/// A thread-safe sum of the operations the concurrent probes report.
final class OpsCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var sum = 0.0
    func add(_ x: Double) { lock.lock(); sum += x; lock.unlock() }
    var value: Double { lock.lock(); defer { lock.unlock() }; return sum }
}

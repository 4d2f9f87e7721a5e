import Attend
import Foundation

/// Busy CPU time of the whole machine (/proc/stat) and of this process, to tell a slow kernel from a
/// shared machine: the same measure as `benchlib.py` (`others` = machine busy − ours, over all CPUs).
struct CPUCounters {
    var machineBusy: Double   // seconds
    var ours: Double          // seconds

    static func now() -> CPUCounters? {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first else { return nil }
        let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard v.count >= 7 else { return nil }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let busy = (v[0] + v[1] + v[2] + v[5] + v[6] + (v.count > 7 ? v[7] : 0)) / hz
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return CPUCounters(machineBusy: busy, ours: Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9)
        #else
        return nil
        #endif
    }

    /// Waits (up to `maxSeconds`) until other processes use under 5% of the CPUs over one second;
    /// returns the seconds waited (0 when the machine cannot be observed).
    static func waitQuiet(maxSeconds: Double) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        while elapsed() < maxSeconds {
            guard let a = now() else { return 0 }
            usleep(250_000)
            guard let b = now() else { return 0 }
            if b.othersBusy(since: a, seconds: 0.25) < 0.05 { break }
        }
        return elapsed()
    }

    func othersBusy(since start: CPUCounters, seconds: Double) -> Double {
        let cpus = Double(ProcessInfo.processInfo.activeProcessorCount)
        return Swift.max(0, (machineBusy - start.machineBusy) - (ours - start.ours)) / (seconds * cpus)
    }
}

/// This process's peak resident set size so far, in MiB.
func peakRSSMiB() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024   // KiB on Linux
    #else
    getrusage(RUSAGE_SELF, &usage)
    return Double(usage.ru_maxrss) / 1024 / 1024   // bytes on Darwin
    #endif
}

/// The limit every bench divides by: the fp32 FMA peak at the active ISA on ``Kernels/maxThreads`` threads,
/// measured in the same run (as `attend bench peak` measures it, over 0.2 s).
enum SittingPeak {
    static func measure() -> Double { Kernels.measurePeak(isa: Kernels.activeISA, seconds: 0.2).fp32AllThreads }

    /// The line that states it above (or below) a bench's table.
    static func line(_ peak: Double) -> String {
        "fp32 FMA peak of this machine (\(Kernels.activeISA), \(Kernels.maxThreads) thread(s)): " + String(format: "%.1f", peak) + " GFLOPS"
    }
}

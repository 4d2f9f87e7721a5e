// Timing of exact and approximate search on an index, with seeded random unit queries: behind `attend index bench`
// and the numbers in docs/SCALE.md. Not part of `swift test` (tests are never timed).
import AttendTensor
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum IndexBenchmark {
    public struct Approximate: Sendable {
        public var ef: Int
        public var millis: Double
        public var recall: Double
        /// CPU time of this process per query (all threads), averaged over the queries.
        public var cpuMillis: Double = 0
    }

    public struct Result: Sendable {
        /// Median exact latency, one query at a time.
        public var exactMillis: Double
        /// Exact latency per query when all queries run as one batch (one GEMM per block of rows).
        public var exactBatchMillis: Double
        public var approximate: [Approximate]
        /// CPU time of this process (all threads, user + system) per query, one query at a time and in the batch: on a
        /// shared machine the wall times above include waiting for a core, these do not.
        public var exactCPUMillis: Double = 0
        public var exactBatchCPUMillis: Double = 0

        public var json: JSONValue {
            .object([("exact_ms", .double(exactMillis)), ("exact_batch_ms_per_query", .double(exactBatchMillis)),
                     ("exact_cpu_ms", .double(exactCPUMillis)), ("exact_batch_cpu_ms_per_query", .double(exactBatchCPUMillis)),
                     ("hnsw", .array(approximate.map {
                         .object([("ef", .int($0.ef)), ("ms", .double($0.millis)), ("recall", .double($0.recall)),
                                  ("speedup", .double(exactMillis / $0.millis)), ("cpu_ms", .double($0.cpuMillis)),
                                  ("cpu_speedup", .double($0.cpuMillis > 0 ? exactCPUMillis / $0.cpuMillis : 0))])
                     }))])
        }
    }

    /// `n` seeded Gaussian directions of width `d`, normalised.
    public static func randomUnitVectors(_ n: Int, _ d: Int, seed: UInt64) -> [[Float]] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in
            let v = (0..<d).map { _ -> Float in
                let u1 = max(rng.nextUnit(), 1e-12), u2 = rng.nextUnit()
                return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2))
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
    }

    /// `n` queries like real ones: seeded stored rows plus Gaussian noise of standard deviation 0.5/√d, normalised.
    public static func queriesNearRows(_ index: CorpusIndex, _ n: Int, seed: UInt64) -> [[Float]] {
        var rng = SplitMix64(seed: seed)
        let noise = randomUnitVectors(n, index.dimension, seed: seed &+ 1)
        return (0..<n).map { i in
            var row = [Float](repeating: 0, count: index.dimension)
            let r = Int(rng.next() % UInt64(max(1, index.count)))
            row.withUnsafeMutableBufferPointer { index.decode(rows: r..<(r + 1), into: $0.baseAddress!) }
            let v = zip(row, noise[i]).map { $0 + 0.5 * $1 }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
    }

    /// CPU seconds of this process so far (user + system, every thread).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
    }

    public static func run(_ index: CorpusIndex, queries: [[Float]], k: Int, efs: [Int]) throws -> Result {
        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
        func time(_ body: () throws -> Void) rethrows -> Double {
            let t = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
        }
        let n = Double(queries.count)
        _ = try index.searchExact([queries[0]], k: k)                                   // page the vectors in
        var exact: [[SearchHit]] = []
        var single: [Double] = []
        var cpu = cpuSeconds()
        for q in queries { single.append(try time { exact.append(try index.searchExact([q], k: k)[0]) }) }
        let singleCPU = (cpuSeconds() - cpu) * 1e3 / n
        cpu = cpuSeconds()
        let batch = try time { _ = try index.searchExact(queries, k: k) } / n
        let batchCPU = (cpuSeconds() - cpu) * 1e3 / n
        var approximate: [Approximate] = []
        for ef in efs {
            var times: [Double] = []
            var recall = 0.0
            cpu = cpuSeconds()
            for (i, q) in queries.enumerated() {
                var hits: [SearchHit] = []
                times.append(try time { hits = try index.searchApproximate(q, k: k, ef: max(ef, k)) })
                recall += Double(Set(hits.map(\.index)).intersection(exact[i].map(\.index)).count) / Double(max(1, exact[i].count))
            }
            approximate.append(Approximate(ef: ef, millis: median(times), recall: recall / n, cpuMillis: (cpuSeconds() - cpu) * 1e3 / n))
        }
        return Result(exactMillis: median(single), exactBatchMillis: batch, approximate: approximate,
                      exactCPUMillis: singleCPU, exactBatchCPUMillis: batchCPU)
    }
}

import AttendTestSupport
import Dispatch
import Foundation
import Testing
@testable import AttendTensor

// The fast GEMM (`Kernels.sgemm` → `GEMM.sgemm` → per-ISA C micro-kernels) against its twin
// `ReferenceKernels.sgemm` (Double accumulation), with |got − ref| ≤ atol + rtol·|ref|.
//
// Every case runs on every ISA level this CPU supports (forced generic included), single- and
// two-threaded, through each driver path (split N, split M, B read in place or packed, the
// unblocked tiny loop). The suite is serialised because it sets the global kernel switches.

/// One GEMM problem: shape, transposes, scalars and leading-dimension padding.
struct GEMMCase: CustomTestStringConvertible, Sendable {
    var m: Int, n: Int, k: Int
    var transA = false, transB = false
    var alpha: Float = 1, beta: Float = 0
    var padA = 0, padB = 0, padC = 0
    var seed: UInt64 = 1

    var testDescription: String {
        "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) α=\(alpha) β=\(beta) pad=\(padA),\(padB),\(padC)"
    }
}

/// The driver path a run takes, set through the GEMM's thresholds in the task's kernel settings.
private struct Path: CustomStringConvertible {
    var name: String
    var threads = 1
    var tinyWork = GEMMTuning().tinyWork
    var workPerThread = GEMMTuning().workPerThread
    var splitNMaxM = GEMMTuning().splitNMaxM
    var directBMaxM = GEMMTuning().directBMaxM
    var dotMaxM = GEMMTuning().dotMaxM
    var dotMinK = GEMMTuning().dotMinK
    var kcMax = GEMMTuning().kcMax
    var directA = true   // Kernels.gemmReadsAInPlace
    var description: String { name }

    /// `settings` with this path's thread count and thresholds.
    func apply(to settings: inout KernelSettings) {
        settings.maxThreads = threads
        (settings.gemm.tinyWork, settings.gemm.workPerThread, settings.gemm.splitNMaxM) = (tinyWork, workPerThread, splitNMaxM)
        (settings.gemm.directBMaxM, settings.gemm.dotMaxM, settings.gemm.dotMinK) = (directBMaxM, dotMaxM, dotMinK)
        settings.gemm.kcMax = kcMax
    }
}

private let paths: [Path] = [
    Path(name: "1 thread"),
    Path(name: "1 thread, kernels even when tiny, B always packed", tinyWork: 0, directBMaxM: 0, dotMaxM: 0),
    Path(name: "1 thread, kernels even when tiny, B in place when possible", tinyWork: 0, directBMaxM: .max,
         dotMaxM: .max, dotMinK: 0),
    Path(name: "2 threads, split N", threads: 2, tinyWork: 0, workPerThread: 1, splitNMaxM: .max, dotMaxM: 0),
    Path(name: "2 threads, split N, dot kernel", threads: 2, tinyWork: 0, workPerThread: 1, dotMaxM: .max,
         dotMinK: 0),
    Path(name: "2 threads, split M", threads: 2, tinyWork: 0, workPerThread: 1, splitNMaxM: 0, dotMaxM: 0),
    Path(name: "2 threads, split M, k sliced by ≤ 50", threads: 2, tinyWork: 0, workPerThread: 1, splitNMaxM: 0,
         dotMaxM: 0, kcMax: 50),
    Path(name: "1 thread, split N, k sliced by ≤ 24", tinyWork: 0, splitNMaxM: .max, dotMaxM: 0, kcMax: 24),
    Path(name: "2 threads, split N, A always packed", threads: 2, tinyWork: 0, workPerThread: 1, splitNMaxM: .max,
         dotMaxM: 0, directA: false),
    Path(name: "2 threads, split M, k sliced by ≤ 50, A always packed", threads: 2, tinyWork: 0, workPerThread: 1,
         splitNMaxM: 0, dotMaxM: 0, kcMax: 50, directA: false),
    Path(name: "2 threads, default thresholds", threads: 2),
]

private let dims = [1, 2, 5, 7, 15, 16, 17, 31, 63, 64, 65, 97, 200, 385]

/// 56 shapes in which every size in `dims` appears four times in each of m, n and k, with k
/// lowered until m·n·k ≤ 1.6 M (debug builds run the reference slowly); transposes cycle through
/// all four combinations, alpha, beta and paddings through their values.
let sweepCases: [GEMMCase] = (0..<56).map { i in
    let r = i / 14
    let m = dims[i % 14], n = dims[(i * 5 + r * 3 + 3) % 14]
    var ki = (i * 11 + r * 5 + 6) % 14
    while m * n * dims[ki] > 1_600_000 { ki -= 1 }
    return GEMMCase(m: m, n: n, k: dims[ki], transA: i % 4 >= 2, transB: i % 2 == 1,
                    alpha: [1, -0.5, 2.5][i % 3], beta: [0, 1, 0.75, -1.5][(i / 3) % 4],
                    padA: i % 3, padB: (i + 1) % 3, padC: (i + 2) % 4, seed: UInt64(i + 1))
}

/// Shapes that cross the cache blocks (k slices ≤ 768, MC = 192, NC = 4096) or mimic the model's.
let blockingCases: [GEMMCase] = [
    GEMMCase(m: 3, n: 5, k: 7, alpha: 1, beta: 0),
    GEMMCase(m: 1, n: 1, k: 1, alpha: 2, beta: 0.5),
    GEMMCase(m: 7, n: 4100, k: 9, transB: true, beta: 1, padB: 3),          // two NC panels
    GEMMCase(m: 13, n: 130, k: 800, transA: true, alpha: 0.5, beta: 0.25), // two k slices
    GEMMCase(m: 400, n: 20, k: 50, transA: true, transB: true, beta: 0, padC: 1),  // three MC blocks
    GEMMCase(m: 12, n: 384, k: 384, transB: true),                          // a short sentence's Linear
    GEMMCase(m: 66, n: 130, k: 390, beta: -1, padA: 5, padB: 7, padC: 9),
]

@Suite(.serialized)
struct GEMMTests {
    @Test("sweep: fast GEMM matches the reference", arguments: sweepCases)
    func sweep(_ c: GEMMCase) { checkAllPaths(c) }

    @Test("blocking and model shapes", arguments: blockingCases)
    func blocking(_ c: GEMMCase) { checkAllPaths(c) }

    /// The in-place-A micro-kernel sums the same products in the same order as the packed one: the same bits, on
    /// every ISA (those without one pack either way), split N and split M, with k in one slice and in several.
    @Test("A read in place gives the packed kernel's bits", arguments: (sweepCases + blockingCases).filter { !$0.transA })
    func directABits(_ c: GEMMCase) {
        var rng = SeededRNG(seed: c.seed)
        let (bRows, bCols) = c.transB ? (c.n, c.k) : (c.k, c.n)
        let lda = c.k + c.padA, ldb = bCols + c.padB, ldc = c.n + c.padC
        let a = (0..<(c.m * lda)).map { _ in rng.float() }
        let b = (0..<(bRows * ldb)).map { _ in rng.float() }
        let c0: [Float] = (0..<(c.m * ldc)).map { _ in rng.float() }
        for isa in KernelISA.supported {
            for (splitNMaxM, kcMax) in [(Int.max, GEMMTuning().kcMax), (0, GEMMTuning().kcMax), (0, 50), (Int.max, 24)] {
                var outs: [[UInt32]] = []
                for directA in [true, false] {
                    var out = c0
                    Kernels.withSettings({
                        $0.isa = isa; $0.maxThreads = 2
                        ($0.gemm.tinyWork, $0.gemm.workPerThread, $0.gemm.dotMaxM, $0.gemm.directBMaxM) = (0, 1, 0, 0)
                        ($0.gemm.splitNMaxM, $0.gemm.kcMax) = (splitNMaxM, kcMax)
                    }) { Kernels.$gemmReadsAInPlace.withValue(directA) { run(c, a, lda, b, ldb, &out, ldc, reference: false) } }
                    outs.append(out.map(\.bitPattern))
                }
                #expect(outs[0] == outs[1], "\(c.testDescription) isa=\(isa) splitNMaxM=\(splitNMaxM) kcMax=\(kcMax)")
            }
        }
    }

    @Test("alpha and beta", arguments: [Float(1), -2, 0.5], [Float(0), 1, -0.5, 3])
    func alphaBeta(alpha: Float, beta: Float) {
        for (t, shape) in [(17, 65, 31), (64, 64, 64)].enumerated() {
            checkAllPaths(GEMMCase(m: shape.0, n: shape.1, k: shape.2, transA: t == 1, transB: t == 0,
                                   alpha: alpha, beta: beta, padC: 2, seed: 99))
        }
    }

    @Test("k = 0 and alpha = 0 leave beta·C")
    func degenerate() {
        for (k, alpha, beta) in [(0, Float(1), Float(0)), (0, 1, 2), (5, 0, 0.5), (5, 0, 0)] {
            let a = [Float](repeating: .nan, count: 3 * max(k, 1))
            let b = [Float](repeating: .nan, count: max(k, 1) * 4)
            var c: [Float] = (0..<12).map { Float($0) }
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        Kernels.sgemm(transA: false, transB: false, m: 3, n: 4, k: k, alpha: alpha,
                                      a: ap.baseAddress!, lda: max(k, 1), b: bp.baseAddress!, ldb: 4,
                                      beta: beta, c: cp.baseAddress!, ldc: 4)
                    }
                }
            }
            #expect(c == (0..<12).map { beta == 0 ? 0 : beta * Float($0) }, "k=\(k) α=\(alpha) β=\(beta)")
        }
    }

    @Test("concurrent calls share the thread pool safely")
    func concurrentCalls() {
        // Four threads each run GEMMs that want two threads: at most one holds the pool at a time,
        // the others run their tasks themselves. Every result must still match the reference.
        // (GCD's threads are outside this task: each binds its own settings.)
        let c = GEMMCase(m: 70, n: 130, k: 96, transB: true, alpha: 1.5, beta: 0.5, seed: 5)
        var rng = SeededRNG(seed: c.seed)
        let a = (0..<(c.m * c.k)).map { _ in rng.float() }
        let b = (0..<(c.n * c.k)).map { _ in rng.float() }
        let c0 = (0..<(c.m * c.n)).map { _ in rng.float() }
        var expected = c0
        run(c, a, c.k, b, c.k, &expected, c.n, reference: true)
        let results = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: 4)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            Kernels.withSettings({ $0.gemm.workPerThread = 1; $0.maxThreads = 2 }) {
                var out = c0
                for _ in 0..<20 { out = c0; run(c, a, c.k, b, c.k, &out, c.n, reference: false) }
                results[t] = out
            }
        }
        for t in 0..<4 {
            compare(results[t], expected, ldc: c.n, n: c.n, sentinel: .nan, atol: 1e-4, rtol: 1e-5,
                    label: "thread \(t)")
        }
    }

    @Test("forcing an ISA the CPU lacks falls back to one it has")
    func forcedISA() {
        #expect(KernelISA.supported.contains(.generic))
        #expect(KernelISA.best.isSupported)
        for isa in KernelISA.allCases {
            Kernels.withSettings({ $0.isa = isa }) {
                #expect(Kernels.forcedISA == isa)
                #expect(Kernels.activeISA == (isa.isSupported ? isa : KernelISA.best))
                #expect(Kernels.activeISA.isSupported)
            }
        }
        Kernels.withSettings({ $0.isa = nil }) { #expect(Kernels.activeISA == KernelISA.best) }
    }

    @Test("ATTEND_ISA names a level; anything else is reported, not obeyed")
    func environmentISA() throws {
        for isa in KernelISA.allCases {
            #expect(try KernelISA.parseEnvironment(isa.rawValue).get() == isa)
            #expect(try KernelISA.parseEnvironment(isa.rawValue.uppercased()).get() == isa)
        }
        #expect(try KernelISA.parseEnvironment(nil).get() == nil)
        #expect(try KernelISA.parseEnvironment("").get() == nil)
        guard case .failure(let error) = KernelISA.parseEnvironment("sse9") else {
            Issue.record("sse9 accepted")
            return
        }
        #expect(error.description.contains("ATTEND_ISA=sse9") && error.description.contains("avx512"))
        // What this process started with follows its environment.
        let env = ProcessInfo.processInfo.environment["ATTEND_ISA"]
        #expect(KernelSettings.startup.isa == (try? KernelISA.parseEnvironment(env).get()) ?? nil)
    }
}

// MARK: - Checking

/// Runs `c` on every supported ISA through every driver path and compares each with the reference.
private func checkAllPaths(_ c: GEMMCase) {
    var rng = SeededRNG(seed: c.seed)
    let (aRows, aCols) = c.transA ? (c.k, c.m) : (c.m, c.k)
    let (bRows, bCols) = c.transB ? (c.n, c.k) : (c.k, c.n)
    let lda = aCols + c.padA, ldb = bCols + c.padB, ldc = c.n + c.padC
    let a = (0..<(aRows * lda)).map { _ in rng.float() }
    let b = (0..<(bRows * ldb)).map { _ in rng.float() }
    // beta = 0 must ignore C entirely, so give it NaNs; the padding holds a sentinel that must survive.
    let sentinel: Float = -12345
    let c0: [Float] = (0..<(c.m * ldc)).map { idx in
        if idx % ldc >= c.n { return sentinel }
        return c.beta == 0 ? .nan : rng.float()
    }
    var expected = c0
    run(c, a, lda, b, ldb, &expected, ldc, reference: true)
    let atol = 4e-7 * Float(max(c.k, 1)) * max(1, abs(c.alpha)) + 1e-6, rtol: Float = 1e-5

    for isa in KernelISA.supported {
        for path in paths {
            var got = c0
            Kernels.withSettings({ path.apply(to: &$0); $0.isa = isa }) {
                Kernels.$gemmReadsAInPlace.withValue(path.directA) { run(c, a, lda, b, ldb, &got, ldc, reference: false) }
            }
            compare(got, expected, ldc: ldc, n: c.n, sentinel: sentinel, atol: atol, rtol: rtol,
                    label: "\(c.testDescription) isa=\(isa) path=\(path)")
        }
    }
}

private func run(_ c: GEMMCase, _ a: [Float], _ lda: Int, _ b: [Float], _ ldb: Int,
                 _ out: inout [Float], _ ldc: Int, reference: Bool) {
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            out.withUnsafeMutableBufferPointer { cp in
                if reference {
                    ReferenceKernels.sgemm(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k,
                                           alpha: c.alpha, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!,
                                           ldb: ldb, beta: c.beta, c: cp.baseAddress!, ldc: ldc)
                } else {
                    Kernels.sgemm(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k,
                                  alpha: c.alpha, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!,
                                  ldb: ldb, beta: c.beta, c: cp.baseAddress!, ldc: ldc)
                }
            }
        }
    }
}

/// Fails with the worst element and the first few mismatches when any element of C is out of
/// tolerance or any padding element was written.
private func compare(_ got: [Float], _ ref: [Float], ldc: Int, n: Int, sentinel: Float,
                     atol: Float, rtol: Float, label: String) {
    var bad: [(index: Int, got: Float, ref: Float)] = []
    var worst: (index: Int, excess: Float)? = nil
    for idx in got.indices {
        let g = got[idx], r = ref[idx]
        if idx % ldc >= n {
            if g != sentinel { bad.append((idx, g, r)) }
            continue
        }
        let err = abs(g - r), allowed = atol + rtol * abs(r)
        if !(err <= allowed) {  // also catches NaN
            bad.append((idx, g, r))
            let excess = err.isNaN ? .infinity : err - allowed
            if worst == nil || excess > worst!.excess { worst = (idx, excess) }
        }
    }
    guard !bad.isEmpty else { return }
    func at(_ idx: Int) -> String { "[\(idx / ldc), \(idx % ldc)]" }
    let worstText = worst.map { "worst \(at($0.index)): got \(got[$0.index]) ref \(ref[$0.index])" }
        ?? "padding overwritten"
    let first = bad.prefix(5).map { "\(at($0.index)) got \($0.got) ref \($0.ref)" }.joined(separator: "; ")
    Issue.record("\(label): \(bad.count) mismatches (atol \(atol), rtol \(rtol)); \(worstText); first: \(first)")
}

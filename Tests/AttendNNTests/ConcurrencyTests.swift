import AttendTestSupport
import Foundation
import Testing
@testable import AttendNN

/// One model shared by many concurrent tasks, each with its own kernel settings (ISA, threads, GEMM thresholds,
/// the reference twins): every task's result equals what the same settings give when run alone, bit for bit.
/// Under `swift test --sanitize=thread` this is also the data-race check for the settings, the thread pool and
/// the GEMM's buffer pool.
@Suite("Concurrent use")
struct ConcurrencyTests {
    /// A shared value the tasks only read.
    struct Shared<T>: @unchecked Sendable { let value: T }

    /// The settings the tasks cycle through: every ISA forced, one and two threads, the GEMM's paths pushed
    /// both ways, and the plain twins.
    static let variants: [(label: String, reference: Bool, change: @Sendable (inout KernelSettings) -> Void)] = {
        var v: [(String, Bool, @Sendable (inout KernelSettings) -> Void)] = []
        for isa in KernelISA.supported {
            v.append(("\(isa)×1", false, { $0.isa = isa; $0.maxThreads = 1 }))
            v.append(("\(isa)×2 eager threads", false, { $0.isa = isa; $0.maxThreads = 2; $0.gemm.workPerThread = 1; $0.rowParallelThreshold = 1 }))
            v.append(("\(isa)×2 split M, k sliced", false, {
                $0.isa = isa; $0.maxThreads = 2; $0.gemm.splitNMaxM = 0; $0.gemm.kcMax = 24; $0.gemm.tinyWork = 0 }))
        }
        v.append(("reference twins", true, { _ in }))
        return v
    }()

    /// Runs `body` under variant `i`'s settings.
    static func run<R>(_ i: Int, _ body: () throws -> R) rethrows -> R {
        let variant = variants[i]
        return try Kernels.withSettings(variant.change) { try Kernels.$useReference.withValue(variant.reference, operation: body) }
    }

    @Test func sharedLayerFromManyTasks() async throws {
        var rng = SeededRNG(seed: 77)
        let layer = try MultiHeadAttention(embedDim: 48, heads: 6, kvHeads: 2, rng: &rng)
        try layer.prepareForInference()   // fused Q/K/V and packed weights, shared read-only
        let x = Tensor.randomNormal([2, 21, 48], rng: &rng)
        let pad = try Tensor(shape: [2, 21], scalars: (0..<42).map { Float($0 % 21 < ($0 < 21 ? 21 : 13) ? 1 : 0) })
        let shared = Shared(value: layer)
        func forward(_ i: Int) throws -> [Tensor] {
            try Self.run(i) {
                let causal = try shared.value(query: x, isCausal: true, weights: .perHead)
                let padded = try shared.value(query: x, keyPaddingMask: pad, weights: .averaged)
                return [causal.output, causal.weights!, padded.output, padded.weights!]
            }
        }
        // Alone, one variant at a time.
        let alone = try Self.variants.indices.map { try forward($0) }
        // Many at once: each variant four times, interleaved.
        let together = try await withThrowingTaskGroup(of: (Int, [Tensor]).self) { group in
            for round in 0..<(4 * Self.variants.count) {
                let i = round % Self.variants.count
                group.addTask { (i, try forward(i)) }
            }
            var results: [(Int, [Tensor])] = []
            for try await r in group { results.append(r) }
            return results
        }
        #expect(together.count == 4 * Self.variants.count)
        for (i, got) in together {
            #expect(got == alone[i], "variant \(Self.variants[i].label): concurrent result differs from its single-task result")
        }
        // The variants really differ in the path they take, yet agree on the maths.
        for i in alone.indices {
            for (g, r) in zip(alone[i], alone.last!) { expectClose(g, r, atol: 1e-5, rtol: 1e-4, Self.variants[i].label) }
        }
    }

    /// The settings a task binds stay with it and the tasks it starts, and never reach the process defaults.
    @Test func settingsStayWithTheirTask() async {
        let before = Kernels.defaultSettings
        await withTaskGroup(of: Void.self) { group in
            for isa in KernelISA.supported {
                for threads in [1, 2, 3] {
                    group.addTask {
                        await Kernels.withSettings({ $0.isa = isa; $0.maxThreads = threads }) {
                            for _ in 0..<50 {
                                #expect(Kernels.activeISA == isa && Kernels.maxThreads == threads)
                                await Task.yield()
                            }
                            let child = await Task { Kernels.settings }.value   // unstructured child: inherits
                            #expect(child.isa == isa && child.maxThreads == threads)
                        }
                    }
                }
            }
        }
        #expect(Kernels.defaultSettings == before)
    }
}

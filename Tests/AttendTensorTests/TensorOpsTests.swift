import Foundation
import AttendTestSupport
import Testing
@testable import AttendTensor

@Suite("Tensor ops")
struct TensorOpsTests {
    @Test func creationValidatesShapes() throws {
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 3], scalars: [1, 2, 3]) }
        #expect(throws: TensorError.self) { try Tensor(shape: [-1], scalars: []) }
        #expect(throws: TensorError.self) { try Tensor(rows: [[1, 2], [3]]) }
        let t = try Tensor(rows: [[1, 2, 3], [4, 5, 6]])
        #expect(t.shape == [2, 3])
        #expect(t[1, 2] == 6)
        #expect(Tensor.zeros([2, 2]).scalars == [0, 0, 0, 0])
        #expect(Tensor.ones([3]).sum() == 3)
    }

    @Test func seededRandomIsReproducibleAndPlausible() {
        var a = SeededRNG(seed: 42), b = SeededRNG(seed: 42)
        let x = Tensor.randomNormal([10_000], rng: &a), y = Tensor.randomNormal([10_000], rng: &b)
        #expect(x == y)
        let mean = x.mean()
        let variance = x.scalars.reduce(Float(0)) { $0 + ($1 - mean) * ($1 - mean) } / Float(x.count)
        #expect(abs(mean) < 0.05, "mean \(mean)")
        #expect(abs(variance - 1) < 0.05, "variance \(variance)")
        var c = SeededRNG(seed: 7)
        let u = Tensor.randomUniform([1000], low: -2, high: 3, rng: &c)
        #expect(u.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
    }

    @Test func reshapeInfersAndRejects() throws {
        let t = Tensor.arange(24)
        #expect(try t.reshaped([2, -1, 4]).shape == [2, 3, 4])
        #expect(throws: TensorError.self) { try t.reshaped([5, -1]) }
        #expect(throws: TensorError.self) { try t.reshaped([-1, -1]) }
        #expect(throws: TensorError.self) { try t.reshaped([7, 3]) }
    }

    @Test func permuteMatchesIndexing() throws {
        let t = try Tensor.arange(2 * 3 * 4 * 5).reshaped([2, 3, 4, 5])
        let p = try t.permuted([2, 0, 3, 1])   // [4, 2, 5, 3]
        #expect(p.shape == [4, 2, 5, 3])
        for a in 0..<2 { for b in 0..<3 { for c in 0..<4 { for d in 0..<5 {
            #expect(p[c, a, d, b] == t[a, b, c, d])
        } } } }
        #expect(try t.transposed(0, 1).transposed(0, 1) == t)
        #expect(throws: TensorError.self) { try t.permuted([0, 0, 1, 2]) }
        #expect(throws: TensorError.self) { try t.transposed(0, 4) }
    }

    @Test func sliceConcatenateStackRoundTrip() throws {
        let t = try Tensor.arange(2 * 5 * 3).reshaped([2, 5, 3])
        let parts = try [0..<2, 2..<3, 3..<5].map { try t.slice(axis: 1, $0) }
        #expect(parts.map(\.shape) == [[2, 2, 3], [2, 1, 3], [2, 2, 3]])
        #expect(try Tensor.concatenate(parts, axis: 1) == t)
        #expect(try t.select(axis: 1, 4).scalars == [12, 13, 14, 27, 28, 29])
        let s = try Tensor.stack([t, t * 2], axis: 0)
        #expect(s.shape == [2, 2, 5, 3])
        #expect(try s.select(axis: 0, 1) == t * 2)
        #expect(throws: TensorError.self) { try t.slice(axis: 1, 3..<6) }
        #expect(throws: TensorError.self) { try Tensor.concatenate([t, Tensor.zeros([2, 5, 4])], axis: 1) }
    }

    @Test(arguments: [(1, 1, 1, 1), (2, 7, 3, 5), (3, 17, 4, 16)])
    func splitAndMergeHeads(_ c: (Int, Int, Int, Int)) throws {
        let (b, t, h, d) = c
        var rng = SeededRNG(seed: 1)
        let x = Tensor.randomNormal([b, t, h * d], rng: &rng)
        let split = try x.splitHeads(h)                 // [B, H, T, d]
        #expect(split.shape == [b, h, t, d])
        for bi in 0..<b { for hi in 0..<h { for ti in 0..<t { for di in 0..<d {
            #expect(split[bi, hi, ti, di] == x[bi, ti, hi * d + di])
        } } } }
        #expect(try split.mergeHeads() == x)
        #expect(throws: TensorError.self) { try Tensor.zeros([1, 2, 5]).splitHeads(2) }
    }

    @Test func broadcastingElementwise() throws {
        let a = try Tensor(rows: [[1, 2, 3], [4, 5, 6]])          // [2, 3]
        let row = Tensor([10, 20, 30])                             // [3]
        let col = try Tensor(rows: [[100], [200]])                 // [2, 1]
        #expect(try (a + row).scalars == [11, 22, 33, 14, 25, 36])
        #expect(try (a + col).scalars == [101, 102, 103, 204, 205, 206])
        #expect(try (col * row).shape == [2, 3])
        #expect(try (col * row).scalars == [1000, 2000, 3000, 2000, 4000, 6000])
        #expect(try (a - a).sum() == 0)
        #expect(try (a / Tensor(scalar: 2)).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        #expect(throws: TensorError.self) { try a + Tensor([1, 2]) }
        #expect(try Tensor.broadcastShape([5, 1, 4], [3, 1]) == [5, 3, 4])
    }

    @Test func reductions() throws {
        let a = try Tensor(rows: [[1, 5, 3], [4, 2, 6]])
        #expect(try a.sum(axis: 0).scalars == [5, 7, 9])
        #expect(try a.sum(axis: -1, keepDims: true).shape == [2, 1])
        #expect(try a.mean(axis: 1).scalars == [3, 4])
        #expect(try a.max(axis: 1).scalars == [5, 6])
        #expect(try a.argmax(axis: 1).scalars == [1, 2])
        #expect(a.sum() == 21)
    }

    @Test(arguments: [[1, 1, 1], [3, 5, 7], [2, 16, 17], [4, 17, 15], [1, 64, 33]])
    func batchedMatmulAgreesWithLoops(_ dims: [Int]) throws {
        let (m, k, n) = (dims[0], dims[1], dims[2])
        var rng = SeededRNG(seed: UInt64(m * 1000 + k * 10 + n))
        let a = Tensor.randomNormal([2, 3, m, k], rng: &rng)
        let b = Tensor.randomNormal([3, k, n], rng: &rng)     // broadcast over the leading batch axis
        let c = try Tensor.matmul(a, b)
        #expect(c.shape == [2, 3, m, n])
        var expected = [Float](repeating: 0, count: c.count)
        for i in 0..<2 { for j in 0..<3 { for r in 0..<m { for q in 0..<n {
            var acc = 0.0
            for p in 0..<k { acc += Double(a[i, j, r, p]) * Double(b[j, p, q]) }
            expected[((i * 3 + j) * m + r) * n + q] = Float(acc)
        } } } }
        expectClose(c.scalars, expected, atol: 1e-5, rtol: 1e-5, "matmul \(dims)")
        // a @ bᵀ with b stored [N, K] equals a @ b.
        let bt = try b.transposed()
        expectClose(try Tensor.matmul(a, bt, transposeB: true), c, atol: 1e-5, rtol: 1e-5, "transposeB \(dims)")
        // A shared 2-D right operand.
        let w = Tensor.randomNormal([k, n], rng: &rng)
        let flat = try Tensor.matmul(a, w)
        let perBatch = try Tensor.matmul(a, Tensor.stack([w, w, w], axis: 0))
        expectClose(flat, perBatch, atol: 1e-5, rtol: 1e-5, "2-D rhs \(dims)")
        #expect(throws: TensorError.self) { try Tensor.matmul(a, Tensor.zeros([k + 1, n])) }
    }

    @Test(arguments: sweepLengths)
    func softmaxFastMatchesReference(_ cols: Int) throws {
        var rng = SeededRNG(seed: UInt64(cols))
        let x = Tensor.randomNormal([5, cols], std: 4, rng: &rng)
        let fast = try x.softmax()
        let reference = try withReferenceKernels { try x.softmax() }
        expectClose(fast, reference, atol: 1e-6, rtol: 1e-5, "softmax cols=\(cols)")
        let sums = try fast.sum(axis: -1)
        expectClose(sums.scalars, [Float](repeating: 1, count: 5), atol: 1e-5, rtol: 0, "row sums")
        // Shift invariance: softmax(x + c) = softmax(x).
        expectClose(try (x + 1000).softmax(), fast, atol: 1e-6, rtol: 1e-4, "shifted")
    }

    @Test func softmaxEdgeCases() throws {
        let x = try Tensor(rows: [[-.infinity, -.infinity, -.infinity], [1e30, 1e30, -1e30], [-.infinity, 0, -.infinity]])
        let y = try x.softmax()
        #expect(y.scalars == [0, 0, 0, 0.5, 0.5, 0, 0, 1, 0])
        let r = try withReferenceKernels { try x.softmax() }
        #expect(r.scalars == y.scalars)
        // Softmax along a non-last axis equals transposing.
        var rng = SeededRNG(seed: 3)
        let z = Tensor.randomNormal([3, 4], rng: &rng)
        expectClose(try z.softmax(axis: 0), try z.transposed().softmax().transposed(), atol: 1e-7, rtol: 0)
    }

    @Test(arguments: [1, 7, 16, 17, 384])
    func layerNormFastMatchesReference(_ cols: Int) throws {
        var rng = SeededRNG(seed: UInt64(cols) + 11)
        let x = Tensor.randomNormal([6, cols], mean: 3, std: 2, rng: &rng)
        let g = Tensor.randomNormal([cols], rng: &rng), b = Tensor.randomNormal([cols], rng: &rng)
        let fast = try x.layerNorm(weight: g, bias: b, eps: 1e-12)
        let reference = try withReferenceKernels { try x.layerNorm(weight: g, bias: b, eps: 1e-12) }
        expectClose(fast, reference, atol: 2e-5, rtol: 1e-4, "layerNorm cols=\(cols)")
        if cols > 1 {
            let plain = try x.layerNorm(weight: nil, bias: nil)
            let means = try plain.mean(axis: -1)
            expectClose(means.scalars, [Float](repeating: 0, count: 6), atol: 1e-5, rtol: 0, "normalised means")
        }
        #expect(throws: TensorError.self) { try x.layerNorm(weight: Tensor.ones([cols + 1]), bias: nil) }
    }

    @Test func geluKnownValuesAndTwins() throws {
        // Φ-based exact GELU and the tanh form at known points (PyTorch's values).
        let x = Tensor([-3, -1, 0, 0.5, 1, 2])
        expectClose(x.gelu(), Tensor([-0.0040496, -0.1586553, 0, 0.3457312, 0.8413447, 1.9544997]), atol: 1e-6, rtol: 1e-6)
        expectClose(x.gelu(approximate: true), Tensor([-0.0036374, -0.1588080, 0, 0.3457140, 0.8411920, 1.9545977]), atol: 1e-6, rtol: 1e-6)
        var rng = SeededRNG(seed: 9)
        let big = Tensor.randomNormal([5000], std: 3, rng: &rng)
        for approximate in [false, true] {
            let fast = big.gelu(approximate: approximate)
            let ref = withReferenceKernels { big.gelu(approximate: approximate) }
            expectClose(fast, ref, atol: 1e-6, rtol: 1e-5, "gelu approximate=\(approximate)")
        }
    }
}

/// Runs `body` with the plain reference kernels (task-local, so parallel tests are unaffected).
func withReferenceKernels<T>(_ body: () throws -> T) rethrows -> T {
    try Kernels.$useReference.withValue(true) { try body() }
}

@Suite("Fused transformer ops")
struct FusedOpsTests {
    @Test func fastErfIsFloatAccurate() {
        var worst: Double = 0
        for i in -60_000...60_000 {
            let x = Float(i) / 10_000
            worst = max(worst, abs(Double(Kernels.fastErf(x)) - erf(Double(x))))
        }
        #expect(worst < 5e-7, "worst |fastErf − erf| = \(worst)")
    }

    @Test(arguments: [(1, 1, 1), (3, 7, 5), (17, 16, 33), (64, 97, 15)])
    func linearWithEpilogueMatchesTwin(_ c: (Int, Int, Int)) throws {
        let (rows, inF, outF) = c
        var rng = SeededRNG(seed: UInt64(rows * 7 + outF))
        let x = Tensor.randomNormal([rows, inF], rng: &rng)
        let w = Tensor.randomNormal([outF, inF], std: 0.5, rng: &rng)
        let b = Tensor.randomNormal([outF], rng: &rng)
        for act in [FusedActivation.none, .gelu, .geluTanh, .relu] {
            let fast = try Tensor.linear(x, weight: w, bias: b, activation: act)
            let ref = try withReferenceKernels { try Tensor.linear(x, weight: w, bias: b, activation: act) }
            expectClose(fast, ref, atol: 2e-5, rtol: 1e-4, "linear \(c) \(act)")
        }
        // Unfused composition.
        let composed = try (Tensor.matmul(x, w, transposeB: true) + b).gelu()
        expectClose(try Tensor.linear(x, weight: w, bias: b, activation: .gelu), composed, atol: 2e-5, rtol: 1e-4)
        #expect(throws: TensorError.self) { try Tensor.linear(x, weight: w, bias: Tensor.zeros([outF + 1])) }
    }

    @Test(arguments: [1, 16, 17, 384])
    func addingLayerNormMatchesComposition(_ cols: Int) throws {
        var rng = SeededRNG(seed: UInt64(cols))
        let x = Tensor.randomNormal([5, cols], rng: &rng), r = Tensor.randomNormal([5, cols], rng: &rng)
        let g = Tensor.randomNormal([cols], rng: &rng), b = Tensor.randomNormal([cols], rng: &rng)
        let fused = try x.addingLayerNorm(r, weight: g, bias: b, eps: 1e-12)
        let composed = try (x + r).layerNorm(weight: g, bias: b, eps: 1e-12)
        expectClose(fused, composed, atol: 1e-5, rtol: 1e-4)
        let ref = try withReferenceKernels { try x.addingLayerNorm(r, weight: g, bias: b, eps: 1e-12) }
        expectClose(fused, ref, atol: 2e-5, rtol: 1e-4)
    }
}

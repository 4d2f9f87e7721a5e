import AttendTestSupport
import Testing
@testable import AttendTensor

// `Tensor.linear` through the fast GEMM with weights packed once (`PackedWeights`) and the bias and
// activation applied per output tile (the fused epilogue), against the same op run on the reference
// twins (`Kernels.useReference`: Double-accumulated GEMM, then the reference bias + activation).
// |got − ref| ≤ atol + rtol·|ref|, swept over rows (1, primes, the 6-row tile ± 1, a 32 × 12 batch, past
// the split-N limit), columns (the 64-wide AVX-512 and 16-wide AVX2 tiles ± 1) and depths (one and two
// k slices), on every ISA this CPU runs, with 1 and 2 threads.

private func random(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SeededRNG(seed: seed)
    return try! Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.float() })
}

struct PackedLinearCase: CustomTestStringConvertible, Sendable {
    var rows: Int, out: Int, inF: Int
    var activation: FusedActivation
    var bias: Bool
    var testDescription: String { "\(rows)×\(inF) · (\(out)×\(inF))ᵀ \(activation) bias=\(bias)" }
}

private let acts: [FusedActivation] = [.none, .gelu, .geluTanh, .relu]
private let rowSizes = [1, 5, 6, 7, 13, 64, 65, 97, 384, 400]
private let outSizes = [1, 15, 16, 17, 63, 64, 65, 130, 384]
private let inSizes = [1, 7, 24, 384, 800]

/// 30 cases covering every row, column and depth size above several times, all activations, with and without bias.
let packedLinearCases: [PackedLinearCase] = (0..<30).map { i in
    var rows = rowSizes[i % rowSizes.count], out = outSizes[(i * 4 + 1) % outSizes.count]
    let inF = inSizes[(i * 3 + i / 5) % inSizes.count]
    while rows * out * inF > 2_000_000 && rows > 1 { rows /= 2 }   // debug builds run the reference slowly
    if rows * out * inF > 2_000_000 { out = 64 }
    return PackedLinearCase(rows: rows, out: out, inF: inF, activation: acts[i % 4], bias: i % 3 != 2)
}

@Suite(.serialized)
struct PackedLinearTests {
    @Test("packed weights + fused epilogue match the reference", arguments: packedLinearCases)
    func matchesReference(_ c: PackedLinearCase) throws {
        let x = random([c.rows, c.inF], seed: UInt64(c.rows * 7 + c.inF))
        let w = random([c.out, c.inF], seed: UInt64(c.out * 13 + c.inF))
        let b = c.bias ? random([c.out], seed: 3) : nil
        let expected = try Kernels.$useReference.withValue(true) {
            try Tensor.linear(x, weight: w, bias: b, activation: c.activation)
        }
        let atol = 4e-7 * Float(c.inF) + 2e-6, rtol: Float = 2e-5
        for isa in KernelISA.supported {
            let packed = try Kernels.withSettings({ $0.isa = isa }) { try PackedWeights(w) }
            #expect(packed.isa == isa)
            for threads in [1, 2] {
                try Kernels.withSettings({ $0.isa = isa; $0.maxThreads = threads }) {
                    let got = try Tensor.linear(x, weight: w, bias: b, activation: c.activation, packed: packed)
                    expectClose(got, expected, atol: atol, rtol: rtol, "\(isa), \(threads) thread(s), packed")
                    let unpacked = try Tensor.linear(x, weight: w, bias: b, activation: c.activation)
                    expectClose(unpacked, expected, atol: atol, rtol: rtol, "\(isa), \(threads) thread(s), not packed")
                }
            }
        }
    }

    @Test("a packing made for another ISA level is not used, and results stay right")
    func otherISA() throws {
        guard KernelISA.supported.count > 1 else { return }
        let x = random([40, 96], seed: 1), w = random([70, 96], seed: 2), b = random([70], seed: 3)
        let expected = try Kernels.$useReference.withValue(true) { try Tensor.linear(x, weight: w, bias: b, activation: .gelu) }
        let packed = try Kernels.withSettings({ $0.isa = KernelISA.supported.last }) { try PackedWeights(w) }
        for isa in KernelISA.supported where isa != packed.isa {
            try Kernels.withSettings({ $0.isa = isa }) {
                expectClose(try Tensor.linear(x, weight: w, bias: b, activation: .gelu, packed: packed), expected,
                            atol: 1e-4, rtol: 2e-5, "packed for \(packed.isa), run on \(isa)")
            }
        }
    }

    @Test("packed weights of the wrong shape are a typed error")
    func wrongShape() throws {
        let x = random([3, 8], seed: 1), w = random([5, 8], seed: 2)
        let other = try PackedWeights(random([6, 8], seed: 3))
        #expect(throws: TensorError.self) { try Tensor.linear(x, weight: w, bias: nil, packed: other) }
        #expect(throws: TensorError.self) { try PackedWeights(random([8], seed: 4)) }
    }

    @Test("empty inputs")
    func empty() throws {
        let w = random([5, 8], seed: 2)
        let packed = try PackedWeights(w)
        let y = try Tensor.linear(Tensor.zeros([0, 8]), weight: w, bias: nil, packed: packed)
        #expect(y.shape == [0, 5])
        // No inputs: every output is act(bias).
        let b = random([4], seed: 5)
        let z = try Tensor.linear(Tensor.zeros([2, 0]), weight: Tensor.zeros([4, 0]), bias: b, activation: .relu)
        #expect(z.scalars == (b.scalars + b.scalars).map { max($0, 0) })
    }
}

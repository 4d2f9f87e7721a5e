import AttendTestSupport
import Foundation
import Testing
@testable import AttendTensor

/// The shared-activation product (``Tensor/linear(_:quantized:activations:)`` with several matrices: q, k, v or gate,
/// up) over swept shapes:
///
/// 1. against one ``Tensor/linear(_:quantized:bias:activation:activations:)`` per matrix: equal bit for bit
///    (atol = 0, rtol = 0), since each output row's int32 block sums, scales and float32 accumulation do not depend on
///    which rows share a tile or a thread, and the activations are quantized by the same function;
/// 2. against the Double twin (``ReferenceKernels/gemmQuantizedInt16(m:a:lda:weight:c:ldc:)``) within
///    `|fast − twin| ≤ atol + rtol·|twin|`, atol = 1e-4, rtol = 1e-4 (float32 sums of at most 18 blocks of terms ≲ 30),
///    so a row written to the wrong matrix or offset fails.
@Suite struct QuantSharedTests {
    /// Row counts of the matrices sharing one input: a single row, primes, tile sizes ± 1, SmolLM2's q/k/v and gate/up.
    static let rowSets: [[Int]] = [[1], [3, 17], [4, 5, 7], [31, 33, 64], [576, 192, 192], [1536, 1536]]

    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func sharedProductEqualsOneProductPerMatrix(type: GGMLType) throws {
        var rng = SeededRNG(seed: 12)
        var worst = 0.0
        for k in [32, 96, 576] {
            for rows in Self.rowSets where k == 576 || rows.reduce(0, +) < 200 {
                let weights = try rows.map { try randomMatrix(type, rows: $0, columns: k, rng: &rng) }
                for m in [1, 2, 3, 5, 16, 17] {
                    var values = (0..<(m * k)).map { _ in rng.float() }
                    values[(5 * m) % values.count] = 30                                     // an outlier block
                    let x = try Tensor(shape: [1, m, k], scalars: values)                   // [1, m, k]
                    let shared = try Tensor.linear(x, quantized: weights, activations: .int16)  // [1, m, n_s] each
                    #expect(shared.count == weights.count)
                    for (s, w) in weights.enumerated() {
                        let alone = try Tensor.linear(x, quantized: w, activations: .int16)  // [1, m, n_s]
                        #expect(shared[s].shape == [1, m, w.rows])
                        #expect(shared[s].scalars == alone.scalars, "type \(type) k \(k) rows \(rows) m \(m): matrix \(s) differs from its own product")
                        guard Kernels.int16ActivationsAvailable && m <= 16 && rows.reduce(0, +) <= 1000 else { continue }
                        var twin = [Float](repeating: 0, count: m * w.rows)
                        values.withUnsafeBufferPointer { a in
                            ReferenceKernels.gemmQuantizedInt16(m: m, a: a.baseAddress!, lda: k, weight: w, c: &twin, ldc: w.rows)
                        }
                        for (f, r) in zip(shared[s].scalars, twin) {
                            let excess = abs(Double(f) - Double(r)) / (1e-4 + 1e-4 * abs(Double(r)))
                            worst = max(worst, excess)
                        }
                    }
                }
            }
        }
        #expect(worst <= 1, "worst |shared − Double twin| is \(worst) × the bound")
        print("QuantShared \(type): worst \(worst) × the bound against the int16 Double twin")
    }

    @Test func matricesOfDifferentWidthsAreRejected() throws {
        var rng = SeededRNG(seed: 3)
        let a = try randomMatrix(.q4_1, rows: 4, columns: 64, rng: &rng)
        let b = try randomMatrix(.q4_1, rows: 4, columns: 96, rng: &rng)
        let x = try Tensor(shape: [1, 64], scalars: [Float](repeating: 0.5, count: 64))
        #expect(throws: TensorError.self) { try Tensor.linear(x, quantized: [a, b], activations: .int16) }
        #expect(try Tensor.linear(x, quantized: [], activations: .int16).isEmpty)
    }
}

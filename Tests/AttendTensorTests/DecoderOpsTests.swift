import Foundation
import Testing
@testable import AttendTensor

// The decoder's element-wise tensor ops (Tensor+Decoder.swift: rmsNorm, rotatedHalf, swiglu, adding) against
// plain twins written here as scalar loops in Double, |got − ref| ≤ atol + rtol·|ref|, over swept shapes (1, primes,
// the 16-lane width ± 1, SmolLM2's sizes); and the in-place rewrite leaves every other holder's values untouched.

private let sweepWidths = [1, 2, 7, 15, 16, 17, 31, 33, 64, 576, 1536]
private let sweepRows = [1, 3, 13]

/// Deterministic values in about [−scale, scale], with a few outliers ×20.
private func values(_ count: Int, seed: UInt64, scale: Float = 2) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { i in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let u = Float(state >> 40) / Float(1 << 24) * 2 - 1
        return u * scale * (i % 37 == 5 ? 20 : 1)
    }
}

private func expectClose(_ got: [Float], _ ref: [Double], atol: Double, rtol: Double, _ what: String) {
    #expect(got.count == ref.count, "\(what): count")
    var worst = 0.0, at = -1
    for (i, (g, r)) in zip(got, ref).enumerated() {
        let excess = abs(Double(g) - r) - (atol + rtol * abs(r))
        if excess > worst || !g.isFinite { worst = g.isFinite ? excess : .infinity; at = i }
    }
    #expect(at < 0, "\(what): element \(at) got \(at >= 0 ? got[at] : 0) want \(at >= 0 ? ref[at] : 0)")
}

@Suite struct DecoderOpsTests {
    @Test(arguments: sweepWidths)
    func rmsNormMatchesPlainTwin(width: Int) throws {
        for rows in sweepRows {
            let x = values(rows * width, seed: UInt64(width * 31 + rows)), g = values(width, seed: 7, scale: 1.5)
            let eps: Float = 1e-5
            let got = try Tensor(shape: [1, rows, width], scalars: x).rmsNorm(weight: Tensor(g), eps: eps)
            #expect(got.shape == [1, rows, width])
            var ref = [Double](repeating: 0, count: x.count)
            for r in 0..<rows {
                var sum = 0.0
                for j in 0..<width { sum += Double(x[r * width + j]) * Double(x[r * width + j]) }
                let inv = 1 / (sum / Double(width) + Double(eps)).squareRoot()
                for j in 0..<width { ref[r * width + j] = Double(g[j]) * Double(x[r * width + j]) * inv }
            }
            expectClose(got.scalars, ref, atol: 1e-6, rtol: 1e-5, "rmsNorm \(rows)×\(width)")
        }
    }

    @Test func rmsNormRejectsAWrongWeight() throws {
        let x = try Tensor(shape: [2, 8], scalars: values(16, seed: 1))
        #expect(throws: TensorError.self) { try x.rmsNorm(weight: Tensor(values(7, seed: 2)), eps: 1e-5) }
    }

    @Test(arguments: [(1, 2), (3, 64), (9, 64), (2, 30), (1, 18)])
    func rotatedHalfMatchesPlainTwin(heads: Int, d: Int) throws {
        let half = d / 2
        let inv = (0..<half).map { i in Float(1 / pow(100_000.0, Double(2 * i) / Double(d))) }
        for (rows, start) in [(1, 0), (1, 511), (13, 0), (17, 100)] {
            let x = values(rows * heads * d, seed: UInt64(heads * 1000 + d * 10 + rows))
            let held = try Tensor(shape: [1, rows, heads * d], scalars: x)
            let got = try held.rotatedHalf(heads: heads, headDim: d, start: start, inverseFrequencies: inv)
            #expect(held.scalars == x, "a tensor still held elsewhere keeps its values")
            var ref = [Double](repeating: 0, count: x.count)
            for t in 0..<rows {
                for h in 0..<heads {
                    let base = (t * heads + h) * d
                    for i in 0..<half {
                        let angle = Double(Float(start + t) * inv[i])
                        let (c, s) = (Double(Float(cos(angle))), Double(Float(sin(angle))))
                        let (x1, x2) = (Double(x[base + i]), Double(x[base + i + half]))
                        ref[base + i] = x1 * c - x2 * s
                        ref[base + i + half] = x2 * c + x1 * s
                    }
                }
            }
            expectClose(got.scalars, ref, atol: 1e-6, rtol: 1e-6, "rotatedHalf \(rows)×\(heads)×\(d) from \(start)")
        }
    }

    @Test func rotatedHalfRejectsBadSizes() throws {
        let x = try Tensor(shape: [1, 2, 12], scalars: values(24, seed: 3))
        #expect(throws: TensorError.self) { try x.rotatedHalf(heads: 2, headDim: 5, start: 0, inverseFrequencies: [1, 1]) }
        #expect(throws: TensorError.self) { try x.rotatedHalf(heads: 2, headDim: 6, start: 0, inverseFrequencies: [1]) }
    }

    @Test(arguments: sweepWidths)
    func swigluAndAddingMatchPlainTwins(width: Int) throws {
        for rows in sweepRows {
            let (g, u) = (values(rows * width, seed: UInt64(width + 5)), values(rows * width, seed: UInt64(width + 9)))
            let held = try Tensor(shape: [rows, width], scalars: g), up = try Tensor(shape: [rows, width], scalars: u)
            let got = try Tensor.swiglu(gate: held, up: up)
            #expect(held.scalars == g, "a gate still held elsewhere keeps its values")
            let ref = zip(g, u).map { z, v in Double(z) / (1 + exp(-Double(z))) * Double(v) }
            expectClose(got.scalars, ref, atol: 1e-6, rtol: 1e-5, "swiglu \(rows)×\(width)")
            let sum = try Tensor.swiglu(gate: Tensor(shape: [rows, width], scalars: g), up: up).adding(held)
            let refSum = zip(ref, g).map { $0 + Double($1) }
            expectClose(sum.scalars, refSum, atol: 1e-5, rtol: 1e-5, "adding \(rows)×\(width)")
        }
        let x = try Tensor(shape: [2, 3], scalars: values(6, seed: 4))
        #expect(throws: TensorError.self) { try Tensor.swiglu(gate: x, up: Tensor(values(6, seed: 5))) }
        #expect(throws: TensorError.self) { try x.adding(Tensor(values(6, seed: 5))) }
    }
}

import AttendTestSupport
import Foundation
import Testing
@testable import AttendNN

/// Gradient checks: every op's backward against central finite differences.
///
/// The loss is `L = Σᵢ wᵢ·yᵢ` for a fixed random cotangent `w`, accumulated in Double; the numerical derivative
/// of each input element is the Richardson-extrapolated central difference, computed in Double:
///
///     D(h) = (L(x + h) − L(x − h)) / 2h,     ∂L/∂x ≈ (4·D(h/2) − D(h)) / 3      (error O(h⁴))
///
/// with `h = 1e-2·max(1, |x|)`. The forward under test runs in Float32, so the difference quotient carries a
/// rounding error of about `ε_f32·|L| / h ≈ 1e-5·|L|`; the stated tolerance is therefore
/// `|analytic − numeric| ≤ 2e-3 + 1e-2·|numeric|` (tinygrad's practice of a looser bound for gradients).
enum GradCheck {
    static let atol = 2e-3
    static let rtol = 1e-2

    /// Checks d(Σ w·f)/d(inputs and parameters). `f` gets the inputs as variables and the tape (nil while
    /// differencing, so the forward records nothing). At most `maxPerTensor` coordinates per tensor are checked
    /// (a seeded sample), to keep debug builds fast.
    static func check(
        _ label: String, inputs: [Tensor], parameters: [(String, Parameter)] = [], maxPerTensor: Int = 48,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ f: ([Variable], Tape?) throws -> Variable
    ) throws {
        // Analytic gradients.
        let tape = Tape()
        let vars = inputs.map { tape.variable($0) }
        let out = try f(vars, tape)
        var rng = SeededRNG(seed: 0xC0FFEE)
        let w = Tensor.randomNormal(out.shape, rng: &rng)
        try tape.backward(out, seed: w)
        let analyticInputs = vars.map { tape.gradient($0) ?? .zeros($0.shape) }
        let analyticParams = parameters.map { tape.gradient($0.1) ?? .zeros($0.1.shape) }

        // L(current values) in Double, no tape.
        func loss(_ xs: [Tensor]) throws -> Double {
            let y = try f(xs.map { Variable($0) }, nil).value
            var s = 0.0
            for i in 0..<y.count { s += Double(w.scalars[i]) * Double(y.scalars[i]) }
            return s
        }
        func numeric(_ read: () -> Float, _ write: (Float) -> Void, _ xs: () -> [Tensor]) throws -> Double {
            let x0 = read()
            let h = 1e-2 * Swift.max(1, abs(Double(x0)))
            func d(_ h: Double) throws -> Double {
                write(Float(Double(x0) + h)); let lp = try loss(xs())
                write(Float(Double(x0) - h)); let lm = try loss(xs())
                write(x0)
                // Use the step actually representable in Float32.
                let step = Double(Float(Double(x0) + h)) - Double(Float(Double(x0) - h))
                return (lp - lm) / step
            }
            let d1 = try d(h), d2 = try d(h / 2)
            return (4 * d2 - d1) / 3
        }
        func compare(_ name: String, analytic: Tensor, count: Int, _ probe: (Int) throws -> Double) throws {
            var picker = SeededRNG(seed: UInt64(count) &* 7919)
            var indices = Array(0..<count)
            if count > maxPerTensor { indices.shuffle(using: &picker); indices = Array(indices.prefix(maxPerTensor)) }
            var worst = (index: -1, excess: 0.0, a: 0.0, n: 0.0)
            for i in indices {
                let n = try probe(i), a = Double(analytic.scalars[i])
                let excess = abs(a - n) - (atol + rtol * abs(n))
                if excess > worst.excess || (!excess.isFinite && worst.index < 0) { worst = (i, excess, a, n) }
            }
            #expect(worst.index < 0, "\(label) \(name): worst [\(worst.index)] analytic \(worst.a) numeric \(worst.n)",
                    sourceLocation: sourceLocation)
        }

        var xs = inputs
        for k in 0..<inputs.count {
            try compare("input \(k) \(inputs[k].shape)", analytic: analyticInputs[k], count: inputs[k].count) { i in
                try numeric({ xs[k].scalars[i] }, { xs[k].scalars[i] = $0 }, { xs })
            }
        }
        for (k, (name, p)) in parameters.enumerated() {
            try compare("parameter \(name)", analytic: analyticParams[k], count: p.value.count) { i in
                try numeric({ p.value.scalars[i] }, { p.value.scalars[i] = $0 }, { inputs })
            }
        }
    }

    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = SeededRNG(seed: seed)
        return Tensor.randomNormal(shape, std: scale, rng: &rng)
    }
}

@Suite("Autograd: gradient checks")
struct AutogradGradientTests {
    static let broadcastCases: [([Int], [Int])] = [
        ([2, 3], [2, 3]), ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([3], [2, 3]), ([2, 3], []), ([1, 3, 1], [2, 1, 5]),
    ]

    @Test(arguments: broadcastCases)
    func addSubMul(_ c: ([Int], [Int])) throws {
        let a = GradCheck.random(c.0, seed: 1), b = GradCheck.random(c.1, seed: 2)
        try GradCheck.check("add \(c)", inputs: [a, b]) { v, _ in try v[0] + v[1] }
        try GradCheck.check("sub \(c)", inputs: [a, b]) { v, _ in try v[0] - v[1] }
        try GradCheck.check("mul \(c)", inputs: [a, b]) { v, _ in try v[0] * v[1] }
    }

    @Test func scalarOpsAndReductions() throws {
        let x = GradCheck.random([2, 3, 4], seed: 3)
        try GradCheck.check("scale", inputs: [x]) { v, _ in v[0] * 2.5 + 1 }
        try GradCheck.check("negate", inputs: [x]) { v, _ in -v[0] }
        try GradCheck.check("sum", inputs: [x]) { v, _ in v[0].sum() }
        try GradCheck.check("mean", inputs: [x]) { v, _ in v[0].mean() }
        for axis in [0, 1, -1] {
            try GradCheck.check("sum axis \(axis)", inputs: [x]) { v, _ in try v[0].sum(axis: axis) }
            try GradCheck.check("mean axis \(axis) keepDims", inputs: [x]) { v, _ in try v[0].mean(axis: axis, keepDims: true) }
        }
        // A product of the input with itself: gradients from two uses accumulate.
        try GradCheck.check("x*x", inputs: [x]) { v, _ in try v[0] * v[0] }
    }

    static let matmulCases: [([Int], [Int], Bool)] = [
        ([3, 4], [4, 5], false), ([3, 4], [5, 4], true), ([2, 3, 4], [2, 4, 5], false),
        ([2, 3, 4], [2, 5, 4], true), ([2, 3, 4], [4, 6], false), ([2, 7, 4], [5, 4], true), ([1, 1], [1, 1], false),
    ]

    @Test(arguments: matmulCases)
    func matmul(_ c: ([Int], [Int], Bool)) throws {
        let a = GradCheck.random(c.0, seed: 4), b = GradCheck.random(c.1, seed: 5)
        try GradCheck.check("matmul \(c)", inputs: [a, b]) { v, _ in try Variable.matmul(v[0], v[1], transposeB: c.2) }
    }

    @Test func matmulRejectsBroadcastBatchesWhenRecording() throws {
        let tape = Tape()
        let a = tape.variable(.zeros([2, 3, 4])), b = tape.variable(.zeros([1, 4, 5]))
        #expect(throws: TensorError.self) { try Variable.matmul(a, b) }
    }

    @Test func shapeOps() throws {
        let x = GradCheck.random([2, 3, 8], seed: 6)
        try GradCheck.check("reshape", inputs: [x]) { v, _ in try v[0].reshaped([6, -1]) * v[0].reshaped([6, 8]) }
        try GradCheck.check("permute", inputs: [x]) { v, _ in try v[0].permuted([2, 0, 1]) }
        try GradCheck.check("transpose", inputs: [x]) { v, _ in try v[0].transposed() }
        try GradCheck.check("split/merge heads", inputs: [x]) { v, _ in
            let h = try v[0].splitHeads(2)          // [2, 2, 3, 4]
            return try (h * h).mergeHeads()         // [2, 3, 8]
        }
    }

    @Test(arguments: [[1, 5], [3, 4], [2, 2, 7]])
    func softmax(_ shape: [Int]) throws {
        let x = GradCheck.random(shape, seed: 7, scale: 2)
        try GradCheck.check("softmax \(shape)", inputs: [x]) { v, _ in try v[0].softmax() }
    }

    @Test(arguments: [[2, 5], [3, 2, 8], [1, 1, 3]])
    func layerNorm(_ shape: [Int]) throws {
        let x = GradCheck.random(shape, seed: 8, scale: 2)
        let d = shape.last!
        let g = GradCheck.random([d], seed: 9), b = GradCheck.random([d], seed: 10)
        try GradCheck.check("layerNorm affine \(shape)", inputs: [x, g, b]) { v, _ in
            try v[0].layerNorm(weight: v[1], bias: v[2])
        }
        try GradCheck.check("layerNorm plain \(shape)", inputs: [x]) { v, _ in try v[0].layerNorm(weight: nil, bias: nil) }
        // The layer: forward equals the Tensor layer, parameters get gradients.
        let ln = LayerNorm(d)
        ln.weight.value = g
        ln.bias.value = b
        expectClose(try ln(Variable(x), tape: nil).value, try ln(x), atol: 1e-5, rtol: 1e-5)
        try GradCheck.check("LayerNorm module \(shape)", inputs: [x], parameters: ln.namedParameters()) { v, tape in
            try ln(v[0], tape: tape)
        }
    }

    @Test func gelu() throws {
        let x = GradCheck.random([4, 6], seed: 11, scale: 2)
        try GradCheck.check("gelu erf", inputs: [x]) { v, _ in v[0].gelu() }
        try GradCheck.check("gelu tanh", inputs: [x]) { v, _ in v[0].gelu(approximate: true) }
        let shifted = x.map { $0 + ($0 >= 0 ? 0.1 : -0.1) }   // keep clear of the kink
        try GradCheck.check("relu", inputs: [shifted]) { v, _ in v[0].relu() }
    }

    @Test func embeddingScatterAdds() throws {
        let table = GradCheck.random([6, 4], seed: 12)
        let ids = [[1, 3, 1], [5, 0, 1]]   // id 1 three times
        try GradCheck.check("embedding", inputs: [table]) { v, _ in try Variable.embedding(v[0], ids: ids) }
        let tape = Tape()
        let t = tape.variable(table)
        try tape.backward(try Variable.embedding(t, ids: ids).sum())
        let g = try #require(tape.gradient(t))
        #expect(Array(g.scalars[4..<8]) == [3, 3, 3, 3])   // row 1: three uses
        #expect(Array(g.scalars[8..<12]) == [0, 0, 0, 0])  // row 2: unused
        #expect(throws: TensorError.self) { try Variable.embedding(t, ids: [[6]]) }
    }

    @Test func dropoutUsesTheSameMask() throws {
        let x = GradCheck.random([3, 5], seed: 13)
        try GradCheck.check("dropout", inputs: [x]) { v, _ in
            var rng = SeededRNG(seed: 99)   // same mask in every evaluation
            return v[0].dropout(0.4, rng: &rng)
        }
        var rng = SeededRNG(seed: 1)
        let y = Variable(.ones([1000])).dropout(0.25, rng: &rng).value
        let zeros = y.scalars.filter { $0 == 0 }.count
        #expect(zeros > 200 && zeros < 300)
        #expect(y.scalars.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
    }

    @Test(arguments: [(4, 5, [2, -100, 0, 4]), (3, 7, [6, 6, 1]), (2, 3, [-100, -100])])
    func crossEntropy(_ c: (Int, Int, [Int])) throws {
        let (rows, classes, targets) = c
        let z = GradCheck.random([rows, classes], seed: 14, scale: 2)
        try GradCheck.check("crossEntropy \(c)", inputs: [z]) { v, _ in try Variable.crossEntropy(v[0], targets: targets) }
        // Against the definition in Double.
        let loss = try Variable.crossEntropy(Variable(z), targets: targets).value.scalars[0]
        var total = 0.0, n = 0
        for (r, t) in targets.enumerated() where t != -100 {
            let row = (0..<classes).map { Double(z[r, $0]) }
            let m = row.max()!
            total += m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +)) - row[t]
            n += 1
        }
        #expect(abs(Double(loss) - (n == 0 ? 0 : total / Double(n))) < 1e-5)
    }

    @Test func crossEntropyRejectsBadTargets() {
        #expect(throws: TensorError.self) { try Variable.crossEntropy(Variable(.zeros([2, 3])), targets: [0, 3]) }
        #expect(throws: TensorError.self) { try Variable.crossEntropy(Variable(.zeros([2, 3])), targets: [0]) }
    }

    /// Masks for `[B=2, H=2, Lq, Lk]` scores.
    enum MaskCase: String, CaseIterable, CustomStringConvertible {
        case none, causal, keyPadding, additive, fullyMaskedRow
        var description: String { rawValue }
    }

    @Test(arguments: MaskCase.allCases, [(4, 4), (3, 6), (1, 5)])
    func attention(_ maskCase: MaskCase, _ lengths: (Int, Int)) throws {
        let (lq, lk) = lengths
        let q = GradCheck.random([2, 2, lq, 4], seed: 15), k = GradCheck.random([2, 2, lk, 4], seed: 16)
        let v = GradCheck.random([2, 2, lk, 3], seed: 17)
        var mask: AttentionMask? = nil
        var causal = false
        switch maskCase {
        case .none: break
        case .causal: causal = true
        case .keyPadding:
            let pad = (0..<(2 * lk)).map { Float($0 == 2 * lk - 1 || $0 == lk - 1 && lk > 2 ? 0 : 1) }
            mask = .boolean(try Tensor(shape: [2, 1, 1, lk], scalars: pad))
        case .additive: mask = .additive(GradCheck.random([1, 2, lq, lk], seed: 18))
        case .fullyMaskedRow:
            var m = [Float](repeating: 1, count: lq * lk)
            for j in 0..<lk { m[j] = 0 }   // query row 0 sees nothing
            mask = .boolean(try Tensor(shape: [lq, lk], scalars: m))
        }
        try GradCheck.check("attention \(maskCase) \(lengths)", inputs: [q, k, v]) { x, _ in
            try Variable.attention(query: x[0], key: x[1], value: x[2], mask: mask, isCausal: causal).output
        }
        // The forward is the library's attention.
        let plain = try scaledDotProductAttention(query: q, key: k, value: v, mask: mask, isCausal: causal).output
        #expect(try Variable.attention(query: Variable(q), key: Variable(k), value: Variable(v), mask: mask, isCausal: causal).output.value == plain)
    }

    @Test(arguments: [false, true])
    func rotary(interleaved: Bool) throws {
        let x = GradCheck.random([2, 2, 5, 6], seed: 28)
        try GradCheck.check("rotary interleaved=\(interleaved)", inputs: [x]) { v, _ in
            try v[0].rotary(offset: 3, interleaved: interleaved)
        }
        #expect(try Variable(x).rotary(offset: 3).value == PositionalEncoding.rotary(x, offset: 3))
    }

    /// At a realistic size (64 causal positions, where the GEMMs take their blocked, threaded paths rather than the
    /// small-matrix loop the finite-difference checks exercise), the attention backward equals its plain twin: the
    /// gradient formulas written as loops in Double.
    @Test func attentionBackwardAtSizeEqualsPlainLoops() throws {
        let (b, h, t, d) = (2, 2, 64, 16)
        let q = GradCheck.random([b, h, t, d], seed: 30), k = GradCheck.random([b, h, t, d], seed: 31)
        let v = GradCheck.random([b, h, t, d], seed: 32), dO = GradCheck.random([b, h, t, d], seed: 33)
        let tape = Tape()
        let (vq, vk, vv) = (tape.variable(q), tape.variable(k), tape.variable(v))
        let out = try Variable.attention(query: vq, key: vk, value: vv, isCausal: true).output
        try tape.backward(out, seed: dO)
        var dq = [Double](repeating: 0, count: q.count), dk = dq, dv = dq
        let scale = 1 / Double(d).squareRoot()
        for bh in 0..<(b * h) {
            let o = bh * t * d
            for i in 0..<t {
                // P row i (causal), dP = dO·Vᵀ, dS = P ⊙ (dP − Σ dP ⊙ P)
                var s = [Double](repeating: -.infinity, count: t)
                for j in 0...i { s[j] = (0..<d).reduce(0.0) { $0 + Double(q.scalars[o + i * d + $1]) * Double(k.scalars[o + j * d + $1]) } * scale }
                let m = s.max()!
                let e = s.map { $0 == -.infinity ? 0 : Foundation.exp($0 - m) }
                let p = e.map { $0 / e.reduce(0, +) }
                var dp = [Double](repeating: 0, count: t)
                for j in 0...i { dp[j] = (0..<d).reduce(0.0) { $0 + Double(dO.scalars[o + i * d + $1]) * Double(v.scalars[o + j * d + $1]) } }
                let dot = (0...i).reduce(0.0) { $0 + dp[$1] * p[$1] }
                for j in 0...i {
                    let ds = p[j] * (dp[j] - dot) * scale
                    for c in 0..<d {
                        dq[o + i * d + c] += ds * Double(k.scalars[o + j * d + c])
                        dk[o + j * d + c] += ds * Double(q.scalars[o + i * d + c])
                        dv[o + j * d + c] += p[j] * Double(dO.scalars[o + i * d + c])
                    }
                }
            }
        }
        for (name, variable, expected) in [("dQ", vq, dq), ("dK", vk, dk), ("dV", vv, dv)] {
            expectClose(try #require(tape.gradient(variable)).scalars, expected.map(Float.init), atol: 1e-4, rtol: 1e-3, name)
        }
    }

    @Test func groupedQueryAttention() throws {
        let q = GradCheck.random([1, 4, 3, 4], seed: 19), k = GradCheck.random([1, 2, 5, 4], seed: 20)
        let v = GradCheck.random([1, 2, 5, 4], seed: 21)
        try GradCheck.check("GQA", inputs: [q, k, v]) { x, _ in
            try Variable.attention(query: x[0], key: x[1], value: x[2], isCausal: true, scale: 0.3).output
        }
    }

    /// A whole MultiHeadAttention layer, every parameter and input: self-attention with causal and padding masks,
    /// and cross-attention to a memory of another length and width with a key-padding mask.
    @Test(arguments: [(8, 2, 5), (12, 3, 4), (8, 4, 1)])
    func multiHeadSelfAttention(_ c: (Int, Int, Int)) throws {
        let (e, h, t) = c
        var rng = SeededRNG(seed: UInt64(e * 10 + h))
        let mha = try MultiHeadAttention(embedDim: e, heads: h, rng: &rng)
        let x = GradCheck.random([2, t, e], seed: 22)
        let pad = try Tensor(shape: [2, t], scalars: (0..<(2 * t)).map { Float($0 == 2 * t - 1 && t > 1 ? 0 : 1) })
        // Forward equals the inference layer.
        let inference = try mha(query: x, keyPaddingMask: pad, isCausal: true).output
        expectClose(try mha(query: Variable(x), keyPaddingMask: pad, isCausal: true, tape: nil).value, inference, atol: 1e-6, rtol: 1e-5)
        try GradCheck.check("MHA self \(c)", inputs: [x], parameters: mha.namedParameters(), maxPerTensor: 24) { v, tape in
            try mha(query: v[0], keyPaddingMask: pad, isCausal: true, tape: tape)
        }
    }

    @Test(arguments: [(8, 2, 3, 6), (12, 4, 5, 2)])
    func multiHeadCrossAttention(_ c: (Int, Int, Int, Int)) throws {
        let (e, h, lq, lk) = c
        var rng = SeededRNG(seed: UInt64(e + h + lk))
        let mha = try MultiHeadAttention(embedDim: e, heads: h, keyDim: 6, valueDim: 5, rng: &rng)
        let x = GradCheck.random([2, lq, e], seed: 23)
        let mk = GradCheck.random([2, lk, 6], seed: 24), mv = GradCheck.random([2, lk, 5], seed: 25)
        let pad = try Tensor(shape: [2, lk], scalars: (0..<(2 * lk)).map { Float($0 >= 2 * lk - 1 ? 0 : 1) })
        let inference = try mha(query: x, key: mk, value: mv, keyPaddingMask: pad).output
        expectClose(try mha(query: Variable(x), key: Variable(mk), value: Variable(mv), keyPaddingMask: pad, tape: nil).value,
                    inference, atol: 1e-6, rtol: 1e-5)
        try GradCheck.check("MHA cross \(c)", inputs: [x, mk, mv], parameters: mha.namedParameters(), maxPerTensor: 24) { v, tape in
            try mha(query: v[0], key: v[1], value: v[2], keyPaddingMask: pad, tape: tape)
        }
    }

    @Test func linearAndEmbeddingModules() throws {
        var rng = SeededRNG(seed: 26)
        let lin = Linear(5, 3, rng: &rng)
        let x = GradCheck.random([2, 4, 5], seed: 27)
        expectClose(try lin(Variable(x), tape: nil).value, try lin(x), atol: 1e-6, rtol: 1e-6)
        try GradCheck.check("Linear", inputs: [x], parameters: lin.namedParameters()) { v, tape in try lin(v[0], tape: tape) }
        let emb = Embedding(7, 3, rng: &rng)
        #expect(try emb([[1, 2], [6, 1]], tape: nil).value == emb([[1, 2], [6, 1]]))
    }
}

@Suite("Autograd: tape")
struct AutogradTapeTests {
    /// Without a tape nothing is recorded and values equal the Tensor ops.
    @Test func noTapeRecordsNothing() throws {
        let a = GradCheck.random([3, 4], seed: 1), b = GradCheck.random([4, 2], seed: 2)
        let y = try Variable.matmul(Variable(a), Variable(b)).softmax()
        #expect(!y.isTracked)
        #expect(y.value == (try Tensor.matmul(a, b).softmax()))
    }

    /// The tape and what its closures saved are freed after the pass (closures capture no Variable).
    @Test func tapeIsReleased() throws {
        weak var weakTape: Tape?
        do {
            let tape = Tape()
            weakTape = tape
            let x = tape.variable(GradCheck.random([2, 3], seed: 3))
            let loss = try (x * x).layerNorm(weight: nil, bias: nil).softmax().sum()
            #expect(tape.recordedOps > 0)
            try tape.backward(loss)
            #expect(tape.recordedOps == 0)
        }
        #expect(weakTape == nil)
    }

    @Test func gradientsOfParametersAndClipping() throws {
        let p = Parameter(try Tensor(shape: [2], scalars: [3, 4]))
        let q = Parameter(.ones([3]))   // unused by the loss
        let tape = Tape()
        let w = tape.watch(p)
        try tape.backward((w * w).sum())   // d/dp Σp² = 2p
        var grads = tape.gradients(for: [("p", p), ("q", q)])
        #expect(grads[p]?.scalars == [6, 8])
        #expect(grads[q]?.scalars == [0, 0, 0])
        #expect(abs(grads.globalNorm - 10) < 1e-5)
        let before = grads.clipGlobalNorm(5)
        #expect(abs(before - 10) < 1e-5)
        #expect(abs(grads.globalNorm - 5) < 1e-3)
        #expect(abs(grads[p]!.scalars[0] - 3) < 1e-3)
    }

    @Test func variablesFromDifferentTapesAreAnError() {
        let a = Tape().variable(.ones([2])), b = Tape().variable(.ones([2]))
        #expect(throws: TensorError.self) { try a + b }
        #expect(throws: TensorError.self) { try Tape().backward(a) }
    }
}

import AttendTestSupport
import Foundation
import Testing
@testable import AttendNN

@Suite("Training kit")
struct TrainingTests {
    func grads(_ pairs: [(Parameter, [Float])]) throws -> Gradients {
        var g = Gradients()
        for (p, values) in pairs { g[p] = try Tensor(shape: p.shape, scalars: values) }
        return g
    }

    /// Two AdamW steps against the formulas written out in Double.
    @Test func adamWMatchesItsFormula() throws {
        let w = Parameter(try Tensor(shape: [2, 2], scalars: [1, -2, 0.5, 3]))   // decayed (rank 2)
        let b = Parameter(try Tensor(shape: [2], scalars: [0.1, -0.1]))          // not decayed
        let opt = AdamW(parameters: [("w", w), ("b", b)], learningRate: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.5)
        let g1: [[Float]] = [[0.5, -1, 2, 0], [1, -3]], g2: [[Float]] = [[-0.5, 1, 1, 2], [0, 1]]
        var theta: [[Double]] = [w.value.scalars.map(Double.init), b.value.scalars.map(Double.init)]
        var m = theta.map { $0.map { _ in 0.0 } }, v = m
        for (t, g) in [g1, g2].enumerated() {
            try opt.step(grads([(w, g[0]), (b, g[1])]))
            for k in 0..<2 {
                for j in 0..<theta[k].count {
                    let gj = Double(g[k][j])
                    m[k][j] = 0.9 * m[k][j] + 0.1 * gj
                    v[k][j] = 0.99 * v[k][j] + 0.01 * gj * gj
                    let mhat = m[k][j] / (1 - pow(0.9, Double(t + 1))), vhat = v[k][j] / (1 - pow(0.99, Double(t + 1)))
                    if k == 0 { theta[k][j] *= 1 - 0.1 * 0.5 }
                    theta[k][j] -= 0.1 * mhat / (vhat.squareRoot() + 1e-8)
                }
            }
        }
        expectClose(w.value.scalars, theta[0].map(Float.init), atol: 1e-6, rtol: 1e-5, "w")
        expectClose(b.value.scalars, theta[1].map(Float.init), atol: 1e-6, rtol: 1e-5, "b")
        #expect(opt.stepCount == 2)
    }

    @Test func sgdWithMomentum() throws {
        let p = Parameter(try Tensor(shape: [2], scalars: [1, 1]))
        let opt = SGD(parameters: [("p", p)], learningRate: 0.1, momentum: 0.9)
        try opt.step(grads([(p, [1, -1])]))         // b = g = [1, −1]
        #expect(p.value.scalars == [0.9, 1.1])
        try opt.step(grads([(p, [1, -1])]))         // b = 0.9·b + g = [1.9, −1.9]
        expectClose(p.value.scalars, [0.71, 1.29], atol: 1e-6, rtol: 0)
        let plain = Parameter(try Tensor(shape: [1], scalars: [2]))
        let noMomentum = SGD(parameters: [("q", plain)], learningRate: 0.5, momentum: 0, weightDecay: 0.1)
        try noMomentum.step(grads([(plain, [1])]))  // θ −= 0.5·(1 + 0.1·2)
        expectClose(plain.value.scalars, [1.4], atol: 1e-6, rtol: 0)
    }

    @Test func warmupThenCosine() {
        let s = LearningRateSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, minRatio: 0.1)
        #expect(abs(s(0) - 0.1) < 1e-6)
        #expect(abs(s(9) - 1) < 1e-6)
        #expect(abs(s(10) - 1) < 1e-6)
        #expect(abs(s(60) - 0.55) < 1e-5)    // halfway: min + (peak − min)/2
        #expect(abs(s(110) - 0.1) < 1e-6)
        #expect(abs(s(500) - 0.1) < 1e-6)
        for step in 10..<110 { #expect(s(step + 1) <= s(step) + 1e-7) }
    }

    @Test func shufflerIsAPureFunctionOfSeedAndStep() {
        let a = EpochShuffler(count: 10, batchSize: 4, seed: 7), b = EpochShuffler(count: 10, batchSize: 4, seed: 7)
        #expect(a.batch(step: 3) == b.batch(step: 3))
        #expect(a.batch(step: 3) != EpochShuffler(count: 10, batchSize: 4, seed: 8).batch(step: 3))
        // Each epoch is a permutation; batches straddle epochs (steps 0…4 cover two epochs exactly).
        let twoEpochs = (0..<5).flatMap { a.batch(step: $0) }
        #expect(Array(twoEpochs.prefix(10)).sorted() == Array(0..<10))
        #expect(Array(twoEpochs.suffix(10)).sorted() == Array(0..<10))
        #expect(a.permutation(epoch: 0) != a.permutation(epoch: 1))
        var r1 = a.rng(step: 5), r2 = b.rng(step: 5)
        #expect(r1.next() == r2.next())
        // Streams of different steps do not overlap (a shifted stream would repeat the same data every step).
        var s5 = a.rng(step: 5), s6 = a.rng(step: 6)
        let d5 = (0..<64).map { _ in s5.next() }, d6 = Set((0..<64).map { _ in s6.next() })
        #expect(d6.isDisjoint(with: d5))
    }

    func tinyModel() throws -> (Linear, Linear) {
        var rng = SeededRNG(seed: 1)
        return (Linear(3, 4, rng: &rng), Linear(4, 2, rng: &rng))
    }

    final class Pair: Module {
        let a: Linear, b: Linear
        init(_ a: Linear, _ b: Linear) { self.a = a; self.b = b }
        var children: [(String, any Module)] { [("a", a), ("b", b)] }
    }

    /// Checkpoint → load into a fresh model and optimiser → the same parameters, moments and step; continuing gives
    /// the same numbers as never stopping.
    @Test func checkpointRoundTripAndResume() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("checkpoint.safetensors")
        let x = GradCheck.random([5, 3], seed: 2)

        func trainSteps(_ model: Pair, _ opt: AdamW, _ steps: Range<Int>) throws -> [Float] {
            var losses: [Float] = []
            for _ in steps {
                let tape = Tape()
                let y = try model.b(model.a(Variable(x), tape: tape).gelu(), tape: tape)
                let loss = try (y * y).mean()
                try tape.backward(loss)
                var g = tape.gradients(for: model.namedParameters())
                g.clipGlobalNorm(1)
                try opt.step(g)
                losses.append(loss.value.scalars[0])
            }
            return losses
        }
        let (a1, b1) = try tinyModel()
        let m1 = Pair(a1, b1)
        let o1 = AdamW(parameters: m1.namedParameters(), learningRate: 0.05)
        let straight = try trainSteps(m1, o1, 0..<6)

        let (a2, b2) = try tinyModel()
        let m2 = Pair(a2, b2)
        let o2 = AdamW(parameters: m2.namedParameters(), learningRate: 0.05)
        let firstHalf = try trainSteps(m2, o2, 0..<3)
        try Checkpoint.save(model: m2, optimizer: o2, step: 3, metadata: ["seed": "1"], to: url)

        let (a3, b3) = try tinyModel()
        let m3 = Pair(a3, b3)
        let o3 = AdamW(parameters: m3.namedParameters(), learningRate: 0.05)
        let restored = try Checkpoint.load(from: url, model: m3, optimizer: o3)
        #expect(restored.step == 3)
        #expect(restored.metadata["seed"] == "1")
        #expect(o3.stepCount == 3)
        for ((_, p), (_, q)) in zip(m2.namedParameters(), m3.namedParameters()) { #expect(p.value == q.value) }
        let secondHalf = try trainSteps(m3, o3, 3..<6)
        #expect(firstHalf + secondHalf == straight)
        #expect(straight.last! < straight.first!)

        // Strictness: another optimiser kind, or a model of another shape, is an error naming the problem.
        let sgd = SGD(parameters: m3.namedParameters(), learningRate: 0.1)
        #expect(throws: ModelLoadingError.self) { try Checkpoint.load(from: url, model: m3, optimizer: sgd) }
        var rng = SeededRNG(seed: 3)
        let other = Pair(Linear(3, 5, rng: &rng), Linear(5, 2, rng: &rng))
        #expect(throws: WeightLoadingError.self) {
            try Checkpoint.load(from: url, model: other, optimizer: AdamW(parameters: other.namedParameters()))
        }
    }

    @Test func trainingLogWritesCSV() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("attend-log-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        var seen: [Int] = []
        do {
            let log = try TrainingLog(csv: url) { seen.append($0.step) }
            for s in 1...3 {
                log.record(TrainingRecord(step: s, totalSteps: 3, learningRate: 0.001, loss: 2 / Float(s), accuracy: 0.5,
                                          gradNorm: 1, elapsed: Double(s)))
            }
            #expect(log.records.count == 3)
            #expect(log.records[0].line.contains("loss 2.0000"))
        }
        let appended = try TrainingLog(csv: url, append: true)
        appended.record(TrainingRecord(step: 4, totalSteps: 4, learningRate: 0, loss: 0.1, accuracy: 1, gradNorm: 0, elapsed: 4))
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == Substring(TrainingLog.header))
        #expect(lines.count == 5)
        #expect(lines[1].hasPrefix("1,0.001,2.0,0.5,1.0,"))
        #expect(seen == [1, 2, 3])
    }
}

import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels
@testable import AttendNN

/// The committed TinyGPT meets the numbers (evaluation only; no training in CI).
@Suite("Demo models: TinyGPT")
struct TinyGPTDemoTests {
    /// A layer-2 head is an induction head (prefix-matching score ≥ 0.8), and the loss on a span's second occurrence
    /// is far below its first.
    @Test func inductionHead() throws {
        let folder = try #require(DemoModels.folder(DemoModels.inductionGPT))
        let model = try TinyGPT.load(folder: folder)
        let e = try model.evaluateInduction(InductionTask.evaluationBatch(options: InductionTrainingOptions()))
        let best = e.bestInductionHead
        #expect(best.layer == 1, "the induction head is in layer 2")
        #expect(best.score >= 0.8, "prefix-matching score \(best.score)")
        #expect(e.firstOccurrenceLoss > 3.5 && e.repeatLoss < 1, "first \(e.firstOccurrenceLoss), repeat \(e.repeatLoss)")
        let training = DemoModels.provenance(folder)
        #expect(training["command"]?.hasPrefix("attend train induction") == true && training["seed"] != nil)
    }

    /// Given a span and the start of its repeat, greedy generation completes the repeat.
    @Test func completesARepeat() throws {
        let model = try TinyGPT.demo()
        let span = [5, 17, 42, 8, 33, 61, 2, 29, 50, 12]
        let (tokens, _) = try model.generate(span + span.prefix(2), count: 8)
        #expect(tokens == Array(span.suffix(8)))
    }
}

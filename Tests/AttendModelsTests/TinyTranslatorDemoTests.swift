import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels
@testable import AttendNN

/// The committed demo models meet the issue's numbers (evaluation only; no training in CI).
@Suite("Demo models: TinyTranslator", .serialized)
struct TinyTranslatorDemoTests {
    /// Held-out sentences evaluated here (the first of the 2 000 the models never saw; docs/TRAINING.md has all 2 000).
    static let heldOut = TranslatorTraining.heldOutSentences(count: 300)

    @Test func embeddedModelsLoad() throws {
        let model = try TinyTranslator.demo()
        #expect(!model.config.isBottleneck)
        let bottleneck = try TinyTranslator.demo(bottleneck: true)
        #expect(bottleneck.config.isBottleneck)
        for name in [DemoModels.translator, DemoModels.bottleneckTranslator] {
            let folder = try #require(DemoModels.folder(name))
            let size = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("model.safetensors").path)[.size] as? Int
            #expect((size ?? .max) < 5_000_000, "\(name) is well under 5 MB")
            let training = DemoModels.provenance(folder)
            #expect(training["command"]?.hasPrefix("attend train translator") == true && training["seed"] != nil)
        }
    }

    /// Exact match ≥ 95% on held-out sentences; in the best cross-attention head, the most-attended source word of each
    /// generated content word is its gold aligned word ≥ 90% of the time, also across the adjective–noun swap.
    @Test func accuracyAndAlignment() throws {
        let model = try TinyTranslator.demo()
        let e = try model.evaluate(Self.heldOut)
        #expect(e.sentences == 300)
        #expect(e.exactMatch >= 0.95, "exact match \(e.exactMatch)")
        let best = try #require(e.bestHead)
        #expect(best.alignment >= 0.9, "best head L\(best.layer + 1)H\(best.head + 1): \(best.alignment)")
        #expect(best.swapped >= 0.9, "across the swap: \(best.swapped) of \(e.swappedWords)")
        #expect(e.contentWords > 1000 && e.swappedWords > 300)
        // The head named in the model's provenance is the one measured.
        let training = DemoModels.provenance(try #require(DemoModels.folder(DemoModels.translator)))
        #expect(training["alignment_layer"] == String(best.layer + 1) && training["alignment_head"] == String(best.head + 1))
    }

    /// The bottleneck baseline falls behind on long sentences: the gap attention closes.
    @Test func bottleneckFallsBehindOnLongSentences() throws {
        let long = Self.heldOut.filter { $0.source.count >= 11 }
        let attention = try TinyTranslator.demo().evaluate(long)
        let pooled = try TinyTranslator.demo(bottleneck: true).evaluate(long)
        #expect(long.count >= 40)
        #expect(attention.exactMatch >= 0.9)
        #expect(pooled.exactMatch + 0.3 < attention.exactMatch, "bottleneck \(pooled.exactMatch) vs attention \(attention.exactMatch)")
    }

    @Test(arguments: [
        ("the red car", "la voiture rouge"),
        ("the cat sat on the mat", "le chat s'est assis sur le tapis"),
        ("the small dog sees the red car", "le petit chien voit la voiture rouge"),
        ("the red cars", "les voitures rouges"),
        ("her dog does not see a cat", "son chien ne voit pas de chat"),
        ("the girls fell near the dogs", "les filles sont tombées près des chiens"),
    ])
    func translatesTheIssueExamples(_ c: (String, String)) throws {
        let model = try TinyTranslator.demo()
        #expect(try model.translate([c.0])[0].text == c.1)
    }

    /// With the trained weights too, incremental decoding equals full recomputation.
    @Test func kvCacheEqualsFullRecomputationOnTheDemoModel() throws {
        let model = try TinyTranslator.demo()
        let pairs = Array(Self.heldOut.prefix(4))
        let ids = try model.sourceIDs(pairs.map(\.source))
        let decoded = try model.greedyDecode(ids, recordLogits: true)
        let steps = decoded.stepLogits.count
        let targetIn = (0..<pairs.count).map { b -> [Int] in
            let row = [WordVocabulary.bos] + decoded.ids[b]
            return Array((row + Array(repeating: WordVocabulary.eos, count: steps)).prefix(steps))
        }
        var ctx = ForwardContext.inference()
        let full = try model(source: ids, targetIn: targetIn, &ctx).value                 // [B, T, V]
        for b in 0..<pairs.count {
            for t in 0...decoded.ids[b].count where t < steps {   // up to the step that produced <eos>
                expectClose(try decoded.stepLogits[t].select(axis: 0, b), try full.select(axis: 0, b).select(axis: 0, t),
                            atol: 5e-4, rtol: 5e-4, "sentence \(b) step \(t)")
            }
        }
    }
}

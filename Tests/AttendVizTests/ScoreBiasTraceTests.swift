import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels
@testable import AttendViz

/// MPNet's relative-position bias is a visible step of the trace: captured through the site's `scoreBias`, shown in
/// the text and the JSON, and the softmax of (scaled scores + bias) recomputed from Q, K and the bias is the model's.
@Suite("Score bias in explain traces (all-mpnet-base-v2)",
       .enabled(if: modelTestsEnabled("all-mpnet-base-v2"), "install the model: swift run attend models install all-mpnet-base-v2"))
struct ScoreBiasTraceTests {
    static let loaded = Result { try ModelRegistry.load(folder: installedModelFolder("all-mpnet-base-v2"), name: "all-mpnet-base-v2") }

    @Test func theBiasIsCapturedShownAndRecomputed() throws {
        let loaded = try Self.loaded.get()
        #expect(loaded.attentionSites.allSatisfy { $0.scoreBias == "position_bias" })
        let trace = try ExplainTrace.capture(loaded, text: "The cat sat on the mat")
        #expect(trace.embeddingsFormula?.hasPrefix("LayerNorm(token + position embedding)") == true)
        let layer = try trace.layer(5)
        let bias = try #require(layer.scoreBias)                                    // [H, T, T]
        #expect(bias.shape == [12, 8, 8])
        // B[h, i, j] depends on j − i only: every diagonal is constant.
        for h in 0..<12 { for i in 1..<8 { for j in 1..<8 { #expect(bias[h, i, j] == bias[h, i - 1, j - 1]) } } }
        for head in [0, 3, 11] {
            let h = try layer.head(head)
            #expect(h.recomputationError < 1e-5, "head \(head): softmax(S/√d + B) recomputed vs the model's weights")
            let masked = try #require(h.maskedScores)
            let hb = try #require(h.scoreBias)
            expectClose(masked.scalars, zip(h.scaledScores.scalars, hb.scalars).map { $0 + $1 }, atol: 1e-5, rtol: 1e-6, "scores + bias")
        }
        let text = try ExplainText(trace: trace, layer: 5, head: 3, focus: 2).render()
        #expect(text.contains("Position bias B of head 3") && text.contains("Scores with the bias"))
    }
}

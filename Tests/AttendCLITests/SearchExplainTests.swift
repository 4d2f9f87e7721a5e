import AttendTestSupport
import Foundation
import Testing

/// `attend search --explain`: each hit carries the query's and the document's word contributions, and those
/// contributions add up to the hit's cosine (the split is exact, see `attend similarity --explain`).
@Suite("attend search --explain", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct SearchExplainTests {
    @Test func hitsCarryWordContributionsThatSumToTheCosine() throws {
        let corpus = packageRoot.appendingPathComponent("Examples/corpus.txt").path
        let r = try CLI.run(["search", "--corpus", corpus, "a cat on a mat", "--top", "3", "--explain", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(results.count == 3)
        for hit in results {
            let cosine = try #require((hit["cosine"] as? NSNumber)?.doubleValue)
            let x = try #require(hit["explanation"] as? [String: Any], "hit without explanation: \(hit)")
            for side in ["query_words", "document_words"] {
                let words = try #require(x[side] as? [[String: Any]])
                let sum = words.compactMap { ($0["contribution"] as? NSNumber)?.doubleValue }.reduce(0, +)
                #expect(abs(sum - cosine) < 1e-4, "\(side) of \(hit["line"] ?? ""): Σ \(sum) vs cosine \(cosine)")
            }
        }
        let text = try CLI.run(["search", "--corpus", corpus, "a cat on a mat", "--top", "1", "--explain"])
        #expect(text.status == 0 && text.stdout.contains("query:") && text.stdout.contains("[cat]"), "\(text.stdout)")
    }
}

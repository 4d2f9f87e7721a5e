import AttendTestSupport
import Foundation
import Testing

/// `attend index build` and `attend search --index` with the installed model, checked against `search --corpus`
/// (which embeds the same documents on every query).
@Suite("attend index / search --index", .serialized,
       .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct IndexSearchTests {
    @Test func indexAnswersLikeTheCorpusSearch() throws {
        let corpus = packageRoot.appendingPathComponent("Examples/corpus.txt")
        let lines = try String(contentsOf: corpus, encoding: .utf8).split(separator: "\n").map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-indexcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let docs = dir.appendingPathComponent("docs.jsonl")
        let records = lines.enumerated().map { i, t -> String in
            let o: [String: Any] = ["id": "doc-\(i)", "text": t, "tag": i % 2 == 0 ? "even" : "odd"]
            return String(decoding: try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
        }
        try Data((records.joined(separator: "\n") + "\n").utf8).write(to: docs)
        let query = "a pet sleeping indoors"
        let reference = try CLI.run(["search", "--corpus", corpus.path, "--top", "3", "--json", query])
        #expect(reference.status == 0, "\(reference.stderr)")
        let refJSON = try #require(try JSONSerialization.jsonObject(with: Data(reference.stdout.utf8)) as? [String: Any])
        let refLines = (refJSON["results"] as? [[String: Any]] ?? []).compactMap { $0["line"] as? String }
        let refCosines = (refJSON["results"] as? [[String: Any]] ?? []).map { flatNumbers($0["cosine"]) }.flatMap { $0 }
        for storage in ["f32", "f16", "int8"] {
            let ix = dir.appendingPathComponent("c-\(storage).attendindex").path
            var r = try CLI.run(["index", "build", "--input", docs.path, "--out", ix, "--storage", storage, "--hnsw", "--m", "8"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("\(lines.count) documents"))
            r = try CLI.run(["search", "--index", ix, "--top", "3", "--json", query, "stock market news"])
            #expect(r.status == 0, "\(r.stderr)")
            let answers = try r.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            #expect(answers.count == 2)
            let hits = try #require(answers.first?["results"] as? [[String: Any]])
            #expect(hits.compactMap { $0["text"] as? String } == refLines, "\(storage)")
            #expect(hits.allSatisfy { ($0["id"] as? String)?.hasPrefix("doc-") == true && $0["tag"] is String })
            expectClose(hits.map { flatNumbers($0["cosine"]) }.flatMap { $0 }, refCosines, atol: storage == "f32" ? 1e-5 : 2e-2, rtol: 0, storage)
            let weights = hits.map { flatNumbers($0["weight"]) }.flatMap { $0 }
            #expect(abs(weights.reduce(0, +) - 1) < 1e-5)
            r = try CLI.run(["search", "--index", ix, "--approximate", "--top", "3", "--json", query])
            #expect(r.status == 0, "\(r.stderr)")
            let approx = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect((approx["results"] as? [[String: Any]])?.compactMap { $0["text"] as? String } == refLines, "\(storage) HNSW")
        }
        // An index whose model hash differs is refused with a message naming both.
        let ix = dir.appendingPathComponent("c-f32.attendindex")
        var data = try Data(contentsOf: ix)
        let sha = Data("53aa51172d142c89".utf8)
        let at = try #require(data.range(of: sha))
        data.replaceSubrange(at, with: Data("0000000000000000".utf8))
        let other = dir.appendingPathComponent("other.attendindex")
        try data.write(to: other)
        let refused = try CLI.run(["search", "--index", other.path, query])
        #expect(refused.status != 0 && refused.stderr.contains("was built with model") && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        let info = try CLI.run(["index", "info", ix.path, "--json"])
        #expect(info.status == 0 && info.stdout.contains("\"count\":\(lines.count)"))
        let none = try CLI.run(["search", "--index", dir.appendingPathComponent("missing").path, query])
        #expect(none.status != 0 && none.stderr.contains("cannot be opened"))
        let both = try CLI.run(["search", query])
        #expect(both.status != 0 && both.stderr.contains("--corpus FILE or --index FILE"))
    }
}

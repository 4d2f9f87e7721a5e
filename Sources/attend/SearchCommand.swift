import ArgumentParser
import Attend
import Foundation

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Semantic search: attention as a soft database lookup over a corpus.",
        discussion: """
        Each non-blank line of the corpus is a document. The query's embedding is compared with every \
        document's (cosine similarity); ranking by cosine is the "hard" lookup. The "soft" lookup is what \
        attention does: weights = softmax(cosine / temperature) over the whole corpus, summing to 1 — \
        the query attends to the documents as a query attends to keys. A lower temperature makes it \
        sharper (toward the single best match), a higher one spreads it out.

        With --index (made by `attend index build`), the corpus is not embedded again: only the queries are, and \
        the top-k comes from one matrix product over the stored vectors (exact), or from the index's HNSW graph with \
        --approximate. The soft lookup then runs over the retrieved documents. Several queries may be given; with \
        --json each prints one line. An index built with another model is refused.

        Examples:
          attend search --corpus Examples/corpus.txt "a pet sleeping indoors"
          attend search --corpus Examples/corpus.txt --top 3 --temperature 0.1 --json "stock market"
          attend search --index corpus.attendindex "a pet sleeping indoors" "stock market" --top 10 --json
          attend search --index corpus.attendindex --approximate --ef 64 "a pet sleeping indoors"
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var precisionOption: PrecisionOption
    @Option(name: .long, help: "A text file, one document per line.") var corpus: String?
    @Option(name: .long, help: ArgumentHelp("A corpus index made by `attend index build`.", valueName: "file")) var index: String?
    @Option(name: .long, help: "How many results to show.") var top = 5
    @Option(name: .long, help: "Softmax temperature of the soft lookup (> 0).") var temperature: Float = 0.05
    @Flag(help: "Search the index's HNSW graph instead of every vector (with --index).") var approximate = false
    @Option(help: "HNSW beam width on the bottom level (with --approximate; at least --top).") var ef = 64
    @Argument(help: "The query (several with --index).") var queries: [String]
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "For each hit, mark the words of the query and of the document that made it match: the cosine split exactly into per-token contributions (see `attend similarity --explain`), word pieces merged into words; in JSON each hit gains \"explanation\".") var explain = false

    var query: String { queries.first ?? "" }

    func validate() throws {
        guard !queries.isEmpty else { throw ValidationError("give a query") }
        guard (corpus == nil) != (index == nil) else { throw ValidationError("give --corpus FILE or --index FILE (one of them)") }
        if corpus != nil && queries.count > 1 { throw ValidationError("--corpus takes one query; use --index for several") }
        if approximate && index == nil { throw ValidationError("--approximate needs --index") }
    }

    func run() throws {
        try runReportingErrors {
            guard top >= 1 else { throw CLIError("--top must be at least 1, got \(top)") }
            guard temperature > 0, temperature.isFinite else { throw CLIError("--temperature must be a positive number, got \(temperature)") }
            if let index { try searchIndex(index); return }
            guard let corpus else { throw CLIError("give --corpus FILE or --index FILE") }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: corpus, isDirectory: &isDir) else {
                throw CLIError("\(corpus): no such file")
            }
            guard !isDir.boolValue else { throw CLIError("\(corpus): is a directory, expected a text file with one document per line") }
            guard let data = FileManager.default.contents(atPath: corpus) else { throw CLIError("\(corpus): cannot be read") }
            let documents = TextInput.lines(of: data, source: corpus).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            guard !documents.isEmpty else { throw CLIError("\(corpus): no non-blank lines to search") }
            if query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { Terminal.printWarning("the query is blank") }
            let embedder = try modelOptions.loadEmbedder(precision: precisionOption.precision)
            let progress = Progress(label: "embedding corpus")
            let docVectors = try embedder.embed(documents) { progress.update($0, $1) }.map(\.vector)
            let q = try embedder.embed([query])[0].vector
            let lookup = try SoftLookup(query: q, documents: docVectors, temperature: temperature)
            let ranked = lookup.top(top)
            let (cosines, weights) = (lookup.cosines, lookup.weights)
            let highlights = try ranked.map { try explain ? MatchHighlight.explain(embedder: embedder, query: query, document: documents[$0]) : nil }
            if json {
                print(JSONValue.object([
                    ("query", .string(query)),
                    ("temperature", .float(temperature)),
                    ("results", .array(ranked.enumerated().map { r, i in
                        var hit: JSONObject = [("rank", .int(r + 1)), ("line", .string(documents[i])),
                                               ("cosine", .float(cosines[i])), ("weight", .float(weights[i]))]
                        if let h = highlights[r] { hit.append(("explanation", h.json)) }
                        return .object(hit)
                    })),
                    ("weights", .array(weights.map { .float($0) })),
                    ("effective_documents", .float(lookup.effectiveDocuments)),
                ]).rendered())
                return
            }
            print("Query: \(query)")
            print("\(documents.count) documents; soft lookup weights = softmax(cosine / \(fmt(temperature, decimals: 3))), summing to 1\n")
            print("  rank  cosine  weight  document")
            for (r, i) in ranked.enumerated() {
                let bar = String(repeating: "▇", count: Int((weights[i] * 20).rounded()))
                print("  " + padLeft(String(r + 1), 4) + "  " + padLeft(fmt(cosines[i], decimals: 3), 6) + "  "
                      + padLeft(fmt(weights[i], decimals: 3), 6) + "  " + documents[i] + (bar.isEmpty ? "" : "  " + Terminal.dim(bar)))
                if let h = highlights[r] { printHighlight(h) }
            }
            let shown = lookup.share(of: ranked)
            print("\nThe top \(ranked.count) hold \(fmt(shown * 100, decimals: 1))% of the attention; it is spread like "
                  + "\(fmt(lookup.effectiveDocuments, decimals: 1)) equally weighted documents (exp of the entropy).")
        }
    }

    /// Two lines under a hit: the query's and the document's words, the three that contributed most marked.
    func printHighlight(_ h: MatchHighlight) {
        let color: TerminalColor = Terminal.useColor ? .detect() : .none
        print("        query:    " + MatchHighlight.render(h.queryWords, color: color))
        print("        document: " + MatchHighlight.render(h.documentWords, color: color))
    }

    /// `--index`: embed the queries, top-k from the stored vectors, soft lookup over the hits.
    func searchIndex(_ path: String) throws {
        guard ef >= 1 else { throw CLIError("--ef must be at least 1, got \(ef)") }
        let results: [IndexSearchResult]
        do {
            let ix = try CorpusIndex(path: path)
            let embedder = try modelOptions.loadEmbedder(precision: precisionOption.precision)
            let identity = try ModelIdentity.of(embedder, name: URL(fileURLWithPath: modelOptions.model).lastPathComponent)
            results = try ix.search(queries, embedder: embedder, identity: identity,
                                    options: IndexSearchOptions(top: top, temperature: temperature, approximateEF: approximate ? max(ef, top) : nil))
            if !json {
                print("\(ix.count) documents in \(path) (\(ix.storage.rawValue), \(approximate ? "approximate: HNSW, ef \(max(ef, top))" : "exact"))")
            }
        } catch let e as SearchError {
            throw CLIError(e.message)
        }
        let embedder = explain ? try modelOptions.loadEmbedder(precision: precisionOption.precision) : nil
        for r in results {
            let highlights = try r.hits.map { hit in try embedder.map { try MatchHighlight.explain(embedder: $0, query: r.query, document: hit.text) } }
            if json {
                print(r.json(explanations: highlights.map { $0?.json }).rendered())
                continue
            }
            print("\nQuery: \(r.query)")
            print("soft lookup weights = softmax(cosine / \(fmt(temperature, decimals: 3))) over the \(r.hits.count) retrieved, summing to 1\n")
            print("  rank  cosine  weight  id  document")
            for h in r.hits {
                let bar = String(repeating: "▇", count: Int((h.weight * 20).rounded()))
                let id = h.id.stringValue ?? h.id.rendered()
                print("  " + padLeft(String(h.rank), 4) + "  " + padLeft(fmt(h.score, decimals: 3), 6) + "  "
                      + padLeft(fmt(h.weight, decimals: 3), 6) + "  " + id + "  " + h.text + (bar.isEmpty ? "" : "  " + Terminal.dim(bar)))
                if let x = highlights[h.rank - 1] { printHighlight(x) }
            }
            print("\nThe soft lookup is spread like \(fmt(r.effectiveDocuments, decimals: 1)) equally weighted documents (exp of the entropy).")
        }
    }
}

// The corpus indexes `POST /v1/search` searches: files given with `attend serve --index` (memory-mapped, opened once),
// or, with none, the built-in demo corpus (Resources/demo-corpus.txt, the 40 sentences of Examples/corpus.txt)
// embedded once at start for each served encoder, through the same index builder as `attend index build`. Each index
// belongs to the served encoder that built it (same SHA-256, dimension, pooling and normalisation); an index that no
// served encoder can query is refused at start, as `attend search --index` refuses it.
import AttendModels
import AttendSearch
import Foundation

/// One searchable corpus index and the served encoder whose embeddings it holds.
public final class ServedIndex: Sendable {
    /// The name clients use (`index` in requests): the file's name without `.attendindex`, or `demo`.
    public let name: String
    public let index: CorpusIndex
    /// The served encoder that queries it.
    public let model: String
    /// That encoder's identity (checked again by every search).
    let identity: ModelIdentity

    init(name: String, index: CorpusIndex, model: String, identity: ModelIdentity) {
        self.name = name
        self.index = index
        self.model = model
        self.identity = identity
    }

    /// The name of the built-in corpus.
    public static let demoName = "demo"

    /// The name an index file is served under: its file name without the `.attendindex` extension.
    public static func name(forFile path: String) -> String {
        let file = URL(fileURLWithPath: path).lastPathComponent
        return file.hasSuffix(".attendindex") ? String(file.dropLast(".attendindex".count)) : file
    }

    /// Embeds the built-in demo corpus with `embedder` (served as `model`) into an index in a scratch folder, opens it
    /// (memory-mapped) and removes the files: the mapping stays valid until the index is released.
    public static func demo(embedder: SentenceEmbedder, model: String) throws -> CorpusIndex {
        guard let corpus = Bundle.module.url(forResource: "demo-corpus", withExtension: "txt", subdirectory: "Resources")
                ?? Optional(Bundle.module.bundleURL.appendingPathComponent("Resources/demo-corpus.txt")),
              FileManager.default.fileExists(atPath: corpus.path) else {
            throw SearchError("the resource demo-corpus.txt is missing from Attend_AttendServer.resources")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("attend-demo-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("demo.attendindex").path
        let identity = try ModelIdentity.of(embedder, name: model)
        let job = EmbeddingJobOptions(input: corpus.path, output: scratch.appendingPathComponent("demo.npy").path,
                                      inputFormat: .text, outputFormat: .npy)
        try CorpusIndexWriter.build(job: job, embedder: embedder, model: identity, to: out, storage: .float32)
        return try CorpusIndex(path: out)
    }
}

extension AttendServer {
    /// Pairs each index with the first served encoder whose identity it has; throws ``ServerError/indexModelNotServed``
    /// (one line naming the index's model and the served ones) when there is none, and on two indexes with one name
    /// for one model.
    static func serve(indexes: [(name: String, index: CorpusIndex)], encoders: [(name: String, embedder: SentenceEmbedder)]) throws -> [ServedIndex] {
        guard !indexes.isEmpty else { return [] }
        let identities = try encoders.map { try ModelIdentity.of($0.embedder, name: $0.name) }
        var out: [ServedIndex] = []
        for (name, index) in indexes {
            guard let i = identities.firstIndex(where: { (try? index.checkModel($0)) != nil }) else {
                let m = index.model
                let served = zip(encoders, identities).map { "\($0.name) (sha256 \($1.sha256.prefix(12))…, \($1.dimension) dims)" }
                throw ServerError.indexModelNotServed(index.path, "\(m.name) (sha256 \(m.sha256.prefix(12))…, \(m.dimension) dims)",
                                                      served.isEmpty ? "no sentence encoder" : served.joined(separator: ", "), m.name)
            }
            if out.contains(where: { $0.name == name && $0.model == encoders[i].name }) { throw ServerError.duplicateIndex(name) }
            out.append(ServedIndex(name: name, index: index, model: encoders[i].name, identity: identities[i]))
        }
        return out
    }
}

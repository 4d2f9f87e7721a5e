// Building a corpus index straight from documents: the embedding job (as `attend embed --keep-text` runs it) into a
// float32 `.npy` beside the index, then the index written from it, then the intermediate files removed. Shared by
// `attend index build --input` and the server's built-in demo corpus.
import AttendModels
import AttendTensor
import Foundation

extension CorpusIndexWriter {
    /// Embeds `job.input` with `embedder` (identity `model`) and writes the index at `path`. `job.output` is where the
    /// intermediate vectors go (a `.npy`; its ids, meta and progress files beside it); they are removed once the index
    /// is written. `embedded` is told how the embedding step went (bad records are left out, not fatal) before the
    /// index is written; `jobProgress` and `progress` report the two steps.
    @discardableResult
    public static func build(job: EmbeddingJobOptions, embedder: SentenceEmbedder, model: ModelIdentity, to path: String,
                             storage: VectorStorage, hnsw: HNSWParameters? = nil,
                             jobProgress: ((EmbeddingJobProgress) -> Void)? = nil,
                             embedded: ((EmbeddingJobSummary) -> Void)? = nil,
                             progress: ((String) -> Void)? = nil) throws -> Summary {
        var options = job
        options.outputFormat = .npy
        options.keepText = true
        try hnsw?.validate()
        let summary = try EmbeddingJob(options: options, embedder: embedder, model: model).run(progress: jobProgress)
        embedded?(summary)
        let written = try write(vectorsNpy: options.output, records: options.idsPath, model: model, to: path,
                                storage: storage, hnsw: hnsw, progress: progress)
        for f in [options.output, options.idsPath, options.metaPath] { FileOps.remove(f) }
        return written
    }
}

extension IndexSearchResult {
    /// ``json`` with `explanations[r]` (when not nil) added to hit `r` as `"explanation"`, last: what
    /// `attend search --index --json --explain` prints and `POST /v1/search` with `"explain": true` answers.
    public func json(explanations: [JSONValue?]) -> JSONValue {
        guard case .object(var object) = self.json, case .array(let hits)? = object["results"] else { return self.json }
        object["results"] = .array(hits.enumerated().map { r, hit in
            guard case .object(var o) = hit, r < explanations.count, let x = explanations[r] else { return hit }
            o.append(("explanation", x))
            return .object(o)
        })
        return .object(object)
    }
}

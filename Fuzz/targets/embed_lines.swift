// Fuzz target: the streaming embedder's input lines (`attend embed --input`): the line reader, the text and JSON
// Lines parsers, sharding, windows and the writers, through `EmbeddingJob.run` on the bytes as an input file. The
// first byte picks the options (input format, output format, skip-bad, keep-text, shard by line or id, window);
// the rest is the input file. The model is a tiny random BERT (hidden 8, one layer) with all-MiniLM-L6-v2's
// tokenizer, so every accepted line is really embedded, cheaply. A JSON Lines output must parse back line by line,
// whatever the input held (ids and passthrough fields are copied from it).
import AttendModels
import AttendSearch
import AttendTensor
import AttendTokenizers
import Foundation

let embedder: SentenceEmbedder = {
    do {
        let miniLM = URL(fileURLWithPath: ProcessInfo.processInfo.environment["ATTEND_FUZZ_MINILM"]
            ?? (NSHomeDirectory() + "/.cache/attend/models/all-MiniLM-L6-v2"))
        let tokenizer = try Tokenizer(folder: miniLM)
        let config = BertConfig(vocabSize: tokenizer.vocabularySize, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2,
                                intermediateSize: 16, maxPositionEmbeddings: 64)
        let bert = try BertModel(config: config, withPooler: false, seed: 17)
        return SentenceEmbedder(folder: miniLM, model: bert, tokenizer: tokenizer, pooling: [.mean], normalize: true, maxSeqLength: 64)
    } catch {
        FileHandle.standardError.write("embed_lines: cannot set up the embedder: \(error)\n".data(using: .utf8)!)
        exit(2)
    }
}()
let identity = ModelIdentity(name: "tiny-bert", sha256: String(repeating: "0", count: 64), dimension: 8, pooling: ["mean"], normalize: true)

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    _ = embedder.maxSeqLength
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let flags = data[0]
    let jsonl = flags & 1 != 0
    let outputFormat: EmbeddingOutputFormat = [.jsonl, .npy, .fbin, .jsonl][Int(flags >> 1) & 3]
    let dir = FuzzScratch.directory.appendingPathComponent("job")
    let fm = FileManager.default
    try? fm.removeItem(at: dir)
    try? fm.createDirectory(at: dir, withIntermediateDirectories: true)
    let input = FuzzScratch.write(data + 1, size - 1, name: "job/input." + (jsonl ? "jsonl" : "txt"))
    let output = dir.appendingPathComponent("out." + outputFormat.rawValue)
    var options = EmbeddingJobOptions(input: input.path, output: output.path, inputFormat: jsonl ? .jsonl : .text,
                                      outputFormat: outputFormat)
    options.skipBad = flags & 8 != 0
    options.keepText = flags & 16 != 0
    options.window = flags & 32 != 0 ? 2 : 1024
    options.batchSize = 3
    if flags & 64 != 0 {
        options.shard = try? Shard(index: 1, count: 2)
        options.shardKey = flags & 128 != 0 ? .id : .line
    }
    guard let job = try? EmbeddingJob(options: options, embedder: embedder, model: identity) else { return 0 }
    guard (try? job.run()) != nil else { return 0 }
    // The outputs written as JSON Lines (the main output, or the ids and errors files beside a binary one) parse back.
    for path in [output.path, options.idsPath, options.errorsPath] where path.hasSuffix("jsonl") {
        guard let text = fm.contents(atPath: path) else { continue }
        for line in text.split(separator: UInt8(ascii: "\n")) {
            do { _ = try JSONValue.parse(Data(line), source: path) } catch {
                FileHandle.standardError.write("embed_lines: \(path) holds a line that is not JSON: \(error)\n".data(using: .utf8)!)
                abort()
            }
        }
    }
    return 0
}

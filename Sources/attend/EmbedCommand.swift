import ArgumentParser
import Attend
import Foundation

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Sentence embeddings (mean-pooled, normalised as the model's modules.json says).",
        discussion: """
        Texts come from the arguments or, when there are none, from stdin (one per line; blank lines \
        embed the empty string so output lines stay aligned with input lines). Texts longer than the \
        model's max_seq_length (256 tokens for all-MiniLM-L6-v2, from sentence_bert_config.json, as \
        sentence-transformers does — not the 128 of its tokenizer.json) are truncated with a warning.

        With --json, one object per line: {"text", "tokens", "ids", "embedding"}, plus with --attentions \
        "attentions" shaped [layer][head][query][key] for that text run alone.

        Streaming job: with --input or --output, the input is read one line at a time (plain lines, or JSON Lines \
        with the text in the --text-field and an optional --id-field) and each record is written as \
        {"id", …other fields, "embedding"} in input order, or as a binary matrix (.npy float32/float16, .fbin \
        float32) with NAME.ids.jsonl beside it (one line per row); NAME.meta.json names the model, its SHA-256, the \
        dimension, pooling and normalisation. Memory is bounded by the --window (lines sorted by length and embedded \
        in batches), not by the input. A bad record (invalid JSON or UTF-8, no text) becomes \
        {"id", "error", "line"} (in NAME.errors.jsonl for binary outputs) or is dropped with --skip-bad; the exit \
        status is non-zero only when the job itself cannot go on.

        Sharding: --shard i/n embeds window k (lines k·W+1 … (k+1)·W) when k mod n = i, so shards merged window by \
        window equal one run byte for byte; --shard-by id hashes each record's id instead. --shards n takes i from \
        JOB_COMPLETION_INDEX (a Kubernetes Indexed Job). Outputs are written to NAME.part and renamed when \
        complete; --resume continues a killed run from its last finished window (NAME.progress) and gives the same \
        bytes as an uninterrupted run, whatever the thread count.

        Examples:
          attend embed "The cat sat on the mat" "A dog lay on the rug"
          cat sentences.txt | attend embed --json > embeddings.jsonl
          attend embed --input docs.jsonl --output docs.embeddings.jsonl
          attend embed --input docs.jsonl --output vectors.npy --dtype float16 --shard 0/4 --resume
          JOB_COMPLETION_INDEX=2 attend embed --input docs.jsonl --output part-2.fbin --shards 8 --resume
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var precisionOption: PrecisionOption
    @Argument(help: "Texts to embed (stdin, one per line, when omitted).") var texts: [String] = []
    @Flag(help: "Print one JSON object per line.") var json = false
    @Flag(help: "Include every layer's and head's attention weights (with --json).") var attentions = false
    @Option(name: .long, help: ArgumentHelp(SentenceEmbedder.batchSizeHelp)) var batchSize = SentenceEmbedder.defaultBatchSize
    @Option(name: .long, help: ArgumentHelp(SentenceEmbedder.maxBatchTokensHelp)) var maxBatchTokens = SentenceEmbedder.defaultMaxBatchTokens
    @OptionGroup var stream: EmbedStreamOptions

    func run() throws {
        try runReportingErrors {
            if stream.isStreaming {
                guard texts.isEmpty else { throw CLIError("give texts as arguments or --input, not both") }
                guard !json, !attentions else { throw CLIError("--json and --attentions are for texts given as arguments; --input/--output write JSON Lines already") }
                try stream.run(modelOptions: modelOptions, precision: precisionOption.precision, batchSize: batchSize,
                               maxBatchTokens: maxBatchTokens)
                return
            }
            try SentenceEmbedder.validateBatching(batchSize: batchSize, maxBatchTokens: maxBatchTokens)
            if attentions && !json { throw CLIError("--attentions needs --json (the weights are [layer][head][query][key] arrays)") }
            let inputs = try TextInput.read(arguments: texts)
            guard !inputs.isEmpty else { throw CLIError("no text given") }
            // One batch or less: packing every weight matrix first costs as much as the products it would speed up.
            let embedder = try modelOptions.loadEmbedder(precision: precisionOption.precision, prepack: inputs.count > batchSize)
            for (i, t) in inputs.enumerated() where t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                Terminal.printWarning("text \(i + 1) is blank; embedding the empty string ([CLS] [SEP])")
            }
            let progress = Progress(label: "embedding")
            let results = try embedder.embed(inputs, batchSize: batchSize, maxBatchTokens: maxBatchTokens) { progress.update($0, $1) }
            for (i, r) in results.enumerated() where r.encoding.wasTruncated {
                Terminal.printWarning("text \(i + 1) truncated to \(embedder.maxSeqLength) tokens (max_seq_length)")
            }
            for r in results {
                if json {
                    var pairs: JSONObject = [
                        ("text", .string(r.text)),
                        ("tokens", .array(r.encoding.tokens.map { .string($0) })),
                        ("ids", .array(r.encoding.ids.map { .int($0) })),
                        ("embedding", .array(r.vector.map { .float($0) })),
                    ]
                    if attentions {
                        let (_, weights) = try embedder.attentions(r.text)
                        pairs.append(("attentions", .array(weights.map { JSONValue.tensor($0) })))
                    }
                    print(JSONValue.object(pairs).rendered())
                } else {
                    let head = r.vector.prefix(6).map { fmt($0) }.joined(separator: ", ")
                    let norm = r.vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                    print("\(r.text.isEmpty ? "(empty)" : r.text)")
                    print("  \(r.encoding.count) tokens → [\(head), …] (\(r.vector.count) dims, norm \(fmt(norm)))")
                }
            }
        }
    }
}

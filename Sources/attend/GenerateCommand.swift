import ArgumentParser
import Attend
import Foundation

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue text with a language model (--model smollm2-135m), or a token sequence with TinyGPT, the 2-layer model that learned induction heads.",
        discussion: """
        With --model naming a language model (`attend models install smollm2-135m`, a .gguf file, a folder holding one, or a Hugging Face folder of a Llama model: config.json, model.safetensors or its shards, tokenizer.json, whose weights run in float32), the text is continued as it is: no chat template and no special tokens are added (use `attend chat` to talk to the model). The continuation is streamed as it is written, greedy by default (--temperature 0) or sampled with --temperature, --top-k, --top-p and --seed; it ends after --max-tokens tokens, at the model's end-of-text token or at a --stop string. --json prints one object with input_ids, output_ids and text (with --top-logprobs K, each step's K most likely tokens and log-probabilities); --explain shows, for each written token, the earlier tokens it attended to most.

          attend generate --model smollm2-135m "The capital of France is"
          attend generate --model smollm2-135m --max-tokens 40 --stop "\\n\\n" "def fibonacci(n):"
          attend generate --model smollm2-135m --temperature 0.8 --top-k 40 --seed 7 "Once upon a time"
          attend generate --model smollm2-135m --json --top-logprobs 3 --max-tokens 5 "Attention is"
          attend generate --model smollm2-135m --explain --layer 14 "Tom gave the ball to Anna. Then Anna gave it back to"
          attend generate --model ./SmolLM2-135M-Instruct "The capital of France is"   (a Hugging Face folder)

        Without --model:
        TinyGPT (trained by `attend train induction`, see docs/TRAINING.md) was trained on random tokens in \
        which a span occurs twice. Its 64 tokens are written as syllables: ba be bi bo da de di do … zo (or as \
        ids 0–63). Nothing about the tokens themselves is predictable; what it learned is to look back: when the \
        current token occurred before, attend to the token that followed it then, and copy it — an induction head.

        Without a prompt, a random span (seeded by --seed) is followed by its first few tokens, and the model \
        completes the repeat. With --explain, each generated token shows where the induction head looked.

        Examples:
          attend generate
          attend generate --seed 7 --explain
          attend generate "ka mo ti so ra ka mo" --count 3
          attend generate --json
        """)

    @Argument(help: "With --model LLM: the text to continue. For TinyGPT: prompt tokens, syllables (ba, be, …) or ids 0–63, separated by spaces (default: a random repeated span).")
    var prompt: [String] = []

    @Option(name: .long, help: "Tokens to generate (default: the rest of the repeat, or 8).")
    var count: Int?

    @Option(name: .long, help: "Sampling temperature (0: greedy).")
    var temperature: Float = 0

    @Option(name: .long, help: "Seed for the random prompt and for sampling.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Length of the random span when no prompt is given.")
    var span = 12

    @Flag(name: .long, help: "Show where the induction head looked for each generated token.")
    var explain = false

    @Flag(name: .long, help: "Print JSON on stdout.")
    var json = false

    @Option(name: .long, help: "A language model (smollm2-135m, a .gguf file, a folder holding one, or a Hugging Face folder of a Llama model), or a TinyGPT folder written by `attend train induction` (default: the embedded TinyGPT).")
    var model: String?

    @OptionGroup(title: "Language models (--model smollm2-135m)") var llm: LLMOptions

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if !(temperature >= 0) { throw ValidationError("--temperature must be ≥ 0") }
        if span < 2 || span > 30 { throw ValidationError("--span must be 2…30") }
    }

    func run() throws {
        if let model, LLMRunner.isLanguageModel(model) { return try runLanguageModel(model) }
        try runReportingErrors {
            let url: URL
            if let model { url = URL(fileURLWithPath: model) } else {
                guard let embedded = DemoModels.folder(DemoModels.inductionGPT) else {
                    throw CLIError("the embedded TinyGPT is missing; train one with `attend train induction`")
                }
                url = embedded
            }
            let gpt = try TinyGPT.load(folder: url)
            let provenance = DemoModels.provenance(url)
            var tokens: [Int]
            var defaultCount = 8
            if prompt.isEmpty {
                (tokens, defaultCount) = TinyGPT.repeatedSpanPrompt(vocabSize: gpt.config.vocabSize, span: span, seed: seed)
            } else {
                tokens = try prompt.flatMap { $0.split(separator: " ") }.map { word in
                    guard let id = TinyGPT.token(String(word)), id >= 0, id < gpt.config.vocabSize else {
                        throw CLIError("unknown token \"\(word)\": use syllables ba be bi bo da … zo or ids 0–\(gpt.config.vocabSize - 1)")
                    }
                    return id
                }
            }
            let n = Swift.min(count ?? defaultCount, gpt.config.maxPositionEmbeddings - tokens.count + 1)
            guard n >= 1 else { throw CLIError("the prompt fills the model's \(gpt.config.maxPositionEmbeddings) positions") }
            let (generated, _) = try gpt.generate(tokens, count: n, temperature: temperature, seed: seed)

            // Where the induction head looked: one full pass over prompt + generated tokens.
            let layer = (provenance["induction_layer"].flatMap { Int($0) } ?? gpt.config.numLayers) - 1
            let head = (provenance["induction_head"].flatMap { Int($0) } ?? 1) - 1
            let looks = try gpt.lookbacks(prompt: tokens, generated: generated, layer: layer, head: head)
            if json {
                print(InductionReport.generationJSON(prompt: tokens, generated: generated, layer: layer, head: head, lookbacks: looks).rendered())
                return
            }
            print("prompt:    " + tokens.map(TinyGPT.syllable).joined(separator: " "))
            print("generated: " + Terminal.bold(generated.map(TinyGPT.syllable).joined(separator: " ")))
            if explain {
                print()
                print(InductionReport.lookbackText(prompt: tokens, generated: generated, layer: layer, head: head,
                                                   score: provenance["prefix_matching_score"], lookbacks: looks, style: Terminal.style),
                      terminator: "")
            } else if prompt.isEmpty {
                print(Terminal.dim("(the prompt is a random span and the start of its repeat; the model completes the repeat by induction)"))
            }
        }
    }

    /// `--model` is a language model (GGUF or a Hugging Face Llama folder): continue the raw text.
    func runLanguageModel(_ name: String) throws {
        try runReportingErrors {
            try llm.validate(temperature: temperature)
            let text = prompt.joined(separator: " ")
            guard !text.isEmpty else { throw CLIError("no text given: `attend generate --model \(name) \"The capital of France is\"`") }
            let model = try LLMRunner.load(name, activations: llm.activations)
            var options = llm.generation(temperature: temperature, seed: seed, explain: explain)
            if let count { options.maxTokens = count }
            let runner = LLMRunner(model: model, options: options, json: json, explain: explain)
            let ids = model.tokenizer.encode(text)
            guard !ids.isEmpty else { throw CLIError("the text has no tokens") }
            if !json && Terminal.stdoutIsTerminal { FileHandle.standardOutput.write(Data(Terminal.dim(text).utf8)) }
            _ = try runner.generate(ids: ids)
        }
    }
}

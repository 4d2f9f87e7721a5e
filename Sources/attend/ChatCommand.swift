import ArgumentParser
import Attend
import Foundation

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk with a language model (SmolLM2-135M-Instruct), its own chat template applied, the answer streamed as it is written.",
        discussion: """
        The message is wrapped in the model's chat template (read from the GGUF file; SmolLM2's adds the system message "You are a helpful AI assistant named SmolLM, trained by Hugging Face" when none is given), and the model answers until it ends its turn, a --stop string appears or --max-tokens tokens are written. Without a message, on a terminal, it holds a conversation: each line you type is your next turn and the whole history is the prompt (the key/value cache keeps what was already read). When stdin is not a terminal, each line of it is one turn.

        With --explain, each answer is followed by, for every token written, the earlier tokens it attended to most (attention of the position that produced it, averaged over every layer and head, or the --layer/--head you choose): ask "What did I say about cats earlier?" and watch it read back to your earlier turn. The first token of the prompt, where heads park attention they do not need (an attention sink), is left out of those lists.

        Install the model once with `attend models install smollm2-135m`. --model also takes a .gguf file, a folder holding one, or a Hugging Face folder of a Llama model (config.json, model.safetensors or its shards, tokenizer.json; the chat template from chat_template.jinja or tokenizer_config.json), whose weights run in float32.

        Examples:
          attend chat --model smollm2-135m "What is the capital of France?"
          attend chat --model smollm2-135m
          attend chat --model smollm2-135m --temperature 0.7 --top-p 0.9 --seed 3 "Write a haiku about attention."
          attend chat --model smollm2-135m --json --top-logprobs 3 "Say hi."
          printf 'I have two cats called Miso and Tofu.\\nWhat did I say about cats earlier?\\n' | attend chat --model smollm2-135m --explain
        """)

    @Argument(help: "Your message (none: a conversation on the terminal, or one turn per line of stdin).")
    var message: [String] = []

    @Option(name: .long, help: ArgumentHelp("The model: a name installed with `attend models install`, a .gguf file, a folder holding one, or a Hugging Face folder of a Llama model.", valueName: "name|file|folder"))
    var model: String = "smollm2-135m"

    @Option(name: .long, help: "Sampling temperature (0: greedy, the most likely token every time).")
    var temperature: Float = 0

    @Option(name: .long, help: "Seed of the sampler (the same seed gives the same answer).")
    var seed: UInt64 = 0

    @OptionGroup var options: LLMOptions

    @Flag(name: .long, help: "Print one JSON object per turn: input_ids, output_ids, text (and each step's top log-probabilities with --top-logprobs).")
    var json = false

    @Flag(name: .long, help: "After each answer, show which earlier tokens each written token attended to most.")
    var explain = false

    func validate() throws { try options.validate(temperature: temperature) }

    func run() throws {
        try runReportingErrors {
            let llm = try LLMRunner.load(model, activations: options.activations)
            guard let template = llm.chatTemplate else {
                throw CLIError("\(llm.url.lastPathComponent) has no chat template (tokenizer.chat_template): use `attend generate --model \(model)` to continue raw text")
            }
            let runner = LLMRunner(model: llm, options: options.generation(temperature: temperature, seed: seed, explain: explain),
                                   json: json, explain: explain)
            if !message.isEmpty {
                let text = message.joined(separator: " ")
                _ = try runner.answer([ChatMessage(role: "user", content: text)], template: template)
                return
            }
            let interactive = isatty(STDIN_FILENO) != 0
            if interactive {
                FileHandle.standardError.write(Data("Chatting with \(model) (an empty line or Ctrl-D ends).\n".utf8))
            }
            var history: [ChatMessage] = []
            while true {
                if interactive { FileHandle.standardError.write(Data(Terminal.bold("you> ").utf8)) }
                guard let line = readLine(strippingNewline: true) else { break }
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty { if interactive { break } else { continue } }
                history.append(ChatMessage(role: "user", content: text))
                let reply = try runner.answer(history, template: template)
                history.append(ChatMessage(role: "assistant", content: reply))
            }
        }
    }
}

/// The options `attend generate --model LLM` and `attend chat` share (beside --temperature and --seed).
struct LLMOptions: ParsableArguments {
    @Option(name: .long, help: "Most tokens to write.")
    var maxTokens = 256

    @Option(name: .long, help: "Sample only from the k most likely tokens (0: all).")
    var topK = 0

    @Option(name: .long, help: "Sample only from the most likely tokens whose probabilities add up to p (1: all).")
    var topP: Float = 1

    @Option(name: .long, help: "Stop when this text appears (not included in the output); repeat for several.")
    var stop: [String] = []

    @Option(name: .long, help: "With --json: each step's K most likely tokens and their log-probabilities.")
    var topLogprobs = 0

    @Option(name: .long, help: "With --explain: read only this layer's attention (default: every layer).")
    var layer: Int?

    @Option(name: .long, help: "With --explain and --layer: read only this query head (default: every head).")
    var head: Int?

    @Option(name: .long, help: ArgumentHelp("Activations of the quantized matrix products: int16 (default; while decoding, each 32-value block of activations is rounded to 16 bits and multiplied on exact integer dot products: about twice as fast as fp32, and its greedy continuations stay within the same parity bar against transformers), fp32 (float32 activations against the decoded 4-bit weights), or int8 (llama.cpp's scheme: while decoding, on CPUs with AVX2 or AVX-512 VNNI, each 32-value block of activations is rounded to 8 bits; faster still, and like llama.cpp it can change a greedy continuation where two tokens are nearly tied).", valueName: "int16|fp32|int8"))
    var activations: LlamaActivations = .int16

    func validate(temperature: Float) throws {
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
        if !(temperature >= 0) || !temperature.isFinite { throw ValidationError("--temperature must be a number ≥ 0") }
        if topK < 0 { throw ValidationError("--top-k must be ≥ 0") }
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if topLogprobs < 0 || topLogprobs > 100 { throw ValidationError("--top-logprobs must be 0…100") }
        if stop.contains("") { throw ValidationError("--stop must not be empty") }
        if head != nil && layer == nil { throw ValidationError("--head needs --layer") }
    }

    func generation(temperature: Float, seed: UInt64, explain: Bool) -> GenerationOptions {
        GenerationOptions(maxTokens: maxTokens,
                          sampling: SamplingOptions(temperature: temperature, topK: topK > 0 ? topK : nil,
                                                    topP: topP < 1 ? topP : nil, seed: seed),
                          stop: stop, topLogprobs: topLogprobs,
                          lookback: explain ? LookbackSelection(layer: layer, head: head) : nil)
    }
}

extension LlamaActivations: ExpressibleByArgument {}

/// Loads a GGUF language model and runs generations for the CLI: streamed text, JSON, lookbacks.
final class LLMRunner {
    let model: LlamaModel
    let options: GenerationOptions
    let json: Bool
    let explain: Bool
    /// The conversation's cache and the ids it holds, reused while the next prompt starts with them.
    let cache: LlamaCache
    var cachedIds: [Int] = []

    init(model: LlamaModel, options: GenerationOptions, json: Bool, explain: Bool) {
        (self.model, self.options, self.json, self.explain) = (model, options, json, explain)
        cache = LlamaCache(config: model.config)
    }

    /// Whether `--model` names a language model: a GGUF one (a .gguf file, a folder with one, an installed name of
    /// one) or a Hugging Face folder of a causal language model (config.json with model_type "llama").
    static func isLanguageModel(_ name: String) -> Bool {
        guard let url = try? ModelStore.resolve(name) else { return false }
        return url.pathExtension.lowercased() == "gguf" || !ModelStore.ggufFiles(in: url).isEmpty
            || LlamaModel.isHuggingFaceLanguageModel(url)
    }

    static func load(_ name: String, activations: LlamaActivations = .int16) throws -> LlamaModel {
        let url: URL
        do { url = try ModelStore.resolve(name) } catch { throw CLIError("\(error)") }
        do { return try LlamaModel.load(url, path: .quantized, activations: activations) } catch {
            throw CLIError("cannot load model '\(name)' from \(url.path): \(error)")
        }
    }

    /// Answers the last user turn of `messages` (the chat template applied); returns the answer's text.
    func answer(_ messages: [ChatMessage], template: ChatTemplate) throws -> String {
        try generate(ids: model.tokenizer.encode(template.render(messages)))
    }

    /// Continues `ids`, streaming (or printing JSON), then the lookbacks; returns the text.
    func generate(ids: [Int]) throws -> String {
        guard ids.count < model.config.contextLength else {
            throw CLIError("the prompt has \(ids.count) tokens; the model reads at most \(model.config.contextLength)")
        }
        let common = zip(cachedIds, ids).prefix { $0 == $1 }.count
        cache.truncate(to: Swift.min(common, ids.count - 1))
        let stdout = FileHandle.standardOutput
        let result = try model.generate(prompt: ids, options: options, cache: cache) { piece in
            if !json { stdout.write(Data(piece.utf8)) }
        }
        cachedIds = Array((ids + result.outputIds).prefix(cache.count))
        // Everything through one unbuffered handle, so the streamed text and the rest stay in order when piped.
        if json {
            stdout.write(Data((jsonReport(result).rendered() + "\n").utf8))
        } else {
            stdout.write(Data(("\n" + (explain ? lookbackText(result) : "")).utf8))
        }
        return result.text
    }

    func jsonReport(_ r: GenerationResult) -> JSONValue {
        var o = JSONObject()
        o["model"] = .string(model.url.lastPathComponent)
        o["input_ids"] = .array(r.inputIds.map { .int($0) })
        o["output_ids"] = .array(r.outputIds.map { .int($0) })
        o["text"] = .string(r.text)
        o["finish_reason"] = .string(r.finishReason)
        o["timing"] = .object(JSONObject([
            ("prefill_tokens", .int(r.prefillTokens)), ("prefill_seconds", .double(r.prefillSeconds)),
            ("decode_steps", .int(r.decodeSteps)), ("decode_seconds", .double(r.decodeSeconds)),
        ]))
        if options.topLogprobs > 0 {
            o["steps"] = .array(r.steps.map { s in
                .object(JSONObject([
                    ("id", .int(s.id)), ("token", .string(model.tokenText(s.id))), ("logprob", .float(s.logprob)),
                    ("top_logprobs", .array(s.topLogprobs.map { t in
                        .object(JSONObject([("id", .int(t.id)), ("token", .string(model.tokenText(t.id))), ("logprob", .float(t.logprob))]))
                    })),
                ]))
            })
        }
        if explain {
            o["lookback"] = .array(r.steps.map { s in
                .array(topLooks(s.attention ?? [], count: 3).map { .object(JSONObject([("position", .int($0.position)), ("weight", .float($0.weight))])) })
            })
        }
        return .object(o)
    }

    /// The `count` earliest-position-excluded largest weights of a lookback row.
    func topLooks(_ row: [Float], count: Int) -> [(position: Int, weight: Float)] {
        row.indices.dropFirst().sorted { row[$0] > row[$1] }.prefix(count).map { ($0, row[$0]) }
    }

    /// For each written token, the earlier tokens it looked at most.
    func lookbackText(_ r: GenerationResult) -> String {
        let all = r.inputIds + r.outputIds
        let which = options.lookback.map { s in
            s.layer.map { l in s.head.map { "layer \(l), head \($0) (key/value head \(model.keyValueHead(of: $0)))" } ?? "layer \(l), averaged over its heads" }
                ?? "averaged over every layer and head"
        } ?? ""
        var text = Terminal.dim("Where each written token looked (attention of the position that wrote it, \(which); position 0, the attention sink, left out):") + "\n"
        func show(_ id: Int) -> String {
            let s = model.tokenText(id).replacingOccurrences(of: "\n", with: "\\n")
            return "\"\(s)\""
        }
        for (i, step) in r.steps.enumerated() {
            let looks = topLooks(step.attention ?? [], count: 3).map { look in
                let role = look.position >= r.inputIds.count ? "written" : "prompt"
                return "\(show(all[look.position]))@\(look.position) \(role) \(fmt(look.weight, decimals: 2))"
            }
            text += "  \(padRight(show(step.id), 14)) ← " + looks.joined(separator: ", ") + "\n"
            _ = i
        }
        return text
    }
}

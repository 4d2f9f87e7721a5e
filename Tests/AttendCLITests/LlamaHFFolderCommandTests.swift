import AttendTestSupport
import Foundation
import Testing

/// `--model` taking a Hugging Face folder of a Llama model: the tiny random models of `Tests/Fixtures/llama-hf`
/// (made with transformers by `make_tiny_llama.py`), whose greedy continuations the fixture holds.
@Suite("attend generate / chat / explain with a Hugging Face Llama folder")
struct LlamaHFFolderCommandTests {
    static let root = packageRoot.appendingPathComponent("Tests/Fixtures/llama-hf")

    func json(_ text: String) throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return try #require(obj, "not a JSON object: \(text)")
    }

    /// The fixture's prompt `text` of model `name`.
    func prompt(_ name: String, _ text: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("tiny-llama-fixtures.json"))
        let fixture = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let prompts = try #require(((fixture["models"] as? [String: Any])?[name] as? [String: Any])?["prompts"] as? [[String: Any]])
        return try #require(prompts.first { $0["text"] as? String == text })
    }

    /// generate continues raw text greedily with transformers' tokens (16, no end-of-turn among them to stop on
    /// is not assumed: the comparison is on the tokens written).
    @Test(arguments: ["tiny-untied-f16", "tiny-tied-bf16"])
    func generateMatchesTransformers(_ name: String) throws {
        let folder = Self.root.appendingPathComponent(name).path
        let r = try CLI.run(["generate", "--model", folder, "--max-tokens", "16", "--json", "The capital of France is"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r.stdout)
        let want = try prompt(name, "The capital of France is")
        #expect(o["input_ids"] as? [Int] == want["input_ids"] as? [Int])
        let out = try #require(o["output_ids"] as? [Int])
        let greedy = try #require(want["greedy_ids"] as? [Int])
        // Generation stops at an end-of-turn token (<|im_end|>, <|endoftext|>); the fixture's tokens do not.
        #expect(!out.isEmpty && Array(greedy.prefix(out.count)) == out, "\(out) vs \(greedy)")
    }

    /// chat renders the folder's chat template (chat_template.jinja) and answers.
    @Test func chatUsesTheFoldersTemplate() throws {
        let folder = Self.root.appendingPathComponent("tiny-untied-f16").path
        let r = try CLI.run(["chat", "--model", folder, "--max-tokens", "4", "--json", "What is the capital of France?"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r.stdout)
        let want = try prompt("tiny-untied-f16", "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
        #expect(o["input_ids"] as? [Int] == want["input_ids"] as? [Int])
    }

    /// explain reads the folder through the model registry (config.json's model_type).
    @Test func explainReadsTheFolder() throws {
        let folder = Self.root.appendingPathComponent("tiny-tied-bf16").path
        let r = try CLI.run(["explain", "The capital of France", "--model", folder, "--layer", "1", "--head", "3", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"weights\""))
    }

    /// A bad folder is one line on stderr naming the file and the field.
    @Test func badFolderIsOneLineError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-hf-cli-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("tiny-untied-f16"), to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
        object["intermediate_size"] = nil
        try JSONSerialization.data(withJSONObject: object).write(to: config)
        let r = try CLI.run(["generate", "--model", dir.path, "hi"])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && r.stderr.contains("config.json") && r.stderr.contains("intermediate_size"), "\(r.stderr)")
    }
}

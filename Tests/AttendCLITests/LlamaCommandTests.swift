import AttendTestSupport
import Foundation
import Testing

/// `attend generate --model smollm2-135m` and `attend chat`, run as the built binary (short outputs: debug builds are slow).
@Suite("attend generate / chat with SmolLM2", .serialized,
       .enabled(if: isCI || FileManager.default.fileExists(atPath: installedModelFolder("smollm2-135m").appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path),
                "install with `attend models install smollm2-135m`"))
struct LlamaCommandTests {
    func json(_ text: String) throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return try #require(obj, "not a JSON object: \(text)")
    }

    /// Raw continuation, greedy: the fixture's first tokens for "The" (transformers: 29, 1195, 29, 6693).
    @Test func generateContinuesRawTextAsJSON() throws {
        let r = try CLI.run(["generate", "--model", "smollm2-135m", "--max-tokens", "4", "--json", "--top-logprobs", "2", "The"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r.stdout)
        #expect(o["input_ids"] as? [Int] == [504])
        #expect(o["output_ids"] as? [Int] == [29, 1195, 29, 6693])
        #expect(o["text"] as? String == "-the-world")
        let steps = try #require(o["steps"] as? [[String: Any]])
        #expect(steps.count == 4 && (steps[0]["top_logprobs"] as? [Any])?.count == 2)
    }

    /// A stop string ends the text before it; the streamed text equals the JSON text.
    @Test func generateStopsOnAStopString() throws {
        let r = try CLI.run(["generate", "--model", "smollm2-135m", "--max-tokens", "12", "--stop", "world", "The"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "-the-\n", "\(r.stdout)")
    }

    /// Chat applies the template (system message inserted) and stops at the end of the turn.
    @Test func chatAnswersOneMessage() throws {
        let r = try CLI.run(["chat", "--model", "smollm2-135m", "--max-tokens", "16", "--json", "What is the capital of France?"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r.stdout)
        #expect((o["input_ids"] as? [Int])?.count == 37)
        #expect(o["text"] as? String == "The capital of France is Paris.")
        #expect(o["finish_reason"] as? String == "stop")
    }

    @Test func badOptionsAreOneLineErrors() throws {
        let r = try CLI.run(["chat", "--model", "smollm2-135m", "--top-p", "0", "hi"])
        #expect(r.status != 0 && r.stderr.contains("--top-p"))
        let missing = try CLI.run(["generate", "--model", "/nonexistent/model.gguf", "hi"])
        #expect(missing.status != 0)
    }
}

// The chat template of a GGUF file (`tokenizer.chat_template`, a Jinja template), rendered natively for the one
// family of templates Attend recognises: ChatML (`<|im_start|>role\ncontent<|im_end|>\n`), optionally with a
// default system message inserted when the conversation has none (SmolLM2's template does this). The rendering
// equals transformers' `apply_chat_template(messages, tokenize=False, add_generation_prompt=True)`; a template of
// another shape is an error naming what was expected, never a guess.
import Foundation

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// `"system"`, `"user"` or `"assistant"`.
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A chat template Attend can render.
public struct ChatTemplate: Sendable, Equatable {
    /// The template text as stored in the file.
    public let source: String
    /// The system message inserted before the first message when it is not a system message (nil: none).
    public let defaultSystemMessage: String?

    /// Recognises `source` as ChatML.
    /// - Throws: ``ModelError/invalidConfig(_:_:)`` when the template is not one Attend can render.
    public init(source: String) throws {
        self.source = source
        // Newlines may be written in the literals as they are or escaped (`\n`): read both as the escape.
        let normalized = source.replacingOccurrences(of: "\n", with: "\\n")
        let compact = normalized.filter { !$0.isWhitespace }
        // ChatML's message body: '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'
        let body = "'<|im_start|>'+message['role']+'\\n'+message['content']+'<|im_end|>'+'\\n'"
        let body2 = body.replacingOccurrences(of: "'", with: "\"")
        let generation = "{%ifadd_generation_prompt%}{{'<|im_start|>assistant\\n'}}{%endif%}"
        guard compact.contains(body) || compact.contains(body2),
              compact.contains(generation) || compact.contains(generation.replacingOccurrences(of: "'", with: "\"")) else {
            throw ModelError.invalidConfig("tokenizer.chat_template",
                "the chat template is not ChatML (<|im_start|>role\\n…<|im_end|>\\n with an assistant generation prompt), the only template Attend renders")
        }
        // A default system message: {% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n…<|im_end|>\n' }}{% endif %}
        let marker = "'<|im_start|>system\\n"
        if compact.contains("messages[0]['role']!='system'") || compact.contains("messages[0][\"role\"]!=\"system\"") {
            guard let start = normalized.range(of: marker), let end = normalized.range(of: "<|im_end|>", range: start.upperBound..<normalized.endIndex) else {
                throw ModelError.invalidConfig("tokenizer.chat_template", "the chat template inserts a system message Attend cannot find")
            }
            defaultSystemMessage = Self.unescaped(String(normalized[start.upperBound..<end.lowerBound]))
        } else {
            defaultSystemMessage = nil
        }
    }

    /// The prompt text for `messages`, ending with `<|im_start|>assistant\n` when `addGenerationPrompt`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        var text = ""
        if let system = defaultSystemMessage, messages.first?.role != "system" {
            text += "<|im_start|>system\n\(system)<|im_end|>\n"
        }
        for m in messages { text += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
        if addGenerationPrompt { text += "<|im_start|>assistant\n" }
        return text
    }

    /// A Jinja single-quoted string's escapes (`\n`, `\'`, `\\`).
    static func unescaped(_ s: String) -> String {
        var out = "", escape = false
        for c in s {
            if escape {
                switch c { case "n": out.append("\n"); case "t": out.append("\t"); default: out.append(c) }
                escape = false
            } else if c == "\\" { escape = true } else { out.append(c) }
        }
        return out
    }
}

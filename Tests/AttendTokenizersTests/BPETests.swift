import Foundation
import Testing
import AttendTensor
@testable import AttendTokenizers

/// The plain twin of `BytePairEncoding.encodeUnits`: the textbook loop over a word
/// of byte-level strings — find the adjacent pair of lowest rank (leftmost on a
/// tie), merge it, repeat — then look the pieces up.
private func referenceBPE(_ bytes: [UInt8], ranks: [String: Int], vocab: [String: Int]) -> [Int] {
    var word = bytes.map { String(ByteLevelAlphabet.scalars[Int($0)]) }.filter { vocab[$0] != nil }
    while word.count > 1 {
        var best: (rank: Int, index: Int)? = nil
        for i in 0..<(word.count - 1) {
            if let r = ranks[word[i] + " " + word[i + 1]], best == nil || r < best!.rank { best = (r, i) }
        }
        guard let b = best else { break }
        word[b.index] += word[b.index + 1]
        word.remove(at: b.index + 1)
    }
    return word.compactMap { vocab[$0] }
}

@Suite struct BPETests {
    private func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var out: [Range<Int>] = []
        scalars.withUnsafeBufferPointer { GPT2Split.split($0, 0..<scalars.count, into: &out) }
        return out.map { r in
            var v = String.UnicodeScalarView()
            v.append(contentsOf: scalars[r])
            return String(v)
        }
    }

    @Test func gpt2SplitFollowsThePattern() {
        #expect(split("Hello world") == ["Hello", " world"])
        #expect(split("a   b") == ["a", "  ", " b"])
        #expect(split("x  ") == ["x", "  "])
        #expect(split("I'm here, they'll 'S") == ["I", "'m", " here", ",", " they", "'ll", " '", "S"])
        #expect(split("123abc 45!") == ["123", "abc", " 45", "!"])
        #expect(split("\n\n x") == ["\n\n", " x"])
        #expect(split("a\n\nb") == ["a", "\n", "\n", "b"])
        #expect(split("a\u{00A0}b") == ["a", "\u{00A0}", "b"])
        #expect(split(" ") == [" "])
        #expect(split("  ?!") == [" ", " ?!"])
        #expect(split("é東京😀") == ["é東京", "😀"])
        #expect(split("") == [])
    }

    /// The heap-based merge loop against its plain twin, on SmolLM2's 48,900 merges.
    @Test func mergesEqualTheReferenceLoop() throws {
        let v = try BPEFixtures.ggufValues()
        var vocab: [String: Int] = [:]
        for (i, t) in v.tokens.enumerated() where vocab[t] == nil { vocab[t] = i }
        var ranks: [String: Int] = [:]
        for (i, m) in v.merges.enumerated() where ranks[m] == nil { ranks[m] = i }
        let t = try BPEFixtures.smolFromValues.get()
        let model = try #require(t.tokenizer.model as? BytePairEncoding)
        var words: [[UInt8]] = ["aaaaaaa", "        ", "tokenization", "Übermäßig", "😀👍🏽", "東京都", "))))]]}", "0000"].map { Array($0.utf8) }
        var rng = SeededRNG(seed: 7)
        let golden = try BPEFixtures.goldens.get().smollm2.cases.map { Array($0.text.utf8) }.filter { $0.count > 4 }
        for _ in 0..<300 {
            let source = golden[Int(rng.next() % UInt64(golden.count))]
            let start = Int(rng.next() % UInt64(source.count - 1))
            let length = 1 + Int(rng.next() % 24)
            words.append(Array(source[start..<min(source.count, start + length)]))
        }
        for n in [1, 2, 5, 17, 64] { words.append((0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
        for w in words {
            let got = model.encodeUnits(w.map(UInt32.init)).map { Int($0.id) }
            expectEqual(got, referenceBPE(w, ranks: ranks, vocab: vocab), "word \(w)")
        }
    }

    @Test func streamDecoderHoldsBackPartialCharacters() {
        var d = UTF8StreamDecoder()
        let text = "a😀é€"
        var pieces: [String] = []
        for b in text.utf8 { pieces.append(d.append([b])) }
        #expect(pieces == ["a", "", "", "", "😀", "", "é", "", "", "€"])
        #expect(d.finish() == "")
        // Invalid bytes come out at once, as U+FFFD, exactly as a whole decode has them.
        for bytes: [UInt8] in [[0xE2, 0x28, 0xA1], [0xF0, 0x9F, 0x98], [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xFF, 0x41], [0xF4, 0x90, 0x80, 0x80]] {
            var s = UTF8StreamDecoder()
            let streamed = bytes.map { s.append([$0]) }.joined() + s.finish()
            #expect(streamed == String(decoding: bytes, as: UTF8.self), "\(bytes)")
        }
        var partial = UTF8StreamDecoder()
        #expect(partial.append([0xF0, 0x9F]) == "" && partial.pendingBytes == [0xF0, 0x9F])
        #expect(partial.finish() == "\u{FFFD}" && partial.pendingBytes.isEmpty)
    }

    @Test func byteAlphabetIsABijection() {
        let scalars = ByteLevelAlphabet.scalars
        #expect(Set(scalars).count == 256)
        #expect(scalars[0x20] == "Ġ" && scalars[0x0A] == "Ċ" && scalars[0x41] == "A" && scalars[0xAD] == "Ń")
        for b in 0..<256 { #expect(ByteLevelAlphabet.byte(for: scalars[b]) == UInt8(b)) }
        #expect(ByteLevelAlphabet.decode("Ġhello") == Array(" hello".utf8))
        #expect(ByteLevelAlphabet.decode("a b") == nil && ByteLevelAlphabet.bytes(ofToken: "a b") == Array("a b".utf8))
    }

    @Test func ggufPreTokenizerNames() {
        #expect(BPEPreTokenizerKind(ggufPre: "smollm") == .gpt2)
        #expect(BPEPreTokenizerKind(ggufPre: "smollm", reference: .llamaCpp) == .gpt2IndividualDigits)
        #expect(BPEPreTokenizerKind(ggufPre: "gpt-2") == .gpt2)
        #expect(BPEPreTokenizerKind(ggufPre: nil) == .gpt2)
        #expect(BPEPreTokenizerKind(ggufPre: "llama3") == nil)
    }

    @Test func specialTokensAndStreamingOnSmolLM2() throws {
        let t = try BPEFixtures.smolFromValues.get()
        let ids = t.encode("<|im_start|>user\nHi 🦩<|im_end|>")
        #expect(ids.first == 1 && ids.last == 2)
        #expect(t.isSpecial(1) && !t.isSpecial(ids[1]))
        #expect(t.decode(ids, skipSpecialTokens: true) == "user\nHi 🦩")
        var stream = t.makeStreamDecoder(skipSpecialTokens: true)
        let pieces = ids.map { stream.append($0) }
        #expect(pieces.joined() == "user\nHi 🦩" && stream.finish().isEmpty)
        // " 🦩" is three byte tokens (ĠðŁ ¦ ©): " " shows at once, the emoji with its last byte.
        #expect(Array(pieces.suffix(4)) == [" ", "", "🦩", ""])
    }

    // MARK: - Loading and errors

    private func tinyJSON(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> Data {
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: BPEFixtures.tinyJSONURL)) as? [String: Any])
        edit(&json)
        return try JSONSerialization.data(withJSONObject: json)
    }

    private func expectUnsupported(_ kind: String, _ type: String, _ edit: (inout [String: Any]) -> Void) throws {
        let source = URL(fileURLWithPath: "/models/gpt/tokenizer.json")
        #expect(throws: TokenizerError.unsupportedComponent(kind: kind, type: type, file: source)) {
            _ = try Tokenizer(tokenizerJSONData: try tinyJSON(edit), source: source)
        }
    }

    @Test func unsupportedOptionsAreTypedErrors() throws {
        try expectUnsupported("pre_tokenizer", #"Split with Regex '\d+' (Isolated)"#) {
            $0["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": #"\d+"#], "behavior": "Isolated", "invert": false]
        }
        try expectUnsupported("pre_tokenizer", "ByteLevel with add_prefix_space true") {
            $0["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": true, "use_regex": true]
        }
        try expectUnsupported("pre_tokenizer", "Split with invert true") {
            $0["pre_tokenizer"] = ["type": "Split", "pattern": ["String": " "], "behavior": "Isolated", "invert": true]
        }
        try expectUnsupported("model", "BPE with byte_fallback true") {
            var model = $0["model"] as? [String: Any] ?? [:]
            model["byte_fallback"] = true
            $0["model"] = model
        }
        try expectUnsupported("model", "BPE with continuing_subword_prefix '##'") {
            var model = $0["model"] as? [String: Any] ?? [:]
            model["continuing_subword_prefix"] = "##"
            $0["model"] = model
        }
    }

    @Test func badMergesNameTheFileAndTheMerge() throws {
        let source = URL(fileURLWithPath: "/models/gpt/tokenizer.json")
        func load(_ merges: [Any]) throws -> Tokenizer {
            try Tokenizer(tokenizerJSONData: try tinyJSON {
                var model = $0["model"] as? [String: Any] ?? [:]
                model["merges"] = merges
                $0["model"] = model
            }, source: source)
        }
        do {
            _ = try load(["h e", "zq x"])
            Issue.record("a merge of unknown tokens should not load")
        } catch let error as TokenizerError {
            #expect(error == .invalidVocabulary(reason: "merge 1 ('zq x'): 'zq' is not in the vocabulary", file: source))
            #expect(error.description.contains("tokenizer.json"))
        }
        for bad in [["h e", "nospace"], [["h", "e", "x"]]] as [[Any]] {
            do {
                _ = try load(bad)
                Issue.record("merges \(bad) should not load")
            } catch let error as TokenizerError {
                guard case .malformedFile(let url, let reason) = error else {
                    Issue.record("expected malformedFile, got \(error)")
                    continue
                }
                #expect(url == source && reason.contains("merge"), "\(reason)")
            }
        }
    }

    @Test func plainConstructorChecksItsInput() throws {
        let tokens = ["a", "b", "ab", "<|end|>"]
        let t = try BPETokenizer(tokens: tokens, merges: ["a b"], tokenTypes: [1, 1, 1, 3], eosId: 3)
        #expect(t.encode("abab<|end|>b") == [2, 2, 3, 1])
        #expect(t.decode([2, 3, 9999]) == "ab<|end|>" && t.decode([2, 3], skipSpecialTokens: true) == "ab")
        // Spelled with a real space: respelled in the byte alphabet, as transformers does.
        let respelled = try BPETokenizer(tokens: ["a", "b", "ab", " x", "Ġ", "x", "<u>"], merges: ["a b", "Ġ x"], tokenTypes: [1, 1, 1, 1, 1, 1, 4])
        #expect(respelled.encode(" xab<u>") == [3, 2, 6] && respelled.token(for: 3) == "Ġx" && respelled.decode([3, 2, 6]) == " xab<u>")
        #expect(throws: TokenizerError.invalidVocabulary(reason: "merge 0 'ab' is not two tokens separated by a space", file: nil)) {
            try BPETokenizer(tokens: tokens, merges: ["ab"])
        }
        #expect(throws: TokenizerError.invalidVocabulary(reason: "merge 0 ('a c'): 'c' is not in the vocabulary", file: nil)) {
            try BPETokenizer(tokens: tokens, merges: ["a c"])
        }
        #expect(throws: TokenizerError.invalidVocabulary(reason: "3 token types for 4 tokens", file: nil)) {
            try BPETokenizer(tokens: tokens, merges: [], tokenTypes: [1, 1, 1])
        }
        #expect(throws: TokenizerError.invalidVocabulary(reason: "bos_token_id 4 is outside the 4 tokens", file: nil)) {
            try BPETokenizer(tokens: tokens, merges: [], bosId: 4)
        }
        #expect(throws: TokenizerError.invalidVocabulary(reason: "no tokens", file: nil)) {
            try BPETokenizer(tokens: [], merges: [])
        }
    }

    @Test func loadsAHuggingFaceFolder() throws {
        let folder = try TemporaryFolder()
        try Data(contentsOf: BPEFixtures.tinyJSONURL).write(to: folder.url.appendingPathComponent("tokenizer.json"))
        try folder.write("tokenizer_config.json", #"{"bos_token": "<|endoftext|>", "eos_token": {"content": "<|im_end|>"}, "model_max_length": 1024}"#)
        let t = try BPETokenizer(folder: folder.url)
        #expect(t.bosTokenId == 0 && t.eosTokenId == 392 && t.padTokenId == nil)
        #expect(t.tokenizer.modelMaxLength == 1024)
        let text = "<think>hello</think> world"
        #expect(t.encode(text).first == 393 && t.decode(t.encode(text)) == text)
        // <think> is added but not special: skipping special tokens keeps it.
        #expect(t.decode(t.encode(text), skipSpecialTokens: true) == text)
    }
}

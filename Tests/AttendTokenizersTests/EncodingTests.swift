import Foundation
import Testing
import AttendTensor
@testable import AttendTokenizers

/// Truncation, pairs, batches, offsets and decoding on the tiny vocabulary (no model needed),
/// plus a few properties of the real MiniLM tokenizer.
@Suite("Encoding")
struct EncodingTests {
    static let tiny = Result { try tinyTokenizer(vocab: tinyVocab) }

    @Test func emptyTextIsClsSep() throws {
        let t = try Self.tiny.get()
        let e = t.encode("")
        #expect(e.tokens == ["[CLS]", "[SEP]"] && e.ids == [2, 3] && e.attentionMask == [1, 1] && e.typeIds == [0, 0])
        #expect(e.offsets == [TokenOffset(start: 0, end: 0), TokenOffset(start: 0, end: 0)])
        #expect(t.encode("", addSpecialTokens: false).isEmpty)
    }

    @Test func specialTokenIds() throws {
        let t = try Self.tiny.get()
        #expect(t.padTokenId == 0 && t.unkTokenId == 1 && t.clsTokenId == 2 && t.sepTokenId == 3 && t.maskTokenId == 4)
        #expect(t.id(for: "cat") == tinyVocab.firstIndex(of: "cat") && t.token(for: 2) == "[CLS]" && t.id(for: "dog") == nil)
        #expect(t.vocabulary.count == tinyVocab.count && t.vocabularySize == tinyVocab.count)
        #expect(t.configuredMaxLength == 16)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 8, 9, 100])
    func truncationKeepsClsAndSep(_ maxLength: Int) throws {
        let t = try Self.tiny.get()
        let full = t.encode("the cat sat on the mat unaffable")   // 11 tokens
        let e = t.encode("the cat sat on the mat unaffable", maxLength: maxLength)
        #expect(e.tokens.first == "[CLS]" && e.tokens.last == "[SEP]")
        #expect(e.count == max(2, min(maxLength, full.count)), "maxLength \(maxLength)")
        #expect(e.wasTruncated == (maxLength < full.count))
        #expect(Array(e.ids.dropLast()) == Array(full.ids.prefix(e.count - 1)), "a prefix of the text is kept")
        #expect([e.ids, e.tokens.map { _ in 0 }, e.typeIds, e.attentionMask, e.specialTokensMask].allSatisfy { $0.count == e.count })
        #expect(e.offsets.count == e.count && e.wordIds.count == e.count && e.sequenceIds.count == e.count)
    }

    @Test func truncationWithoutSpecialTokens() throws {
        let t = try Self.tiny.get()
        let e = t.encode("the cat sat on the mat", addSpecialTokens: false, maxLength: 3)
        #expect(e.tokens == ["the", "cat", "sat"] && e.wasTruncated)
    }

    @Test func pairs() throws {
        let t = try Self.tiny.get()
        let e = t.encode("the cat", pair: "sat on")
        #expect(e.tokens == ["[CLS]", "the", "cat", "[SEP]", "sat", "on", "[SEP]"])
        #expect(e.typeIds == [0, 0, 0, 0, 1, 1, 1])
        #expect(e.sequenceIds == [nil, 0, 0, nil, 1, 1, nil])
        #expect(e.specialTokensMask == [1, 0, 0, 1, 0, 0, 1])
        #expect(e.offsets.map(\.range) == [0..<0, 0..<3, 4..<7, 0..<0, 0..<3, 4..<6, 0..<0], "offsets are per text")
        #expect(e.wordIds == [nil, 0, 1, nil, 0, 1, nil])
        let cut = t.encode("the cat sat on the mat", pair: "hello world", maxLength: 7)
        #expect(cut.tokens == ["[CLS]", "the", "cat", "[SEP]", "hello", "world", "[SEP]"] && cut.wasTruncated)
    }

    @Test func batchPadsWithThePadToken() throws {
        let t = try Self.tiny.get()
        let b = t.encodeBatch(["the cat", "the cat sat on the mat", ""])
        #expect(b.count == 3 && b.sequenceLength == 8)
        #expect(b.ids.allSatisfy { $0.count == 8 } && b.attentionMask.allSatisfy { $0.count == 8 })
        #expect(b.ids[0] == t.encode("the cat").ids + [0, 0, 0, 0])
        #expect(b.attentionMask[0] == [1, 1, 1, 1, 0, 0, 0, 0])
        #expect(b.attentionMask[2] == [1, 1, 0, 0, 0, 0, 0, 0])
        #expect(b.encodings[0].tokens.suffix(4) == ["[PAD]", "[PAD]", "[PAD]", "[PAD]"])
        #expect(b.encodings[0].specialTokensMask == [1, 0, 0, 1, 1, 1, 1, 1])
        #expect(b.typeIds[0] == Array(repeating: 0, count: 8))
        #expect(b.encodings[0].offsets.count == 8 && b.encodings[0].sequenceIds.count == 8)
    }

    @Test func batchPaddingModes() throws {
        let t = try Self.tiny.get()
        let texts = ["the cat", "the cat sat on the mat"]
        #expect(t.encodeBatch(texts, padding: .fixed(12)).ids.allSatisfy { $0.count == 12 })
        #expect(t.encodeBatch(texts, padding: .fixed(3)).sequenceLength == 8, "a fixed length shorter than the longest row does not cut")
        #expect(t.encodeBatch(texts, padding: .disabled).ids.map(\.count) == [4, 8])
        #expect(t.encodeBatch(texts, maxLength: 5).ids.map(\.count) == [5, 5])
        #expect(t.encodeBatch([]).count == 0 && t.encodeBatch([]).sequenceLength == 0)
        let pairs = t.encodeBatch(pairs: [("the cat", "sat"), ("a", "b c")])
        #expect(pairs.typeIds[0] == [0, 0, 0, 0, 1, 1] && pairs.typeIds[1] == [0, 0, 0, 1, 1, 1])
    }

    /// Large batches run on several threads; the result must not depend on it.
    @Test func parallelBatchEqualsSequential() throws {
        let t = try Self.tiny.get()
        let texts = (0..<300).map { i in Array(repeating: "the cat sat", count: i % 7).joined(separator: " ") + " mat \(i)" }
        let batch = t.encodeBatch(texts, padding: .disabled)
        #expect(batch.encodings == texts.map { t.encode($0) })
    }

    @Test func offsetsAreUnicodeScalarOffsetsOfTheInput() throws {
        let t = try Self.tiny.get()
        let text = "🙂 Café, naïve!"
        let e = t.encode(text)
        #expect(e.tokens == ["[CLS]", "[UNK]", "cafe", ",", "naive", "!", "[SEP]"])
        #expect(e.offsets.map(\.range) == [0..<0, 0..<1, 2..<6, 6..<7, 8..<13, 13..<14, 0..<0])
        #expect(e.stringRange(ofToken: 2, in: text).map { String(text[$0]) } == "Café")
        #expect(e.stringRange(ofToken: 4, in: text).map { String(text[$0]) } == "naïve")
        #expect(e.stringRange(ofToken: 0, in: text) == nil && e.stringRange(ofToken: 99, in: text) == nil)
        // A decomposed accent is two scalars in the input: the offsets count both.
        let decomposed = t.encode("cafe\u{301} x")
        #expect(decomposed.offsets.map(\.range) == [0..<0, 0..<4, 6..<7, 0..<0])
    }

    @Test func addedTokensAreMatchedBeforeNormalization() throws {
        let t = try Self.tiny.get()
        let e = t.encode("the [MASK] sat[SEP]on [mask]")
        #expect(e.tokens == ["[CLS]", "the", "[MASK]", "sat", "[SEP]", "on", "[UNK]", "[UNK]", "[UNK]", "[SEP]"])
        #expect(e.offsets[2] == TokenOffset(start: 4, end: 10))
        #expect(e.specialTokensMask[2] == 0, "an added token in the text is text, not a template token")
    }

    @Test func addedTokenOptions() throws {
        var json = tinyTokenizerJSON(vocab: tinyVocab + ["<x>", "cat"])
        json = json.replacingOccurrences(of: #""added_tokens": ["#, with: #""added_tokens": [{"id": \#(tinyVocab.count), "content": "<x>", "single_word": true, "lstrip": true, "rstrip": true, "normalized": false, "special": false}, "#)
        let t = try Tokenizer(tokenizerJSONData: Data(json.utf8))
        let e = t.encode("cat <x> mat a<x>b")
        #expect(e.tokens.filter { $0 == "<x>" }.count == 1, "single_word: no match inside a word; \(e.tokens)")
        #expect(e.offsets[2] == TokenOffset(start: 3, end: 8), "lstrip/rstrip swallow the spaces around")
        #expect(t.decode(e.ids) .contains("<x>"), "non-special added tokens survive decoding")
    }

    @Test func decode() throws {
        let t = try Self.tiny.get()
        let ids = t.encode("Hello, world! unaffable don't").ids
        #expect(t.decode(ids) == "hello, world! unaffable don ' t", "as tokenizers: clean-up is per token")
        #expect(t.decode(ids, skipSpecialTokens: false) == "[CLS] hello, world! unaffable don ' t [SEP]")
        #expect(t.decode([]) == "")
        #expect(t.decode([-5, 999_999, 31]) == "hello", "unknown ids are skipped")
        #expect(WordPieceDecoder(cleanup: false).decode(["a", "##b", ",", "c"]) == "ab , c")
        #expect(WordPieceDecoder().decode(["i", "do", "not", "know", "."]) == "i do not know.")
    }

    @Test func decodeWithoutDecoderJoinsWithSpaces() throws {
        let model = try WordPiece(vocabulary: ["[UNK]": 0, "a": 1, "##b": 2])
        let t = Tokenizer(normalizer: nil, preTokenizer: WhitespaceSplitPreTokenizer(), model: model, postProcessor: nil, decoder: nil)
        let e = t.encode("ab a")
        #expect(e.tokens == ["a", "##b", "a"] && t.decode(e.ids) == "a ##b a")
        #expect(t.encode("a", pair: "a").typeIds == [0, 1], "no post-processor: the pair gets type id 1")
    }

    @Test func longWordsAreOneUnknown() throws {
        let t = try Self.tiny.get()
        #expect(t.encode(String(repeating: "x", count: 100)).tokens.count > 3)
        #expect(t.encode(String(repeating: "x", count: 101)).tokens == ["[CLS]", "[UNK]", "[SEP]"])
        #expect(t.encode(String(repeating: "x", count: 100_000)).tokens == ["[CLS]", "[UNK]", "[SEP]"])
    }

    /// Random text (any scalar, including controls, marks, surrogate-free planes): no trap,
    /// consistent arrays, offsets inside the text and in order.
    @Test func randomTextInvariants() throws {
        let t = try Self.tiny.get()
        var rng = SeededRNG(seed: 42)
        for round in 0..<400 {
            var scalars: [Unicode.Scalar] = []
            for _ in 0..<Int(rng.next() % 40) {
                let pick = rng.next() % 4
                let v: UInt32 = pick == 0 ? UInt32(rng.next() % 0x80)
                    : pick == 1 ? UInt32(rng.next() % 0x3000) : pick == 2 ? UInt32(rng.next() % 0x11_0000) : [0x20, 0x5B, 0x5D][Int(rng.next() % 3)]
                if let s = Unicode.Scalar(v) { scalars.append(s) }
            }
            let text = String(String.UnicodeScalarView(scalars))
            for maxLength in [nil, 5] as [Int?] {
                let e = t.encode(text, pair: round % 3 == 0 ? text : nil, maxLength: maxLength)
                let n = e.count
                #expect([e.tokens.count, e.typeIds.count, e.attentionMask.count, e.specialTokensMask.count,
                         e.offsets.count, e.wordIds.count, e.sequenceIds.count].allSatisfy { $0 == n })
                #expect(e.offsets.allSatisfy { 0 <= $0.start && $0.start <= $0.end && $0.end <= scalars.count }, "\(scalars)")
                let firstSequence = e.offsets.indices.filter { e.sequenceIds[$0] == 0 }.map { e.offsets[$0].start }
                #expect(firstSequence == firstSequence.sorted(), "offsets in order for \(scalars)")
                if let maxLength { #expect(n <= max(maxLength, 3)) }
                _ = t.decode(e.ids)
            }
        }
    }

    @Test func duplicateAndEquivalentVocabularyKeysDoNotTrap() throws {
        let json = ##"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "é": 1, "e\u0301": 2, "a": 3, "a": 4}}}"##
        let t = try Tokenizer(tokenizerJSONData: Data(json.utf8))
        #expect(t.encode("a").ids.count == 1)
    }

    // MARK: MiniLM

    @Test func miniLMConfiguration() throws {
        let t = try MiniLM.tokenizer()
        #expect(t.configuredMaxLength == 128, "tokenizer.json's own truncation")
        #expect(t.modelMaxLength == 512)
        #expect(t.clsTokenId == 101 && t.sepTokenId == 102 && t.padTokenId == 0 && t.unkTokenId == 100 && t.maskTokenId == 103)
        #expect(t.vocabularySize == 30522)
        let long = Array(repeating: "word", count: 400).joined(separator: " ")
        #expect(t.encode(long).count == 402, "the file's 128 is not applied by default")
        let e = t.encode(long, maxLength: 256)
        #expect(e.count == 256 && e.ids.first == 101 && e.ids.last == 102 && e.wasTruncated)
    }

    @Test func miniLMBatch() throws {
        let t = try MiniLM.tokenizer()
        let b = t.encodeBatch(["Hello World", "The cat sat on the mat"], maxLength: 256)
        #expect(b.ids == [[101, 7592, 2088, 102, 0, 0, 0, 0], [101, 1996, 4937, 2938, 2006, 1996, 13523, 102]])
        #expect(b.attentionMask[0] == [1, 1, 1, 1, 0, 0, 0, 0])
    }
}

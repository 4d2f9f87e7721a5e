import Foundation
import Testing
import AttendTensor
@testable import AttendTokenizers

@Suite("Normalizers and pre-tokenizers")
struct NormalizerTests {
    func normalized(_ n: any Normalizer, _ text: String) -> NormalizedString {
        var s = NormalizedString(text)
        n.normalize(&s)
        return s
    }

    @Test(arguments: [
        ("naïve café Zürich crème brûlée São", "naive cafe zurich creme brulee sao"),
        ("HeLLo\tWorld\n", "hello world "),
        ("a\u{0}b\u{FFFD}c\u{7}d\u{200B}e", "abcde"),
        ("我爱", " 我  爱 "),
        ("İ", "i"),
        ("ＡＢＣ", "ａｂｃ"),
        ("ﬁne ß", "ﬁne ß"),
        ("\u{2028}x\u{A0}y", " x y"),
    ])
    func bertNormalizer(_ input: String, _ expected: String) {
        #expect(normalized(BertNormalizer(), input).string == expected)
    }

    @Test func bertNormalizerOptions() {
        #expect(normalized(BertNormalizer(lowercase: false), "Café").string == "Café", "strip_accents null follows lowercase")
        #expect(normalized(BertNormalizer(stripAccents: true, lowercase: false), "Café").string == "Cafe")
        #expect(normalized(BertNormalizer(stripAccents: false), "Café").string == "café")
        #expect(normalized(BertNormalizer(cleanText: false), "a\u{7}b\tc").string == "a\u{7}b\tc")
        #expect(normalized(BertNormalizer(handleChineseChars: false), "我爱").string == "我爱")
    }

    /// The fused single pass must equal the step-by-step plain twin, alignments included.
    @Test(arguments: [true, false])
    func fusedBertNormalizerEqualsStepByStep(_ lowercase: Bool) throws {
        var rng = SeededRNG(seed: lowercase ? 1 : 2)
        // Interesting scalars: ASCII, controls, accents, combining marks (with classes
        // needing reordering), CJK, Hangul, compatibility ideographs, whitespace, İ, emoji.
        let pool: [UInt32] = [0x41, 0x61, 0x5A, 0x20, 0x09, 0x0A, 0x00, 0x07, 0x7F, 0xC9, 0xE9, 0xFC, 0x130, 0x1C4, 0x301,
                              0x316, 0x345, 0x1D165, 0x1D16D, 0x302, 0x4E00, 0x6211, 0xF900, 0xAC00, 0xD7A3, 0x3000, 0x2028,
                              0x200B, 0xFFFD, 0x1F600, 0xFE0F, 0x2764, 0xFF21, 0xFB01, 0xDF, 0x3A3, 0x1E9E, 0x0903, 0x0890]
        for options in [(true, true, nil as Bool?), (false, false, true), (true, false, false), (false, true, nil)] {
            let n = BertNormalizer(cleanText: options.0, handleChineseChars: options.1, stripAccents: options.2, lowercase: lowercase)
            for _ in 0..<300 {
                let scalars = (0..<Int(rng.next() % 12)).compactMap { _ in Unicode.Scalar(pool[Int(rng.next() % UInt64(pool.count))]) }
                var fused = NormalizedString(scalars, firstOffset: 0)
                var plain = fused
                n.normalize(&fused)
                n.normalizeStepByStep(&plain)
                #expect(fused == plain, "\(n) on \(scalars.map { String($0.value, radix: 16) })")
            }
        }
    }

    @Test func alignmentsPointAtTheSourceScalars() {
        let s = normalized(BertNormalizer(), "Xé\u{0}İ我")
        #expect(s.string == "xei 我 ")
        #expect(s.alignments == [0..<1, 1..<2, 3..<4, 4..<5, 4..<5, 4..<5])
        #expect(s.originalSpan(of: 0..<3) == 0..<4)
    }

    @Test func nfdReordersCombiningMarks() {
        // U+0301 (class 230) before U+0316 (class 220) is reordered; alignments move along.
        let s = normalized(NFDNormalizer(), "a\u{301}\u{316}")
        #expect(s.scalars == ["a", "\u{316}", "\u{301}"])
        #expect(s.alignments == [0..<1, 2..<3, 1..<2])
        #expect(normalized(NFDNormalizer(), "é한").scalars == ["e", "\u{301}", "\u{1112}", "\u{1161}", "\u{11AB}"])
    }

    @Test func sequenceLowercaseStripAccents() {
        let n = SequenceNormalizer([NFDNormalizer(), LowercaseNormalizer(), StripAccentsNormalizer()])
        #expect(normalized(n, "ÀÉÎ x\u{903}y").string == "aei xy", "StripAccents drops all marks, Mc included")
    }

    func words(_ p: any PreTokenizer, _ text: String) -> [String] {
        let s = NormalizedString(text)
        var w = [0..<s.count]
        p.preTokenize(s, words: &w)
        return w.map { String(String.UnicodeScalarView(s.scalars[$0])) }
    }

    @Test func preTokenizers() {
        #expect(words(BertPreTokenizer(), "Hello, world!  it's\ta—b") == ["Hello", ",", "world", "!", "it", "'", "s", "a", "—", "b"])
        #expect(words(WhitespaceSplitPreTokenizer(), " a,b  c\u{2028}d ") == ["a,b", "c", "d"])
        #expect(words(WhitespacePreTokenizer(), "don't--stop ...ok a_b 3.14") == ["don", "'", "t", "--", "stop", "...", "ok", "a_b", "3", ".", "14"])
        #expect(words(SequencePreTokenizer([WhitespaceSplitPreTokenizer(), BertPreTokenizer()]), "a,b c") == ["a", ",", "b", "c"])
        #expect(words(BertPreTokenizer(), "") == [])
        #expect(words(BertPreTokenizer(), "   ") == [])
    }

    /// Character classes follow `tokenizers`' frozen tables, not today's Unicode.
    @Test func characterClassesFollowTokenizers() {
        #expect(!UnicodeClass.isPunctuation("\u{2E52}"), "U+2E52 (Unicode 13 Po) is not punctuation for tokenizers")
        #expect(UnicodeClass.isPunctuation("\u{166D}"), "U+166D was Po in tokenizers' tables")
        #expect(UnicodeClass.isPunctuation("—") && UnicodeClass.isPunctuation("¿") && !UnicodeClass.isPunctuation("$") == false)
        #expect(!UnicodeClass.isControl("\u{890}"), "U+0890 (Unicode 14 Cf) is kept by tokenizers")
        #expect(UnicodeClass.isControl("\u{200B}") && UnicodeClass.isControl("\u{E000}") && !UnicodeClass.isControl("\u{378}"))
        #expect(UnicodeClass.isChinese("\u{2B81F}") && !UnicodeClass.isChinese("\u{2B820}") && UnicodeClass.isChinese("\u{2B920}"))
        #expect(UnicodeClass.isWhitespace("\u{85}") && UnicodeClass.isWhitespace("\u{3000}") && !UnicodeClass.isWhitespace("\u{200B}"))
    }

    @Test func tablesParse() {
        #expect(HFUnicode.control.count > 10 && HFUnicode.punctuation.count > 100)
        #expect(HFUnicode.nonspacingMark.count > 200 && HFUnicode.mark.count > 200)
        #expect(HFUnicode.decompositions.count > 2000)
        #expect(HFUnicode.decompositions[0xE9] == ["e", "\u{301}"])
    }
}

// Fuzz target: loading tokenizer.json (WordPiece, BPE, normalizers, pre-tokenizers, post-processors, added
// tokens), then encoding and decoding a fixed text with whatever loaded.
import AttendTokenizers
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let d = Data(bytes: data, count: size)
    guard let tokenizer = try? Tokenizer(tokenizerJSONData: d) else { return 0 }
    let e = tokenizer.encode("Hello, wörld! ünïcode 日本語 [CLS] <|im_start|> a\u{0301}", pair: "second part", maxLength: 32)
    _ = tokenizer.decode(e.ids)
    _ = tokenizer.decode([0, 1, 2, -1, 1 << 40], skipSpecialTokens: false)
    return 0
}

// Fuzz target: the BERT WordPiece tokenizer of all-MiniLM-L6-v2 (installed model) on arbitrary bytes: the input is encoded as text (invalid UTF-8 repaired the way
// String(decoding:) does), as a pair, truncated, and its bytes are also read as token ids to decode.
import AttendTokenizers
import Foundation

let tokenizer: Tokenizer = {
    let path = ProcessInfo.processInfo.environment["ATTEND_FUZZ_WORDPIECE"] ?? (NSHomeDirectory() + "/.cache/attend/models/all-MiniLM-L6-v2/tokenizer.json")
    do {
        return try Tokenizer(tokenizerJSON: URL(fileURLWithPath: path))
    } catch {
        FileHandle.standardError.write("cannot load \(path): \(error)\n".data(using: .utf8)!)
        exit(2)
    }
}()

/// Loads the tokenizer before fuzzing starts, so the first input is not charged for it.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    _ = tokenizer.encode("warm up")
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let e = tokenizer.encode(text)
    let round = tokenizer.decode(e.ids, skipSpecialTokens: false)
    _ = tokenizer.decode(e.ids)
    let half = text.count / 2
    _ = tokenizer.encode(String(text.prefix(half)), pair: String(text.dropFirst(half)), maxLength: 16)
    _ = tokenizer.encode(round, addSpecialTokens: false)
    // Bytes read as little-endian 16-bit ids (some beyond the vocabulary, some negative) to decode.
    var ids: [Int] = []
    var i = 0
    while i + 1 < size {
        ids.append(Int(Int16(bitPattern: UInt16(data[i]) | UInt16(data[i + 1]) << 8)))
        i += 2
    }
    _ = tokenizer.decode(ids)
    _ = tokenizer.decode(ids, skipSpecialTokens: false)
    for id in ids.prefix(8) { _ = tokenizer.token(for: id) }
    return 0
}

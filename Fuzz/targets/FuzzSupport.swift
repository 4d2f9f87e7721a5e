// Shared by every fuzz target (compiled into each): a scratch file per process for readers that take a path, and
// the tokenizer exercise both tokenizer targets run.
import AttendTokenizers
import Foundation

enum FuzzScratch {
    /// A per-process directory under /dev/shm (or the temp directory) for inputs the readers open by path.
    static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("attend-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Writes `bytes` to `name` inside the scratch directory and returns its URL.
    static func write(_ data: UnsafePointer<UInt8>, _ size: Int, name: String) -> URL {
        let url = directory.appendingPathComponent(name)
        let d = Data(bytes: data, count: size)
        try? d.write(to: url)
        return url
    }
}

enum FuzzTokenizer {
    /// The tokenizer at the path in environment variable `variable`, else at `defaultPath`; exits 2 (before fuzzing
    /// starts) when it cannot be loaded.
    static func load(variable: String, defaultPath: String) -> Tokenizer {
        let path = ProcessInfo.processInfo.environment[variable] ?? defaultPath
        do {
            return try Tokenizer(tokenizerJSON: URL(fileURLWithPath: path))
        } catch {
            FileHandle.standardError.write(Data("cannot load \(path): \(error)\n".utf8))
            exit(2)
        }
    }

    /// Drives `tokenizer` with arbitrary bytes: the input is encoded as text (invalid UTF-8 repaired the way
    /// String(decoding:) does), decoded back, as a truncated pair, re-encoded without special tokens, and its bytes
    /// are also read as token ids to decode.
    static func exercise(_ tokenizer: Tokenizer, _ data: UnsafePointer<UInt8>, _ size: Int) {
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
    }
}

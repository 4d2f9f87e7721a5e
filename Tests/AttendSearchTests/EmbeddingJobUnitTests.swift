import AttendSearch
import Foundation
import Testing

/// The parts of the embedding job that need no model: line reading, shards, binary headers.
@Suite struct EmbeddingJobUnitTests {
    func file(_ bytes: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("attend-lines-\(UUID().uuidString).txt")
        try Data(bytes).write(to: url)
        return url.path
    }

    @Test(arguments: [4096, 4097, 1 << 20])
    func lineReaderSplitsLikeSplitlines(bufferSize: Int) throws {
        // Lines longer than the buffer, \r\n, an empty line, and a last line without \n.
        let long = [UInt8](repeating: 0x61, count: 10_000)
        let bytes: [UInt8] = Array("one\r\ntwo\n\n".utf8) + long + [0x0A, 0xFF, 0x0A] + Array("last".utf8)
        let reader = try LineReader(path: file(bytes), bufferSize: bufferSize)
        var lines: [InputLine] = []
        while let l = try reader.next() { lines.append(l) }
        #expect(lines.map(\.number) == [1, 2, 3, 4, 5, 6])
        #expect(lines.map(\.bytes) == [Array("one".utf8), Array("two".utf8), [], long, [0xFF], Array("last".utf8)])
        #expect(reader.bytesRead == Int64(bytes.count))
    }

    @Test func lineReaderSkips() throws {
        let reader = try LineReader(path: file(Array("a\nb\nc\n".utf8)))
        #expect(try reader.skip(2) == 2)
        #expect(try reader.next()?.bytes == Array("c".utf8))
        #expect(try reader.skip(5) == 0)
        #expect(throws: SearchError.self) { try LineReader(path: "/nonexistent/x") }
    }

    @Test func shards() throws {
        #expect(try Shard(parsing: "2/4") == Shard(index: 2, count: 4))
        for bad in ["4/4", "-1/2", "1", "a/b", "1/0"] {
            #expect(throws: SearchError.self, "\(bad)") { try Shard(parsing: bad) }
        }
        // FNV-1a 64 test vectors (the reference's: "" and "a").
        #expect(Shard.fnv1a([]) == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.fnv1a(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
    }

    @Test func binaryHeaders() {
        let h = VectorBytes.npyHeader(rows: 12345, columns: 384, type: .float16)
        #expect(h.count == 128 && h[127] == 0x0A)
        #expect(Array(h[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        #expect(Int(h[8]) + Int(h[9]) << 8 == 118)
        #expect(String(decoding: h[10...], as: UTF8.self).hasPrefix("{'descr': '<f2', 'fortran_order': False, 'shape': (12345, 384), }"))
        #expect(VectorBytes.fbinHeader(rows: 3, columns: 384) == [3, 0, 0, 0, 128, 1, 0, 0])
        var out: [UInt8] = []
        VectorBytes.append([1, -2], as: .float16, to: &out)
        #expect(out == [0x00, 0x3C, 0x00, 0xC0])
    }

    @Test func formatsFromExtensions() throws {
        #expect(EmbeddingOutputFormat.infer(fromPath: "a/b.NPY") == .npy)
        #expect(EmbeddingOutputFormat.infer(fromPath: "b.fbin") == .fbin)
        #expect(EmbeddingOutputFormat.infer(fromPath: "b.out") == .jsonl)
        #expect(EmbeddingInputFormat.infer(fromPath: "docs.ndjson") == .jsonl)
        #expect(EmbeddingInputFormat.infer(fromPath: "docs.txt") == .text)
        let o = EmbeddingJobOptions(input: "docs.jsonl", output: "out/vectors.npy")
        #expect(o.metaPath == "out/vectors.meta.json" && o.idsPath == "out/vectors.ids.jsonl" && o.progressPath == "out/vectors.npy.progress")
        var bad = o
        bad.elementType = .float16
        bad.outputFormat = .fbin
        #expect(throws: SearchError.self) { try bad.validate() }
    }
}

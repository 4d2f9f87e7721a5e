import Foundation
import Testing
@testable import AttendTensor

/// Opens `raw` as a GGUF file and returns the typed error and the file's path.
private func failure(_ raw: RawGGUF) throws -> (GGUFError?, String) {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("attend-gguf-corrupt-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent("bad.gguf")
    try Data(raw.bytes).write(to: url)
    do {
        _ = try GGUFFile(url: url)
        return (nil, url.path)
    } catch let e as GGUFError {
        return (e, url.path)
    }
}

/// A file with `count` F32 tensors of `ne` each, at the given offsets, and `dataBytes` of data.
private func tensorsFile(_ specs: [(String, [UInt64], UInt32, UInt64)], dataBytes: Int) -> RawGGUF {
    var r = RawGGUF.header(tensors: UInt64(specs.count), kvs: 0)
    for (name, ne, type, offset) in specs { r.tensorInfo(name, ne: ne, type: type, offset: offset) }
    r.pad()
    r.bytes += [UInt8](repeating: 0, count: dataBytes)
    return r
}

/// Every corrupt file is a typed ``GGUFError`` naming the file and what is wrong (never a crash), raised
/// when the file is opened, before any tensor is touched.
@Suite struct GGUFCorruptionTests {
    @Test func badMagic() throws {
        var r = RawGGUF.header(tensors: 0, kvs: 0)
        r.bytes[0] = UInt8(ascii: "X")
        let (e, path) = try failure(r)
        #expect(e == .badMagic(file: path, found: [0x58, 0x47, 0x55, 0x46]))
        #expect("\(e!)".contains(path) && "\(e!)".contains("GGUF"))
        let (empty, emptyPath) = try failure(RawGGUF())
        #expect(empty == .badMagic(file: emptyPath, found: []))
    }

    @Test func unsupportedVersion() throws {
        for v: UInt32 in [0, 1, 4, 0xFFFF_FFFF] {
            let (e, path) = try failure(.header(version: v, tensors: 0, kvs: 0))
            #expect(e == .unsupportedVersion(file: path, version: v))
        }
    }

    @Test func truncatedHeader() throws {
        let full = RawGGUF.header(tensors: 0, kvs: 0)
        var r = RawGGUF()
        r.bytes = Array(full.bytes[0..<14])   // magic, version, 6 of the 8 tensor-count bytes
        let (e, path) = try failure(r)
        #expect(e == .truncated(file: path, what: "tensor count", offset: 8, needed: 8, available: 6))
        // A key whose value is cut off.
        var kv = RawGGUF.header(tensors: 0, kvs: 1)
        kv.string("llama.block_count")
        kv.u32(GGUFValueType.uint32.rawValue)
        kv.bytes += [1, 0]
        let (e2, path2) = try failure(kv)
        #expect(e2 == .truncated(file: path2, what: "value of 'llama.block_count'", offset: kv.bytes.count - 2, needed: 4, available: 2))
    }

    @Test func metadataStringLengthPastEndOfFile() throws {
        var r = RawGGUF.header(tensors: 0, kvs: 1)
        r.string("general.name")
        r.u32(GGUFValueType.string.rawValue)
        let lengthAt = r.bytes.count
        r.u64(1000)
        r.bytes += Array("short".utf8)
        let (e, path) = try failure(r)
        #expect(e == .truncated(file: path, what: "value of 'general.name'", offset: lengthAt, needed: 1000, available: 5))
        // A length near 2^64 is refused the same way, before any allocation.
        var huge = RawGGUF.header(tensors: 0, kvs: 1)
        huge.u64(UInt64.max)
        huge.bytes += [UInt8](repeating: 0, count: 16)
        let (e2, path2) = try failure(huge)
        #expect(e2 == .truncated(file: path2, what: "metadata key #0", offset: 24, needed: Int.max, available: 16))
    }

    @Test func absurdCountsAreRejectedBeforeAllocation() throws {
        let (e, path) = try failure(.header(tensors: 0, kvs: UInt64.max))
        #expect(e == .countTooLarge(file: path, what: "metadata count", count: UInt64.max, limit: 0))
        let (e2, path2) = try failure(.header(tensors: 1 << 60, kvs: 0))
        #expect(e2 == .countTooLarge(file: path2, what: "tensor count", count: 1 << 60, limit: 0))
        var r = RawGGUF.header(tensors: 0, kvs: 1)
        r.string("tokenizer.ggml.tokens")
        r.u32(GGUFValueType.array.rawValue)
        r.u32(GGUFValueType.string.rawValue)
        r.u64(1 << 50)
        r.bytes += [UInt8](repeating: 0, count: 80)
        let (e3, path3) = try failure(r)
        #expect(e3 == .countTooLarge(file: path3, what: "array length of 'tokenizer.ggml.tokens'", count: 1 << 50, limit: 10))
    }

    @Test func unknownValueType() throws {
        var r = RawGGUF.header(tensors: 0, kvs: 1)
        r.string("general.weird")
        r.u32(13)
        r.u64(0)
        let (e, path) = try failure(r)
        #expect(e == .unknownValueType(file: path, key: "general.weird", code: 13))
        var a = RawGGUF.header(tensors: 0, kvs: 1)
        a.string("arr")
        a.u32(GGUFValueType.array.rawValue)
        a.u32(99)
        a.u64(0)
        let (e2, path2) = try failure(a)
        #expect(e2 == .unknownValueType(file: path2, key: "arr", code: 99))
    }

    @Test func arraysNestedTooDeep() throws {
        var r = RawGGUF.header(tensors: 0, kvs: 1)
        r.string("deep")
        r.u32(GGUFValueType.array.rawValue)
        for _ in 0..<20 { r.u32(GGUFValueType.array.rawValue); r.u64(1) }
        r.bytes += [UInt8](repeating: 0, count: 64)
        let (e, path) = try failure(r)
        #expect(e == .arrayTooDeep(file: path, key: "deep", depth: GGUF.maxArrayDepth + 1))
    }

    @Test func duplicateKeysAndTensors() throws {
        var r = RawGGUF.header(tensors: 0, kvs: 2)
        for _ in 0..<2 { r.string("k"); r.u32(GGUFValueType.uint8.rawValue); r.u8(1) }
        let (e, path) = try failure(r)
        #expect(e == .duplicateKey(file: path, key: "k"))
        let (e2, path2) = try failure(tensorsFile([("t", [4], 0, 0), ("t", [4], 0, 32)], dataBytes: 64))
        #expect(e2 == .duplicateTensor(file: path2, tensor: "t"))
    }

    @Test func invalidAlignment() throws {
        var r = RawGGUF.header(tensors: 0, kvs: 1)
        r.string("general.alignment")
        r.u32(GGUFValueType.uint32.rawValue)
        r.u32(48)
        let (e, path) = try failure(r)
        #expect(e == .invalidAlignment(file: path, value: "48"))
    }

    @Test func unknownTensorType() throws {
        let (e, path) = try failure(tensorsFile([("blk.0.ffn_up.weight", [32, 2], 12, 0)], dataBytes: 256))
        #expect(e == .unknownTensorType(file: path, tensor: "blk.0.ffn_up.weight", code: 12))
        #expect("\(e!)".contains("blk.0.ffn_up.weight") && "\(e!)".contains("Q4_1=3"))
    }

    @Test func tensorOffsetPastEndOfFile() throws {
        let (e, path) = try failure(tensorsFile([("a", [8], 0, 0), ("b", [8], 0, 64)], dataBytes: 80))
        #expect(e == .tensorPastEndOfFile(file: path, tensor: "b", offset: 64, byteCount: 32, dataSize: 80))
        let (e2, path2) = try failure(tensorsFile([("far", [1], 0, 1 << 62)], dataBytes: 32))
        #expect(e2 == .tensorPastEndOfFile(file: path2, tensor: "far", offset: 1 << 62, byteCount: 4, dataSize: 32))
        // A Q4_1 tensor whose last block is cut off by truncation.
        let (e3, path3) = try failure(tensorsFile([("q", [64, 2], 3, 0)], dataBytes: 79))
        #expect(e3 == .tensorPastEndOfFile(file: path3, tensor: "q", offset: 0, byteCount: 80, dataSize: 79))
    }

    @Test func misalignedOffset() throws {
        let (e, path) = try failure(tensorsFile([("a", [4], 0, 16)], dataBytes: 64))
        #expect(e == .misalignedOffset(file: path, tensor: "a", offset: 16, alignment: 32))
    }

    @Test func overlappingTensors() throws {
        let (e, path) = try failure(tensorsFile([("a", [16], 0, 0), ("b", [8], 0, 32)], dataBytes: 128))
        #expect(e == .overlappingTensors(file: path, tensor: "b", range: 32..<64, other: "a", otherRange: 0..<64))
    }

    @Test func dimensionProductOverflow() throws {
        let (e, path) = try failure(tensorsFile([("big", [1 << 32, 1 << 32], 0, 0)], dataBytes: 32))
        #expect(e == .invalidDimensions(file: path, tensor: "big", dimensions: [1 << 32, 1 << 32], reason: "the element count overflows"))
        let (e2, path2) = try failure(tensorsFile([("bytes", [1 << 61, 2], 0, 0)], dataBytes: 32))
        #expect(e2 == .invalidDimensions(file: path2, tensor: "bytes", dimensions: [1 << 61, 2], reason: "the byte count overflows"))
        let (e3, path3) = try failure(tensorsFile([("neg", [UInt64.max], 0, 0)], dataBytes: 32))
        #expect(e3 == .invalidDimensions(file: path3, tensor: "neg", dimensions: [UInt64.max], reason: "a dimension exceeds Int.max"))
    }

    @Test func zeroAndBadDimensions() throws {
        let (e, path) = try failure(tensorsFile([("z", [4, 0], 0, 0)], dataBytes: 32))
        #expect(e == .invalidDimensions(file: path, tensor: "z", dimensions: [4, 0], reason: "a dimension is 0"))
        let (e2, path2) = try failure(tensorsFile([("none", [], 0, 0)], dataBytes: 32))
        #expect(e2 == .invalidDimensions(file: path2, tensor: "none", dimensions: [], reason: "0 dimensions (need 1…4)"))
        let (e3, path3) = try failure(tensorsFile([("five", [1, 1, 1, 1, 1], 0, 0)], dataBytes: 32))
        #expect(e3 == .invalidDimensions(file: path3, tensor: "five", dimensions: [], reason: "5 dimensions (need 1…4)"))
        let (e4, path4) = try failure(tensorsFile([("q", [48, 2], 8, 0)], dataBytes: 256))
        #expect(e4 == .invalidDimensions(file: path4, tensor: "q", dimensions: [48, 2],
                                        reason: "ne[0] = 48 is not a multiple of the Q8_0 block size 32"))
    }

    @Test func invalidUTF8InAKey() throws {
        var r = RawGGUF.header(tensors: 0, kvs: 1)
        r.u64(2)
        r.bytes += [0xC3, 0x28]
        r.u32(GGUFValueType.uint8.rawValue)
        r.u8(0)
        let (e, path) = try failure(r)
        #expect(e == .invalidUTF8(file: path, what: "metadata key #0"))
    }

    @Test func missingFileAndDirectory() throws {
        let missing = "/nonexistent/attend/model.gguf"
        #expect(throws: GGUFError.self) { try GGUFFile(url: URL(fileURLWithPath: missing)) }
        do {
            _ = try GGUFFile(url: URL(fileURLWithPath: missing))
        } catch let GGUFError.cannotOpen(file, reason) {
            #expect(file == missing && !reason.isEmpty)
        }
        #expect(throws: GGUFError.cannotOpen(file: "/tmp", reason: "not a regular file")) {
            try GGUFFile(url: URL(fileURLWithPath: "/tmp"))
        }
    }

    /// Every prefix of a valid file either opens (when it ends after the last tensor) or is a typed error:
    /// never a crash, never an out-of-bounds read.
    @Test func everyTruncationIsATypedError() throws {
        var w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        w.add("tokenizer.ggml.tokens", .array(.string, [.string("a"), .string("bc")]))
        w.add("nested", .array(.array, [.array(.int32, [.int32(7)])]))
        try w.add(tensor: "t", type: .q8_0, shape: [2, 32], bytes: GGUFQuantize.quantize((0..<64).map { Float($0) }, as: .q8_0))
        let full = w.bytes()
        var whole = RawGGUF()
        whole.bytes = full
        let (none, _) = try failure(whole)
        #expect(none == nil)
        // The file is complete once the tensor's 68 bytes (2 blocks of 34) are in; padding after is optional.
        let dataStart = full.count - 96
        for cut in 0..<full.count {
            var r = RawGGUF()
            r.bytes = Array(full[0..<cut])
            let (e, _) = try failure(r)
            if cut < dataStart + 68 {
                #expect(e != nil, "prefix of \(cut) bytes opened")
            } else {
                #expect(e == nil, "prefix of \(cut) bytes: \(String(describing: e))")
            }
        }
    }
}

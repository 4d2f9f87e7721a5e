import Foundation
import Testing
@testable import AttendTensor

// MARK: - Helpers

/// A fresh empty directory under the system temp dir.
private func makeTempDir() throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("attend-safetensors-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// The bytes of a safetensors file built by hand: u64 LE header length, header, data.
private func rawFile(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    var bytes: [UInt8] = []
    withUnsafeBytes(of: (headerLength ?? UInt64(h.count)).littleEndian) { bytes.append(contentsOf: $0) }
    return bytes + h + data
}

/// Writes `bytes` to a new file and returns its URL.
private func writeTemp(_ bytes: [UInt8], name: String = "model.safetensors") throws -> URL {
    let url = try makeTempDir().appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

/// Little-endian bytes of a value.
private func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

/// Where the real MiniLM checkpoint lives: `$ATTEND_HOME/models/…` else `~/.cache/attend/models/…`.
private func miniLMFolder() -> URL {
    let env = ProcessInfo.processInfo.environment
    let base: URL
    if let home = env["ATTEND_HOME"], !home.isEmpty {
        base = URL(fileURLWithPath: home).appendingPathComponent("models")
    } else {
        base = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/attend/models")
    }
    return base.appendingPathComponent("all-MiniLM-L6-v2")
}

// MARK: - Round trip

@Suite struct SafetensorsRoundTripTests {
    @Test func roundTripPreservesNamesShapesValuesAndMetadata() throws {
        let tensors: [String: Tensor] = [
            "b.weight": try Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, .infinity, -0.0]),
            "a.bias": Tensor([0.25, -0.5, 1e-30]),
            "c.scalar": Tensor(scalar: 42),
            "d.empty": try Tensor(shape: [0, 4], scalars: []),
            "e.cube": try Tensor(shape: [2, 3, 4], scalars: (0..<24).map { Float($0) / 7 }),
        ]
        let url = try makeTempDir().appendingPathComponent("rt.safetensors")
        try Safetensors.write(tensors, metadata: ["format": "pt", "note": "quote \" and \\ and ünïcode"], to: url)

        let file = try SafetensorsFile(url: url)
        #expect(file.names == ["a.bias", "b.weight", "c.scalar", "d.empty", "e.cube"])
        #expect(file.metadata == ["format": "pt", "note": "quote \" and \\ and ünïcode"])
        #expect((8 + file.headerLength) % 8 == 0, "data section must start 8-byte aligned")
        for (name, expected) in tensors {
            let loaded = try file.tensor(name)
            #expect(loaded.shape == expected.shape, "\(name)")
            #expect(loaded.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern), "\(name)")
            #expect(try file.info(name).dtype == .f32)
            #expect(try file.info(name).shape == expected.shape)
            let viaBuffer = try file.withUnsafeFloatBuffer(name) { Array($0) }
            #expect(viaBuffer.map(\.bitPattern) == expected.scalars.map(\.bitPattern), "\(name)")
        }
    }

    @Test func writtenFileIsContiguousAndSorted() throws {
        let url = try makeTempDir().appendingPathComponent("x.safetensors")
        try Safetensors.write(["z": Tensor([1, 2]), "y": Tensor([3])], metadata: nil, to: url)
        let infos = try SafetensorsFile(url: url).tensorInfos
        #expect(infos.map(\.name) == ["y", "z"])
        #expect(infos.map(\.dataOffsets) == [0..<4, 4..<12])
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
        #expect(size == 8 + (try SafetensorsFile(url: url).headerLength) + 12)
    }

    @Test func nameWithSpecialCharactersRoundTrips() throws {
        let name = "we\"ird\\name\n\u{1}é"
        let url = try makeTempDir().appendingPathComponent("n.safetensors")
        try Safetensors.write([name: Tensor([7])], to: url)
        #expect(try SafetensorsFile(url: url).tensor(name).scalars == [7])
    }

    @Test func writerRejectsMetadataAsTensorName() throws {
        let url = try makeTempDir().appendingPathComponent("bad.safetensors")
        #expect(throws: SafetensorsError.invalidTensorName(file: url.path, tensor: "__metadata__")) {
            try Safetensors.write(["__metadata__": Tensor([1])], to: url)
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test func writeIntoMissingDirectoryFailsWithTypedError() throws {
        let url = try makeTempDir().appendingPathComponent("no/such/dir/x.safetensors")
        #expect {
            try Safetensors.write(["a": Tensor([1])], to: url)
        } throws: { error in
            guard case let .writeFailed(file, _)? = error as? SafetensorsError else { return false }
            return file == url.path
        }
    }
}

// MARK: - Corruption

/// One corrupted file and the error it must produce.
struct SafetensorsCorruption: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: [UInt8]
    /// Checks the thrown error; gets the file's path.
    let check: @Sendable (SafetensorsError, String) -> Bool
    var testDescription: String { label }

    init(_ label: String, _ bytes: [UInt8], expect: @escaping @Sendable (String) -> SafetensorsError) {
        self.label = label
        self.bytes = bytes
        self.check = { error, file in error == expect(file) }
    }

    init(_ label: String, _ bytes: [UInt8], matches: @escaping @Sendable (SafetensorsError) -> Bool) {
        self.label = label
        self.bytes = bytes
        self.check = { error, _ in matches(error) }
    }

    static let all: [SafetensorsCorruption] = [
        .init("empty file", []) { .fileTooSmall(file: $0, size: 0) },
        .init("5-byte file", [1, 2, 3, 4, 5]) { .fileTooSmall(file: $0, size: 5) },
        .init("header length past EOF", rawFile(header: "{}", headerLength: 100)) {
            .headerPastEndOfFile(file: $0, headerLength: 100, fileSize: 10)
        },
        .init("header length absurd", rawFile(header: "{}", headerLength: .max)) {
            .headerTooLarge(file: $0, headerLength: .max)
        },
        .init("truncated data section",
              rawFile(header: #"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#, data: .init(repeating: 0, count: 12))) {
            .offsetsOutOfRange(file: $0, tensor: "w", begin: 0, end: 24, dataSize: 12)
        },
        .init("bad JSON", rawFile(header: #"{"w": {"dtype": "#)) { error in
            if case .invalidJSON = error { return true } else { return false }
        },
        .init("empty header", rawFile(header: "")) { error in
            if case .invalidJSON = error { return true } else { return false }
        },
        .init("header not UTF-8", le([UInt64(3)]) + [0x7b, 0xff, 0x7d]) { .headerNotUTF8(file: $0) },
        .init("deeply nested JSON", rawFile(header: #"{"a":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}")) { error in
            switch error {
            case .invalidJSON, .invalidEntry(_, "a", _): return true
            default: return false
            }
        },
        .init("header is an array", rawFile(header: "[]")) { .headerNotObject(file: $0) },
        .init("entry is a number", rawFile(header: #"{"w": 3}"#)) { error in
            if case .invalidEntry(_, "w", _) = error { return true } else { return false }
        },
        .init("unknown dtype", rawFile(header: #"{"w":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])) {
            .unknownDType(file: $0, tensor: "w", dtype: "F17")
        },
        .init("missing dtype", rawFile(header: #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])) {
            .invalidEntry(file: $0, tensor: "w", reason: "missing 'dtype'")
        },
        .init("missing shape", rawFile(header: #"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])) {
            .invalidEntry(file: $0, tensor: "w", reason: "missing 'shape'")
        },
        .init("negative shape", rawFile(header: #"{"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,0]}}"#)) {
            .invalidShape(file: $0, tensor: "w", shape: [-1, 4])
        },
        .init("fractional shape", rawFile(header: #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])) {
            .invalidEntry(file: $0, tensor: "w", reason: "'shape' must be an array of integers")
        },
        .init("shape size overflows", rawFile(header: #"{"w":{"dtype":"F32","shape":[9223372036854775807,2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])) {
            .invalidShape(file: $0, tensor: "w", shape: [Int.max, 2])
        },
        .init("three data_offsets", rawFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, data: [0, 0, 0, 0])) {
            .invalidEntry(file: $0, tensor: "w", reason: "'data_offsets' must be an array of two integers [begin, end]")
        },
        .init("begin after end", rawFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, data: .init(repeating: 0, count: 8))) {
            .invalidOffsets(file: $0, tensor: "w", begin: 8, end: 4)
        },
        .init("negative begin", rawFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, data: [0, 0, 0, 0])) {
            .invalidOffsets(file: $0, tensor: "w", begin: -4, end: 0)
        },
        .init("offsets out of range", rawFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [0, 0, 0, 0])) {
            .offsetsOutOfRange(file: $0, tensor: "w", begin: 4, end: 8, dataSize: 4)
        },
        .init("huge end offset", rawFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,9223372036854775807]}}"#, data: [0, 0, 0, 0])) {
            .offsetsOutOfRange(file: $0, tensor: "w", begin: 0, end: Int.max, dataSize: 4)
        },
        .init("wrong byte count", rawFile(header: #"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, data: .init(repeating: 0, count: 24))) {
            .byteCountMismatch(file: $0, tensor: "w", begin: 0, end: 20, expected: 24, dtype: .f32, shape: [2, 3])
        },
        .init("overlap", rawFile(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#, data: .init(repeating: 0, count: 24))) {
            .overlap(file: $0, tensor: "b", range: 8..<24, other: "a", otherRange: 0..<16)
        },
        .init("same range twice", rawFile(header: #"{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: .init(repeating: 0, count: 8))) {
            .overlap(file: $0, tensor: "b", range: 0..<8, other: "a", otherRange: 0..<8)
        },
        .init("metadata not an object", rawFile(header: #"{"__metadata__":[1]}"#)) {
            .invalidMetadata(file: $0, reason: "must be an object, found an array")
        },
        .init("metadata value not a string", rawFile(header: #"{"__metadata__":{"format":1}}"#)) {
            .invalidMetadata(file: $0, reason: "value of 'format' must be a string, found a number")
        },
    ]
}

@Suite struct SafetensorsCorruptionTests {
    @Test(arguments: SafetensorsCorruption.all)
    func corruptFileThrowsTypedError(_ case_: SafetensorsCorruption) throws {
        let url = try writeTemp(case_.bytes)
        do {
            let file = try SafetensorsFile(url: url)
            Issue.record("\(case_.label): opened without error, names \(file.names)")
        } catch let error as SafetensorsError {
            #expect(case_.check(error, url.path), "\(case_.label): got \(error)")
            #expect(error.description.hasPrefix(url.path + ":"), "error must name the file: \(error)")
        }
    }

    @Test func byteCountMessageNamesFileTensorDtypeAndShape() {
        let error = SafetensorsError.byteCountMismatch(
            file: "model.safetensors", tensor: "encoder.layer.0.attention.self.query.weight",
            begin: 0, end: 100, expected: 589824, dtype: .f32, shape: [384, 384])
        #expect(error.description ==
            "model.safetensors: tensor 'encoder.layer.0.attention.self.query.weight': data_offsets [0, 100] need 589824 bytes for F32 [384, 384]")
    }

    @Test func missingFileAndDirectoryThrowCannotOpen() throws {
        let dir = try makeTempDir()
        for url in [dir.appendingPathComponent("absent.safetensors"), dir] {
            #expect {
                _ = try SafetensorsFile(url: url)
            } throws: { error in
                guard case let .cannotOpen(file, _)? = error as? SafetensorsError else { return false }
                return file == url.path
            }
        }
    }

    /// Every truncation and many single-byte corruptions of a valid file either open cleanly or
    /// throw a `SafetensorsError`; none may crash.
    @Test func truncationsAndByteFlipsNeverCrash() throws {
        let good = try Safetensors.serialize(
            ["a": try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), "b": Tensor([5, 6, 7])], metadata: ["k": "v"])
        let bytes = Array(good)
        let dir = try makeTempDir()
        var variants: [[UInt8]] = (0..<bytes.count).map { Array(bytes[..<$0]) }
        for i in 0..<min(bytes.count, 8 + 140) {
            for value: UInt8 in [0x00, 0x22, 0x2d, 0x39, 0x7b, 0xff] {
                var v = bytes
                v[i] = value
                variants.append(v)
            }
        }
        for (k, v) in variants.enumerated() {
            let url = dir.appendingPathComponent("v\(k).safetensors")
            try Data(v).write(to: url)
            do {
                let file = try SafetensorsFile(url: url)
                for name in file.names {
                    let info = try file.info(name)
                    if info.dtype.isFloatingPoint { _ = try file.tensor(name) }
                    if info.dtype.isInteger { _ = try? file.intArray(name) }
                }
            } catch is SafetensorsError {
                // expected
            }
        }
    }
}

// MARK: - Dtypes

@Suite struct SafetensorsDTypeTests {
    /// Float16 bit patterns and their exact Float32 values.
    static let halves: [(UInt16, Float)] = [
        (0x3C00, 1), (0xC000, -2), (0x3555, 0.333251953125), (0x7BFF, 65504),
        (0x0001, 0x1p-24), (0x03FF, 1023 * 0x1p-24), (0x0400, 0x1p-14), (0x8000, -0.0),
        (0x7C00, .infinity), (0xFC00, -.infinity), (0x3800, 0.5), (0x4248, 3.140625),
    ]
    /// BFloat16 bit patterns and their exact Float32 values.
    static let bfloats: [(UInt16, Float)] = [
        (0x3F80, 1), (0xC040, -3), (0x4049, 3.140625), (0x7F80, .infinity), (0x0001, Float(bitPattern: 0x0001_0000)),
        (0x8000, -0.0), (0x4780, 65536),
    ]

    @Test func f16AndBF16AndF64DecodeToKnownFloat32Values() throws {
        let f16Bytes = le(Self.halves.map(\.0) + [0x7E00])
        let bf16Bytes = le(Self.bfloats.map(\.0))
        let f64Bytes = le([0.1, -1e300, 2.5].map { ($0 as Double).bitPattern })
        let nh = Self.halves.count + 1, nb = Self.bfloats.count
        let e1 = f16Bytes.count, e2 = e1 + bf16Bytes.count, e3 = e2 + f64Bytes.count
        let header = """
            {"h":{"dtype":"F16","shape":[\(nh)],"data_offsets":[0,\(e1)]},\
            "b":{"dtype":"BF16","shape":[\(nb)],"data_offsets":[\(e1),\(e2)]},\
            "d":{"dtype":"F64","shape":[3,1],"data_offsets":[\(e2),\(e3)]}}
            """
        let file = try SafetensorsFile(url: try writeTemp(rawFile(header: header, data: f16Bytes + bf16Bytes + f64Bytes)))
        #expect(file.names == ["b", "d", "h"])

        let h = try file.tensor("h").scalars
        for (i, (bits, value)) in Self.halves.enumerated() {
            #expect(h[i].bitPattern == value.bitPattern, "F16 0x\(String(bits, radix: 16)) → \(h[i]), want \(value)")
        }
        #expect(h[nh - 1].isNaN, "F16 0x7E00 is NaN")
        let b = try file.tensor("b").scalars
        for (i, (bits, value)) in Self.bfloats.enumerated() {
            #expect(b[i].bitPattern == value.bitPattern, "BF16 0x\(String(bits, radix: 16)) → \(b[i]), want \(value)")
        }
        let d = try file.tensor("d")
        #expect(d.shape == [3, 1])
        #expect(d.scalars == [Float(0.1), -.infinity, 2.5])
        // Decoded through a temporary (F16 is not zero-copy), same values.
        #expect(try file.withUnsafeFloatBuffer("h") { Array($0) }.prefix(4) == h.prefix(4))
    }

    @Test func fp8DecodesToKnownValues() throws {
        let e4m3: [UInt8] = [0x38, 0xB8, 0x7E, 0x01, 0x08, 0x7F]  // 1, -1, 448, 2^-9, 2^-6, NaN
        let e5m2: [UInt8] = [0x3C, 0xC0, 0x7B, 0x01]              // 1, -2, 57344, 2^-16
        let header = """
            {"a":{"dtype":"F8_E4M3","shape":[6],"data_offsets":[0,6]},"b":{"dtype":"F8_E5M2","shape":[4],"data_offsets":[6,10]}}
            """
        let file = try SafetensorsFile(url: try writeTemp(rawFile(header: header, data: e4m3 + e5m2)))
        let a = try file.tensor("a").scalars
        #expect(Array(a.prefix(5)) == [1, -1, 448, 0x1p-9, 0x1p-6])
        #expect(a[5].isNaN)
        #expect(try file.tensor("b").scalars == [1, -2, 57344, 0x1p-16])
    }

    @Test func integerDtypesReadAsIntArrays() throws {
        let i64 = le([Int64(-3), 0, Int64.max])
        let i32 = le([Int32(-7), Int32.min])
        let u8: [UInt8] = [0, 255]
        let bool: [UInt8] = [0, 1, 2]
        let u64 = le([UInt64.max])
        var off = 0
        func range(_ n: Int) -> String { defer { off += n }; return "[\(off),\(off + n)]" }
        let header = """
            {"i64":{"dtype":"I64","shape":[1,3],"data_offsets":\(range(i64.count))},\
            "i32":{"dtype":"I32","shape":[2],"data_offsets":\(range(i32.count))},\
            "u8":{"dtype":"U8","shape":[2],"data_offsets":\(range(u8.count))},\
            "bool":{"dtype":"BOOL","shape":[3],"data_offsets":\(range(bool.count))},\
            "u64":{"dtype":"U64","shape":[],"data_offsets":\(range(u64.count))}}
            """
        let url = try writeTemp(rawFile(header: header, data: i64 + i32 + u8 + bool + u64))
        let file = try SafetensorsFile(url: url)
        #expect(try file.intArray("i64") == [-3, 0, Int(Int64.max)])
        #expect(try file.intArray("i32") == [-7, Int(Int32.min)])
        #expect(try file.intArray("u8") == [0, 255])
        #expect(try file.intArray("bool") == [0, 1, 1])
        #expect(throws: SafetensorsError.integerOverflow(file: url.path, tensor: "u64", index: 0)) {
            try file.intArray("u64")
        }
        #expect(throws: SafetensorsError.unsupportedDType(file: url.path, tensor: "i64", dtype: .i64, accessor: "tensor")) {
            try file.tensor("i64")
        }
    }

    @Test func unalignedF32IsStillReadCorrectly() throws {
        // Header of odd length: the data section starts at an odd file offset.
        let values: [Float] = [1.5, -2.25, 3e-3]
        var header = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#
        while header.utf8.count % 4 != 1 { header += " " }
        let file = try SafetensorsFile(url: try writeTemp(rawFile(header: header, data: le(values.map(\.bitPattern)))))
        #expect(file.headerLength % 4 != 0)
        #expect(try file.tensor("w").scalars == values)
        #expect(try file.withUnsafeFloatBuffer("w") { Array($0) } == values)
        #expect(try file.withUnsafeRawBytes("w") { $0.count } == 12)
    }

    @Test func intArrayOnFloatAndLookupErrors() throws {
        let url = try makeTempDir().appendingPathComponent("m.safetensors")
        try Safetensors.write(["embeddings.weight": try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])], to: url)
        let file = try SafetensorsFile(url: url)
        #expect(throws: SafetensorsError.unsupportedDType(file: url.path, tensor: "embeddings.weight", dtype: .f32, accessor: "intArray")) {
            try file.intArray("embeddings.weight")
        }
        #expect(throws: SafetensorsError.tensorNotFound(file: url.path, tensor: "bert.embeddings.weight", suggestion: "embeddings.weight")) {
            try file.tensor("bert.embeddings.weight")
        }
        #expect(throws: SafetensorsError.tensorNotFound(file: url.path, tensor: "nope", suggestion: nil)) {
            try file.info("nope")
        }
        #expect(throws: SafetensorsError.shapeMismatch(file: url.path, tensor: "embeddings.weight", expected: [4], actual: [2, 2])) {
            try file.tensor("embeddings.weight", shape: [4])
        }
        #expect(try file.tensor("embeddings.weight", shape: [2, 2]).scalars == [1, 2, 3, 4])
        #expect(file.contains("embeddings.weight") && !file.contains("x"))
        #expect(file.metadata.isEmpty)
    }
}

// MARK: - The real MiniLM checkpoint

@Suite struct SafetensorsMiniLMTests {
    @Test func readsInstalledMiniLMCheckpoint() throws {
        let url = miniLMFolder().appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else {
            Issue.record("""
                all-MiniLM-L6-v2 is not installed (looked for \(url.path)). \
                Install it with `attend models install all-MiniLM-L6-v2` (CI installs it) or set ATTEND_HOME.
                """)
            return
        }
        let file = try SafetensorsFile(url: url)
        #expect(file.names.count == 104)
        #expect(file.metadata["format"] == "pt")
        #expect(!file.names.contains { $0.hasPrefix("bert.") })
        #expect(file.names.contains("pooler.dense.weight") && file.names.contains("pooler.dense.bias"))
        for layer in 0..<6 {
            #expect(file.contains("encoder.layer.\(layer).attention.self.query.weight"))
        }

        let positions = try file.info("embeddings.position_ids")
        #expect(positions.dtype == .i64 && positions.shape == [1, 512])
        #expect(try file.intArray("embeddings.position_ids") == Array(0..<512))

        #expect(try file.info("embeddings.word_embeddings.weight").shape == [30522, 384])
        let words = try file.tensor("embeddings.word_embeddings.weight", shape: [30522, 384])
        // Reference values read with Python (struct/array) from the same file.
        #expect(Array(words.scalars.prefix(4)) == [-0.019989013671875, -0.0034027099609375, -0.014678955078125, 0.0117034912109375])
        #expect(try file.info("encoder.layer.0.attention.self.query.weight").shape == [384, 384])
        #expect(try file.info("pooler.dense.weight").shape == [384, 384])

        // Every float tensor loads and is finite; F32 is served zero-copy from the mapping.
        for info in file.tensorInfos where info.dtype == .f32 {
            let finite = try file.withUnsafeFloatBuffer(info.name) { $0.allSatisfy(\.isFinite) }
            #expect(finite, "\(info.name) has non-finite values")
        }
    }
}

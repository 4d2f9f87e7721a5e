import Foundation
import Testing
@testable import AttendTensor

// MARK: - Helpers

/// Writes `bytes` to a new temporary file and returns its URL.
private func writeGGUF(_ bytes: [UInt8], name: String = "model.gguf") throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("attend-gguf-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

/// A GGUF file assembled field by field, so a test can put any value anywhere (bad codes, counts, offsets).
struct RawGGUF {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes.append(contentsOf: s.utf8) }

    /// Magic, version, tensor count, metadata count.
    static func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) -> RawGGUF {
        var r = RawGGUF()
        r.bytes = Array("GGUF".utf8)
        r.u32(version)
        r.u64(tensors)
        r.u64(kvs)
        return r
    }

    /// One tensor info (dims in the file's ne order).
    mutating func tensorInfo(_ name: String, ne: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(ne.count))
        for d in ne { u64(d) }
        u32(type)
        u64(offset)
    }

    /// Zero padding up to the next multiple of `alignment`.
    mutating func pad(_ alignment: Int = 32) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }
}

/// Opens `bytes` as a GGUF file and returns the error it throws (nil if it opens).
private func openError(_ bytes: [UInt8]) throws -> (GGUFError?, String) {
    let url = try writeGGUF(bytes)
    do {
        _ = try GGUFFile(url: url)
        return (nil, url.path)
    } catch let e as GGUFError {
        return (e, url.path)
    }
}

/// A small valid file: a few metadata values of every type and three tensors.
private func sampleWriter() throws -> GGUFWriter {
    var w = GGUFWriter()
    w.add("general.architecture", .string("llama"))
    w.add("u8", .uint8(200)); w.add("i8", .int8(-100))
    w.add("u16", .uint16(60000)); w.add("i16", .int16(-30000))
    w.add("u32", .uint32(4_000_000_000)); w.add("i32", .int32(-2_000_000_000))
    w.add("u64", .uint64(1 << 40)); w.add("i64", .int64(-(1 << 40)))
    w.add("f32", .float32(1e-5)); w.add("f64", .float64(100000.5))
    w.add("flag", .bool(true))
    w.add("tokens", .array(.string, [.string("<s>"), .string("Ġthe"), .string("ünï 😀")]))
    w.add("ints", .array(.int32, [.int32(1), .int32(-2), .int32(3)]))
    w.add("floats", .array(.float32, [.float32(0.5), .float32(-1.25)]))
    w.add("nested", .array(.array, [.array(.uint8, [.uint8(1), .uint8(2)]), .array(.uint8, [])]))
    w.add("huge", .uint64(UInt64.max))
    try w.add(tensor: "norm.weight", type: .f32, shape: [5], bytes: GGUFWriter.bytes(of: [1, -2, 3.5, 0, 1e-30]))
    var rng = SeededRNG(seed: 7)
    let values = (0..<(3 * 64)).map { _ in rng.float() }
    try w.add(tensor: "w.q4_1", type: .q4_1, shape: [3, 64], bytes: GGUFQuantize.quantize(values, as: .q4_1))
    try w.add(tensor: "w.q8_0", type: .q8_0, shape: [2, 2, 32], bytes: GGUFQuantize.quantize(Array(values[0..<128]), as: .q8_0))
    return w
}

// MARK: - Reading

@Suite struct GGUFReadTests {
    @Test func metadataOfEveryTypeReadsBack() throws {
        let file = try GGUFFile(url: writeGGUF(sampleWriter().bytes()))
        #expect(file.version == 3)
        #expect(file.alignment == 32)
        #expect(try file.string("general.architecture") == "llama")
        #expect(try file.int("u8") == 200)
        #expect(try file.int("i8") == -100)
        #expect(try file.int("u16") == 60000)
        #expect(try file.int("i16") == -30000)
        #expect(try file.int("u32") == 4_000_000_000)
        #expect(try file.int("i32") == -2_000_000_000)
        #expect(try file.int("u64") == 1 << 40)
        #expect(try file.int("i64") == -(1 << 40))
        #expect(try file.float("f32") == 1e-5)
        #expect(try file.double("f64") == 100000.5)
        #expect(try file.bool("flag"))
        #expect(try file.stringArray("tokens") == ["<s>", "Ġthe", "ünï 😀"])
        #expect(try file.intArray("ints") == [1, -2, 3])
        #expect(try file.floatArray("floats") == [0.5, -1.25])
        #expect(file.value("nested") == .array(.array, [.array(.uint8, [.uint8(1), .uint8(2)]), .array(.uint8, [])]))
        #expect(file.metadataKeys.first == "general.architecture")
        #expect(file.metadataKeys.count == 17)
    }

    @Test func accessorErrorsNameTheKeyAndBothTypes() throws {
        let url = try writeGGUF(sampleWriter().bytes())
        let file = try GGUFFile(url: url)
        #expect(throws: GGUFError.missingKey(file: url.path, key: "nope")) { try file.string("nope") }
        #expect(throws: GGUFError.wrongValueType(file: url.path, key: "u8", expected: "string", actual: "uint8")) {
            try file.string("u8")
        }
        #expect(throws: GGUFError.wrongValueType(file: url.path, key: "tokens", expected: "array of integers", actual: "array of string")) {
            try file.intArray("tokens")
        }
        #expect(throws: GGUFError.valueOutOfRange(file: url.path, key: "huge", value: "\(UInt64.max)")) { try file.int("huge") }
        #expect(throws: GGUFError.tensorNotFound(file: url.path, tensor: "missing")) { try file.tensor("missing") }
        #expect(throws: GGUFError.unsupportedTensorType(file: url.path, tensor: "norm.weight", type: .f32, accessor: "quantizedMatrix")) {
            try file.quantizedMatrix("norm.weight")
        }
        #expect(throws: GGUFError.shapeMismatch(file: url.path, tensor: "w.q4_1", expected: [64, 3], actual: [3, 64])) {
            try file.tensor("w.q4_1", shape: [64, 3])
        }
        let message = "\(GGUFError.wrongValueType(file: url.path, key: "u8", expected: "string", actual: "uint8"))"
        #expect(message.contains(url.path) && message.contains("'u8'") && message.contains("string") && message.contains("uint8"))
    }

    @Test func tensorsReportRowMajorShapesAndValues() throws {
        let file = try GGUFFile(url: writeGGUF(sampleWriter().bytes()))
        #expect(file.tensorNames == ["norm.weight", "w.q4_1", "w.q8_0"])
        let q = try file.info("w.q8_0")
        #expect(q.dimensions == [32, 2, 2])   // ne order: fastest first
        #expect(q.shape == [2, 2, 32])        // Attend's row-major order
        #expect(q.byteCount == 4 * 34)
        #expect(q.offset % 32 == 0)
        #expect(try file.tensor("norm.weight").scalars == [1, -2, 3.5, 0, 1e-30])
        let w = try file.quantizedMatrix("w.q4_1", shape: [3, 64])
        #expect(w.rows == 3 && w.columns == 64 && w.type == .q4_1)
        #expect(try file.tensor("w.q4_1").scalars == w.dequantized().scalars)
        #expect(try file.tensor("w.q4_1").shape == [3, 64])
        let q8 = try file.quantizedMatrix("w.q8_0")
        #expect(q8.rows == 2 && q8.columns == 64)
    }

    @Test func customAlignmentIsHonoured() throws {
        var w = GGUFWriter()
        w.add("general.alignment", .uint32(64))
        try w.add(tensor: "a", type: .f32, shape: [3], bytes: GGUFWriter.bytes(of: [1, 2, 3]))
        try w.add(tensor: "b", type: .f32, shape: [2], bytes: GGUFWriter.bytes(of: [4, 5]))
        let file = try GGUFFile(url: writeGGUF(w.bytes()))
        #expect(file.alignment == 64)
        #expect(file.dataStart % 64 == 0)
        #expect(try file.info("b").offset == 64)
        #expect(try file.tensor("b").scalars == [4, 5])
    }

    @Test func version2IsAccepted() throws {
        var bytes = try sampleWriter().bytes()
        bytes[4] = 2
        #expect(try GGUFFile(url: writeGGUF(bytes)).version == 2)
    }

    @Test func dequantizationTwinsFollowTheBlockFormulas() throws {
        // One hand-made block per type: d = 0.5 (f16 0x3800), m = −1 (0xBC00); byte t = t | (15 − t) << 4.
        let qs = (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        let q40 = GGUFDequantize.dequantize(.q4_0, [0x00, 0x38] + qs, count: 32)
        let q41 = GGUFDequantize.dequantize(.q4_1, [0x00, 0x38, 0x00, 0xBC] + qs, count: 32)
        let q8bytes: [UInt8] = [0x00, 0x38] + (0..<32).map { UInt8(bitPattern: Int8($0 * 8 - 128)) }
        let q80 = GGUFDequantize.dequantize(.q8_0, q8bytes, count: 32)
        for t in 0..<16 {
            let lo = Float(t), hi = Float(15 - t)
            #expect(q40[t] == (lo - 8) * 0.5 && q40[t + 16] == (hi - 8) * 0.5, "Q4_0 element \(t)")
            #expect(q41[t] == lo * 0.5 - 1 && q41[t + 16] == hi * 0.5 - 1, "Q4_1 element \(t)")
        }
        for t in 0..<32 { #expect(q80[t] == Float(t * 8 - 128) * 0.5, "Q8_0 element \(t)") }
        #expect(GGUFDequantize.dequantize(.f16, [0x00, 0x3C, 0x01, 0x00], count: 2) == [1, 0x1p-24])
        #expect(GGUFDequantize.dequantize(.bf16, [0x80, 0x3F], count: 1) == [1])
    }

    @Test func referenceQuantizersRoundTripWithinHalfAStep() throws {
        var rng = SeededRNG(seed: 11)
        let values = (0..<256).map { _ in rng.float() * 3 }
        for type in [GGMLType.q4_0, .q4_1, .q8_0] {
            let back = GGUFDequantize.dequantize(type, GGUFQuantize.quantize(values, as: type), count: values.count)
            for b in 0..<(values.count / 32) {
                let block = values[(32 * b)..<(32 * b + 32)]
                let range = (block.max()! - block.min()!), amax = block.map(abs).max()!
                // Step: Q8_0 amax/127, Q4_1 range/15, Q4_0 amax/8. Errors are at most half a step, plus the
                // binary16 rounding of d (2⁻¹¹ relative, times q ≤ 127 or 15) and of m; Q4_0 clamps the value
                // opposite the largest magnitude to q = 15, a whole step.
                let step: Float = type == .q8_0 ? amax / 127 : type == .q4_1 ? range / 15 : amax / 8
                let bound: Float = type == .q8_0 ? 0.57 * step : type == .q4_1 ? 0.51 * step + amax * 1e-3 : 1.01 * step
                for t in 0..<32 {
                    let i = 32 * b + t
                    #expect(abs(back[i] - values[i]) <= bound, "\(type) element \(i)")
                }
            }
        }
    }
}

extension GGUFDequantize {
    /// Test convenience over an array of bytes.
    static func dequantize(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> [Float] {
        bytes.withUnsafeBytes { dequantize(type, $0, count: count) }
    }
}

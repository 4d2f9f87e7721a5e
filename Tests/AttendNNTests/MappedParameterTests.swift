import AttendTestSupport
import Foundation
import Testing
@testable import AttendNN
import AttendTensor

// Parameters read in place from a memory-mapped safetensors file: reading gives the file's values, layers
// compute the same as with the values in memory, and the first change copies them into memory (the file is
// never written) and invalidates packed copies.
struct MappedParameterTests {
    private func mappedFile(_ tensors: [String: Tensor]) throws -> SafetensorsFile {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("attend-mapped-\(UUID().uuidString).safetensors")
        try Safetensors.write(tensors, to: url)
        defer { try? FileManager.default.removeItem(at: url) }   // the mapping keeps the data alive
        return try SafetensorsFile(url: url)
    }

    @Test func mappedValuesEqualTheFileAndLayersAgree() throws {
        var rng = SeededRNG(seed: 3)
        let w = Tensor.randomNormal([70, 48], rng: &rng), table = Tensor.randomNormal([20, 8], rng: &rng)
        let file = try mappedFile(["w": w, "table": table])
        let linear = Linear(48, 70), plain = Linear(48, 70)
        plain.weight.value = w
        let source = try #require(try file.mappedTensor("w"))
        linear.weight.map(source)
        #expect(linear.weight.isMapped && linear.weight.shape == [70, 48])
        #expect(linear.weight.value == w)
        let x = Tensor.randomNormal([3, 5, 48], rng: &rng)
        #expect(try linear(x, activation: .gelu) == (try plain(x, activation: .gelu)))
        try linear.prepareForInference()
        try plain.prepareForInference()
        #expect(try linear(x) == (try plain(x)))

        let embedding = Embedding(20, 8)
        embedding.weight.map(try #require(try file.mappedTensor("table")))
        let ids = [[0, 19, 5], [7, 7, 1]]
        let expected = try Tensor(shape: [2, 3, 8], scalars: ids.flatMap { $0 }.flatMap { table.scalars[($0 * 8)..<($0 * 8 + 8)] })
        #expect(try embedding(ids) == expected)
        #expect(throws: TensorError.self) { try embedding([[20]]) }
    }

    @Test func theFirstChangeCopiesIntoMemoryAndStalesThePacking() throws {
        var rng = SeededRNG(seed: 4)
        let w = Tensor.randomNormal([16, 8], rng: &rng)
        let file = try mappedFile(["w": w])
        let linear = Linear(8, 16)
        linear.weight.map(try #require(try file.mappedTensor("w")))
        try linear.prepareForInference()
        #expect(linear.packedWeight != nil)
        linear.weight.value.scalars[0] += 1               // in place: copies, then changes the copy
        #expect(!linear.weight.isMapped)
        #expect(linear.packedWeight == nil)
        #expect(linear.weight.value.scalars[0] == w.scalars[0] + 1)
        #expect(Array(linear.weight.value.scalars.dropFirst()) == Array(w.scalars.dropFirst()))
        #expect(try #require(try file.mappedTensor("w")).materialize() == w, "the file's values changed")
    }

    @Test func onlyF32TensorsAreMapped() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("attend-f16-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        // A header declaring one F16 tensor of 2 values (4 bytes), padded to 8 bytes.
        var header = Array(#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
        bytes += [0x00, 0x3C, 0x00, 0x40]   // 1.0, 2.0 in half precision
        try Data(bytes).write(to: url)
        let file = try SafetensorsFile(url: url)
        #expect(try file.mappedTensor("h") == nil)
        #expect(try file.tensor("h").scalars == [1, 2])
    }
}

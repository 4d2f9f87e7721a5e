import Foundation

extension Safetensors {
    /// Writes `tensors` as a safetensors file of F32 tensors.
    ///
    /// The header lists `__metadata__` (if given) and then the tensors with keys sorted; tensor
    /// bytes follow in the same order with no gaps. The header is padded with spaces so that the
    /// data section starts at a multiple of 8 bytes, as the reference implementation does, which
    /// keeps every F32 tensor aligned for zero-copy reads. The file is written atomically
    /// (temporary file + rename), so a reader never sees a half-written file.
    ///
    /// - Throws: ``SafetensorsError/invalidTensorName(file:tensor:)`` for a tensor named `__metadata__`,
    ///   ``SafetensorsError/writeFailed(file:reason:)`` if the file cannot be written.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String]? = nil, to url: URL) throws {
        let data = try serialize(tensors, metadata: metadata, file: url.path)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw SafetensorsError.writeFailed(file: url.path, reason: error.localizedDescription)
        }
    }

    /// The bytes of a safetensors file holding `tensors` (see ``write(_:metadata:to:)``).
    public static func serialize(_ tensors: [String: Tensor], metadata: [String: String]? = nil) throws -> Data {
        try serialize(tensors, metadata: metadata, file: "<memory>")
    }

    private static func serialize(_ tensors: [String: Tensor], metadata: [String: String]?, file: String) throws -> Data {
        let names = tensors.keys.sorted()
        var fields: [String] = []
        if let metadata {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            guard name != "__metadata__", let tensor = tensors[name] else {
                throw SafetensorsError.invalidTensorName(file: file, tensor: name)
            }
            let end = offset + tensor.scalars.count * MemoryLayout<Float>.size
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array("{\(fields.joined(separator: ","))}".utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for name in names {
            guard let tensor = tensors[name] else { continue }
            #if _endian(little)
            tensor.scalars.withUnsafeBytes { data.append(contentsOf: $0) }
            #else
            for x in tensor.scalars {
                withUnsafeBytes(of: x.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            #endif
        }
        return data
    }

    /// `s` as a JSON string literal.
    static func jsonString(_ s: String) -> String { JSONValue.quote(s) }
}

import Foundation

extension SafetensorsFile {
    /// Validates the whole header against a data section of `dataSize` bytes.
    /// Returns tensor infos by name and the metadata. Touches no tensor data.
    static func parseHeader(_ header: UnsafeRawBufferPointer, dataSize: Int, file: String) throws
        -> (tensors: [String: SafetensorsTensorInfo], metadata: [String: String])
    {
        let notUTF8 = transcode(header.makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true) { _ in }
        guard !notUTF8 else {
            throw SafetensorsError.headerNotUTF8(file: file)
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(header, source: file)
        } catch let failure as JSONSyntaxError {
            throw SafetensorsError.invalidJSON(file: file, reason: failure.detail)
        }
        guard case let .object(entries) = json else { throw SafetensorsError.headerNotObject(file: file) }

        var metadata: [String: String] = [:]
        var tensors: [String: SafetensorsTensorInfo] = [:]
        for (name, value) in entries {
            if name == "__metadata__" {
                metadata = try parseMetadata(value, file: file)
                continue
            }
            tensors[name] = try parseEntry(name: name, value, dataSize: dataSize, file: file)
        }

        // No two non-empty byte ranges may overlap: sort by begin and compare neighbours.
        let ordered = tensors.values
            .filter { !$0.dataOffsets.isEmpty }
            .sorted { ($0.dataOffsets.lowerBound, $0.name) < ($1.dataOffsets.lowerBound, $1.name) }
        for (previous, current) in zip(ordered, ordered.dropFirst())
        where current.dataOffsets.lowerBound < previous.dataOffsets.upperBound {
            throw SafetensorsError.overlap(file: file, tensor: current.name, range: current.dataOffsets,
                                           other: previous.name, otherRange: previous.dataOffsets)
        }
        return (tensors, metadata)
    }

    private static func parseMetadata(_ value: JSONValue, file: String) throws -> [String: String] {
        guard case let .object(fields) = value else {
            throw SafetensorsError.invalidMetadata(file: file, reason: "must be an object, found \(value.kind)")
        }
        var out: [String: String] = [:]
        for (key, field) in fields {
            guard case let .string(s) = field else {
                throw SafetensorsError.invalidMetadata(
                    file: file, reason: "value of '\(key)' must be a string, found \(field.kind)")
            }
            out[key] = s
        }
        return out
    }

    private static func parseEntry(name: String, _ value: JSONValue, dataSize: Int, file: String) throws
        -> SafetensorsTensorInfo
    {
        func invalid(_ reason: String) -> SafetensorsError {
            .invalidEntry(file: file, tensor: name, reason: reason)
        }
        guard case let .object(fields) = value else {
            throw invalid("entry must be an object with dtype, shape and data_offsets, found \(value.kind)")
        }
        guard let dtypeField = fields["dtype"] else { throw invalid("missing 'dtype'") }
        guard case let .string(dtypeName) = dtypeField else {
            throw invalid("'dtype' must be a string, found \(dtypeField.kind)")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unknownDType(file: file, tensor: name, dtype: dtypeName)
        }
        guard let shapeField = fields["shape"] else { throw invalid("missing 'shape'") }
        guard let shape = shapeField.intArray else { throw invalid("'shape' must be an array of integers") }
        guard let offsetsField = fields["data_offsets"] else { throw invalid("missing 'data_offsets'") }
        guard let offsets = offsetsField.intArray, offsets.count == 2 else {
            throw invalid("'data_offsets' must be an array of two integers [begin, end]")
        }

        // Element count, rejecting negative dimensions and overflow.
        var count = 1
        for d in shape {
            guard d >= 0 else { throw SafetensorsError.invalidShape(file: file, tensor: name, shape: shape) }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw SafetensorsError.invalidShape(file: file, tensor: name, shape: shape) }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else { throw SafetensorsError.invalidShape(file: file, tensor: name, shape: shape) }

        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end else {
            throw SafetensorsError.invalidOffsets(file: file, tensor: name, begin: begin, end: end)
        }
        guard end <= dataSize else {
            throw SafetensorsError.offsetsOutOfRange(file: file, tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        guard end - begin == bytes else {
            throw SafetensorsError.byteCountMismatch(file: file, tensor: name, begin: begin, end: end,
                                                     expected: bytes, dtype: dtype, shape: shape)
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }
}

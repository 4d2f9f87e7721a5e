/// A weight matrix of ggml quantized blocks (Q4_0, Q4_1 or Q8_0): `rows` rows (output features of a
/// linear weight, PyTorch's `[out, in]` layout) of `columns` elements, each row `columns / 32` blocks
/// packed back to back (see ``GGMLType`` for the block formats).
///
/// Read in place from a GGUF mapping by ``GGUFFile/quantizedMatrix(_:shape:)`` (no copy; keeps the mapping
/// alive), or built from bytes with ``init(type:rows:columns:bytes:)``. Immutable and safe to share.
public struct QuantizedMatrix: @unchecked Sendable {
    /// The block format.
    public let type: GGMLType
    /// Rows (output features).
    public let rows: Int
    /// Elements per row (input features; a multiple of 32).
    public let columns: Int
    /// Address of row 0's first block.
    let base: UnsafeRawPointer
    /// Keeps the bytes alive (the file mapping, or an owned buffer).
    let owner: AnyObject

    /// Bytes per row: `columns / 32 · type.blockBytes`.
    public var rowBytes: Int { columns / type.blockSize * type.blockBytes }
    /// Blocks per row.
    public var blocksPerRow: Int { columns / type.blockSize }
    /// The shape `[rows, columns]`.
    public var shape: [Int] { [rows, columns] }
    /// Bytes held by the blocks.
    public var byteCount: Int { rows * rowBytes }

    init(type: GGMLType, rows: Int, columns: Int, base: UnsafeRawPointer, owner: AnyObject) {
        self.type = type
        self.rows = rows
        self.columns = columns
        self.base = base
        self.owner = owner
    }

    /// A matrix over a copy of `bytes` (`rows · columns / 32` blocks of `type`, row after row).
    /// - Throws: ``TensorError/invalidArgument(op:_:)`` when the type is not block-quantized, `columns` is
    ///   not a positive multiple of 32, `rows` < 1, or `bytes` has the wrong length.
    public init(type: GGMLType, rows: Int, columns: Int, bytes: [UInt8]) throws {
        guard type.isQuantized else {
            throw TensorError.invalidArgument(op: "QuantizedMatrix", "type \(type) is not block-quantized (Q4_0, Q4_1, Q8_0)")
        }
        guard rows >= 1, columns >= type.blockSize, columns % type.blockSize == 0 else {
            throw TensorError.invalidArgument(op: "QuantizedMatrix", "need rows ≥ 1 and columns a positive multiple of \(type.blockSize), got [\(rows), \(columns)]")
        }
        let (total, overflow) = rows.multipliedReportingOverflow(by: columns / type.blockSize * type.blockBytes)
        guard !overflow, bytes.count == total else {
            throw TensorError.invalidArgument(op: "QuantizedMatrix", "[\(rows), \(columns)] \(type) needs \(overflow ? "too many" : String(total)) bytes, got \(bytes.count)")
        }
        let storage = ByteStorage(bytes)
        self.init(type: type, rows: rows, columns: columns, base: UnsafeRawPointer(storage.pointer), owner: storage)
    }

    /// Calls `body` with the blocks (all rows, `byteCount` bytes).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(UnsafeRawBufferPointer(start: base, count: byteCount)) }
    }

    /// Row `j` dequantized by the plain twin (``GGUFDequantize``): exactly ggml's values.
    public func dequantizedRow(_ j: Int) -> [Float] {
        withUnsafeBytes { raw in
            GGUFDequantize.dequantize(type, UnsafeRawBufferPointer(rebasing: raw[(j * rowBytes)..<((j + 1) * rowBytes)]), count: columns)
        }
    }

    /// Rows `indices` dequantized by the plain twin, as a `[indices.count, columns]` tensor: an embedding
    /// lookup on a quantized table (e.g. SmolLM2's Q8_0 `token_embd.weight`, `[49152, 576]`).
    /// - Throws: ``TensorError/invalidArgument(op:_:)`` naming the first index outside `0..<rows`.
    public func gatherRows(_ indices: [Int]) throws -> Tensor {
        if let bad = indices.first(where: { $0 < 0 || $0 >= rows }) {
            throw TensorError.invalidArgument(op: "QuantizedMatrix.gatherRows", "row \(bad) is outside 0..<\(rows)")
        }
        var values = [Float](repeating: 0, count: indices.count * columns)
        withUnsafeBytes { raw in
            values.withUnsafeMutableBufferPointer { out in
                for (r, j) in indices.enumerated() {
                    GGUFDequantize.dequantize(type, UnsafeRawBufferPointer(rebasing: raw[(j * rowBytes)..<((j + 1) * rowBytes)]),
                                              count: columns, into: UnsafeMutableBufferPointer(rebasing: out[(r * columns)..<((r + 1) * columns)]))
                }
            }
        }
        return Tensor(uncheckedShape: [indices.count, columns], scalars: values)
    }

    /// The whole matrix dequantized by the plain twin, as a `[rows, columns]` tensor.
    public func dequantized() -> Tensor {
        let values = withUnsafeBytes { GGUFDequantize.dequantize(type, $0, count: rows * columns) }
        return Tensor(uncheckedShape: [rows, columns], scalars: values)
    }

    /// Owned bytes, 64-byte aligned.
    final class ByteStorage {
        let pointer: UnsafeMutableRawPointer
        init(_ bytes: [UInt8]) {
            pointer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(1, bytes.count), alignment: 64)
            bytes.withUnsafeBytes { src in
                if let s = src.baseAddress { pointer.copyMemory(from: s, byteCount: bytes.count) }
            }
        }
        deinit { pointer.deallocate() }
    }
}

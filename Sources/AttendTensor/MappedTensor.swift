/// A Float32 tensor read in place from a memory-mapped safetensors file: its values are never copied into
/// the process's own memory. The kernel pages in what is read and may drop it again, since the file backs it;
/// a model whose large weights are mapped counts in its RSS only the pages it touches.
///
/// Made by ``SafetensorsFile/mappedTensor(_:)``; keeps the mapping alive for as long as it lives. Immutable
/// and safe to share between threads.
///
/// The file must not be rewritten in place while mapped (truncating it would fault on the next read, as with any
/// memory-mapped file). Replacing it by rename is safe — the mapping keeps the old file — and that is how
/// `attend models install` replaces a model.
public final class MappedTensor: @unchecked Sendable {
    /// The tensor's shape.
    public let shape: [Int]
    /// Number of values.
    public let count: Int
    private let base: UnsafePointer<Float>
    /// Keeps the mapping alive.
    private let owner: AnyObject

    init(shape: [Int], base: UnsafePointer<Float>, owner: AnyObject) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.base = base
        self.owner = owner
    }

    /// Calls `body` with the values, read in place.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }

    /// A copy of the values as an ordinary tensor.
    public func materialize() -> Tensor {
        withUnsafeBufferPointer { Tensor(uncheckedShape: shape, scalars: Array($0)) }
    }
}

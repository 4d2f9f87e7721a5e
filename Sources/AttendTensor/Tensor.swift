/// A dense tensor of Float32 values: a shape and contiguous row-major storage.
///
/// `Tensor` is a value type (copy-on-write through its `scalars` array). Every op that can
/// fail on user-supplied shapes `throws` a ``TensorError`` that names the op and both shapes.
public struct Tensor: Sendable, Equatable {
    /// The extent of each axis, outermost first. A scalar has shape `[]`.
    public internal(set) var shape: [Int]
    /// The values in row-major order; `scalars.count == shape.product`.
    public var scalars: [Float]

    /// Makes a tensor from a shape and row-major values.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` if a dimension is negative, or
    ///   ``TensorError/countMismatch(shape:count:)`` if `scalars.count` differs from the shape's size.
    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorError.invalidShape("init", shape) }
        guard shape.reduce(1, *) == scalars.count else {
            throw TensorError.countMismatch(shape: shape, count: scalars.count)
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Internal unchecked initialiser: the caller guarantees `scalars.count == shape.product`.
    @usableFromInline
    init(uncheckedShape shape: [Int], scalars: [Float]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// A shape with no storage, for a parameter a strict loader is about to overwrite (see
    /// `Parameter.placeholders` in AttendNN). Any op on it would read out of bounds: never let one escape.
    package static func unloadedPlaceholder(shape: [Int]) -> Tensor {
        Tensor(uncheckedShape: shape, scalars: [])
    }

    /// Whether this is an ``unloadedPlaceholder(shape:)`` (a non-empty shape without values).
    package var isUnloadedPlaceholder: Bool { scalars.isEmpty && shape.reduce(1, *) != 0 }

    /// A rank-1 tensor holding `values`.
    public init(_ values: [Float]) {
        self.init(uncheckedShape: [values.count], scalars: values)
    }

    /// A rank-0 tensor holding one value.
    public init(scalar: Float) {
        self.init(uncheckedShape: [], scalars: [scalar])
    }

    /// A rank-2 tensor from rows of equal length.
    /// - Throws: ``TensorError/ragged(_:)`` naming the first row whose length differs.
    public init(rows: [[Float]]) throws {
        let width = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() where row.count != width {
            throw TensorError.ragged("row \(i) has \(row.count) values, row 0 has \(width)")
        }
        self.init(uncheckedShape: [rows.count, width], scalars: rows.flatMap { $0 })
    }

    /// A tensor of the given shape filled with `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        let shape = shape.map { Swift.max(0, $0) }
        return Tensor(uncheckedShape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }
    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { scalars.count }

    /// The single value of a one-element tensor.
    public var scalar: Float? { scalars.count == 1 ? scalars[0] : nil }

    /// Row-major strides, in elements.
    public var strides: [Int] { Tensor.strides(for: shape) }

    static func strides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = acc
            acc *= shape[i]
        }
        return strides
    }

    /// Normalises a possibly negative axis (`-1` is the last) and checks it is in range.
    public func axisIndex(_ axis: Int, op: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < rank else { throw TensorError.axisOutOfRange(op: op, axis: axis, rank: rank) }
        return a
    }

    /// The value at a multi-dimensional index (no bounds checks beyond Swift's array checks).
    public subscript(index: Int...) -> Float {
        get { scalars[flatIndex(index)] }
        set { scalars[flatIndex(index)] = newValue }
    }

    @inlinable
    func flatIndex(_ index: [Int]) -> Int {
        var flat = 0
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            flat += index[i] * acc
            acc *= shape[i]
        }
        return flat
    }

    /// Nested Swift arrays for printing and JSON: `[Float]` for rank 1, `[[Float]]` for rank 2, etc.
    public func nestedArray() -> Any {
        func build(_ axis: Int, _ offset: Int) -> Any {
            if axis == rank { return scalars[offset] }
            let stride = shape[(axis + 1)...].reduce(1, *)
            return (0..<shape[axis]).map { build(axis + 1, offset + $0 * stride) }
        }
        return build(0, 0)
    }
}

/// Errors raised by tensor ops. Each names the op and the shapes involved.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    case invalidShape(String, [Int])
    case countMismatch(shape: [Int], count: Int)
    case ragged(String)
    case shapeMismatch(op: String, expected: String, actual: [Int])
    case incompatibleShapes(op: String, [Int], [Int])
    case axisOutOfRange(op: String, axis: Int, rank: Int)
    case invalidArgument(op: String, String)

    public var description: String {
        switch self {
        case let .invalidShape(op, s): return "\(op): invalid shape \(s)"
        case let .countMismatch(s, c): return "shape \(s) needs \(s.reduce(1, *)) values, got \(c)"
        case let .ragged(m): return "ragged array: \(m)"
        case let .shapeMismatch(op, e, a): return "\(op): expected shape \(e), got \(a)"
        case let .incompatibleShapes(op, a, b): return "\(op): shapes \(a) and \(b) are incompatible"
        case let .axisOutOfRange(op, axis, rank): return "\(op): axis \(axis) out of range for rank \(rank)"
        case let .invalidArgument(op, m): return "\(op): \(m)"
        }
    }
}


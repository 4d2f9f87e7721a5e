/// A learnable tensor owned by a module. A class, so optimisers can update it in place.
///
/// Its values live in memory, or — for a model loaded for inference — are read in place from the memory-mapped
/// weights file (``map(_:)``): then ``value`` returns a fresh copy each time it is read, layers read the values
/// in place through ``withUnsafeValues(_:)``, and the first change (assignment or in-place) copies them into memory.
public final class Parameter: @unchecked Sendable {
    private var stored: Tensor
    private var mapped: MappedTensor?

    /// The values. Every assignment or in-place change bumps ``version``.
    public var value: Tensor {
        get { mapped?.materialize() ?? stored }
        set {
            stored = newValue
            mapped = nil
            version &+= 1
        }
        _modify {
            if let m = mapped {
                stored = m.materialize()
                mapped = nil
            }
            defer { version &+= 1 }
            yield &stored
        }
    }

    public init(_ value: Tensor) { stored = value }
    /// Counts changes to ``value``, so caches built from it (packed weights, fused projections) can tell they are stale.
    public private(set) var version: UInt64 = 0
    public var shape: [Int] { mapped?.shape ?? stored.shape }

    /// Reads the values in place (no copy, whether in memory or mapped).
    public func withUnsafeValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if let mapped { return try mapped.withUnsafeBufferPointer(body) }
        return try stored.scalars.withUnsafeBufferPointer(body)
    }

    /// Uses `source` as the values from now on, read in place (its shape must be this parameter's: callers check).
    public func map(_ source: MappedTensor) {
        mapped = source
        stored = .unloadedPlaceholder(shape: source.shape)
        version &+= 1
    }

    /// Whether the values are read in place from a mapped file.
    public var isMapped: Bool { mapped != nil }

    /// While true, ``zeros(_:)`` makes shape-only placeholders that hold no memory instead of zero-filled
    /// tensors, so building a model only to load its weights does not first fill ~90 MB with zeros (which
    /// set `attend embed`'s peak RSS). Only strict loaders set it: they replace every parameter or throw,
    /// and check ``isLoaded`` before returning the model.
    @TaskLocal package static var placeholders = false

    /// A zero-filled parameter of `shape` (a placeholder while ``placeholders`` is set).
    package static func zeros(_ shape: [Int]) -> Parameter {
        Parameter(placeholders ? .unloadedPlaceholder(shape: shape) : .zeros(shape))
    }

    /// False only for a placeholder that was never loaded.
    package var isLoaded: Bool { mapped != nil || !stored.isUnloadedPlaceholder }
}

/// A node of the module tree. Parameter paths use Hugging Face key names joined with dots
/// (`encoder.layer.0.attention.self.query.weight`).
public protocol Module: AnyObject {
    /// This module's own parameters, by local name.
    var localParameters: [(String, Parameter)] { get }
    /// Child modules, by local name.
    var children: [(String, any Module)] { get }
}

extension Module {
    public var localParameters: [(String, Parameter)] { [] }
    public var children: [(String, any Module)] { [] }

    /// Every parameter below this module with its full dotted path.
    public func namedParameters(prefix: String = "") -> [(String, Parameter)] {
        var out = localParameters.map { (prefix + $0.0, $0.1) }
        for (name, child) in children { out += child.namedParameters(prefix: prefix + name + ".") }
        return out
    }

    /// Total number of scalar parameters.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.value.count } }

    /// Strict loading: every parameter must be present in `tensors` (under `prefix`) with the same shape.
    /// Returns the keys of `tensors` that no parameter used, so callers can reject or report them.
    /// - Throws: ``WeightLoadingError`` naming the tensor path and both shapes.
    @discardableResult
    public func load(_ tensors: [String: Tensor], prefix: String = "", source: String = "weights") throws -> Set<String> {
        var unused = Set(tensors.keys)
        for (path, p) in namedParameters(prefix: prefix) {
            guard let t = tensors[path] else { throw WeightLoadingError.missing(source: source, tensor: path, shape: p.shape) }
            guard t.shape == p.shape else {
                throw WeightLoadingError.shapeMismatch(source: source, tensor: path, expected: p.shape, actual: t.shape)
            }
            p.value = t
            unused.remove(path)
        }
        return unused
    }
}

/// Errors from loading weights into a module tree.
public enum WeightLoadingError: Error, CustomStringConvertible, Equatable {
    case missing(source: String, tensor: String, shape: [Int])
    case shapeMismatch(source: String, tensor: String, expected: [Int], actual: [Int])
    case unused(source: String, tensors: [String])

    public var description: String {
        switch self {
        case let .missing(s, t, shape): return "\(s): missing tensor '\(t)' (expected shape \(shape))"
        case let .shapeMismatch(s, t, e, a): return "\(s): tensor '\(t)' has shape \(a), expected \(e)"
        case let .unused(s, ts):
            let shown = ts.sorted().prefix(5).joined(separator: ", ")
            return "\(s): \(ts.count) unexpected tensor(s): \(shown)\(ts.count > 5 ? ", …" : "")"
        }
    }
}

/// Receives named intermediates (`"L3.H5.weights"`, `"L3.hidden"`) from models; visualisation listens here,
/// models carry no visualisation code.
public protocol IntermediateObserver: AnyObject {
    /// Whether this intermediate is wanted: lets models skip work (e.g. attention weights) nobody reads.
    func wants(_ name: String) -> Bool
    func observe(_ name: String, _ value: Tensor)
}

/// An observer that keeps every intermediate whose name passes `filter`.
public final class IntermediateRecorder: IntermediateObserver {
    public private(set) var values: [String: Tensor] = [:]
    public private(set) var order: [String] = []
    let filter: (String) -> Bool

    public init(filter: @escaping (String) -> Bool = { _ in true }) { self.filter = filter }
    public func wants(_ name: String) -> Bool { filter(name) }
    public func observe(_ name: String, _ value: Tensor) {
        guard filter(name) else { return }
        if values[name] == nil { order.append(name) }
        values[name] = value
    }
    public subscript(name: String) -> Tensor? { values[name] }
}

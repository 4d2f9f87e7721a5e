// Reverse-mode automatic differentiation on a tape (Wengert list), in the spirit of micrograd and llm.c:
// each op computes its forward value and, only when one of its inputs is on a tape, records a closure that
// turns the gradient of its output into gradients of its inputs. The backward of every op sits right below
// its forward (Variable+*.swift), and keeps explicitly what it needs (inputs, softmax probabilities, means…).
//
// No tape, no cost: a `Variable` that is not on a tape is a plain wrapper around a `Tensor`; its ops compute
// the value and record nothing. Inference code that uses `Tensor` directly is untouched by all of this.
//
//     let tape = Tape()
//     let logits = try model.forward(…, tape: tape)           // parameters enter through tape.watch(p)
//     let loss = try Variable.crossEntropy(logits, targets: …)
//     try tape.backward(loss)
//     let grads = tape.gradients(for: model.namedParameters())
import Foundation

/// A recording of the ops applied to `Variable`s, replayed in reverse by ``backward(_:)``.
///
/// A tape is used by one thread for one forward/backward pass, then dropped (or ``reset()``).
/// Gradients are kept for leaves (watched parameters and ``variable(_:)`` inputs); intermediate gradients
/// are released as soon as they have been pushed to their inputs.
public final class Tape {
    /// One recorded op: its output's id and the closure that pushes the output's gradient to the inputs.
    /// Closures capture only ids and tensors, never a `Variable` (which holds the tape: no retain cycle).
    struct Node {
        let output: Int
        let backward: (_ grad: [Float], _ tape: Tape) throws -> Void
    }

    private var nodes: [Node] = []
    private var shapes: [[Int]] = []          // by id
    private var grads: [[Float]?] = []        // by id
    private var isLeaf: [Bool] = []           // by id
    private var parameterIDs: [ObjectIdentifier: Int] = [:]

    public init() {}

    /// Number of recorded ops (for tests and diagnostics).
    public var recordedOps: Int { nodes.count }

    /// Forgets every op, value and gradient; watched parameters must be watched again.
    public func reset() {
        nodes = []
        shapes = []
        grads = []
        isLeaf = []
        parameterIDs = [:]
    }

    private func newID(shape: [Int], leaf: Bool) -> Int {
        shapes.append(shape)
        grads.append(nil)
        isLeaf.append(leaf)
        return shapes.count - 1
    }

    /// The parameter as a leaf of this tape (the same leaf every time it is watched), so its gradient
    /// can be read after ``backward(_:)``.
    public func watch(_ p: Parameter) -> Variable {
        let key = ObjectIdentifier(p)
        if let id = parameterIDs[key] { return Variable(value: p.value, id: id, tape: self) }
        let id = newID(shape: p.shape, leaf: true)
        parameterIDs[key] = id
        return Variable(value: p.value, id: id, tape: self)
    }

    /// A new leaf holding `value`, whose gradient is kept (inputs of gradient checks).
    public func variable(_ value: Tensor) -> Variable {
        Variable(value: value, id: newID(shape: value.shape, leaf: true), tape: self)
    }

    /// Records an op's output. `backward` receives the output's gradient (same count as `value`).
    func record(_ value: Tensor, _ backward: @escaping (_ grad: [Float], _ tape: Tape) throws -> Void) -> Variable {
        let id = newID(shape: value.shape, leaf: false)
        nodes.append(Node(output: id, backward: backward))
        return Variable(value: value, id: id, tape: self)
    }

    /// Adds `g` to the gradient of `id` (ignored for constants, id < 0).
    func accumulate(_ id: Int, _ g: [Float]) {
        guard id >= 0 else { return }
        if grads[id] == nil {
            grads[id] = g
            return
        }
        grads[id]!.withUnsafeMutableBufferPointer { dst in
            g.withUnsafeBufferPointer { src in
                for i in 0..<Swift.min(dst.count, src.count) { dst[i] += src[i] }
            }
        }
    }

    /// Adds into the gradient of `id` in place through `body`, which receives a zero-initialised or the
    /// existing buffer (so kernels can accumulate with beta = 1 and no temporary).
    func accumulate(_ id: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        guard id >= 0 else { return }
        if grads[id] == nil { grads[id] = [Float](repeating: 0, count: shapes[id].reduce(1, *)) }
        try grads[id]!.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Back-propagates from `output`, seeding its gradient with `seed` (default: ones, i.e. d output/d output).
    /// Usually `output` is a scalar loss.
    public func backward(_ output: Variable, seed: Tensor? = nil) throws {
        guard output.tape === self, output.id >= 0 else {
            throw TensorError.invalidArgument(op: "backward", "the output was not recorded on this tape")
        }
        if let seed, seed.shape != output.shape {
            throw TensorError.shapeMismatch(op: "backward seed", expected: "\(output.shape)", actual: seed.shape)
        }
        accumulate(output.id, seed?.scalars ?? [Float](repeating: 1, count: output.value.count))
        for node in nodes.reversed() {
            guard let g = grads[node.output] else { continue }
            grads[node.output] = nil          // intermediate gradients are consumed once
            try node.backward(g, self)
        }
        nodes = []                             // a tape is replayed once; this also frees saved tensors
    }

    /// The gradient of a watched parameter after ``backward(_:)`` (nil when the loss does not depend on it).
    public func gradient(_ p: Parameter) -> Tensor? {
        guard let id = parameterIDs[ObjectIdentifier(p)], let g = grads[id] else { return nil }
        return try? Tensor(shape: shapes[id], scalars: g)
    }

    /// The gradient of a leaf variable after ``backward(_:)``.
    public func gradient(_ v: Variable) -> Tensor? {
        guard v.tape === self, v.id >= 0, isLeaf[v.id], let g = grads[v.id] else { return nil }
        return try? Tensor(shape: shapes[v.id], scalars: g)
    }

    /// Gradients of the given parameters (zeros for those the loss does not reach), for optimisers.
    public func gradients(for parameters: [(String, Parameter)]) -> Gradients {
        var out = Gradients()
        for (_, p) in parameters { out[p] = gradient(p) ?? .zeros(p.shape) }
        return out
    }
}

/// Gradients by parameter, as optimisers and gradient clipping consume them.
public struct Gradients {
    public var byParameter: [ObjectIdentifier: Tensor] = [:]
    public init() {}
    public subscript(_ p: Parameter) -> Tensor? {
        get { byParameter[ObjectIdentifier(p)] }
        set { byParameter[ObjectIdentifier(p)] = newValue }
    }

    /// √(Σ g²) over every gradient (accumulated in Double).
    public var globalNorm: Float {
        var s = 0.0
        for g in byParameter.values { for x in g.scalars { s += Double(x) * Double(x) } }
        return Float(s.squareRoot())
    }

    /// Scales every gradient so the global norm is at most `maxNorm` (PyTorch's `clip_grad_norm_`);
    /// returns the norm before clipping.
    @discardableResult
    public mutating func clipGlobalNorm(_ maxNorm: Float) -> Float {
        let norm = globalNorm
        guard norm.isFinite, norm > maxNorm, norm > 0 else { return norm }
        let factor = maxNorm / (norm + 1e-6)
        for key in Array(byParameter.keys) { byParameter[key] = byParameter[key]! * factor }
        return norm
    }
}

/// A tensor that may be on a tape. Ops on variables mirror the `Tensor` ops and record their backward
/// only when an input is on a tape; a variable with no tape is a constant.
public struct Variable {
    public let value: Tensor
    /// Index on the tape; −1 for a constant.
    let id: Int
    let tape: Tape?

    init(value: Tensor, id: Int, tape: Tape?) {
        self.value = value
        self.id = id
        self.tape = tape
    }

    /// A constant (no gradient flows into it).
    public init(_ value: Tensor) { self.init(value: value, id: -1, tape: nil) }

    public var shape: [Int] { value.shape }
    public var rank: Int { value.rank }
    /// Whether gradients flow into this variable.
    public var isTracked: Bool { tape != nil }

    /// The tape shared by the tracked inputs of an op (nil when all are constants).
    static func tape(_ vs: Variable...) throws -> Tape? {
        var found: Tape? = nil
        for v in vs {
            guard let t = v.tape else { continue }
            if let f = found, f !== t {
                throw TensorError.invalidArgument(op: "autograd", "inputs are recorded on different tapes")
            }
            found = t
        }
        return found
    }

    /// The same value, cut off from the tape (PyTorch's `detach`).
    public func detached() -> Variable { Variable(value) }
}

extension Parameter {
    /// The parameter as a variable: a watched leaf of `tape`, or a constant when `tape` is nil (inference).
    public func variable(_ tape: Tape?) -> Variable { tape?.watch(self) ?? Variable(value) }
}

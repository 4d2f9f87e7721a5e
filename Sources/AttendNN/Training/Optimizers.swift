import Foundation

/// Updates parameters in place from their gradients. State (moments, step count) is exposed as named tensors
/// so checkpoints can save and restore it through safetensors.
public protocol Optimizer: AnyObject {
    /// The parameters it updates, with their dotted names (the names key the saved state).
    var parameters: [(String, Parameter)] { get }
    /// The learning rate for the next ``step(_:)`` (set by a schedule before each step).
    var learningRate: Float { get set }
    /// Number of updates done so far.
    var stepCount: Int { get }
    /// One update from `gradients` (a missing gradient counts as zero).
    func step(_ gradients: Gradients) throws
    /// The optimiser's state as named tensors (PyTorch's names: `exp_avg.NAME`, `exp_avg_sq.NAME`, `momentum_buffer.NAME`).
    func stateTensors() -> [String: Tensor]
    /// Restores state saved by ``stateTensors()``, strictly (every tensor present with its shape).
    func loadState(_ tensors: [String: Tensor], stepCount: Int) throws
    /// A short name stored in checkpoints ("adamw", "sgd").
    var kind: String { get }
}

/// SGD with momentum (PyTorch's `torch.optim.SGD`):
///
///     g ← g + λ·θ                 (weightDecay λ, L2, when > 0)
///     b ← μ·b + g                 (momentum μ; b = g on the first step)
///     θ ← θ − lr·b                (or θ − lr·(g + μ·b) with Nesterov)
public final class SGD: Optimizer {
    public let parameters: [(String, Parameter)]
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var nesterov: Bool
    public private(set) var stepCount = 0
    private var buffers: [[Float]]
    public var kind: String { "sgd" }

    public init(parameters: [(String, Parameter)], learningRate: Float, momentum: Float = 0.9,
                weightDecay: Float = 0, nesterov: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        buffers = parameters.map { [Float](repeating: 0, count: $0.1.value.count) }
    }

    public func step(_ gradients: Gradients) throws {
        for (i, (name, p)) in parameters.enumerated() {
            guard let g = gradients[p] else { continue }
            guard g.shape == p.shape else { throw TensorError.shapeMismatch(op: "SGD gradient \(name)", expected: "\(p.shape)", actual: g.shape) }
            let (lr, mu, wd, first) = (learningRate, momentum, weightDecay, stepCount == 0)
            buffers[i].withUnsafeMutableBufferPointer { buf in
                p.value.scalars.withUnsafeMutableBufferPointer { theta in
                    for j in 0..<theta.count {
                        var gj = g.scalars[j]
                        if wd != 0 { gj += wd * theta[j] }
                        if mu != 0 {
                            buf[j] = first ? gj : mu * buf[j] + gj
                            gj = nesterov ? gj + mu * buf[j] : buf[j]
                        }
                        theta[j] -= lr * gj
                    }
                }
            }
        }
        stepCount += 1
    }

    public func stateTensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (i, (name, p)) in parameters.enumerated() {
            out["momentum_buffer.\(name)"] = try? Tensor(shape: p.shape, scalars: buffers[i])
        }
        return out
    }

    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        buffers = try Self.restore(tensors, keys: ["momentum_buffer"], parameters: parameters)[0]
        self.stepCount = stepCount
    }

    /// Reads `KEY.NAME` for every key and parameter, checking shapes; the error names the tensor.
    static func restore(_ tensors: [String: Tensor], keys: [String], parameters: [(String, Parameter)]) throws -> [[[Float]]] {
        try keys.map { key in
            try parameters.map { name, p in
                let path = "\(key).\(name)"
                guard let t = tensors[path] else { throw WeightLoadingError.missing(source: "optimizer state", tensor: path, shape: p.shape) }
                guard t.shape == p.shape else {
                    throw WeightLoadingError.shapeMismatch(source: "optimizer state", tensor: path, expected: p.shape, actual: t.shape)
                }
                return t.scalars
            }
        }
    }
}

/// AdamW (Loshchilov & Hutter 2019; PyTorch's `torch.optim.AdamW`): Adam with decoupled weight decay.
///
///     m ← β₁m + (1 − β₁)g            v ← β₂v + (1 − β₂)g²
///     m̂ = m / (1 − β₁ᵗ)              v̂ = v / (1 − β₂ᵗ)
///     θ ← θ − lr·λ·θ                 (only parameters selected for decay: by default those of rank ≥ 2)
///     θ ← θ − lr·m̂ / (√v̂ + ε)
public final class AdamW: Optimizer {
    public let parameters: [(String, Parameter)]
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    private let decays: [Bool]
    public private(set) var stepCount = 0
    private var m: [[Float]]
    private var v: [[Float]]
    public var kind: String { "adamw" }

    /// - Parameter decay: which parameters get weight decay; default: matrices (rank ≥ 2), not biases or norms.
    public init(parameters: [(String, Parameter)], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0.01,
                decay: (String, Parameter) -> Bool = { _, p in p.value.rank >= 2 }) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        decays = parameters.map { decay($0.0, $0.1) }
        m = parameters.map { [Float](repeating: 0, count: $0.1.value.count) }
        v = m
    }

    public func step(_ gradients: Gradients) throws {
        let t = stepCount + 1
        let c1 = 1 - Foundation.pow(beta1, Float(t)), c2 = 1 - Foundation.pow(beta2, Float(t))
        let (lr, b1, b2, eps) = (learningRate, beta1, beta2, self.eps)
        for (i, (name, p)) in parameters.enumerated() {
            guard let g = gradients[p] else { continue }
            guard g.shape == p.shape else { throw TensorError.shapeMismatch(op: "AdamW gradient \(name)", expected: "\(p.shape)", actual: g.shape) }
            let decay = decays[i] ? 1 - lr * weightDecay : 1
            m[i].withUnsafeMutableBufferPointer { mp in
                v[i].withUnsafeMutableBufferPointer { vp in
                    g.scalars.withUnsafeBufferPointer { gp in
                        p.value.scalars.withUnsafeMutableBufferPointer { theta in
                            for j in 0..<theta.count {
                                let gj = gp[j]
                                mp[j] = b1 * mp[j] + (1 - b1) * gj
                                vp[j] = b2 * vp[j] + (1 - b2) * gj * gj
                                let mhat = mp[j] / c1, vhat = vp[j] / c2
                                theta[j] = theta[j] * decay - lr * mhat / (vhat.squareRoot() + eps)
                            }
                        }
                    }
                }
            }
        }
        stepCount = t
    }

    public func stateTensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (i, (name, p)) in parameters.enumerated() {
            out["exp_avg.\(name)"] = try? Tensor(shape: p.shape, scalars: m[i])
            out["exp_avg_sq.\(name)"] = try? Tensor(shape: p.shape, scalars: v[i])
        }
        return out
    }

    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        let restored = try SGD.restore(tensors, keys: ["exp_avg", "exp_avg_sq"], parameters: parameters)
        m = restored[0]
        v = restored[1]
        self.stepCount = stepCount
    }
}

/// Learning rate as a function of the step: linear warmup to `peak`, then cosine decay to `peak · minRatio`
/// at `totalSteps` (and flat after), as in GPT-2/nanoGPT.
public struct LearningRateSchedule: Sendable, Equatable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minRatio: Float

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, minRatio: Float = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minRatio = minRatio
    }

    /// The rate for step `step` (0-based): `peak·(step+1)/warmup` while warming up, then
    /// `min + ½(peak − min)(1 + cos(π·progress))`.
    public func callAsFunction(_ step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let minLR = peak * minRatio
        let span = Swift.max(totalSteps - warmupSteps, 1)
        let progress = Swift.min(Float(step - warmupSteps) / Float(span), 1)
        return minLR + 0.5 * (peak - minLR) * (1 + Foundation.cos(Float.pi * progress))
    }
}

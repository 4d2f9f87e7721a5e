import Foundation

/// A training checkpoint in one safetensors file: the parameters under their own names, the optimiser state
/// under `optimizer.<state>.<name>`, and in the metadata the step, the optimiser kind and any extra strings
/// (config, seed). Saving then loading then training gives the same numbers as never stopping, as long as the
/// data order and dropout draws are functions of (seed, step) — see ``EpochShuffler``.
public struct Checkpoint {
    public var step: Int
    public var metadata: [String: String]

    /// Writes parameters, optimiser state and `step` to `url` (atomically, through a temporary file).
    public static func save(model: any Module, optimizer: any Optimizer, step: Int,
                            metadata: [String: String] = [:], to url: URL) throws {
        var tensors: [String: Tensor] = [:]
        for (name, p) in model.namedParameters() { tensors[name] = p.value }
        for (name, t) in optimizer.stateTensors() { tensors["optimizer.\(name)"] = t }
        var meta = metadata
        meta["step"] = String(step)
        meta["optimizer"] = optimizer.kind
        meta["format"] = "attend-checkpoint-1"
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        try Safetensors.write(tensors, metadata: meta, to: tmp)
        // One rename(2) replaces the previous checkpoint: killed at any point, the file is either the old
        // checkpoint or the new one (removing first left no checkpoint at all between the two calls).
        guard rename(tmp.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw SafetensorsError.writeFailed(file: url.path, reason: reason)
        }
    }

    /// Restores parameters and optimiser state from `url`, strictly: every parameter and state tensor present with
    /// its shape, the optimiser kind matching, and no unknown tensors.
    @discardableResult
    public static func load(from url: URL, model: any Module, optimizer: any Optimizer) throws -> Checkpoint {
        let file = try SafetensorsFile(url: url)
        let source = url.lastPathComponent
        guard let stepText = file.metadata["step"], let step = Int(stepText), step >= 0 else {
            throw ModelLoadingError.invalid(source, "metadata has no valid \"step\"")
        }
        if let kind = file.metadata["optimizer"], kind != optimizer.kind {
            throw ModelLoadingError.invalid(source, "optimizer state is \(kind), but training uses \(optimizer.kind)")
        }
        var params: [String: Tensor] = [:], state: [String: Tensor] = [:]
        for name in file.names {
            if name.hasPrefix("optimizer.") { state[String(name.dropFirst("optimizer.".count))] = try file.tensor(name) }
            else { params[name] = try file.tensor(name) }
        }
        let unused = try model.load(params, source: source)
        if !unused.isEmpty { throw WeightLoadingError.unused(source: source, tensors: Array(unused)) }
        try optimizer.loadState(state, stepCount: step)
        let expected = Set(optimizer.stateTensors().keys)
        let extra = Set(state.keys).subtracting(expected)
        if !extra.isEmpty { throw WeightLoadingError.unused(source: source, tensors: extra.map { "optimizer." + $0 }) }
        return Checkpoint(step: step, metadata: file.metadata)
    }
}

/// Errors from checkpoint and model files that are not about one tensor.
public enum ModelLoadingError: Error, CustomStringConvertible, Equatable {
    case invalid(String, String)
    public var description: String {
        switch self {
        case let .invalid(source, message): return "\(source): \(message)"
        }
    }
}

/// Seeded data order without state: epoch `e` visits the examples in a permutation drawn from `(seed, e)`,
/// and step `s` takes the `s`-th slice of `batchSize` examples of that endless stream. Because the order is a
/// pure function of (seed, step), a resumed run sees exactly the batches the uninterrupted run would have.
public struct EpochShuffler: Sendable {
    public let count: Int
    public let batchSize: Int
    public let seed: UInt64

    public init(count: Int, batchSize: Int, seed: UInt64) {
        self.count = Swift.max(count, 1)
        self.batchSize = Swift.max(batchSize, 1)
        self.seed = seed
    }

    /// The permutation of `0..<count` for `epoch` (Fisher–Yates with a SplitMix64 stream).
    public func permutation(epoch: Int) -> [Int] {
        var rng = Self.mixed(seed ^ 0x5851_F42D_4C95_7F2D, UInt64(epoch))
        var p = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                p.swapAt(i, j)
            }
        }
        return p
    }

    /// The example indices of step `step` (batches may straddle epochs).
    public func batch(step: Int) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(batchSize)
        var position = step * batchSize
        var cachedEpoch = -1
        var perm: [Int] = []
        while out.count < batchSize {
            let epoch = position / count
            if epoch != cachedEpoch { perm = permutation(epoch: epoch); cachedEpoch = epoch }
            out.append(perm[position % count])
            position += 1
        }
        return out
    }

    /// A generator for step-local randomness (dropout, generated data), a function of (seed, step) only.
    /// The pair is hashed into the generator's starting state: seeding with `seed + step·γ` would start each
    /// step's SplitMix64 stream one draw after the previous step's, so consecutive steps would see the same data.
    public func rng(step: Int) -> SeededRNG {
        Self.mixed(seed ^ 0xD1B5_4A32_D192_ED03, UInt64(step))
    }

    /// A generator whose state is a hash of `(a, b)`.
    static func mixed(_ a: UInt64, _ b: UInt64) -> SeededRNG {
        var h = SeededRNG(seed: a)
        var g = SeededRNG(seed: h.next() ^ b)
        return SeededRNG(seed: g.next())
    }
}

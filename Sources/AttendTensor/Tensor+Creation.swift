import Foundation

/// A small, fast, seedable random number generator (SplitMix64), so every random tensor is reproducible.
public struct SeededRNG: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Float in [0, 1).
    public mutating func nextUnit() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }

    /// A standard normal Float (Box–Muller).
    public mutating func nextNormal() -> Float {
        var u1 = Double(next() >> 11) * (1.0 / Double(1 << 53))
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(next() >> 11) * (1.0 / Double(1 << 53))
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}


extension Tensor {
    /// Values drawn from a normal distribution `N(mean, std²)` with a seeded generator.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout SeededRNG) -> Tensor {
        let shape = shape.map { Swift.max(0, $0) }
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = mean + std * rng.nextNormal() }
        return Tensor(uncheckedShape: shape, scalars: values)
    }

    /// Values drawn uniformly from `[low, high)` with a seeded generator.
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout SeededRNG) -> Tensor {
        let shape = shape.map { Swift.max(0, $0) }
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = low + (high - low) * rng.nextUnit() }
        return Tensor(uncheckedShape: shape, scalars: values)
    }

    /// `[0, 1, …, n-1]` as Float.
    public static func arange(_ n: Int) -> Tensor {
        Tensor(uncheckedShape: [Swift.max(0, n)], scalars: (0..<Swift.max(0, n)).map(Float.init))
    }
}

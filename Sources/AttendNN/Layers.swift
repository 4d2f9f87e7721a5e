/// The arithmetic inference runs its linear layers in.
public enum InferencePrecision: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Float32 weights and arithmetic: the reference results (PyTorch's fp32 to ~1e-6).
    case fp32
    /// Weights and activations rounded to bfloat16 for the products, accumulated in Float32. About twice
    /// the multiply rate where the CPU has AVX-512 BF16; sentence embeddings stay within cosine 0.999 of fp32.
    case bf16
    /// Weights quantized to int8 per output channel at load, activations per row on the fly, int8 products with
    /// exact int32 sums (four times the fp32 multiply rate with AVX-512 VNNI). Never the default: sentence
    /// embeddings stay within cosine 0.99 of fp32 (measured in BENCHMARKS.md), not at PyTorch's digits.
    case int8
    public var description: String { rawValue }
}

/// `y = x Wᵀ + b` with PyTorch's weight layout `[out, in]`.
public final class Linear: Module {
    public let weight: Parameter   // [out, in]
    public let bias: Parameter?    // [out]
    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// Kaiming-uniform-style initialisation like PyTorch's default: U(−1/√in, 1/√in).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout SeededRNG) {
        let bound = 1 / Float(Swift.max(inFeatures, 1)).squareRoot()
        weight = Parameter(.randomUniform([outFeatures, inFeatures], low: -bound, high: bound, rng: &rng))
        self.bias = bias ? Parameter(.randomUniform([outFeatures], low: -bound, high: bound, rng: &rng)) : nil
    }

    /// Zero-filled parameters, to be loaded from a checkpoint (skips the cost of random initialisation).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        weight = .zeros([outFeatures, inFeatures])
        self.bias = bias ? .zeros([outFeatures]) : nil
    }

    public var localParameters: [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// The weight packed once for inference by ``prepareForInference(precision:)``.
    private enum Packing {
        case fp32(PackedWeights)
        case bf16(BF16PackedWeight)
        case int8(Int8PackedWeight)
    }
    /// The packing and the weight version it was made from.
    private var packing: (weights: Packing, version: UInt64)?

    /// Packs the weight once for the GEMM, so inference skips re-packing it on every call: in fp32 (the default,
    /// same results) or rounded to bfloat16 (``InferencePrecision/bf16``: about twice the GEMM speed on CPUs
    /// with AVX-512 BF16, results within bf16 rounding). Costs a second copy of the weight (half size for bf16);
    /// a packing made stale by a later weight change is ignored, never used with old values.
    public func prepareForInference(precision: InferencePrecision = .fp32) throws {
        switch precision {
        case .fp32:
            let (n, k) = (outFeatures, inFeatures)
            packing = (.fp32(try weight.withUnsafeValues { try PackedWeights(values: $0, n: n, k: k) }), weight.version)
        case .bf16: packing = (.bf16(try BF16PackedWeight(weight: weight.value)), weight.version)
        case .int8: packing = (.int8(try Int8PackedWeight(weight: weight.value)), weight.version)
        }
    }

    /// Drops the packed copy: back to plain fp32 on the raw weights.
    public func dropInferencePacking() { packing = nil }

    /// The current packing, if any (nil once the weight changed).
    private var currentPacking: Packing? {
        guard let packing, packing.version == weight.version else { return nil }
        return packing.weights
    }

    /// The fp32 packing, if it is current.
    var packedWeight: PackedWeights? {
        if case .fp32(let p)? = currentPacking { return p }
        return nil
    }

    /// The precision inference runs at now.
    public var inferencePrecision: InferencePrecision {
        switch currentPacking {
        case .bf16?: return .bf16
        case .int8?: return .int8
        default: return .fp32
        }
    }

    /// `x`: `[..., in]` → `[..., out]`
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try callAsFunction(x, activation: .none)
    }

    /// `act(x Wᵀ + b)` with the activation fused into the GEMM epilogue.
    public func callAsFunction(_ x: Tensor, activation: FusedActivation) throws -> Tensor {
        guard x.shape.last == inFeatures else {
            throw TensorError.shapeMismatch(op: "Linear input", expected: "[..., \(inFeatures)]", actual: x.shape)
        }
        switch currentPacking {
        case .bf16(let w)?:
            return try Tensor.linearBF16(x, weight: w, bias: bias?.value, activation: activation)          // [..., out]
        case .int8(let w)?:
            return try Tensor.linearInt8(x, weight: w, bias: bias?.value, activation: activation)          // [..., out]
        case .fp32(let p)?:
            return try weight.withUnsafeValues {
                try Tensor.linear(x, weightValues: $0, weightShape: weight.shape, bias: bias?.value, activation: activation, packed: p)
            }
        case nil:
            return try weight.withUnsafeValues {
                try Tensor.linear(x, weightValues: $0, weightShape: weight.shape, bias: bias?.value, activation: activation)
            }
        }
    }
}

/// A lookup table from ids to vectors.
public final class Embedding: Module {
    public let weight: Parameter   // [count, dim]

    public init(_ count: Int, _ dim: Int, rng: inout SeededRNG) {
        weight = Parameter(.randomNormal([count, dim], rng: &rng))
    }

    /// A zero-filled table, to be loaded from a checkpoint.
    public init(_ count: Int, _ dim: Int) {
        weight = .zeros([count, dim])
    }

    public var localParameters: [(String, Parameter)] { [("weight", weight)] }
    public var count: Int { weight.shape[0] }
    public var dim: Int { weight.shape[1] }

    /// `ids`: `[B][T]` → `[B, T, dim]`. Every row must have the same length and every id be in range.
    public func callAsFunction(_ ids: [[Int]]) throws -> Tensor {
        let t = ids.first?.count ?? 0
        var out = [Float]()
        out.reserveCapacity(ids.count * t * dim)
        let (count, dim) = (count, dim)
        try weight.withUnsafeValues { table in   // read in place: a mapped table pages in only the rows used
            for (b, row) in ids.enumerated() {
                guard row.count == t else { throw TensorError.ragged("id row \(b) has \(row.count) ids, row 0 has \(t)") }
                for id in row {
                    guard id >= 0 && id < count else {
                        throw TensorError.invalidArgument(op: "Embedding", "id \(id) outside the table of \(count) rows")
                    }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: table[(id * dim)..<((id + 1) * dim)]))
                }
            }
        }
        return try Tensor(shape: [ids.count, t, dim], scalars: out)
    }
}

/// Layer normalisation over the last axis with learned `weight` (γ) and `bias` (β).
public final class LayerNorm: Module {
    public let weight: Parameter   // [dim]
    public let bias: Parameter     // [dim]
    public var eps: Float

    public init(_ dim: Int, eps: Float = 1e-5) {
        weight = Parameter(.ones([dim]))
        bias = Parameter(.zeros([dim]))
        self.eps = eps
    }

    public var localParameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.layerNorm(weight: weight.value, bias: bias.value, eps: eps)
    }

    /// `LayerNorm(x + residual)` in one pass.
    public func callAsFunction(_ x: Tensor, residual: Tensor) throws -> Tensor {
        try x.addingLayerNorm(residual, weight: weight.value, bias: bias.value, eps: eps)
    }
}

/// Inverted dropout: zeroes each element with probability `p` and scales the rest by `1/(1−p)`
/// while training; the identity at inference.
public struct Dropout {
    public var p: Float
    public init(_ p: Float) { self.p = p }

    public func callAsFunction(_ x: Tensor, training: Bool, rng: inout SeededRNG) -> Tensor {
        guard training, p > 0 else { return x }
        let keep = 1 - p
        var out = x
        for i in 0..<out.count { out.scalars[i] = rng.nextUnit() < p ? 0 : out.scalars[i] / keep }
        return out
    }
}

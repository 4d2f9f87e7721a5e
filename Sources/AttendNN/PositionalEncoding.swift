import Foundation

/// Position information for attention, which on its own is blind to order.
public enum PositionalEncoding {
    /// The sinusoidal table of Vaswani et al.: `PE[p, 2i] = sin(p / 10000^(2i/d))`, `PE[p, 2i+1] = cos(…)`.
    /// Returns `[length, dim]`.
    public static func sinusoidal(length: Int, dim: Int, base: Double = 10000) -> Tensor {
        var out = [Float](repeating: 0, count: Swift.max(length, 0) * Swift.max(dim, 0))
        for p in 0..<Swift.max(length, 0) {
            for i in stride(from: 0, to: dim, by: 2) {
                let angle = Double(p) / Foundation.pow(base, Double(i) / Double(dim))
                out[p * dim + i] = Float(Foundation.sin(angle))
                if i + 1 < dim { out[p * dim + i + 1] = Float(Foundation.cos(angle)) }
            }
        }
        return (try? Tensor(shape: [Swift.max(length, 0), Swift.max(dim, 0)], scalars: out)) ?? .zeros([0, 0])
    }

    /// Rotary position embedding (RoPE, Su et al. 2021) applied to `x`: `[B, H, T, d]`, `d` even.
    /// Position `offset + t` rotates each pair of features by the angle `(offset + t) · base^(−2i/d)`.
    /// `interleaved: false` pairs feature `i` with `i + d/2` (Hugging Face's `rotate_half`, LLaMA);
    /// `interleaved: true` pairs `2i` with `2i+1` (the paper, GPT-J).
    public static func rotary(_ x: Tensor, offset: Int = 0, base: Double = 10000, interleaved: Bool = false) throws -> Tensor {
        guard x.rank == 4 else { throw TensorError.shapeMismatch(op: "rotary", expected: "[batch, heads, seqLen, headDim]", actual: x.shape) }
        let (t, d) = (x.shape[2], x.shape[3])
        guard d % 2 == 0 else { throw TensorError.invalidArgument(op: "rotary", "head dim \(d) must be even") }
        let half = d / 2
        var cosT = [Float](repeating: 0, count: t * half), sinT = cosT
        for p in 0..<t {
            for i in 0..<half {
                let angle = Double(offset + p) * Foundation.pow(base, -2 * Double(i) / Double(d))
                cosT[p * half + i] = Float(Foundation.cos(angle))
                sinT[p * half + i] = Float(Foundation.sin(angle))
            }
        }
        var out = x.scalars
        let rows = x.count / Swift.max(d, 1)
        for r in 0..<rows {
            let p = r % t, base = r * d
            for i in 0..<half {
                let (a, b) = interleaved ? (base + 2 * i, base + 2 * i + 1) : (base + i, base + i + half)
                let (x1, x2) = (x.scalars[a], x.scalars[b])
                let (c, s) = (cosT[p * half + i], sinT[p * half + i])
                out[a] = x1 * c - x2 * s
                out[b] = x2 * c + x1 * s
            }
        }
        return try Tensor(shape: x.shape, scalars: out)
    }
}

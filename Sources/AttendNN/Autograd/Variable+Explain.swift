// Ops the explanation methods need: cosine similarity of rows, and attention written out op by op so that the
// attention weights are a point of the graph whose gradient can be read (Chefer et al.'s ∂y/∂A).
import Foundation

extension Variable {
    /// Cosine similarity of matching rows over the last axis: `[..., D]`, `[..., D]` → `[...]`
    /// (0 for a zero row, with zero gradient).
    ///
    ///     c = a·b / (‖a‖·‖b‖)
    ///     ∂c/∂a = b / (‖a‖‖b‖) − c · a / ‖a‖²        ∂c/∂b = a / (‖a‖‖b‖) − c · b / ‖b‖²
    ///
    /// Sums are accumulated in Double.
    public static func cosineSimilarity(_ a: Variable, _ b: Variable) throws -> Variable {
        guard a.shape == b.shape, let d = a.shape.last, d > 0 else {
            throw TensorError.shapeMismatch(op: "cosineSimilarity", expected: "\(a.shape) (equal shapes, last axis > 0)", actual: b.shape)
        }
        let rows = a.value.count / d
        let (av, bv) = (a.value.scalars, b.value.scalars)
        var c = [Float](repeating: 0, count: rows)
        var na = [Double](repeating: 0, count: rows), nb = na
        for r in 0..<rows {
            var dot = 0.0, sa = 0.0, sb = 0.0
            for k in 0..<d {
                let x = Double(av[r * d + k]), y = Double(bv[r * d + k])
                dot += x * y; sa += x * x; sb += y * y
            }
            (na[r], nb[r]) = (sa.squareRoot(), sb.squareRoot())
            c[r] = na[r] > 0 && nb[r] > 0 ? Float(dot / (na[r] * nb[r])) : 0
        }
        let out = try Tensor(shape: Array(a.shape.dropLast()), scalars: c)
        guard let tape = try Variable.tape(a, b) else { return Variable(out) }
        let (ia, ib) = (a.id, b.id)
        return tape.record(out) { g, tape in
            var da = [Float](repeating: 0, count: av.count), db = da
            for r in 0..<rows where na[r] > 0 && nb[r] > 0 {
                let inv = 1 / (na[r] * nb[r]), cr = Double(c[r]), gr = Double(g[r])
                for k in 0..<d {
                    let x = Double(av[r * d + k]), y = Double(bv[r * d + k])
                    da[r * d + k] = Float(gr * (y * inv - cr * x / (na[r] * na[r])))
                    db[r * d + k] = Float(gr * (x * inv - cr * y / (nb[r] * nb[r])))
                }
            }
            if ia >= 0 { tape.accumulate(ia, da) }
            if ib >= 0 { tape.accumulate(ib, db) }
        }
    }

    /// Attention with the weights as a node of the graph:
    ///
    ///     S = Q·Kᵀ · scale (+ additive mask)        [B, H, Lq, Lk]
    ///     A = softmax(S) + Z                        Z = 0 (or `offset`), a leaf of `tapOn` when given (so ∂y/∂A = ∂y/∂Z)
    ///     O = A · V                                 [B, H, Lq, d_v]
    ///
    /// The same maths as the fused ``attention(query:key:value:mask:isCausal:scale:returnWeights:)``, slower, for
    /// explanations. Query, key and value heads must be equal in number.
    /// - Parameters:
    ///   - query: `[B, H, Lq, d]`; key: `[B, H, Lk, d]`; value: `[B, H, Lk, d_v]`
    ///   - additiveMask: broadcastable to `[B, H, Lq, Lk]` (−∞ = may not attend), a constant
    ///   - tapOn: make `Z` a leaf of this tape (the tape of the tracked inputs, if any)
///   - offset: the value of `Z` (default zeros), broadcastable to the weights: finite-difference checks
///     perturb the weights through it
    /// - Returns: the output, the weights `[B, H, Lq, Lk]` and the tap `Z` (nil unless asked)
    public static func attentionExposingWeights(query: Variable, key: Variable, value: Variable, additiveMask: Tensor? = nil,
                                                scale: Float? = nil, tapOn tapTape: Tape?,
                                                offset: Tensor? = nil)
        throws -> (output: Variable, weights: Tensor, tap: Variable?) {
        guard query.rank == 4, key.rank == 4, value.rank == 4, query.shape[1] == key.shape[1], key.shape[1] == value.shape[1] else {
            throw TensorError.invalidArgument(op: "attentionExposingWeights",
                "expects query [B, H, Lq, d], key [B, H, Lk, d], value [B, H, Lk, d_v] with equal heads; got \(query.shape), \(key.shape), \(value.shape)")
        }
        let scale = scale ?? 1 / Float(query.shape[3]).squareRoot()
        var s = try Variable.matmul(query, key, transposeB: true) * scale      // [B, H, Lq, Lk]
        if let additiveMask { s = try s + Variable(additiveMask) }             // [B, H, Lq, Lk]
        var a = try s.softmax()                                                 // [B, H, Lq, Lk]
        let weights = a.value
        var tap: Variable? = nil
        if let tape = tapTape {
            let z = tape.variable(offset ?? .zeros(weights.shape))              // [B, H, Lq, Lk]
            a = try a + z
            tap = z
        } else if let offset {
            a = try a + Variable(offset)                                        // [B, H, Lq, Lk]
        }
        return (try Variable.matmul(a, value), weights, tap)                   // [B, H, Lq, d_v]
    }
}

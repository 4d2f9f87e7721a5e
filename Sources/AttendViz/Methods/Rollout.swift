// Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers", arXiv:2005.00928).
import AttendNN
import Foundation

public enum AttentionRollout {
    /// Attention rollout of self-attention layers:
    ///
    ///     R₀ = I
    ///     Â_l = ½ · mean_h A_l + ½ · I          (the residual connection counted as attention to oneself)
    ///     R_{l+1} = Â_l · R_l
    ///
    /// and the result is R after layer `upTo` (default: the last). Row `i` says how much of position `i`'s
    /// representation after that layer comes from each input position, under the assumption that information
    /// mixes linearly as the attention says; rows sum to 1 when the attention rows do. Computed in Double.
    /// - Parameters:
    ///   - layers: per layer `[heads, T, T]`, first layer first
    ///   - upTo: the last layer included (0-based), default `layers.count − 1`
    /// - Returns: `[T][T]`
    public static func compute(layers: [Tensor], upTo: Int? = nil) throws -> [[Double]] {
        let a = try squareAttentionLayers(layers, method: "rollout")
        let last = upTo ?? a.count - 1
        guard last >= 0, last < a.count else {
            throw ExplainMethodError.invalidInput("rollout: layer \(last) is out of range 0…\(a.count - 1)")
        }
        var r = identity(a[0][0].count)
        for l in 0...last { r = matmulSquare(residualAveraged(a[l]), r) }   // R ← Â_l · R
        return r
    }

    /// The rollout as a ``MethodResult`` over `tokens`.
    public static func result(layers: [Tensor], tokens: [String], upTo: Int? = nil) throws -> MethodResult {
        let r = try compute(layers: layers, upTo: upTo)
        guard tokens.count == r.count else {
            throw ExplainMethodError.invalidInput("rollout: \(tokens.count) tokens for a \(r.count)×\(r.count) attention")
        }
        let last = upTo ?? layers.count - 1
        return MethodResult(method: .rollout, matrix: toFloat(r), queryTokens: tokens, keyTokens: tokens, layer: last,
                            notes: ["R = Â_\(last)···Â_0 with Â = ½·mean over heads + ½·I; each row sums to 1"])
    }
}

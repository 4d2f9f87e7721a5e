// Gradient-weighted attention rollout (Chefer, Gur & Wolf 2021, "Generic Attention-model Explainability for
// Interpreting Bi-Modal and Encoder-Decoder Transformers", arXiv:2103.15679, rule for self-attention).
import AttendNN
import Foundation

public enum GradAttention {
    /// Chefer et al.'s relevancy for self-attention:
    ///
    ///     R = I
    ///     for each layer l, first to last:
    ///         Ā_l = mean_h (∂y/∂A_l ⊙ A_l)⁺            (⁺: negative entries set to 0, per head, before the mean)
    ///         R ← R + Ā_l · R
    ///
    /// where A_l are the attention weights and ∂y/∂A_l the gradient of a scalar output y with respect to them
    /// (cosine similarity to a target sentence, or the log-probability of a target token). Row `i` of R says
    /// which input tokens are relevant to position `i` for y, keeping only attention that increased y.
    /// Rows do not sum to 1 (each starts at 1 on the diagonal and only grows). Computed in Double.
    /// - Parameters:
    ///   - attentions, gradients: per layer `[heads, T, T]`, first layer first, same shapes
    ///   - upTo: the last layer included (default the last)
    /// - Returns: `[T][T]`
    public static func relevance(attentions: [Tensor], gradients: [Tensor], upTo: Int? = nil) throws -> [[Double]] {
        let a = try squareAttentionLayers(attentions, method: "grad-attention")
        let g = try squareAttentionLayers(gradients, method: "grad-attention gradients")
        guard a.count == g.count, zip(attentions, gradients).allSatisfy({ $0.shape == $1.shape }) else {
            throw ExplainMethodError.invalidInput("grad-attention: \(a.count) attention layers but \(g.count) gradients of other shapes")
        }
        let last = upTo ?? a.count - 1
        guard last >= 0, last < a.count else {
            throw ExplainMethodError.invalidInput("grad-attention: layer \(last) is out of range 0…\(a.count - 1)")
        }
        let t = a[0][0].count
        var r = identity(t)
        for l in 0...last {
            let heads = Double(a[l].count)
            var bar = [[Double]](repeating: [Double](repeating: 0, count: t), count: t)
            for h in a[l].indices { for i in 0..<t { for j in 0..<t { bar[i][j] += max(0, g[l][h][i][j] * a[l][h][i][j]) } } }
            for i in 0..<t { for j in 0..<t { bar[i][j] /= heads } }
            let step = matmulSquare(bar, r)
            for i in 0..<t { for j in 0..<t { r[i][j] += step[i][j] } }
        }
        return r
    }
}

// Value-weighted attention, "attention is not only a weight" (Kobayashi, Kuribayashi, Yokoi & Inui 2020,
// arXiv:2004.10102): a large weight on a small transformed value moves the output little.
import AttendNN
import Foundation

public enum ValueNorm {
    /// Per head and for the whole layer:
    ///
    ///     f^h(x) = (x · W_V^hᵀ + b_V^h) · W_O^hᵀ        W_V^h: the rows of the value projection that make head h,
    ///                                                   W_O^h: the columns of the output projection that read head h
    ///     N^h_ij = ‖α^h_ij · f^h(x_j)‖₂                  (the output bias is excluded: it moves every token alike)
    ///     N_ij   = ‖Σ_h α^h_ij · f^h(x_j)‖₂              (the whole layer: heads can cancel)
    ///
    /// Weights are in PyTorch's `[out, in]` layout. With grouped key/value heads, head `h` reads value head
    /// `h / (H / H_kv)`. Computed in Double.
    /// - Parameters:
    ///   - weights: `[H, Lq, Lk]` attention weights α
    ///   - input: `[Lk, D_in]`, the vectors the value projection reads (BERT: the layer's input hidden states;
    ///     a pre-norm model: the normalised ones)
    ///   - valueWeight: `[H_kv·d, D_in]`; valueBias: `[H_kv·d]` or nil
    ///   - outputWeight: `[D_out, H·d]`
    /// - Returns: `perHead` `[H][Lq][Lk]` and `layer` `[Lq][Lk]`
    public static func compute(weights: Tensor, input: Tensor, valueWeight: Tensor, valueBias: Tensor?,
                               outputWeight: Tensor) throws -> (perHead: [[[Double]]], layer: [[Double]]) {
        guard weights.rank == 3 else { throw ExplainMethodError.invalidInput("value-norm: weights must be [heads, Lq, Lk], got \(weights.shape)") }
        let (h, lq, lk) = (weights.shape[0], weights.shape[1], weights.shape[2])
        guard input.rank == 2, input.shape[0] == lk else {
            throw ExplainMethodError.invalidInput("value-norm: input must be [\(lk), D] (one row per key), got \(input.shape)")
        }
        let dIn = input.shape[1]
        guard outputWeight.rank == 2, h > 0, outputWeight.shape[1] % h == 0 else {
            throw ExplainMethodError.invalidInput("value-norm: output projection must be [D_out, heads·d] with \(h) heads, got \(outputWeight.shape)")
        }
        let d = outputWeight.shape[1] / h, dOut = outputWeight.shape[0]
        guard valueWeight.rank == 2, valueWeight.shape[1] == dIn, valueWeight.shape[0] % d == 0,
              valueWeight.shape[0] / d > 0, h % (valueWeight.shape[0] / d) == 0 else {
            throw ExplainMethodError.invalidInput("value-norm: value projection must be [kvHeads·\(d), \(dIn)] with kvHeads dividing \(h), got \(valueWeight.shape)")
        }
        let dv = valueWeight.shape[0], group = h / (dv / d)
        if let valueBias, valueBias.shape != [dv] {
            throw ExplainMethodError.invalidInput("value-norm: value bias must be [\(dv)], got \(valueBias.shape)")
        }
        let x = input.scalars, wv = valueWeight.scalars, bv = valueBias?.scalars, wo = outputWeight.scalars
        let a = weights.scalars
        // v = x · W_Vᵀ + b_V: [Lk, dv]
        var v = [Double](repeating: 0, count: lk * dv)
        for j in 0..<lk {
            for o in 0..<dv {
                var s = Double(bv?[o] ?? 0)
                for k in 0..<dIn { s += Double(x[j * dIn + k]) * Double(wv[o * dIn + k]) }
                v[j * dv + o] = s
            }
        }
        // f^h(x_j) = v_j^{h'} · W_O^hᵀ: [H][Lk][D_out]
        var f = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: dOut), count: lk), count: h)
        for hi in 0..<h {
            let vh = (hi / group) * d
            for j in 0..<lk {
                for o in 0..<dOut {
                    var s = 0.0
                    for k in 0..<d { s += v[j * dv + vh + k] * Double(wo[o * h * d + hi * d + k]) }
                    f[hi][j][o] = s
                }
            }
        }
        let fNorm = f.map { $0.map { ($0.reduce(0) { $0 + $1 * $1 }).squareRoot() } }   // [H][Lk]
        var perHead = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: lk), count: lq), count: h)
        var layer = [[Double]](repeating: [Double](repeating: 0, count: lk), count: lq)
        var sum = [Double](repeating: 0, count: dOut)
        for i in 0..<lq {
            for j in 0..<lk {
                for o in 0..<dOut { sum[o] = 0 }
                for hi in 0..<h {
                    let alpha = Double(a[(hi * lq + i) * lk + j])
                    perHead[hi][i][j] = abs(alpha) * fNorm[hi][j]
                    if alpha != 0 { for o in 0..<dOut { sum[o] += alpha * f[hi][j][o] } }
                }
                layer[i][j] = (sum.reduce(0) { $0 + $1 * $1 }).squareRoot()
            }
        }
        return (perHead, layer)
    }

    /// Value-norm of a ``MultiHeadAttention`` module (its `vProj` and `outProj` weights).
    public static func compute(weights: Tensor, input: Tensor, attention: MultiHeadAttention) throws -> (perHead: [[[Double]]], layer: [[Double]]) {
        try compute(weights: weights, input: input, valueWeight: attention.vProj.weight.value,
                    valueBias: attention.vProj.bias?.value, outputWeight: attention.outProj.weight.value)
    }

    /// As a ``MethodResult``: head `head`'s ‖α·f(x)‖, or the whole layer's when `head` is nil.
    public static func result(weights: Tensor, input: Tensor, attention: MultiHeadAttention, layer: Int, head: Int?,
                              queryTokens: [String], keyTokens: [String]) throws -> MethodResult {
        try result(compute(weights: weights, input: input, attention: attention), layer: layer, head: head,
                   queryTokens: queryTokens, keyTokens: keyTokens)
    }

    /// ``compute(weights:input:valueWeight:valueBias:outputWeight:)``'s numbers as a ``MethodResult``.
    static func result(_ n: (perHead: [[[Double]]], layer: [[Double]]), layer: Int, head: Int?,
                       queryTokens: [String], keyTokens: [String], label: String? = nil) throws -> MethodResult {
        guard queryTokens.count == n.layer.count, keyTokens.count == (n.layer.first?.count ?? 0) else {
            throw ExplainMethodError.invalidInput("value-norm: \(queryTokens.count)×\(keyTokens.count) tokens for a \(n.layer.count)×\(n.layer.first?.count ?? 0) attention")
        }
        if let head {
            guard head >= 0, head < n.perHead.count else {
                throw ExplainMethodError.invalidInput("value-norm: head \(head) is out of range 0…\(n.perHead.count - 1)")
            }
            return MethodResult(method: .valueNorm, matrix: toFloat(n.perHead[head]), queryTokens: queryTokens,
                                keyTokens: keyTokens, layer: layer, head: head,
                                notes: ["‖α·f(x_j)‖ with f(x) = (x·W_V + b_V)·W_O of head \(head) (output bias excluded); rows do not sum to 1"])
        }
        return MethodResult(method: .valueNorm, matrix: toFloat(n.layer), queryTokens: queryTokens, keyTokens: keyTokens,
                            layer: layer, notes: ["‖Σ_h α^h·f^h(x_j)‖ over all heads of \(label ?? "layer \(layer)") (output bias excluded); rows do not sum to 1"])
    }
}

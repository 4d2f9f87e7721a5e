import Foundation

/// Every intermediate of one attention computation, as the tutorials write it out.
public struct AttentionTrace: Sendable {
    /// `Q Kᵀ` before scaling: `[B, H, Lq, Lk]`
    public var scores: Tensor
    /// `Q Kᵀ · scale`: `[B, H, Lq, Lk]`
    public var scaledScores: Tensor
    /// The scaled scores with the mask applied (additive values added, masked entries −∞): `[B, H, Lq, Lk]`
    public var maskedScores: Tensor
    /// softmax rows: `[B, H, Lq, Lk]`
    public var weights: Tensor
    /// `weights · V`: `[B, H, Lq, d_v]`
    public var output: Tensor
    /// The scale that was used.
    public var scale: Float
}

/// The plain reference twin of ``scaledDotProductAttention(query:key:value:mask:isCausal:causalKeyOffset:scale:returnWeights:)``:
/// nested loops accumulated in Double, returning every intermediate. It is the specification and the test oracle,
/// and what `attend attention` prints.
public func referenceAttention(
    query: Tensor, key: Tensor, value: Tensor, mask: AttentionMask? = nil,
    isCausal: Bool = false, causalKeyOffset: Int = 0, scale: Float? = nil
) throws -> AttentionTrace {
    let g = try AttentionGeometry(query: query, key: key, value: value, mask: mask)
    let scale = scale ?? 1 / Float(g.dk).squareRoot()
    let maskValues = try g.expandedMask(mask)
    let isBoolean: Bool
    if case .boolean = mask { isBoolean = true } else { isBoolean = false }
    let n = g.b * g.h * g.lq * g.lk
    var scores = [Float](repeating: 0, count: n)
    var scaled = [Float](repeating: 0, count: n)
    var masked = [Float](repeating: 0, count: n)
    var weights = [Float](repeating: 0, count: n)
    var output = [Float](repeating: 0, count: g.b * g.h * g.lq * g.dv)
    let q = query.scalars, k = key.scalars, v = value.scalars

    for bi in 0..<g.b {
        for hi in 0..<g.h {
            let bh = bi * g.h + hi
            let kvh = bi * g.hkv + hi / g.group
            for i in 0..<g.lq {
                var row = [Double](repeating: 0, count: g.lk)
                for j in 0..<g.lk {
                    var dot = 0.0
                    for d in 0..<g.dk {
                        dot += Double(q[(bh * g.lq + i) * g.dk + d]) * Double(k[(kvh * g.lk + j) * g.dk + d])
                    }
                    var s = dot * Double(scale)
                    scaled[(bh * g.lq + i) * g.lk + j] = Float(s)
                    if let maskValues {
                        let mv = maskValues[g.maskOffset(batch: bi, head: hi) + i * g.lk + j]
                        if isBoolean { if mv == 0 { s = -.infinity } } else { s += Double(mv) }
                    }
                    if isCausal && j > causalKeyOffset + i { s = -.infinity }
                    scores[(bh * g.lq + i) * g.lk + j] = Float(dot)
                    masked[(bh * g.lq + i) * g.lk + j] = Float(s)
                    row[j] = s
                }
                let m = row.max() ?? -.infinity
                guard m > -.infinity else { continue }  // fully masked row: zero weights, zero output
                let e = row.map { Foundation.exp($0 - m) }
                let sum = e.reduce(0, +)
                for d in 0..<g.dv {
                    var acc = 0.0
                    for j in 0..<g.lk { acc += e[j] / sum * Double(v[(kvh * g.lk + j) * g.dv + d]) }
                    output[(bh * g.lq + i) * g.dv + d] = Float(acc)
                }
                for j in 0..<g.lk { weights[(bh * g.lq + i) * g.lk + j] = Float(e[j] / sum) }
            }
        }
    }
    let wShape = [g.b, g.h, g.lq, g.lk]
    return AttentionTrace(
        scores: try Tensor(shape: wShape, scalars: scores),
        scaledScores: try Tensor(shape: wShape, scalars: scaled),
        maskedScores: try Tensor(shape: wShape, scalars: masked),
        weights: try Tensor(shape: wShape, scalars: weights),
        output: try Tensor(shape: [g.b, g.h, g.lq, g.dv], scalars: output),
        scale: scale)
}

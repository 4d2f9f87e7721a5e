// The explanation methods beyond raw attention, and the one result shape they share.
//
// Every method works on plain inputs (per-layer attention matrices `[heads, Lq, Lk]`, a layer's weights, hidden
// states, gradients), so it does not depend on how a model run was captured. See docs/EXPLAINING.md for what
// each one shows and what it does not.
import AttendNN
import Foundation

/// How `attend explain` turns a model run into one token × token matrix.
public enum ExplainMethod: String, Sendable, CaseIterable, Codable {
    /// The softmax weights of one head (today's view).
    case raw
    /// Attention rollout (Abnar & Zuidema 2020): products of the head-averaged, residual-augmented matrices.
    case rollout
    /// Attention flow (Abnar & Zuidema 2020): maximum flow through the layered graph of those matrices.
    case flow
    /// ‖α·f(x)‖ (Kobayashi et al. 2020): how far each weighted value vector moves the output.
    case valueNorm = "value-norm"
    /// Gradient-weighted attention rollout (Chefer et al. 2021).
    case gradAttention = "grad-attention"
}

/// A token × token matrix produced by one method, with what it means.
public struct MethodResult: Sendable {
    public var method: ExplainMethod
    /// `[query][key]`: row `i` says how much output position `i` draws on input position `j`.
    public var matrix: [[Float]]
    public var queryTokens: [String]
    public var keyTokens: [String]
    /// The layer the matrix is read after (rollout, flow, grad-attention: the last layer included), or of (raw, value-norm).
    public var layer: Int?
    /// The head, when the matrix is one head's (raw, value-norm per head); nil for the whole layer / model.
    public var head: Int?
    /// What the gradient was taken of (grad-attention), e.g. `cosine to "a cat sat"`.
    public var target: String?
    /// Extra facts worth printing (e.g. "rows sum to 1"), in order.
    public var notes: [String]

    public init(method: ExplainMethod, matrix: [[Float]], queryTokens: [String], keyTokens: [String],
                layer: Int? = nil, head: Int? = nil, target: String? = nil, notes: [String] = []) {
        self.method = method
        self.matrix = matrix
        self.queryTokens = queryTokens
        self.keyTokens = keyTokens
        self.layer = layer
        self.head = head
        self.target = target
        self.notes = notes
    }

    /// `{"method", "matrix", "query_tokens", "key_tokens"}` plus `"layer"`, `"head"`, `"target"` when set.
    public var json: JSONValue {
        var o: JSONObject = [
            ("method", .string(method.rawValue)),
            ("matrix", .array(matrix.map { .array($0.map { .float($0) }) })),
            ("query_tokens", .array(queryTokens.map { .string($0) })),
            ("key_tokens", .array(keyTokens.map { .string($0) })),
        ]
        if let layer { o.append(("layer", .int(layer))) }
        if let head { o.append(("head", .int(head))) }
        if let target { o.append(("target", .string(target))) }
        if !notes.isEmpty { o.append(("notes", .array(notes.map { .string($0) }))) }
        return .object(o)
    }
}

/// Errors of the explanation methods: each names what was wrong, expected against actual.
public enum ExplainMethodError: Error, CustomStringConvertible, Equatable {
    case invalidInput(String)
    case tooLarge(method: String, what: String, limit: String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .invalidInput(let m): return m
        case let .tooLarge(method, what, limit): return "\(method) refuses \(what): \(limit)"
        case .unsupported(let m): return m
        }
    }
}

/// Checks a list of per-layer attention tensors `[H, T, T]` (square, same T, at least one head) and returns
/// them as Double arrays `[layer][head][i][j]`.
func squareAttentionLayers(_ layers: [Tensor], method: String) throws -> [[[[Double]]]] {
    guard let first = layers.first else { throw ExplainMethodError.invalidInput("\(method) needs at least one layer of attention") }
    guard first.rank == 3, first.shape[0] > 0, first.shape[1] == first.shape[2] else {
        throw ExplainMethodError.invalidInput("\(method): layer 0 attention must be [heads, T, T] (self-attention), got \(first.shape)")
    }
    let t = first.shape[1]
    return try layers.enumerated().map { l, a in
        guard a.rank == 3, a.shape[0] > 0, a.shape[1] == t, a.shape[2] == t else {
            throw ExplainMethodError.invalidInput("\(method): layer \(l) attention must be [heads, \(t), \(t)] like layer 0, got \(a.shape)")
        }
        let s = a.scalars
        return (0..<a.shape[0]).map { h in (0..<t).map { i in (0..<t).map { j in Double(s[(h * t + i) * t + j]) } } }
    }
}

/// `Â = ½·mean_h A + ½·I` of one layer `[H][T][T]` → `[T][T]` (rows sum to 1 when A's rows do).
func residualAveraged(_ heads: [[[Double]]]) -> [[Double]] {
    let t = heads[0].count, hCount = Double(heads.count)
    var m = [[Double]](repeating: [Double](repeating: 0, count: t), count: t)
    for head in heads { for i in 0..<t { for j in 0..<t { m[i][j] += head[i][j] } } }
    for i in 0..<t { for j in 0..<t { m[i][j] = 0.5 * m[i][j] / hCount + (i == j ? 0.5 : 0) } }
    return m
}

/// `a · b` for square Double matrices.
func matmulSquare(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
    let n = a.count
    var c = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n { for k in 0..<n where a[i][k] != 0 { let aik = a[i][k]; for j in 0..<n { c[i][j] += aik * b[k][j] } } }
    return c
}

func identity(_ n: Int) -> [[Double]] { (0..<n).map { i in (0..<n).map { $0 == i ? 1 : 0 } } }

func toFloat(_ m: [[Double]]) -> [[Float]] { m.map { $0.map { Float($0) } } }

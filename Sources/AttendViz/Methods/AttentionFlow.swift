// Attention flow (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers", arXiv:2005.00928):
// attention read as capacities of a layered graph, and the maximum flow from each input to each output.
import AttendNN
import Foundation

public enum AttentionFlow {
    /// The largest sentence flow accepts by default: T² max-flow problems on a graph of (L+1)·T nodes and
    /// L·T² edges each, so the work grows as T⁴·L.
    public static let defaultMaxTokens = 40

    /// Attention flow:
    ///
    ///     Â_l = ½ · mean_h A_l + ½ · I                     (as in rollout)
    ///     graph: node (l, j) for layer l = 0…L+1 and token j; edge (l, j) → (l+1, i) with capacity Â_l[i][j]
    ///     F[i][j] = max flow from input node (0, j) to output node (L+1, i)
    ///
    /// computed exactly (Dinic's algorithm, in Double) for every pair. Unlike rollout, which multiplies the
    /// matrices (every path counts, weighted by the product of its edges), flow is limited by the narrowest
    /// edges along the paths, so a single strong path cannot carry more than its weakest layer. Rows do not sum to 1.
    /// - Parameters:
    ///   - layers: per layer `[heads, T, T]`; `upTo`: the last layer included (default the last)
    ///   - maxTokens: refuse longer sentences (the cost grows as T⁴·L)
    /// - Returns: `[T][T]`, row = output token, column = input token
    public static func compute(layers: [Tensor], upTo: Int? = nil, maxTokens: Int = defaultMaxTokens) throws -> [[Double]] {
        let a = try squareAttentionLayers(layers, method: "flow")
        let last = upTo ?? a.count - 1
        guard last >= 0, last < a.count else {
            throw ExplainMethodError.invalidInput("flow: layer \(last) is out of range 0…\(a.count - 1)")
        }
        let t = a[0][0].count
        guard t <= maxTokens else {
            throw ExplainMethodError.tooLarge(method: "attention flow", what: "a sentence of \(t) tokens",
                limit: "at most \(maxTokens) tokens (it solves T² exact max-flow problems, whose cost grows as T⁴·layers); use --method rollout")
        }
        let capacities = (0...last).map { residualAveraged(a[$0]) }
        return maxFlows(capacities: capacities)
    }

    /// `F[i][j]` = max flow from input `j` to output `i` through the layered graph whose layer `l` has edges
    /// `j → i` of capacity `capacities[l][i][j]` (no residual or averaging applied here).
    public static func maxFlows(capacities: [[[Double]]]) -> [[Double]] {
        let t = capacities.first?.count ?? 0
        var graph = FlowGraph(nodes: (capacities.count + 1) * t)
        for (l, c) in capacities.enumerated() {
            for i in 0..<t { for j in 0..<t where c[i][j] > 0 { graph.addEdge(l * t + j, (l + 1) * t + i, c[i][j]) } }
        }
        let top = capacities.count * t
        return (0..<t).map { i in (0..<t).map { j in graph.maxFlow(from: j, to: top + i) } }
    }

    /// Attention flow as a ``MethodResult`` over `tokens`.
    public static func result(layers: [Tensor], tokens: [String], upTo: Int? = nil,
                              maxTokens: Int = defaultMaxTokens) throws -> MethodResult {
        let f = try compute(layers: layers, upTo: upTo, maxTokens: maxTokens)
        guard tokens.count == f.count else {
            throw ExplainMethodError.invalidInput("flow: \(tokens.count) tokens for a \(f.count)×\(f.count) attention")
        }
        let last = upTo ?? layers.count - 1
        return MethodResult(method: .flow, matrix: toFloat(f), queryTokens: tokens, keyTokens: tokens, layer: last,
                            notes: ["max flow from each input token (column) to each output token (row) after layer \(last), through Â = ½·mean over heads + ½·I; rows need not sum to 1"])
    }
}

/// A directed graph with Double capacities and Dinic's maximum flow (BFS levels, blocking flows by DFS).
/// Capacities are restored after each ``maxFlow(from:to:)``, so one graph answers many source/sink pairs.
public struct FlowGraph {
    private var head: [Int]           // by node: first edge index, −1 = none
    private var next: [Int] = []      // by edge
    private var to: [Int] = []
    private var capacity: [Double] = []
    private static let eps = 1e-13

    public init(nodes: Int) { head = [Int](repeating: -1, count: nodes) }

    public var nodeCount: Int { head.count }

    /// Adds `u → v` with `capacity` (and its zero-capacity reverse edge).
    public mutating func addEdge(_ u: Int, _ v: Int, _ c: Double) {
        for (a, b, cap) in [(u, v, c), (v, u, 0.0)] {
            to.append(b); capacity.append(cap); next.append(head[a]); head[a] = to.count - 1
        }
    }

    /// The value of a maximum flow from `s` to `t` (0 when `s == t` or either is out of range).
    public mutating func maxFlow(from s: Int, to t: Int) -> Double {
        guard s != t, s >= 0, t >= 0, s < head.count, t < head.count else { return 0 }
        let saved = capacity
        defer { capacity = saved }
        var total = 0.0
        var level = [Int](repeating: -1, count: head.count)
        var iter = head
        while true {
            // BFS: levels in the residual graph.
            for k in level.indices { level[k] = -1 }
            level[s] = 0
            var queue = [s], qi = 0
            while qi < queue.count {
                let u = queue[qi]; qi += 1
                var e = head[u]
                while e >= 0 {
                    if capacity[e] > Self.eps && level[to[e]] < 0 { level[to[e]] = level[u] + 1; queue.append(to[e]) }
                    e = next[e]
                }
            }
            if level[t] < 0 { return total }
            iter = head
            while true {
                let pushed = push(s, t, .infinity, &level, &iter)
                if pushed <= Self.eps { break }
                total += pushed
            }
        }
    }

    private mutating func push(_ u: Int, _ t: Int, _ limit: Double, _ level: inout [Int], _ iter: inout [Int]) -> Double {
        if u == t { return limit }
        while iter[u] >= 0 {
            let e = iter[u], v = to[e]
            if capacity[e] > Self.eps && level[v] == level[u] + 1 {
                let d = push(v, t, min(limit, capacity[e]), &level, &iter)
                if d > Self.eps {
                    capacity[e] -= d
                    capacity[e ^ 1] += d
                    return d
                }
            }
            iter[u] = next[e]
        }
        return 0
    }
}

// Hierarchical Navigable Small World graphs (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor
// search using Hierarchical Navigable Small World graphs", 2016/2018): Algorithms 1, 2, 4 and 5 of the paper, on
// inner-product similarity (cosine for unit vectors). Each node gets a level drawn as ⌊−ln U · 1/ln M⌋; level 0 links
// up to 2M neighbours, higher levels up to M; neighbours are chosen with the paper's heuristic (a candidate is kept
// only when it is closer to the new node than to every neighbour kept so far), topped up with the closest pruned ones.
//
// Deterministic: nodes are inserted in row order, levels come from a SplitMix64 stream seeded by `seed`, and ties
// are broken by the lower row; the same vectors and parameters give the same graph bytes.
//
// Serialized (inside a corpus index's "graph" section), little-endian UInt32s: for each node, its level L, then for
// each level 0…L the neighbour count and the neighbours' rows.
import AttendTensor
import Foundation

/// HNSW construction and search parameters.
public struct HNSWParameters: Sendable, Equatable {
    /// Links per node on the upper levels (2M on level 0).
    public var m = 16
    /// Candidate list size while inserting.
    public var efConstruction = 100
    public var seed: UInt64 = 1
    public init(m: Int = 16, efConstruction: Int = 100, seed: UInt64 = 1) {
        self.m = m
        self.efConstruction = efConstruction
        self.seed = seed
    }

    public func validate() throws {
        guard m >= 2, m <= 256 else { throw SearchError("HNSW M must be in 2…256, got \(m)") }
        guard efConstruction >= 1 else { throw SearchError("HNSW efConstruction must be at least 1, got \(efConstruction)") }
    }
}

/// An HNSW graph over `count` rows whose vectors live elsewhere (a corpus index, or an array while building).
public struct HNSWGraph: Sendable {
    public let parameters: HNSWParameters
    public private(set) var entry: Int32 = -1
    public private(set) var maxLevel = -1
    /// links[node][level] = neighbours' rows.
    private var links: [[[Int32]]]

    public var count: Int { links.count }

    /// Builds the graph of `count` rows of `dimension` floats at `vectors` (row-major).
    public init(vectors: UnsafePointer<Float>, count: Int, dimension: Int, parameters: HNSWParameters,
                progress: ((Int) -> Void)? = nil) throws {
        try parameters.validate()
        self.parameters = parameters
        links = []
        links.reserveCapacity(count)
        var rng = SplitMix64(seed: parameters.seed)
        let mL = 1 / Foundation.log(Double(parameters.m))
        var visited = VisitedSet(count: count)
        let sim: (Int32, UnsafePointer<Float>) -> Float = { row, q in dot(vectors + Int(row) * dimension, q, dimension) }
        for i in 0..<count {
            let u = max(rng.nextUnit(), 1e-12)
            let level = min(Int(-Foundation.log(u) * mL), 16)
            links.append([[Int32]](repeating: [], count: level + 1))
            insert(Int32(i), level: level, query: vectors + i * dimension, visited: &visited, sim: sim,
                   neighborSim: { a, b in dot(vectors + Int(a) * dimension, vectors + Int(b) * dimension, dimension) })
            if i % 1000 == 999 { progress?(i + 1) }
        }
        progress?(count)
    }

    private mutating func insert(_ node: Int32, level: Int, query: UnsafePointer<Float>, visited: inout VisitedSet,
                                 sim: (Int32, UnsafePointer<Float>) -> Float, neighborSim: (Int32, Int32) -> Float) {
        guard entry >= 0 else { entry = node; maxLevel = level; return }
        var eps = [SearchHit(index: Int(entry), score: sim(entry, query))]
        var lc = maxLevel
        while lc > level {
            eps = searchLayer(query, entries: eps, ef: 1, level: lc, visited: &visited, sim: sim)
            lc -= 1
        }
        for l in stride(from: min(level, maxLevel), through: 0, by: -1) {
            let candidates = searchLayer(query, entries: eps, ef: parameters.efConstruction, level: l, visited: &visited, sim: sim)
            let chosen = selectNeighbors(candidates, max: parameters.m, neighborSim: neighborSim)
            links[Int(node)][l] = chosen.map { Int32($0.index) }
            let limit = l == 0 ? 2 * parameters.m : parameters.m
            for n in chosen {
                let ni = n.index
                links[ni][l].append(node)
                if links[ni][l].count > limit {
                    let nodeRow = Int32(ni)
                    let scored = links[ni][l].map { SearchHit(index: Int($0), score: neighborSim(nodeRow, $0)) }
                        .sorted { TopK.worse($1, $0) }
                    links[ni][l] = selectNeighbors(scored, max: limit, neighborSim: neighborSim).map { Int32($0.index) }
                }
            }
            eps = candidates
        }
        if level > maxLevel { maxLevel = level; entry = node }
    }

    /// The paper's neighbour heuristic over candidates sorted best first.
    private func selectNeighbors(_ candidates: [SearchHit], max m: Int, neighborSim: (Int32, Int32) -> Float) -> [SearchHit] {
        var kept: [SearchHit] = []
        var pruned: [SearchHit] = []
        for c in candidates {
            if kept.count >= m { break }
            if kept.allSatisfy({ neighborSim(Int32(c.index), Int32($0.index)) < c.score }) { kept.append(c) } else { pruned.append(c) }
        }
        for p in pruned where kept.count < m { kept.append(p) }
        return kept
    }

    /// Algorithm 2: the `ef` nearest found from `entries` on one level, best first.
    private func searchLayer(_ query: UnsafePointer<Float>, entries: [SearchHit], ef: Int, level: Int, visited: inout VisitedSet,
                             sim: (Int32, UnsafePointer<Float>) -> Float) -> [SearchHit] {
        visited.clear()
        var candidates = TopK(k: Int.max)       // used as a max-heap through negated scores
        var results = TopK(k: ef)
        for e in entries {
            visited.insert(e.index)
            candidates.offer(-e.score, e.index)
            results.offer(e.score, e.index)
        }
        while let c = candidates.popWorst() {
            let cScore = -c.score
            if results.items.count >= ef, let worst = results.items.first, cScore < worst.score { break }
            for n in links[c.index].count > level ? links[c.index][level] : [] {
                let ni = Int(n)
                if visited.contains(ni) { continue }
                visited.insert(ni)
                let s = sim(n, query)
                if results.items.count < ef || s > results.items[0].score {
                    candidates.offer(-s, ni)
                    results.offer(s, ni)
                }
            }
        }
        return results.sorted()
    }

    /// Approximate top-k: greedy descent through the upper levels, then a beam of `ef` (≥ k) on level 0.
    /// `sim(row, query)` is the inner product of a stored row with the query.
    public func search(_ query: UnsafePointer<Float>, k: Int, ef: Int, sim: (Int32, UnsafePointer<Float>) -> Float) -> [SearchHit] {
        guard entry >= 0 else { return [] }
        var visited = VisitedSet(count: count)
        var eps = [SearchHit(index: Int(entry), score: sim(entry, query))]
        var l = maxLevel
        while l > 0 {
            eps = searchLayer(query, entries: eps, ef: 1, level: l, visited: &visited, sim: sim)
            l -= 1
        }
        return Array(searchLayer(query, entries: eps, ef: max(ef, k), level: 0, visited: &visited, sim: sim).prefix(k))
    }

    /// The graph's bytes (see the file's header).
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { out.append(contentsOf: $0) } }
        for node in links {
            u32(node.count - 1)
            for level in node { u32(level.count); for n in level { u32(Int(n)) } }
        }
        return out
    }

    /// Reads ``serialized()`` bytes of a `count`-node graph, checking every count and row.
    public init(serialized bytes: UnsafeRawBufferPointer, count: Int, parameters json: JSONValue, source: String) throws {
        func fail(_ why: String) -> SearchError { SearchError("\(source): invalid HNSW graph: \(why)") }
        guard let m = json["m"]?.intValue, let efc = json["ef_construction"]?.intValue, let seed = json["seed"]?.intValue,
              let entry = json["entry"]?.intValue, let maxLevel = json["max_level"]?.intValue else {
            throw fail("the header's hnsw entry needs m, ef_construction, seed, entry and max_level")
        }
        parameters = HNSWParameters(m: m, efConstruction: efc, seed: UInt64(truncatingIfNeeded: seed))
        try parameters.validate()
        guard (count == 0 && entry == -1) || (entry >= 0 && entry < count) else { throw fail("entry point \(entry) is not a node") }
        self.entry = Int32(entry)
        self.maxLevel = maxLevel
        var p = 0
        func u32() throws -> Int {
            guard p + 4 <= bytes.count else { throw fail("ends early at byte \(p)") }
            defer { p += 4 }
            return Int(bytes.loadUnaligned(fromByteOffset: p, as: UInt32.self).littleEndian)
        }
        var links: [[[Int32]]] = []
        links.reserveCapacity(count)
        for node in 0..<count {
            let level = try u32()
            guard level <= 16, level <= maxLevel else { throw fail("node \(node) has level \(level), the graph's top is \(maxLevel)") }
            var node: [[Int32]] = []
            for l in 0...level {
                let n = try u32()
                guard n <= (l == 0 ? 2 * m : m) else { throw fail("a node has \(n) links on level \(l) (at most \(l == 0 ? 2 * m : m))") }
                var row: [Int32] = []
                for _ in 0..<n {
                    let id = try u32()
                    guard id < count else { throw fail("link to row \(id) of \(count)") }
                    row.append(Int32(id))
                }
                node.append(row)
            }
            links.append(node)
        }
        guard p == bytes.count else { throw fail("\(bytes.count - p) bytes left over") }
        for (i, node) in links.enumerated() {
            for (l, row) in node.enumerated() where row.contains(where: { links[Int($0)].count <= l }) {
                throw fail("node \(i) links on level \(l) to a node that does not reach it")
            }
        }
        self.links = links
    }

    public var parametersJSON: JSONValue {
        .object([("m", .int(parameters.m)), ("ef_construction", .int(parameters.efConstruction)),
                 ("seed", .int(Int(truncatingIfNeeded: parameters.seed))), ("entry", .int(Int(entry))), ("max_level", .int(maxLevel))])
    }
}

extension TopK {
    /// Removes and returns the worst kept pair.
    mutating func popWorst() -> SearchHit? {
        guard !items.isEmpty else { return nil }
        let worst = items[0]
        let last = items.removeLast()
        if !items.isEmpty { items[0] = last; siftDownFromTop() }
        return worst
    }

    mutating func siftDownFromTop() {
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && Self.worse(items[l], items[m]) { m = l }
            if r < n && Self.worse(items[r], items[m]) { m = r }
            if m == i { return }
            items.swapAt(i, m)
            i = m
        }
    }
}

/// Rows seen in one search: a generation stamp per row, so clearing is O(1).
struct VisitedSet {
    private var stamps: [UInt32]
    private var generation: UInt32 = 1
    init(count: Int) { stamps = [UInt32](repeating: 0, count: count) }
    mutating func clear() {
        generation &+= 1
        if generation == 0 { stamps = [UInt32](repeating: 0, count: stamps.count); generation = 1 }
    }
    func contains(_ i: Int) -> Bool { stamps[i] == generation }
    mutating func insert(_ i: Int) { stamps[i] = generation }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small seeded generator.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

/// Inner product of two float rows: four independent accumulators of eight lanes.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    @inline(__always) func mul(_ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
    }
    var a0 = SIMD8<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0
    var i = 0
    while i + 32 <= n { a0 += mul(i); a1 += mul(i + 8); a2 += mul(i + 16); a3 += mul(i + 24); i += 32 }
    while i + 8 <= n { a0 += mul(i); i += 8 }
    var s = ((a0 + a1) + (a2 + a3)).sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

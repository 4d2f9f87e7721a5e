// Exact search over a corpus index: every query against every stored row, read in place from the mapped file by the
// C scan kernels (`Kernels.scanTopK`: float16 widened with F16C / AVX-512 / NEON conversions, int8 with its row
// scales, float32 on the GEMM's dot kernel), in chunks the pool's threads claim, with a bounded top-k heap per thread
// and query, merged at the end. Ties go to the lower row, so results do not depend on the thread count.
import AttendTensor
import Foundation

extension CorpusIndex {
    /// The stored vectors as the scan kernels read them.
    var scanRows: ScanRows {
        switch storage {
        case .float32: return .float32(vectors.assumingMemoryBound(to: Float.self))
        case .float16: return .float16(vectors.assumingMemoryBound(to: UInt16.self))
        case .int8: return .int8(vectors.assumingMemoryBound(to: Int8.self), scales: scales!)
        }
    }

    /// The `k` rows with the largest inner product with each query, best first: `[queries][≤k]`.
    public func searchExact(_ queries: [[Float]], k: Int, threads: Int = Kernels.maxThreads) throws -> [[SearchHit]] {
        guard k >= 1 else { throw SearchError("top-k must be at least 1, got \(k)") }
        for (i, q) in queries.enumerated() where q.count != dimension {
            throw SearchError("query \(i) has \(q.count) dimensions, the index has \(dimension)")
        }
        let qn = queries.count
        guard qn > 0, count > 0 else { return queries.map { _ in [] } }
        let flat = queries.count == 1 ? queries[0] : queries.flatMap { $0 }                      // [Q, D]
        let found = flat.withUnsafeBufferPointer { qp in
            Kernels.scanTopK(scanRows, count: count, dimension: dimension, queries: qp.baseAddress!, queryCount: qn,
                             k: k, threads: threads)
        }
        guard let found else {
            throw SearchError("\(path): not enough memory for the top-\(k) of \(qn) queries over \(count) rows")
        }
        return found.map { $0.map { SearchHit(index: $0.row, score: $0.score) } }
    }

    /// Inner products of one query with every row, in row order (plain twin of ``searchExact``: one row at a time,
    /// summed in Double).
    public func scoresReference(_ query: [Float]) -> [Float] {
        var row = [Float](repeating: 0, count: dimension)
        return (0..<count).map { i in
            row.withUnsafeMutableBufferPointer { decode(rows: i..<(i + 1), into: $0.baseAddress!) }
            var s = 0.0
            for j in 0..<dimension { s += Double(row[j]) * Double(query[j]) }
            return Float(s)
        }
    }
}

/// The `k` best (score, row) pairs seen so far: a min-heap on (score, −row), so the worst kept is at the top.
struct TopK {
    let k: Int
    var items: [SearchHit] = []

    init(k: Int) { self.k = k; items.reserveCapacity(min(k, 1024)) }

    /// a is worse than b: a lower score, or an equal score and a higher row.
    @inline(__always) static func worse(_ a: SearchHit, _ b: SearchHit) -> Bool {
        a.score < b.score || (a.score == b.score && a.index > b.index)
    }

    @inline(__always) mutating func offer(_ score: Float, _ index: Int) {
        if items.count == k {
            let top = items[0]
            guard score > top.score || (score == top.score && index < top.index) else { return }
            items[0] = SearchHit(index: index, score: score)
            siftDown(0)
        } else {
            items.append(SearchHit(index: index, score: score))
            var i = items.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                guard Self.worse(items[i], items[p]) else { break }
                items.swapAt(i, p)
                i = p
            }
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && Self.worse(items[l], items[m]) { m = l }
            if r < items.count && Self.worse(items[r], items[m]) { m = r }
            if m == i { return }
            items.swapAt(i, m)
            i = m
        }
    }

    /// Best first.
    func sorted() -> [SearchHit] { items.sorted { Self.worse($1, $0) } }
}

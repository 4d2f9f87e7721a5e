// Exact search over a corpus index: the queries against every stored row through the GEMM, in blocks of rows that
// are decoded to float32 first (float16, int8), with a bounded top-k per query. Threads take contiguous ranges of
// blocks; ties are broken by the lower row, so results do not depend on the thread count.
import AttendTensor
import Dispatch
import Foundation

extension CorpusIndex {
    /// Rows per GEMM block: 1024 × 384 float32 = 1.5 MB of decoded rows.
    static let blockRows = 1024

    /// The `k` rows with the largest inner product with each query, best first: `[queries][≤k]`.
    public func searchExact(_ queries: [[Float]], k: Int, threads: Int = Kernels.maxThreads) throws -> [[SearchHit]] {
        guard k >= 1 else { throw SearchError("top-k must be at least 1, got \(k)") }
        for (i, q) in queries.enumerated() where q.count != dimension {
            throw SearchError("query \(i) has \(q.count) dimensions, the index has \(dimension)")
        }
        let qn = queries.count
        guard qn > 0, count > 0 else { return queries.map { _ in [] } }
        let flat = queries.flatMap { $0 }                                               // [Q, D]
        let blocks = (count + Self.blockRows - 1) / Self.blockRows
        let workers = max(1, min(threads, blocks))
        var partial = [[TopK]](repeating: [], count: workers)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var tops = (0..<qn).map { _ in TopK(k: k) }
            let firstBlock = blocks * w / workers, endBlock = blocks * (w + 1) / workers
            var decoded = [Float](repeating: 0, count: storage == .float32 ? 0 : Self.blockRows * dimension)   // [B, D]
            var scores = [Float](repeating: 0, count: qn * Self.blockRows)                                     // [Q, B]
            flat.withUnsafeBufferPointer { qp in
                for b in firstBlock..<endBlock {
                    let rows = (b * Self.blockRows)..<min(count, (b + 1) * Self.blockRows)
                    scores.withUnsafeMutableBufferPointer { sp in
                        if qn <= Self.gemvMaxQueries {
                            // A few queries: one pass over the stored rows, decoding in registers (no GEMM packing).
                            for q in 0..<qn { rowDots(rows, query: qp.baseAddress! + q * dimension, into: sp.baseAddress! + q * rows.count) }
                        } else if let f32 = float32Rows {
                            Kernels.sgemm(transA: false, transB: true, m: qn, n: rows.count, k: dimension,
                                          a: qp.baseAddress!, lda: dimension, b: f32 + rows.lowerBound * dimension, ldb: dimension,
                                          c: sp.baseAddress!, ldc: rows.count)                     // [Q, rows]
                        } else {
                            decoded.withUnsafeMutableBufferPointer { dp in
                                decode(rows: rows, into: dp.baseAddress!)                          // [rows, D]
                                Kernels.sgemm(transA: false, transB: true, m: qn, n: rows.count, k: dimension,
                                              a: qp.baseAddress!, lda: dimension, b: dp.baseAddress!, ldb: dimension,
                                              c: sp.baseAddress!, ldc: rows.count)                 // [Q, rows]
                            }
                        }
                        for q in 0..<qn {
                            let row = sp.baseAddress! + q * rows.count
                            for j in 0..<rows.count { tops[q].offer(row[j], rows.lowerBound + j) }
                        }
                    }
                }
            }
            lock.lock(); partial[w] = tops; lock.unlock()
        }
        return (0..<qn).map { q in
            var merged = TopK(k: k)
            for w in 0..<workers { for hit in partial[w][q].items { merged.offer(hit.score, hit.index) } }
            return merged.sorted()
        }
    }

    /// Up to this many queries run as row-by-row dot products; more as GEMMs over decoded blocks.
    static let gemvMaxQueries = 4

    /// `out[j]` = row `rows.lowerBound + j` · `query`, reading float16/int8 rows in place.
    func rowDots(_ rows: Range<Int>, query: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let d = dimension
        switch storage {
        case .float32:
            let base = vectors.assumingMemoryBound(to: Float.self)
            for (j, r) in rows.enumerated() { out[j] = dot(base + r * d, query, d) }
        case .float16:
            let base = vectors.assumingMemoryBound(to: UInt16.self)
            for (j, r) in rows.enumerated() { out[j] = HalfConversion.dot(base + r * d, query, d) }
        case .int8:
            let base = vectors.assumingMemoryBound(to: Int8.self)
            for (j, r) in rows.enumerated() {
                let q = base + r * d
                var acc = SIMD8<Float>(repeating: 0)
                var i = 0
                while i + 8 <= d {
                    let b = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Int8>.self)))
                    acc += b * UnsafeRawPointer(query + i).loadUnaligned(as: SIMD8<Float>.self)
                    i += 8
                }
                var sum = acc.sum()
                while i < d { sum += Float(q[i]) * query[i]; i += 1 }
                out[j] = sum * scales![r]
            }
        }
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

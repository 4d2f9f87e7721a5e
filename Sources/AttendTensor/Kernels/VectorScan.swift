import AttendKernelsC

/// Stored vectors that exact search reads in place (a corpus index's mapped rows): `count` rows of
/// `dimension` elements, row r at element r·dimension.
public enum ScanRows: @unchecked Sendable {
    /// float32 rows.
    case float32(UnsafePointer<Float>)
    /// IEEE binary16 rows (their bit patterns): x(r, j) = Float(half(bits)), exactly.
    case float16(UnsafePointer<UInt16>)
    /// int8 rows with one scale per row: x(r, j) = scales[r] · Float(q[r, j]).
    case int8(UnsafePointer<Int8>, scales: UnsafePointer<Float>)

    var storage: Int32 {
        switch self {
        case .float32: return Int32(ATTEND_SCAN_F32)
        case .float16: return Int32(ATTEND_SCAN_F16)
        case .int8: return Int32(ATTEND_SCAN_I8)
        }
    }

    var base: UnsafeRawPointer {
        switch self {
        case .float32(let p): return UnsafeRawPointer(p)
        case .float16(let p): return UnsafeRawPointer(p)
        case .int8(let p, _): return UnsafeRawPointer(p)
        }
    }

    var scales: UnsafePointer<Float>? {
        if case .int8(_, let s) = self { return s }
        return nil
    }

    /// The stored element (r, j) as float32 (the plain twins' decoding).
    func element(_ r: Int, _ j: Int, dimension d: Int) -> Float {
        switch self {
        case .float32(let p): return p[r * d + j]
        case .float16(let p): return Float(Float16(bitPattern: p[r * d + j]))
        case .int8(let p, let s): return s[r] * Float(p[r * d + j])
        }
    }
}

/// One row of an exact search's result and its inner product with the query.
public struct ScoredRow: Sendable, Equatable {
    public var row: Int
    public var score: Float
    public init(row: Int, score: Float) { self.row = row; self.score = score }
}

extension Kernels {
    /// Inner products of `queryCount` float32 queries (`[queryCount, dimension]`, row-major) with `count` stored rows,
    /// single-threaded on the active ISA: for i < queryCount, r < count
    ///
    ///     scores[i·ldScores + r] = Σ_{j < dimension} x(r, j) · queries[i·dimension + j]
    ///
    /// in float32, with x(r, j) the stored element as ``ScanRows`` decodes it. float16 and int8 rows are widened in
    /// registers by the C kernels of `attend_scan.h` (F16C `vcvtph2ps` on AVX2, AVX-512's, NEON's `vcvt_f32_f16`, or
    /// the generic twin), and an int8 row's sum is multiplied by its scale once; float32 rows run on the GEMM's
    /// A·Bᵀ dot kernel. The result differs from ``ReferenceKernels/scanScores(_:count:dimension:queries:queryCount:scores:ldScores:)``
    /// (sums in Double) by float32 rounding of the sums only.
    public static func scanScores(_ rows: ScanRows, count: Int, dimension: Int, queries: UnsafePointer<Float>, queryCount: Int,
                                  scores: UnsafeMutablePointer<Float>, ldScores: Int) {
        guard count > 0, queryCount > 0, dimension > 0 else { return }
        _ = attend_scan_scores(activeISA.cValue, rows.storage, queryCount, count, dimension, queries, dimension,
                               rows.base, dimension, rows.scales, scores, ldScores)
    }

    /// The exact top-k of each query over `count` stored rows: per query the `min(k, count)` rows with the largest
    /// inner product (``scanScores(_:count:dimension:queries:queryCount:scores:ldScores:)``), best first; an equal score
    /// goes to the lower row and a NaN score counts as −∞, so the result is one total order, the same whatever the
    /// thread count. The rows are read in place in chunks that up to `threads` threads of the pool claim; each thread
    /// keeps a bounded heap of k hits per query (a score costs one compare unless it enters), merged at the end: no
    /// array of `count` scores is made or sorted. Returns nil when `k < 1` or `dimension < 1`, or when the working
    /// memory (threads · queries · k hits) cannot be allocated.
    public static func scanTopK(_ rows: ScanRows, count: Int, dimension: Int, queries: UnsafePointer<Float>, queryCount: Int,
                                k: Int, threads: Int? = nil) -> [[ScoredRow]]? {
        guard k >= 1, dimension >= 1, count >= 0, queryCount >= 0 else { return nil }
        let kk = Swift.min(k, count)
        guard kk > 0, queryCount > 0 else { return Array(repeating: [], count: queryCount) }
        let (total, overflow) = kk.multipliedReportingOverflow(by: queryCount)
        guard !overflow else { return nil }
        var hits = [attend_scan_hit](repeating: attend_scan_hit(score: 0, row: 0), count: total)
        let got = hits.withUnsafeMutableBufferPointer { out -> Int in
            guard let o = out.baseAddress else { return -1 }
            return attend_scan_topk(activeISA.cValue, threads ?? maxThreads, rows.storage, rows.base, dimension, rows.scales,
                                    count, dimension, queries, dimension, queryCount, k, o)
        }
        guard got == kk else { return nil }
        return (0..<queryCount).map { i in hits[(i * kk)..<((i + 1) * kk)].map { ScoredRow(row: Int($0.row), score: $0.score) } }
    }
}

extension ReferenceKernels {
    /// The plain twin of ``Kernels/scanScores(_:count:dimension:queries:queryCount:scores:ldScores:)``: each stored
    /// element decoded to Float (float16 exactly, int8 as scale · q), products summed in Double.
    public static func scanScores(_ rows: ScanRows, count: Int, dimension d: Int, queries: UnsafePointer<Float>, queryCount: Int,
                                  scores: UnsafeMutablePointer<Float>, ldScores: Int) {
        for i in 0..<queryCount {
            for r in 0..<count {
                var s = 0.0
                for j in 0..<d { s += Double(rows.element(r, j, dimension: d)) * Double(queries[i * d + j]) }
                scores[i * ldScores + r] = Float(s)
            }
        }
    }

    /// The plain twin of ``Kernels/scanTopK(_:count:dimension:queries:queryCount:k:threads:)`` over given scores: every
    /// row sorted by (score descending, row ascending), NaN as −∞, and the first `min(k, count)` kept.
    public static func topK(scores: [Float], k: Int) -> [ScoredRow] {
        let key = scores.map { $0.isNaN ? -Float.infinity : $0 }
        let order = key.indices.sorted { key[$0] > key[$1] || (key[$0] == key[$1] && $0 < $1) }
        return order.prefix(Swift.max(0, k)).map { ScoredRow(row: $0, score: key[$0]) }
    }
}

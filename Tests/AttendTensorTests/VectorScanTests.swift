import AttendTensor
import AttendTestSupport
import Testing

/// The exact-search scan kernels (`attend_scan.h`): scores of float16 / int8 / float32 rows against float32 queries on
/// every ISA this CPU runs, against the plain twin summed in Double; and the top-k (ties, k > rows, NaN, thread
/// counts) against a full sort.
@Suite struct VectorScanTests {
    /// Seeded uniform values in [lo, hi).
    struct Numbers {
        var state: UInt64
        mutating func next(_ lo: Float, _ hi: Float) -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return lo + (hi - lo) * Float(state >> 40) * 0x1p-24
        }
    }

    /// Stored rows of one storage type, owned by the test.
    struct Stored {
        var f32: [Float] = []
        var f16: [UInt16] = []
        var i8: [Int8] = []
        var scales: [Float] = []

        /// `rows × d` values in [−1, 1) (int8: quants in −127…127 with scales 1/127 … 3/127).
        init(rows: Int, d: Int, seed: UInt64) {
            var g = Numbers(state: seed)
            f32 = (0..<(rows * d)).map { _ in g.next(-1, 1) }
            f16 = f32.map { Float16($0).bitPattern }
            i8 = f32.map { Int8(($0 * 127).rounded()) }
            scales = (0..<rows).map { Float(1 + $0 % 3) / 127 }
        }

        func with<R>(_ storage: Int, _ body: (ScanRows) -> R) -> R {
            switch storage {
            case 0: return f32.withUnsafeBufferPointer { body(.float32($0.baseAddress!)) }
            case 1: return f16.withUnsafeBufferPointer { body(.float16($0.baseAddress!)) }
            default:
                return i8.withUnsafeBufferPointer { q in scales.withUnsafeBufferPointer { s in body(.int8(q.baseAddress!, scales: s.baseAddress!)) } }
            }
        }
    }

    static let storageNames = ["float32", "float16", "int8"]

    /// rows: 1, small primes, the SIMD widths (4, 8, 16) ± 1 and more; columns: the same plus 384, 385 and 768.
    static let cases: [(rows: Int, cols: Int)] = [1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 31, 33].flatMap { r in
        [1, 7, 8, 9, 15, 16, 17, 31, 33, 384, 385, 768].map { (r, $0) }
    }

    @Test func scoresMatchThePlainTwinOnEveryISA() {
        for (index, c) in Self.cases.enumerated() {
            let nq = [1, 2, 3, 4, 5, 7][index % 6]
            let stored = Stored(rows: c.rows, d: c.cols, seed: UInt64(index + 1))
            var g = Numbers(state: UInt64(1000 + index))
            let queries = (0..<(nq * c.cols)).map { _ in g.next(-1, 1) }                          // [nq, d]
            // Products are at most 1 each; float32 sums of d of them round by about d·2⁻²⁴ at worst.
            let atol = Float(c.cols) * 2e-6 + 1e-6
            for storage in 0..<3 {
                var reference = [Float](repeating: 0, count: nq * c.rows)                          // [nq, rows]
                queries.withUnsafeBufferPointer { q in
                    stored.with(storage) { rows in
                        ReferenceKernels.scanScores(rows, count: c.rows, dimension: c.cols, queries: q.baseAddress!, queryCount: nq,
                                                    scores: &reference, ldScores: c.rows)
                    }
                }
                for isa in KernelISA.supported {
                    // A leading stride wider than the rows (ldScores = rows + 3), so writes past a row would show.
                    let ld = c.rows + 3
                    var got = [Float](repeating: .nan, count: nq * ld)                                // [nq, ld]
                    Kernels.withSettings({ $0.isa = isa }) {
                        queries.withUnsafeBufferPointer { q in
                            stored.with(storage) { rows in
                                Kernels.scanScores(rows, count: c.rows, dimension: c.cols, queries: q.baseAddress!, queryCount: nq,
                                                   scores: &got, ldScores: ld)
                            }
                        }
                    }
                    let inside = (0..<nq).flatMap { i in got[(i * ld)..<(i * ld + c.rows)] }
                    let padding = (0..<nq).flatMap { i in got[(i * ld + c.rows)..<(i * ld + ld)] }
                    expectClose(inside, reference, atol: atol, rtol: 1e-5,
                                "\(Self.storageNames[storage]) \(isa) rows \(c.rows) cols \(c.cols) queries \(nq)")
                    let untouched = padding.allSatisfy { $0.isNaN }
                    #expect(untouched, "\(Self.storageNames[storage]) \(isa) rows \(c.rows) cols \(c.cols): wrote past a row")
                }
            }
        }
    }

    /// Small integers everywhere, so every score is an exact integer: many ties, and the top-k must equal the sort
    /// exactly (rows and order), on every ISA, storage and thread count, with k from 1 to past the row count.
    @Test(arguments: [(1, 3), (17, 5), (1000, 9), (60_000, 4)])
    func topKEqualsAFullSortWithTies(rows: Int, d: Int) throws {
        var g = Numbers(state: UInt64(rows * 31 + d))
        let values = (0..<(rows * d)).map { _ in Float(Int(g.next(0, 5)) - 2) }                  // [rows, d] in −2…2
        let f16 = values.map { Float16($0).bitPattern }
        let i8 = values.map { Int8($0) }
        let ones = [Float](repeating: 1, count: rows)
        let nq = 3
        let queries = (0..<(nq * d)).map { _ in Float(Int(g.next(0, 3)) - 1) }                    // [nq, d] in −1…1
        let exactScores: [[Float]] = (0..<nq).map { i in
            (0..<rows).map { r in (0..<d).reduce(Float(0)) { $0 + values[r * d + $1] * queries[i * d + $1] } }
        }
        for k in [1, 2, 10, rows, rows + 5] {
            let want = exactScores.map { ReferenceKernels.topK(scores: $0, k: k) }
            for isa in KernelISA.supported {
                for threads in [1, 2, 3] {
                    for storage in 0..<3 {
                        let got: [[ScoredRow]]? = Kernels.withSettings({ $0.isa = isa }) {
                            queries.withUnsafeBufferPointer { q -> [[ScoredRow]]? in
                                switch storage {
                                case 0: return values.withUnsafeBufferPointer {
                                    Kernels.scanTopK(.float32($0.baseAddress!), count: rows, dimension: d, queries: q.baseAddress!, queryCount: nq, k: k, threads: threads)
                                }
                                case 1: return f16.withUnsafeBufferPointer {
                                    Kernels.scanTopK(.float16($0.baseAddress!), count: rows, dimension: d, queries: q.baseAddress!, queryCount: nq, k: k, threads: threads)
                                }
                                default: return i8.withUnsafeBufferPointer { x in ones.withUnsafeBufferPointer { s in
                                    Kernels.scanTopK(.int8(x.baseAddress!, scales: s.baseAddress!), count: rows, dimension: d, queries: q.baseAddress!, queryCount: nq, k: k, threads: threads)
                                } }
                                }
                            }
                        }
                        let label = "rows \(rows) d \(d) k \(k) \(isa) threads \(threads) \(Self.storageNames[storage])"
                        let result = try #require(got, "\(label)")
                        #expect(result.map(\.count) == [Int](repeating: min(k, rows), count: nq), "\(label)")
                        #expect(result == want, "\(label): \(result.map { $0.prefix(4) }) vs \(want.map { $0.prefix(4) })")
                    }
                }
            }
        }
    }

    @Test func topKEdgeCases() throws {
        let rows: [Float] = [0.5, -1, 0.5, 2, 0.5, 2]                                           // [6, 1]
        // A NaN query makes every score NaN, which ranks as −∞: the lowest rows win.
        for (query, expected) in [(Float(1), [3, 5, 0, 2, 4, 1]), (Float(-1), [1, 0, 2, 4, 3, 5]), (Float.nan, [0, 1, 2, 3, 4, 5])] {
            for isa in KernelISA.supported {
                let got = try #require(Kernels.withSettings({ $0.isa = isa }) {
                    rows.withUnsafeBufferPointer { x in
                        [query].withUnsafeBufferPointer { q in
                            Kernels.scanTopK(.float32(x.baseAddress!), count: 6, dimension: 1, queries: q.baseAddress!, queryCount: 1, k: 100)
                        }
                    }
                })
                #expect(got[0].map(\.row) == expected, "query \(query) \(isa)")
            }
        }
        // No rows, no queries, and invalid k.
        let none = rows.withUnsafeBufferPointer { x in
            [Float(1)].withUnsafeBufferPointer { q in
                (Kernels.scanTopK(.float32(x.baseAddress!), count: 0, dimension: 1, queries: q.baseAddress!, queryCount: 1, k: 3),
                 Kernels.scanTopK(.float32(x.baseAddress!), count: 6, dimension: 1, queries: q.baseAddress!, queryCount: 0, k: 3),
                 Kernels.scanTopK(.float32(x.baseAddress!), count: 6, dimension: 1, queries: q.baseAddress!, queryCount: 1, k: 0))
            }
        }
        #expect(none.0 == [[]])
        #expect(none.1 == [])
        #expect(none.2 == nil)
    }
}

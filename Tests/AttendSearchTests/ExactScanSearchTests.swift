import AttendSearch
import AttendTensor
import AttendTestSupport
import Foundation
import Testing

/// `CorpusIndex.searchExact` on the C scan kernels: every ISA and thread count against the plain twin, over indexes
/// of several chunks; ties between identical rows; k larger than the index.
@Suite struct ExactScanSearchTests {
    @Test(arguments: [(1500, 384), (700, 33), (5, 768)])
    func everyISAMatchesThePlainTwin(n: Int, d: Int) throws {
        let rows = CorpusIndexTests.vectors(n, d, seed: UInt64(n + d))
        let queries = CorpusIndexTests.vectors(5, d, seed: 3)
        for storage in VectorStorage.allCases {
            let ix = try CorpusIndexTests.index(rows, storage: storage)
            let k = min(7, n)
            let references = queries.map { ix.scoresReference($0) }
            for isa in KernelISA.supported {
                for threads in [1, 2] {
                    // One query at a time and all five in one call.
                    let batch = try Kernels.withSettings({ $0.isa = isa }) { try ix.searchExact(queries, k: k, threads: threads) }
                    let single = try Kernels.withSettings({ $0.isa = isa }) { try queries.map { try ix.searchExact([$0], k: k, threads: threads)[0] } }
                    for (q, reference) in references.enumerated() {
                        let label = "n \(n) d \(d) \(storage) \(isa) threads \(threads) query \(q)"
                        let order = reference.indices.sorted { reference[$0] > reference[$1] || (reference[$0] == reference[$1] && $0 < $1) }
                        for hits in [batch[q], single[q]] {
                            #expect(hits.count == k, "\(label)")
                            expectClose(hits.map(\.score), order.prefix(k).map { reference[$0] }, atol: 1e-5, rtol: 1e-4, label)
                            // The same rows up to near-ties: every returned row scores within 1e-5 of the k-th best.
                            #expect(hits.allSatisfy { reference[$0.index] >= reference[order[k - 1]] - 1e-5 }, "\(label)")
                            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score }, "\(label): not best first")
                        }
                    }
                }
            }
        }
    }

    /// Identical rows score identically on every path, so the lower row must come first; k past the row count returns
    /// every row.
    @Test func tiesGoToTheLowerRowAndKCanExceedTheIndex() throws {
        let distinct = CorpusIndexTests.vectors(4, 16, seed: 9)
        let rows = (0..<40).map { distinct[$0 % 4] }                                           // rows i, i+4, i+8, … equal
        for storage in VectorStorage.allCases {
            let ix = try CorpusIndexTests.index(rows, storage: storage)
            for isa in KernelISA.supported {
                let hits = try Kernels.withSettings({ $0.isa = isa }) { try ix.searchExact([distinct[2]], k: 100)[0] }
                #expect(hits.count == 40, "\(storage) \(isa)")
                #expect(Array(hits.prefix(10).map(\.index)) == [2, 6, 10, 14, 18, 22, 26, 30, 34, 38], "\(storage) \(isa): \(hits.prefix(10).map(\.index))")
                for group in stride(from: 0, to: 40, by: 10) {
                    let run = hits[group..<(group + 10)]
                    #expect(run.allSatisfy { $0.score == run.first!.score }, "\(storage) \(isa): a group of equal rows has unequal scores")
                    #expect(run.map(\.index) == run.map(\.index).sorted(), "\(storage) \(isa): equal scores not in row order")
                }
            }
        }
    }
}

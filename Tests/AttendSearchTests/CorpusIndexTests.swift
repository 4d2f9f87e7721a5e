import AttendSearch
import AttendTestSupport
import Foundation
import Testing

/// Corpus index files, exact search against its plain twin, float16/int8 recall, HNSW recall and determinism, and
/// damaged files — on seeded synthetic unit vectors (no model needed).
@Suite struct CorpusIndexTests {
    static let model = ModelIdentity(name: "synthetic", sha256: String(repeating: "ab", count: 32), dimension: 0,
                                     pooling: ["mean"], normalize: true)

    /// `n` unit vectors of width `d` around `clusters` random centres (real embeddings cluster too), seeded.
    static func vectors(_ n: Int, _ d: Int, clusters: Int = 20, seed: UInt64 = 7) -> [[Float]] {
        var s = seed
        func gauss() -> Float {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let u1 = max(Double(s >> 11) * 0x1p-53, 1e-12)
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let u2 = Double(s >> 11) * 0x1p-53
            return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2))
        }
        func unit(_ v: [Float]) -> [Float] { let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); return v.map { $0 / n } }
        let centres = (0..<clusters).map { _ in unit((0..<d).map { _ in gauss() }) }
        return (0..<n).map { i in unit(zip(centres[i % clusters], (0..<d).map { _ in gauss() }).map { $0 + 0.08 * $1 }) }
    }

    /// Writes an index of `rows` and returns it.
    static func index(_ rows: [[Float]], storage: VectorStorage, hnsw: HNSWParameters? = nil) throws -> CorpusIndex {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let d = rows.first?.count ?? 4
        var npy = VectorBytes.npyHeader(rows: rows.count, columns: d, type: .float32)
        for r in rows { VectorBytes.append(r, as: .float32, to: &npy) }
        try Data(npy).write(to: dir.appendingPathComponent("v.npy"))
        let records = rows.indices.map { "{\"id\":\"r\($0)\",\"text\":\"document \($0)\",\"n\":\($0)}\n" }.joined()
        try Data(records.utf8).write(to: dir.appendingPathComponent("v.ids.jsonl"))
        var model = model
        model.dimension = d
        let path = dir.appendingPathComponent("c.attendindex").path
        try CorpusIndexWriter.write(vectorsNpy: dir.appendingPathComponent("v.npy").path, records: dir.appendingPathComponent("v.ids.jsonl").path,
                                    model: model, to: path, storage: storage, hnsw: hnsw)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        return try CorpusIndex(path: path)
    }

    static func recall(_ got: [SearchHit], _ truth: [SearchHit]) -> Double {
        Double(Set(got.map(\.index)).intersection(truth.map(\.index)).count) / Double(max(1, truth.count))
    }

    @Test(arguments: [(1, 8), (7, 17), (1023, 33), (1025, 64), (2100, 384)])
    func exactSearchEqualsPlainTwin(n: Int, d: Int) throws {
        let rows = Self.vectors(n, d)
        // 3 queries run as row dot products, 6 as GEMMs over decoded blocks.
        for (queries, storage) in [3, 6].flatMap({ q in VectorStorage.allCases.map { (Self.vectors(q, d, seed: 99), $0) } }) {
            let ix = try Self.index(rows, storage: storage)
            #expect(ix.count == n && ix.dimension == d && ix.storage == storage)
            let k = min(10, n)
            let hits = try ix.searchExact(queries, k: k)
            let oneThread = try ix.searchExact(queries, k: k, threads: 1)
            #expect(hits == oneThread, "n \(n) d \(d) \(storage): thread count changed the result")
            for (q, query) in queries.enumerated() {
                let reference = ix.scoresReference(query)
                let order = reference.indices.sorted { reference[$0] > reference[$1] || (reference[$0] == reference[$1] && $0 < $1) }
                expectClose(hits[q].map(\.score), order.prefix(k).map { reference[$0] }, atol: 1e-5, rtol: 1e-4, "n \(n) d \(d) \(storage) q \(q) of \(queries.count)")
                // Equal up to near-ties: every returned row scores within 1e-5 of the k-th best.
                let kth = reference[order[k - 1]]
                #expect(hits[q].allSatisfy { reference[$0.index] >= kth - 1e-5 }, "n \(n) d \(d) \(storage)")
            }
            #expect(try ix.document(n - 1)["id"] == .string("r\(n - 1)"))
            #expect(try ix.document(0)["n"] == .int(0))
        }
    }

    /// float16 and int8 keep the float32 top-10 (measured here on clustered data; docs/SCALE.md reports it).
    @Test func quantisedStorageRecall() throws {
        let rows = Self.vectors(3000, 384)
        let queries = Self.vectors(20, 384, seed: 5)
        let exact = try Self.index(rows, storage: .float32).searchExact(queries, k: 10)
        for (storage, minimum) in [(VectorStorage.float16, 0.99), (.int8, 0.9)] {
            let got = try Self.index(rows, storage: storage).searchExact(queries, k: 10)
            let r = zip(got, exact).map { Self.recall($0, $1) }.reduce(0, +) / Double(queries.count)
            #expect(r >= minimum, "\(storage) recall@10 \(r)")
        }
    }

    @Test func hnswRecallAndDeterminism() throws {
        let rows = Self.vectors(2000, 48)
        let queries = Self.vectors(30, 48, seed: 11)
        let p = HNSWParameters(m: 12, efConstruction: 64, seed: 3)
        let ix = try Self.index(rows, storage: .float32, hnsw: p)
        let exact = try ix.searchExact(queries, k: 10)
        var total = 0.0
        for (q, query) in queries.enumerated() { total += Self.recall(try ix.searchApproximate(query, k: 10, ef: 64), exact[q]) }
        #expect(total / Double(queries.count) >= 0.9, "HNSW recall@10 \(total / Double(queries.count))")
        let again = try Self.index(rows, storage: .float32, hnsw: p)
        #expect(try Data(contentsOf: URL(fileURLWithPath: ix.path)) == Data(contentsOf: URL(fileURLWithPath: again.path)), "same seed, different bytes")
        #expect(throws: SearchError.self) { try Self.index(rows, storage: .float32).searchApproximate(queries[0], k: 10, ef: 10) }
    }

    @Test func halfDecodingIsExact() {
        for bits in 0...0xFFFF {
            let h = Float16(bitPattern: UInt16(bits))
            guard h.isFinite else { continue }
            #expect(HalfConversion.decode(UInt16(bits)).bitPattern == Float(h).bitPattern, "\(bits)")
        }
        var src = (0..<19).map { Float16(Float($0) * 0.37 - 3).bitPattern }
        var dst = [Float](repeating: 0, count: 19)
        src.withUnsafeMutableBufferPointer { s in dst.withUnsafeMutableBufferPointer { HalfConversion.decode(s.baseAddress!, into: $0.baseAddress!, count: 19) } }
        #expect(dst == src.map { Float(Float16(bitPattern: $0)) })
    }

    @Test func refusesAnotherModelAndDamagedFiles() throws {
        let ix = try Self.index(Self.vectors(50, 16), storage: .int8, hnsw: HNSWParameters(m: 4, efConstruction: 8))
        var other = ix.model
        other.sha256 = String(repeating: "cd", count: 32)
        #expect(throws: SearchError.self) { try ix.checkModel(other) }
        try ix.checkModel(ix.model)
        let good = try Data(contentsOf: URL(fileURLWithPath: ix.path))
        let dir = URL(fileURLWithPath: ix.path).deletingLastPathComponent()
        var cases: [(String, Data)] = [("empty", Data()), ("magic", Data("NOTINDEX".utf8) + good.dropFirst(8)),
                                       ("truncated", good.prefix(good.count - 10)), ("header", good.prefix(40))]
        var version = good
        version[8] = 9
        cases.append(("version", version))
        // Every byte of the header and the graph's first bytes flipped, one at a time: an error or a valid index, never a crash.
        for (name, data) in cases {
            let path = dir.appendingPathComponent("bad-\(name)").path
            try data.write(to: URL(fileURLWithPath: path))
            #expect(throws: SearchError.self, "\(name)") { try CorpusIndex(path: path) }
        }
        let h = Int(good[12]) | Int(good[13]) << 8
        for offset in stride(from: 16, to: 16 + h, by: 7) {
            var d = good
            d[offset] ^= 0x5A
            let path = dir.appendingPathComponent("flip").path
            try d.write(to: URL(fileURLWithPath: path))
            _ = try? CorpusIndex(path: path).searchExact([[Float](repeating: 0.25, count: 16)], k: 3)
        }
    }
}

// Writing a corpus index (format in CorpusIndex.swift) from an embedding job's float32 `.npy` matrix and its
// records file (one JSON object per row, with the text): sections are streamed into `OUT.tmp`, which is fsync'd and
// renamed into place, so a reader never sees half an index.
import AttendTensor
import Foundation

/// Builds corpus index files.
public enum CorpusIndexWriter {
    /// What a build did, for the CLI to report.
    public struct Summary: Sendable {
        public var count: Int
        public var dimension: Int
        public var bytes: Int64
        public var hnswSeconds: Double?
    }

    /// Writes `path` from `vectorsNpy` (float32 `[N, D]`) and `records` (N JSON Lines), storing vectors as `storage`.
    /// With `hnsw`, also builds and stores an HNSW graph over the stored (quantised) vectors.
    @discardableResult
    public static func write(vectorsNpy: String, records: String, model: ModelIdentity, to path: String,
                             storage: VectorStorage, hnsw: HNSWParameters? = nil,
                             progress: ((String) -> Void)? = nil) throws -> Summary {
        let npy = try NpyMatrix(path: vectorsNpy)
        guard npy.columns == model.dimension else {
            throw SearchError("\(vectorsNpy): \(npy.columns) columns, the model has \(model.dimension) dimensions")
        }
        let (n, d) = (npy.rows, npy.columns)
        // Pass 1: document offsets.
        var offsets: [UInt64] = [0]
        offsets.reserveCapacity(n + 1)
        let reader = try LineReader(path: records)
        while let line = try reader.next() { offsets.append(offsets.last! + UInt64(line.bytes.count + 1)) }
        guard offsets.count == n + 1 else { throw SearchError("\(records): \(offsets.count - 1) records for \(n) vectors in \(vectorsNpy)") }

        // Quantise into memory-sized chunks on the fly; HNSW needs the decoded rows, so it decodes them once.
        var graph: HNSWGraph? = nil
        var hnswSeconds: Double? = nil
        if let hnsw {
            progress?("building the HNSW graph (M \(hnsw.m), efConstruction \(hnsw.efConstruction)) over \(n) vectors")
            var decoded = [Float](repeating: 0, count: n * d)                                  // [N, D] as stored
            decoded.withUnsafeMutableBufferPointer { out in
                for i in 0..<n { roundTrip(npy.row(i), storage: storage, into: out.baseAddress! + i * d, d) }
            }
            let t0 = Date()
            graph = try decoded.withUnsafeBufferPointer {
                try HNSWGraph(vectors: $0.baseAddress!, count: n, dimension: d, parameters: hnsw) { done in
                    if done % 10_000 == 0 { progress?("HNSW: \(done)/\(n)") }
                }
            }
            hnswSeconds = Date().timeIntervalSince(t0)
        }
        let graphBytes = graph?.serialized()

        // Layout.
        let vectorBytes = n * d * storage.bytesPerElement
        var sizes: [(String, Int)] = [("vectors", vectorBytes)]
        if storage == .int8 { sizes.append(("scales", n * 4)) }
        sizes += [("offsets", (n + 1) * 8), ("documents", Int(offsets.last!))]
        if let graphBytes { sizes.append(("graph", graphBytes.count)) }
        var reserve = 1024
        var headerBytes: [UInt8] = []
        var layout: [String: Int] = [:]
        while true {
            var at = align(16 + reserve)
            var sections: JSONObject = [:]
            for (name, size) in sizes { layout[name] = at; sections[name] = .array([.int(at), .int(size)]); at = align(at + size) }
            var header: JSONObject = [("model", model.json), ("count", .int(n)), ("dimension", .int(d)),
                                      ("storage", .string(storage.rawValue)), ("sections", .object(sections))]
            if let graph { header.append(("hnsw", graph.parametersJSON)) }
            headerBytes = Array(JSONValue.object(header).rendered().utf8)
            if headerBytes.count <= reserve { break }
            reserve = headerBytes.count + 256
        }
        headerBytes += [UInt8](repeating: 0x20, count: reserve - headerBytes.count)

        let tmp = path + ".tmp"
        let out = try OutputFile(path: tmp)
        func pad() throws { let p = align(Int(out.length)) - Int(out.length); if p > 0 { try out.append([UInt8](repeating: 0, count: p)) } }
        var prefix = CorpusIndex.magic
        withUnsafeBytes(of: CorpusIndex.version.littleEndian) { prefix.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(reserve).littleEndian) { prefix.append(contentsOf: $0) }
        try out.append(prefix + headerBytes)
        try pad()
        guard Int(out.length) == layout["vectors"] else { throw SearchError("\(tmp): internal layout error (vectors at \(out.length))") }
        var scales: [Float] = []
        var chunk: [UInt8] = []
        for i in 0..<n {
            let row = npy.row(i)
            switch storage {
            case .float32: for j in 0..<d { withUnsafeBytes(of: row[j].bitPattern.littleEndian) { chunk.append(contentsOf: $0) } }
            case .float16: for j in 0..<d { withUnsafeBytes(of: Float16(row[j]).bitPattern.littleEndian) { chunk.append(contentsOf: $0) } }
            case .int8:
                let (q, scale) = quantize(row, d)
                scales.append(scale)
                chunk += q.map { UInt8(bitPattern: $0) }
            }
            if chunk.count >= 1 << 20 { try out.append(chunk); chunk.removeAll(keepingCapacity: true) }
        }
        try out.append(chunk)
        if storage == .int8 {
            try pad()
            var b: [UInt8] = []
            b.reserveCapacity(n * 4)
            for s in scales { withUnsafeBytes(of: s.bitPattern.littleEndian) { b.append(contentsOf: $0) } }
            try out.append(b)
        }
        try pad()
        var ob: [UInt8] = []
        ob.reserveCapacity((n + 1) * 8)
        for o in offsets { withUnsafeBytes(of: o.littleEndian) { ob.append(contentsOf: $0) } }
        try out.append(ob)
        try pad()
        let docs = try LineReader(path: records)
        chunk.removeAll(keepingCapacity: true)
        while let line = try docs.next() {
            chunk += line.bytes
            chunk.append(0x0A)
            if chunk.count >= 1 << 20 { try out.append(chunk); chunk.removeAll(keepingCapacity: true) }
        }
        try out.append(chunk)
        if let graphBytes { try pad(); try out.append(graphBytes) }
        try out.sync()
        let total = out.length
        out.close()
        try FileOps.rename(tmp, to: path)
        return Summary(count: n, dimension: d, bytes: total, hnswSeconds: hnswSeconds)
    }

    static func align(_ x: Int) -> Int { (x + 63) / 64 * 64 }

    /// Symmetric int8: q = round(x / scale), scale = max |x| / 127 (1 for a zero row).
    static func quantize(_ row: UnsafePointer<Float>, _ d: Int) -> ([Int8], Float) {
        var m: Float = 0
        for j in 0..<d { m = max(m, abs(row[j])) }
        let scale = m > 0 ? m / 127 : 1
        return ((0..<d).map { Int8(max(-127, min(127, (row[$0] / scale).rounded()))) }, scale)
    }

    /// A row as the index will store it, decoded back to float32.
    static func roundTrip(_ row: UnsafePointer<Float>, storage: VectorStorage, into out: UnsafeMutablePointer<Float>, _ d: Int) {
        switch storage {
        case .float32: out.update(from: row, count: d)
        case .float16: for j in 0..<d { out[j] = HalfConversion.decode(Float16(row[j]).bitPattern) }
        case .int8:
            let (q, scale) = quantize(row, d)
            for j in 0..<d { out[j] = Float(q[j]) * scale }
        }
    }
}

/// A float32 C-order 2-D `.npy` file, memory-mapped.
public final class NpyMatrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    private let map: MappedFile
    private let data: UnsafePointer<Float>

    public init(path: String) throws {
        map = try MappedFile(path: path)
        let b = map.bytes
        func fail(_ why: String) -> SearchError { SearchError("\(path): not a float32 .npy matrix: \(why)") }
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else { throw fail("no NUMPY magic") }
        let major = b[6]
        let hlen = major == 1 ? Int(b[8]) | Int(b[9]) << 8 : Int(b.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
        let start = major == 1 ? 10 : 12
        guard start + hlen <= b.count else { throw fail("the header runs past the end") }
        let header = String(decoding: b[start..<(start + hlen)], as: UTF8.self)
        guard header.contains("'descr': '<f4'") else { throw fail("dtype is not little-endian float32 ('<f4')") }
        guard header.contains("'fortran_order': False") else { throw fail("Fortran order is not supported") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw fail("no shape")
        }
        let dims = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard dims.count == 2 else { throw fail("shape is not 2-D") }
        (rows, columns) = (dims[0], dims[1])
        let offset = start + hlen
        guard offset % 4 == 0, b.count - offset == rows * columns * 4 else {
            throw fail("\(b.count - offset) data bytes for shape (\(rows), \(columns))")
        }
        data = (b.baseAddress! + offset).assumingMemoryBound(to: Float.self)
    }

    public func row(_ i: Int) -> UnsafePointer<Float> { data + i * columns }
}

extension CorpusIndex {
    /// Approximate top-k through the index's HNSW graph (beam `ef` on the bottom level).
    public func searchApproximate(_ query: [Float], k: Int, ef: Int) throws -> [SearchHit] {
        guard let graph else { throw SearchError("\(path) has no HNSW graph; rebuild it with `attend index build --hnsw`, or search exactly") }
        guard query.count == dimension else { throw SearchError("the query has \(query.count) dimensions, the index has \(dimension)") }
        guard k >= 1 else { throw SearchError("top-k must be at least 1, got \(k)") }
        var scratch = [Float](repeating: 0, count: dimension)
        return query.withUnsafeBufferPointer { q in
            scratch.withUnsafeMutableBufferPointer { s in
                graph.search(q.baseAddress!, k: k, ef: ef) { row, query in
                    if let f = float32Rows { return dot(f + Int(row) * dimension, query, dimension) }
                    decode(rows: Int(row)..<(Int(row) + 1), into: s.baseAddress!)
                    return dot(s.baseAddress!, query, dimension)
                }
            }
        }
    }
}

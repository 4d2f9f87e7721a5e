// A corpus index: a corpus's embeddings, its documents and the model that embedded them, in one file that is
// memory-mapped, never read whole. Searching it embeds only the query.
//
// Format (version 1; all integers little-endian; every section starts on a 64-byte boundary):
//
//   offset  bytes  field
//   0       8      magic "ATTENDIX"
//   8       4      version (UInt32) = 1
//   12      4      H = length of the header (UInt32)
//   16      H      header, JSON: {"model": {"name", "sha256", "dimension", "pooling", "normalize"},
//                  "count": N, "dimension": D, "storage": "float32" | "float16" | "int8",
//                  "sections": {"vectors": [offset, bytes], "scales": [offset, bytes] (int8 only),
//                               "offsets": [offset, bytes], "documents": [offset, bytes], "graph": [offset, bytes] (HNSW)},
//                  "hnsw": {"m", "ef_construction", "seed", "entry", "max_level"} (with a graph)}
//   vectors        N × D elements, row i = document i: float32, IEEE float16, or int8 (value = q × scale[i])
//   scales         N × Float32 (int8 only): scale[i] = max |x| / 127 of row i
//   offsets        (N + 1) × UInt64: document i is bytes offsets[i] ..< offsets[i+1] of the documents section
//   documents      N JSON objects, one per line: {"id", "text", …the input record's other fields}
//   graph          HNSW links (see HNSW.swift): per node its level, then per level a count and UInt32 ids
//
// Scores are inner products of the query's embedding with the stored vectors: cosine similarity for a model that
// normalises (all-MiniLM-L6-v2 does), as the soft lookup expects.
import AttendModels
import AttendTensor
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How an index stores its vectors.
public enum VectorStorage: String, Sendable, CaseIterable {
    case float32, float16, int8

    public var bytesPerElement: Int { self == .float32 ? 4 : self == .float16 ? 2 : 1 }
    /// Bytes per stored vector of `dimension` elements, scale included.
    public func bytesPerVector(dimension: Int) -> Int { dimension * bytesPerElement + (self == .int8 ? 4 : 0) }
}

/// One search result: a document's row and its score (inner product with the query).
public struct SearchHit: Sendable, Equatable {
    public var index: Int
    public var score: Float
    public init(index: Int, score: Float) { self.index = index; self.score = score }
}

/// A corpus index opened from a file (memory-mapped, read-only; safe to share between threads).
public final class CorpusIndex: @unchecked Sendable {
    public static let magic = Array("ATTENDIX".utf8)
    public static let version: UInt32 = 1

    public let path: String
    public let model: ModelIdentity
    public let count: Int
    public let dimension: Int
    public let storage: VectorStorage
    /// The approximate-search graph, when the index was built with one.
    public let graph: HNSWGraph?
    private let map: MappedFile
    let vectors: UnsafeRawPointer
    let scales: UnsafePointer<Float>?
    private let offsets: UnsafeRawPointer
    private let documents: UnsafeRawPointer
    private let documentsBytes: Int

    /// Opens and validates `path`: magic, version, header, every section inside the file with the size it must have.
    public init(path: String) throws {
        self.path = path
        map = try MappedFile(path: path)
        let bytes = map.bytes
        func fail(_ why: String) -> SearchError { SearchError("\(path): not a valid Attend index: \(why)") }
        guard bytes.count >= 16, Array(bytes[0..<8]) == Self.magic else { throw fail("no ATTENDIX magic at the start") }
        let version = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        guard version == Self.version else { throw SearchError("\(path): index version \(version); this attend reads version \(Self.version)") }
        let h = Int(bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
        guard 16 + h <= bytes.count else { throw fail("the header (\(h) bytes) runs past the end of the file") }
        let header = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: bytes[16..<(16 + h)]), source: path + " header")
        model = try ModelIdentity(json: header["model"] ?? .null, source: path)
        guard let n = header["count"]?.intValue, n >= 0, let d = header["dimension"]?.intValue, d >= 1,
              let s = header["storage"]?.stringValue.flatMap(VectorStorage.init(rawValue:)) else {
            throw fail("the header needs count, dimension and storage (float32, float16 or int8)")
        }
        guard d == model.dimension else { throw fail("dimension \(d) differs from the model's \(model.dimension)") }
        (count, dimension, storage) = (n, d, s)
        func section(_ name: String, bytes expected: Int?) throws -> (offset: Int, bytes: Int) {
            guard let pair = header["sections"]?[name]?.intArray, pair.count == 2 else { throw fail("no \"\(name)\" section") }
            let (o, b) = (pair[0], pair[1])
            guard o >= 16 + h, b >= 0, o <= bytes.count, b <= bytes.count - o else {
                throw fail("section \"\(name)\" (\(b) bytes at \(o)) is outside the file (\(bytes.count) bytes)")
            }
            if let expected, b != expected { throw fail("section \"\(name)\" has \(b) bytes, expected \(expected)") }
            return (o, b)
        }
        let base = bytes.baseAddress!
        vectors = base + (try section("vectors", bytes: n * d * s.bytesPerElement)).offset
        if s == .int8 {
            let sc = try section("scales", bytes: n * 4)
            guard sc.offset % 4 == 0 else { throw fail("the scales section is not 4-byte aligned") }
            scales = (base + sc.offset).assumingMemoryBound(to: Float.self)
        } else {
            scales = nil
        }
        let off = try section("offsets", bytes: (n + 1) * 8)
        offsets = base + off.offset
        let docs = try section("documents", bytes: nil)
        documents = base + docs.offset
        documentsBytes = docs.bytes
        var previous: UInt64 = 0
        for i in 0...n {
            let o = offsets.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian
            guard o >= previous, o <= UInt64(docs.bytes) else { throw fail("document offset \(i) (\(o)) is out of order or past the documents") }
            previous = o
        }
        if let g = header["sections"]?["graph"], g != .null {
            let gs = try section("graph", bytes: nil)
            graph = try HNSWGraph(serialized: UnsafeRawBufferPointer(start: base + gs.offset, count: gs.bytes), count: n,
                                  parameters: header["hnsw"] ?? .null, source: path)
        } else {
            graph = nil
        }
    }

    /// Document `i`'s stored record: `{"id", "text", …}`.
    public func document(_ i: Int) throws -> JSONValue {
        guard i >= 0, i < count else { throw SearchError("\(path): no document \(i) (the index has \(count))") }
        let a = Int(offsets.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian)
        let b = Int(offsets.loadUnaligned(fromByteOffset: (i + 1) * 8, as: UInt64.self).littleEndian)
        var end = b
        while end > a, documents.load(fromByteOffset: end - 1, as: UInt8.self) == 0x0A { end -= 1 }
        return try JSONValue.parse(UnsafeRawBufferPointer(start: documents + a, count: end - a), source: "\(path) document \(i)")
    }

    /// Rows `start ..< start + rows` as float32, into `out` (`rows × dimension`).
    public func decode(rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let d = dimension
        switch storage {
        case .float32:
            out.update(from: (vectors + rows.lowerBound * d * 4).assumingMemoryBound(to: Float.self), count: rows.count * d)
        case .float16:
            HalfConversion.decode((vectors + rows.lowerBound * d * 2).assumingMemoryBound(to: UInt16.self), into: out, count: rows.count * d)
        case .int8:
            let q = (vectors + rows.lowerBound * d).assumingMemoryBound(to: Int8.self)
            for (r, row) in rows.enumerated() {
                let scale = scales![row]
                for j in 0..<d { out[r * d + j] = Float(q[r * d + j]) * scale }
            }
        }
    }

    /// The float32 rows of a float32 index, read in place (nil for other storage).
    var float32Rows: UnsafePointer<Float>? { storage == .float32 ? vectors.assumingMemoryBound(to: Float.self) : nil }

    /// Refuses a query embedded by another model than the index's.
    public func checkModel(_ query: ModelIdentity) throws {
        guard query.sha256 == model.sha256, query.dimension == model.dimension, query.pooling == model.pooling,
              query.normalize == model.normalize else {
            throw SearchError("\(path) was built with model \(model.name) (sha256 \(model.sha256.prefix(12))…, \(model.dimension) dims); the query model is \(query.name) (sha256 \(query.sha256.prefix(12))…, \(query.dimension) dims). Search with --model \(model.name), or rebuild the index")
        }
    }
}

/// A read-only memory mapping of a whole file.
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SearchError("\(path): cannot be opened (\(String(cString: strerror(errno))))") }
        defer { _ = sysClose(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw SearchError("\(path): not a regular file") }
        let size = Int(st.st_size)
        guard size > 0 else { throw SearchError("\(path): empty file, not an Attend index") }
        guard let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw SearchError("\(path): cannot be memory-mapped (\(String(cString: strerror(errno))))")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }
}

/// IEEE binary16 ⇄ binary32 without F16C: decoding is exact (normals and subnormals), by placing the half's
/// exponent and mantissa in a float's bits and multiplying by 2¹¹² to rebias the exponent. Infinities and NaNs are
/// not expected in stored embeddings (they decode to large finite values).
public enum HalfConversion {
    /// Plain twin: one value.
    @inline(__always)
    public static func decode(_ h: UInt16) -> Float {
        let magnitude = Float(bitPattern: UInt32(h & 0x7FFF) << 13) * 0x1p112
        return Float(bitPattern: magnitude.bitPattern | (UInt32(h & 0x8000) << 16))
    }

    /// Σ decode(h[i]) · q[i], decoding in registers; four independent accumulators of eight lanes.
    public static func dot(_ h: UnsafePointer<UInt16>, _ q: UnsafePointer<Float>, _ n: Int) -> Float {
        @inline(__always) func load(_ i: Int) -> SIMD8<Float> {
            let x = SIMD8<UInt32>(truncatingIfNeeded: UnsafeRawPointer(h + i).loadUnaligned(as: SIMD8<UInt16>.self))
            let magnitude = unsafeBitCast((x & 0x7FFF) &<< 13, to: SIMD8<Float>.self) * SIMD8<Float>(repeating: 0x1p112)
            return unsafeBitCast(unsafeBitCast(magnitude, to: SIMD8<UInt32>.self) | ((x & 0x8000) &<< 16), to: SIMD8<Float>.self)
        }
        @inline(__always) func query(_ i: Int) -> SIMD8<Float> { UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Float>.self) }
        var a0 = SIMD8<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0
        var i = 0
        while i + 32 <= n {
            a0 += load(i) * query(i)
            a1 += load(i + 8) * query(i + 8)
            a2 += load(i + 16) * query(i + 16)
            a3 += load(i + 24) * query(i + 24)
            i += 32
        }
        while i + 8 <= n { a0 += load(i) * query(i); i += 8 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { s += decode(h[i]) * q[i]; i += 1 }
        return s
    }

    /// `count` values, eight at a time.
    public static func decode(_ src: UnsafePointer<UInt16>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let rebias = SIMD8<Float>(repeating: 0x1p112)
        while i + 8 <= count {
            let h = SIMD8<UInt32>(truncatingIfNeeded: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<UInt16>.self))
            let magnitude = unsafeBitCast((h & 0x7FFF) &<< 13, to: SIMD8<Float>.self) * rebias
            let bits = unsafeBitCast(magnitude, to: SIMD8<UInt32>.self) | ((h & 0x8000) &<< 16)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: unsafeBitCast(bits, to: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { dst[i] = decode(src[i]); i += 1 }
    }
}

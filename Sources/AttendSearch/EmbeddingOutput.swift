// The output formats of an embedding job: JSON Lines (one object per input record, in input order), or a binary
// matrix (NumPy `.npy`, float32 or float16; `.fbin`, float32: uint32 rows, uint32 columns, then the rows) with a
// JSON Lines file of ids beside it (one line per matrix row) and bad records in an errors file.
//
// Binary headers hold the row count, which is known only at the end: they are written with a placeholder and
// patched when the job finishes, before the file is renamed into place.
import AttendModels
import AttendTensor
import Foundation

/// How an embedding job writes its results.
public enum EmbeddingOutputFormat: String, Sendable, CaseIterable {
    case jsonl, npy, fbin

    /// From a path's extension: `.npy`, `.fbin`, anything else JSON Lines.
    public static func infer(fromPath path: String) -> EmbeddingOutputFormat {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "npy": return .npy
        case "fbin": return .fbin
        default: return .jsonl
        }
    }
}

/// Element type of a binary matrix.
public enum VectorElementType: String, Sendable, CaseIterable {
    case float32, float16
}

/// Little-endian byte encodings of vectors and headers.
public enum VectorBytes {
    /// Appends `v` as little-endian float32 or float16 (round to nearest even).
    public static func append(_ v: [Float], as type: VectorElementType, to out: inout [UInt8]) {
        switch type {
        case .float32:
            for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case .float16:
            for x in v { withUnsafeBytes(of: Float16(x).bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
    }

    /// A 128-byte NumPy format 1.0 header for a C-order `[rows, columns]` matrix.
    public static func npyHeader(rows: Int, columns: Int, type: VectorElementType) -> [UInt8] {
        let descr = type == .float32 ? "<f4" : "<f2"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let total = 128
        let bodyLength = total - 10
        dict += String(repeating: " ", count: max(0, bodyLength - dict.utf8.count - 1)) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out += [UInt8(bodyLength & 0xFF), UInt8(bodyLength >> 8)]
        out += Array(dict.utf8)
        return out
    }

    /// The 8-byte `.fbin` header: uint32 rows, uint32 columns, little-endian.
    public static func fbinHeader(rows: Int, columns: Int) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: rows).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: columns).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    public static func headerLength(_ format: EmbeddingOutputFormat) -> Int {
        switch format {
        case .jsonl: return 0
        case .npy: return 128
        case .fbin: return 8
        }
    }
}

/// The model an embedding came from: enough to refuse mixing vectors of different models.
public struct ModelIdentity: Sendable, Equatable {
    public var name: String
    /// Lower-case hex SHA-256 of the model's `model.safetensors`.
    public var sha256: String
    public var dimension: Int
    public var pooling: [String]
    public var normalize: Bool

    public init(name: String, sha256: String, dimension: Int, pooling: [String], normalize: Bool) {
        self.name = name
        self.sha256 = sha256
        self.dimension = dimension
        self.pooling = pooling
        self.normalize = normalize
    }

    /// The identity of a loaded embedder; hashes its `model.safetensors` (once per process and file). Pooling and
    /// normalisation are read from the folder's sentence-transformers files (`modules.json`, `1_Pooling/config.json`),
    /// as the embedder itself reads them; a folder without them is mean-pooled and not normalised.
    public static func of(_ embedder: SentenceEmbedder, name: String) throws -> ModelIdentity {
        let folder = embedder.folder
        let sha = try ModelHashCache.shared.sha256(of: folder.appendingPathComponent("model.safetensors"))
        var pooling = ["mean"]
        var normalize = false
        if let data = FileManager.default.contents(atPath: folder.appendingPathComponent("modules.json").path),
           let modules = try? JSONValue.parse(data).arrayValue {
            for m in modules {
                switch m["type"]?.stringValue {
                case "sentence_transformers.models.Normalize": normalize = true
                case "sentence_transformers.models.Pooling":
                    let path = folder.appendingPathComponent(m["path"]?.stringValue ?? "").appendingPathComponent("config.json").path
                    if let c = FileManager.default.contents(atPath: path).flatMap({ try? JSONValue.parse($0) }) {
                        let modes = [("pooling_mode_cls_token", "cls"), ("pooling_mode_max_tokens", "max"),
                                     ("pooling_mode_mean_tokens", "mean"), ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len")]
                        let on = modes.filter { c[$0.0]?.boolValue == true }.map(\.1)
                        if !on.isEmpty { pooling = on }
                    }
                default: break
                }
            }
        }
        return ModelIdentity(name: name, sha256: sha, dimension: embedder.dimension, pooling: pooling, normalize: normalize)
    }

    public var json: JSONValue {
        .object([("name", .string(name)), ("sha256", .string(sha256)), ("dimension", .int(dimension)),
                 ("pooling", .array(pooling.map { .string($0) })), ("normalize", .bool(normalize))])
    }

    public init(json: JSONValue, source: String) throws {
        guard let name = json["name"]?.stringValue, let sha = json["sha256"]?.stringValue,
              let dim = json["dimension"]?.intValue, let pooling = json["pooling"]?.arrayValue,
              let normalize = json["normalize"]?.boolValue else {
            throw SearchError("\(source): the model identity needs name, sha256, dimension, pooling and normalize")
        }
        self.init(name: name, sha256: sha, dimension: dim, pooling: pooling.compactMap(\.stringValue), normalize: normalize)
    }
}

/// SHA-256 of model files, computed once per (path, size, modification time): kept in memory and in
/// `$ATTEND_HOME/sha256-cache/` (beside `models/`) (hashing 90 MB is seconds in a debug build, and every job names its model).
final class ModelHashCache: @unchecked Sendable {
    static let shared = ModelHashCache()
    private let lock = NSLock()
    private var cache: [String: String] = [:]

    func sha256(of file: URL) throws -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
        let mtime = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = "\(file.standardizedFileURL.path)|\(size)|\(mtime)"
        lock.lock(); defer { lock.unlock() }
        if let hit = cache[key] { return hit }
        let dir = ModelStore.defaultHome().deletingLastPathComponent().appendingPathComponent("sha256-cache")
        let entry = dir.appendingPathComponent(String(Shard.fnv1a(Array(key.utf8)), radix: 16))
        if let data = FileManager.default.contents(atPath: entry.path),
           let text = String(data: data, encoding: .utf8), text.hasPrefix(key + " ") {
            let digest = String(text.dropFirst(key.count + 1).prefix(64))
            if digest.count == 64 { cache[key] = digest; return digest }
        }
        let digest: String
        do { digest = try Checksum.sha256Hex(ofFile: file) } catch {
            throw SearchError("\(file.path): cannot be hashed (\(error))")
        }
        cache[key] = digest
        if (try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)) != nil {
            try? FileOps.writeAtomically(Array("\(key) \(digest)\n".utf8), to: entry.path + ".\(getpid())")
            try? FileOps.rename(entry.path + ".\(getpid())", to: entry.path)
        }
        return digest
    }
}

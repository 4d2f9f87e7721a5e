// The one way a model folder is read, for every family: `config.json` decoded with the checkpoint's own key names
// (errors name the file and the field; sizes are bounded so an absurd number is an error, not a trap or a huge
// allocation), and `model.safetensors` loaded strictly into a module tree, memory-mapped, after the family's
// `sanitize` step renamed the file's tensors to the module's parameter paths. Loading fails naming the tensor and
// both shapes when a tensor is missing or misshaped, and naming the tensors the model did not use.
import AttendNN
import AttendTokenizers
import Foundation

/// What a family's `sanitize` step says about one tensor name of a weights file.
public enum SanitizedTensor: Equatable, Sendable {
    /// Load it into the parameter at this path.
    case parameter(String)
    /// A tensor the family knows and does not need (pre-training heads, buffers it checked itself).
    case ignore
}

/// Reading a model folder: its config and its weights.
public enum ModelFolder {
    /// The files a model folder holds.
    public static let configFile = "config.json"
    public static let weightsFile = "model.safetensors"

    /// Reads `config.json` (or `file`) of `folder` into `C`, turning decoding errors into messages that name the file
    /// and the field.
    public static func readConfig<C: Decodable>(_ type: C.Type, folder: URL, file: String = configFile) throws -> C {
        try readJSON(type, from: folder.appendingPathComponent(file))
    }

    /// Decodes the JSON file at `url` into `C`; errors name the file and the field.
    public static func readJSON<C: Decodable>(_ type: C.Type, from url: URL) throws -> C {
        // An empty file is named as such (and not read: Foundation's Data(contentsOf:) leaks 4 KB on empty files,
        // found by the model_config fuzz target).
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int, size == 0 {
            throw ModelError.invalidConfig(url.path, "the file is empty, expected a JSON object")
        }
        guard let data = try? Data(contentsOf: url) else { throw ModelError.missingFile(url.path) }
        if let offset = JSONLexer.nestingBeyond(in: data) {
            throw ModelError.invalidConfig(url.path, "arrays and objects nested deeper than \(JSONLexer.foundationMaximumDepth) levels (at byte \(offset))")
        }
        do {
            return try JSONDecoder().decode(C.self, from: data)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ModelError.invalidConfig(url.path, "missing key \"\(fieldPath(ctx.codingPath + [key]))\"")
        } catch let DecodingError.typeMismatch(type, ctx) {
            throw ModelError.invalidConfig(url.path, "wrong type at \(place(ctx.codingPath)): expected \(expected(type))")
        } catch let DecodingError.valueNotFound(type, ctx) {
            throw ModelError.invalidConfig(url.path, "null at \(place(ctx.codingPath)): expected \(expected(type))")
        } catch let DecodingError.dataCorrupted(ctx) where !ctx.codingPath.isEmpty {
            throw ModelError.invalidConfig(url.path, "invalid value at \(place(ctx.codingPath)): \(ctx.debugDescription)")
        } catch {
            throw ModelError.invalidConfig(url.path, "not valid JSON")
        }
    }

    /// A decoding path as a user writes it: `training.induction_head`, `target[107]` (never Swift's "Index 107").
    static func fieldPath(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let i = key.intValue, key.stringValue.hasPrefix("Index ") {
                out += "[\(i)]"
            } else {
                out += (out.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return out
    }

    /// Where in the file: the quoted field path, or "the top level".
    static func place(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "the top level" : "\"\(fieldPath(path))\""
    }

    /// What a Swift type means in JSON words.
    static func expected(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Dictionary") { return "an object" }
        if name.hasPrefix("Array") { return "a list" }
        if name == "String" { return "a string" }
        if name == "Bool" { return "true or false" }
        if name.hasPrefix("Int") || name.hasPrefix("UInt") { return "a whole number" }
        if name == "Double" || name == "Float" { return "a number" }
        return "a \(name)"
    }

    /// The `model_type` field of a folder's `config.json`, or nil when the file has none.
    public static func modelType(of folder: URL) throws -> String? {
        struct Probe: Decodable {
            var modelType: String?
            enum CodingKeys: String, CodingKey { case modelType = "model_type" }
        }
        return try readConfig(Probe.self, folder: folder).modelType
    }

    /// Strictly loads `model.safetensors` of `folder` into `model`: every parameter present with its shape, every
    /// tensor of the file used (or declared `.ignore` by `sanitize`). Tensors of at least `mapThreshold` bytes are
    /// read in place from the memory-mapped file (``Parameter/map(_:)``); the rest are copied.
    /// - Parameters:
    ///   - prefix: prepended to every parameter path (a checkpoint saved from a wrapper, `bert.`)
    ///   - sanitize: maps a file tensor name to a parameter path (default: the same name)
    /// - Returns: the open file and the names of the tensors that were mapped (release their pages once packed).
    /// - Throws: ``WeightLoadingError`` naming the tensor and both shapes, or the unused tensors.
    @discardableResult
    public static func loadWeights(_ model: any Module, folder: URL, file name: String = weightsFile,
                                   sanitize: (String) -> SanitizedTensor = { .parameter($0) },
                                   mapThreshold: Int = defaultMapThreshold) throws -> (file: SafetensorsFile, mapped: [String]) {
        let url = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { throw ModelError.missingFile(url.path) }
        let file = try SafetensorsFile(url: url)
        return (file, try loadWeights(model, from: file, sanitize: sanitize, mapThreshold: mapThreshold))
    }

    /// ``loadWeights(_:folder:file:sanitize:mapThreshold:)`` from a file already open (a family that reads some
    /// tensors itself first). Returns the names of the tensors that were mapped.
    @discardableResult
    public static func loadWeights(_ model: any Module, from file: SafetensorsFile,
                                   sanitize: (String) -> SanitizedTensor = { .parameter($0) },
                                   mapThreshold: Int = defaultMapThreshold) throws -> [String] {
        let url = file.url
        let source = url.lastPathComponent
        // Parameter path → file tensor name, after the family's renames.
        var byPath: [String: String] = [:]
        var unused: [String] = []
        for tensor in file.names {
            switch sanitize(tensor) {
            case .parameter(let path):
                if let other = byPath[path] {
                    throw ModelError.invalidWeights(url.path, "tensors '\(other)' and '\(tensor)' both name parameter '\(path)'")
                }
                byPath[path] = tensor
            case .ignore: continue
            }
        }
        var used = Set<String>()
        var mapped: [String] = []
        for (path, parameter) in model.namedParameters() {
            guard let tensor = byPath[path] else {
                throw WeightLoadingError.missing(source: source, tensor: path, shape: parameter.shape)
            }
            let info = try file.info(tensor)
            guard info.shape == parameter.shape else {
                throw WeightLoadingError.shapeMismatch(source: source, tensor: tensor, expected: parameter.shape, actual: info.shape)
            }
            // Large tensors are read in place from the mapped file: the process never holds a copy, and the
            // kernel keeps in memory only the pages in use.
            if info.byteCount >= mapThreshold, let m = try file.mappedTensor(tensor) {
                parameter.map(m)
                mapped.append(tensor)
            } else {
                parameter.value = try file.tensor(tensor, releasingPages: true)
            }
            used.insert(path)
        }
        // Every parameter was either loaded above or loading threw; a placeholder left here is a bug in the family.
        if let (path, p) = model.namedParameters().first(where: { !$0.1.isLoaded }) {
            throw WeightLoadingError.missing(source: source, tensor: path, shape: p.shape)
        }
        unused = byPath.filter { !used.contains($0.key) }.map(\.value)
        if !unused.isEmpty { throw WeightLoadingError.unused(source: source, tensors: unused.sorted()) }
        return mapped
    }

    /// Tensors of at least this many bytes are read in place from the mapped weights file rather than copied.
    public static let defaultMapThreshold = 256 << 10
}

/// Sanity bounds for the sizes a config declares, so that a corrupt or hostile `config.json` (2^62 layers) gives an
/// error naming the file and the field instead of a trap or an attempt to allocate it.
public struct ConfigCheck {
    /// The config file, as errors name it.
    public let source: String

    public init(source: String) { self.source = source }

    /// Largest size any field may declare (vocabularies, widths, positions).
    public static let maxSize = 1 << 24
    /// Largest number of layers or heads.
    public static let maxCount = 1 << 12

    /// Requires `range.contains(value)`.
    public func require(_ value: Int, _ field: String, in range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ModelError.invalidConfig(source, "\(field) is \(value), expected \(range.lowerBound)…\(range.upperBound)")
        }
    }

    /// A width or vocabulary size: 1…``maxSize`` (0… with `allowZero`).
    public func size(_ value: Int, _ field: String, allowZero: Bool = false) throws {
        try require(value, field, in: (allowZero ? 0 : 1)...Self.maxSize)
    }

    /// A number of layers or heads: 0…``maxCount`` (1… with `positive`).
    public func count(_ value: Int, _ field: String, positive: Bool = false) throws {
        try require(value, field, in: (positive ? 1 : 0)...Self.maxCount)
    }

    /// Largest number of elements one weight tensor, or one kind of weight summed over the layers, may have
    /// (2^32 Float32 = 16 GiB: beyond any model this CPU library can run).
    public static let maxElements = 1 << 32

    /// The product of `factors` (a table's rows × columns, layers × width × width) is at most `limit`
    /// (``maxElements`` unless given); checked without overflow. `what` names the fields (`"vocab_size × hidden_size"`),
    /// `unit` what is counted.
    public func elements(_ factors: [Int], _ what: String, limit: Int = maxElements, unit: String = "weights") throws {
        var product = 1
        for f in factors {
            let (p, overflow) = product.multipliedReportingOverflow(by: Swift.max(f, 0))
            guard !overflow, p <= limit else {
                throw ModelError.invalidConfig(source, "\(what) = \(factors.map(String.init).joined(separator: " × ")) is more than \(limit) \(unit)")
            }
            product = p
        }
    }

    /// `width` splits evenly into `heads` heads.
    public func divisible(_ width: Int, _ widthField: String, by heads: Int, _ headsField: String) throws {
        guard heads > 0, width % heads == 0 else {
            throw ModelError.invalidConfig(source, "\(widthField) \(width) must be divisible by \(headsField) \(heads)")
        }
    }
}

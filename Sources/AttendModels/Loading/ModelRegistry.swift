// Which family a model folder belongs to, read from its config.json's `model_type`, and how to load it.
// Adding a family is one line in `ModelRegistry.families` (see docs/ADDING-A-MODEL.md).
import AttendNN
import Foundation

/// One model family: its `model_type` and how to load a folder of it.
public struct ModelFamily: Sendable {
    /// The `model_type` of its `config.json`.
    public let modelType: String
    /// One line for people: what the family is.
    public let summary: String
    /// Loads a folder of this family.
    public let load: @Sendable (URL) throws -> any AttendModel

    public init(modelType: String, summary: String, load: @escaping @Sendable (URL) throws -> any AttendModel) {
        self.modelType = modelType
        self.summary = summary
        self.load = load
    }
}

/// The families Attend can load, keyed by `model_type`.
public enum ModelRegistry {
    /// Every family, one line each.
    public static let families: [ModelFamily] = [
        ModelFamily(modelType: "bert", summary: "BERT encoder with sentence-transformers pooling (all-MiniLM-L6-v2)") {
            try SentenceEmbedder.load(folder: $0)
        },
        ModelFamily(modelType: "mpnet", summary: "MPNet encoder with relative position bias and sentence-transformers pooling (all-mpnet-base-v2)") {
            try SentenceEmbedder.load(folder: $0)
        },
        ModelFamily(modelType: "tiny-translator", summary: "Attend's encoder-decoder demo translator (English → French)") {
            try TinyTranslator.load(folder: $0)
        },
        ModelFamily(modelType: "tiny-gpt", summary: "Attend's decoder-only demo model (induction heads)") {
            try TinyGPT.load(folder: $0)
        },
        ModelFamily(modelType: "llama", summary: "Llama decoder from a GGUF file (SmolLM2-135M-Instruct; quantized weights) or a Hugging Face folder (safetensors): RoPE, grouped-query attention, SwiGLU") {
            try LlamaModel.load($0)
        },
    ]

    /// The family registered for `modelType`.
    public static func family(_ modelType: String) -> ModelFamily? {
        families.first { $0.modelType == modelType }
    }

    /// The family of a model folder, from its `config.json`'s `model_type`.
    /// - Throws: ``ModelError/invalidConfig(_:_:)`` naming the file when `model_type` is missing or unknown.
    public static func family(of folder: URL) throws -> ModelFamily {
        if let gguf = ggufModel(folder) {
            // A GGUF file (or a folder holding one and no config.json) names its family in general.architecture.
            let known = families.map(\.modelType).joined(separator: ", ")
            let arch = try GGUFFile(url: gguf).string("general.architecture")
            guard let family = family(arch) else {
                throw ModelError.invalidConfig(gguf.path, "general.architecture \"\(arch)\" is not supported (known: \(known))")
            }
            return family
        }
        let config = folder.appendingPathComponent(ModelFolder.configFile).path
        let known = families.map(\.modelType).joined(separator: ", ")
        guard let type = try ModelFolder.modelType(of: folder) else {
            throw ModelError.invalidConfig(config, "missing key \"model_type\" (known model types: \(known))")
        }
        guard let family = family(type) else {
            throw ModelError.invalidConfig(config, "model_type \"\(type)\" is not supported (known model types: \(known))")
        }
        return family
    }

    /// The GGUF file `url` is, or the first one in a folder without a `config.json`; nil otherwise.
    static func ggufModel(_ url: URL) -> URL? {
        if url.pathExtension.lowercased() == "gguf" { return url }
        guard !FileManager.default.fileExists(atPath: url.appendingPathComponent(ModelFolder.configFile).path) else { return nil }
        return ModelStore.ggufFiles(in: url).first
    }

    /// Loads the model in `folder` with the family its `config.json` names.
    /// - Parameter name: what to call it (default: the folder's name).
    public static func load(folder: URL, name: String? = nil) throws -> LoadedModel {
        let family = try family(of: folder)
        return LoadedModel(name: name ?? folder.lastPathComponent, folder: folder, model: try family.load(folder))
    }
}

extension DemoModels {
    /// The names the embedded models go by on the command line, with the folder each names.
    public static let aliases: [(name: String, folder: String)] = [
        ("tiny-translator", translator), ("tiny-translator-bottleneck", bottleneckTranslator),
        ("tiny-gpt", inductionGPT), ("tiny-gpt-induction", inductionGPT),
    ]

    /// The embedded folder a command-line name refers to (`tiny-gpt` → `tiny-gpt-induction`), nil for other names.
    public static func folder(named name: String) -> URL? {
        guard let entry = aliases.first(where: { $0.name == name }) else { return nil }
        return folder(entry.folder)
    }
}

// The demo models Attend trains itself, stored as Hugging Face-style folders (config.json, model.safetensors,
// vocab.json) inside the AttendModels resources, so every command works on a fresh clone with no network.
// Each folder's config.json carries a "training" object with the command and seed that produced it.
import AttendNN
import Foundation

public enum DemoModels {
    /// Folder names of the embedded models.
    public static let translator = "tiny-translator"
    public static let bottleneckTranslator = "tiny-translator-bottleneck"
    public static let inductionGPT = "tiny-gpt-induction"

    /// The embedded folder `name` (nil if it was not built into this binary).
    public static func folder(_ name: String) -> URL? {
        if let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources") { return url }
        let url = Bundle.module.bundleURL.appendingPathComponent("Resources").appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) ? url : nil
    }

    /// The embedded folder, or an error that says how to make it.
    static func requireFolder(_ name: String, trainCommand: String) throws -> URL {
        guard let url = folder(name) else {
            throw ModelError.missingFile("embedded model \(name) (train it with `\(trainCommand)`)")
        }
        return url
    }

    /// Writes `config` (plus a "training" object of provenance strings) as pretty, key-sorted JSON.
    static func writeConfig<C: Encodable>(_ config: C, training: [String: String], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var object = try JSONSerialization.jsonObject(with: encoder.encode(config)) as? [String: Any] ?? [:]
        if !training.isEmpty { object["training"] = training }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try data.write(to: url)
    }

    /// Reads a config, turning decoding errors into messages that name the file and key.
    static func readConfig<C: Decodable>(_ type: C.Type, from url: URL) throws -> C {
        try ModelFolder.readJSON(type, from: url)
    }

    /// The "training" object of a config.json (empty if absent).
    public static func provenance(_ folder: URL) -> [String: String] {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("config.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object["training"] as? [String: String] ?? [:]
    }

    /// Refuses a config the weights file cannot hold, before the model is built (building allocates and randomly
    /// initialises every parameter the config asks for, which for a hostile config takes seconds and gigabytes).
    /// Reads only the safetensors header: each tensor in `shapes` that the file holds must have that shape (`fields`
    /// names the config fields it comes from); for each `layers` entry the file's layers `prefix0.` … must number
    /// exactly `count` when it holds any; and the file must hold at least `needed` elements in all (`sizes` names the
    /// fields that set it). A tensor that is simply missing is left to the strict loader, which names it.
    static func checkAgainstWeights(configURL: URL, folder: URL, shapes: [(tensor: String, shape: [Int], fields: String)],
                                    layers: [(prefix: String, count: Int, field: String)] = [],
                                    needed: Int? = nil, sizes: String = "") throws {
        let url = folder.appendingPathComponent(ModelFolder.weightsFile)
        guard FileManager.default.fileExists(atPath: url.path) else { throw ModelError.missingFile(url.path) }
        let file = try SafetensorsFile(url: url)
        for (tensor, shape, fields) in shapes {
            if let info = try? file.info(tensor), info.shape != shape {
                throw ModelError.invalidConfig(configURL.path, "\(fields) disagree with \(url.lastPathComponent), whose \(tensor) is \(info.shape)")
            }
        }
        for (prefix, count, field) in layers {
            // The layer indices the file holds under `prefix` ("encoder.layers." → 0, 1, …).
            let held = Set(file.names.compactMap { name -> Int? in
                guard name.hasPrefix(prefix) else { return nil }
                return Int(name.dropFirst(prefix.count).prefix { $0 != "." })
            })
            if let top = held.max(), top + 1 != count {
                throw ModelError.invalidConfig(configURL.path, "\(field) is \(count), but \(url.lastPathComponent) holds \(top + 1) such layers (\(prefix)0 … \(prefix)\(top))")
            }
        }
        guard let needed else { return }
        var held = 0
        for name in file.names { held = held.addingReportingOverflow((try? file.info(name).shape.reduce(1, *)) ?? 0).partialValue }
        guard needed <= held else {
            throw ModelError.invalidConfig(configURL.path, "\(sizes) need at least \(needed) parameters, but \(url.lastPathComponent) holds \(held)")
        }
    }

    /// Strictly loads `model.safetensors` into `model`: every parameter present with its shape, nothing extra.
    static func loadWeights(_ model: any Module, folder: URL) throws {
        try ModelFolder.loadWeights(model, folder: folder)
    }

    static func saveWeights(_ model: any Module, folder: URL, metadata: [String: String]) throws {
        var tensors: [String: Tensor] = [:]
        for (name, p) in model.namedParameters() { tensors[name] = p.value }
        try Safetensors.write(tensors, metadata: metadata, to: folder.appendingPathComponent("model.safetensors"))
    }
}

extension TinyTranslator {
    /// Writes `config.json` (with `training` provenance), `vocab.json` and `model.safetensors` into `folder`.
    public func save(to folder: URL, training: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try DemoModels.writeConfig(config, training: training, to: folder.appendingPathComponent("config.json"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        let vocab = ["source": sourceVocabulary, "target": targetVocabulary]
        try encoder.encode(vocab).write(to: folder.appendingPathComponent("vocab.json"))
        try DemoModels.saveWeights(self, folder: folder, metadata: ["format": "pt"])
    }

    /// Loads a folder written by ``save(to:training:)``, strictly.
    public static func load(folder: URL) throws -> TinyTranslator {
        let configURL = folder.appendingPathComponent(ModelFolder.configFile)
        let config = try DemoModels.readConfig(TinyTranslatorConfig.self, from: configURL)
        try config.validate(source: configURL.path)
        let vocab = try DemoModels.readConfig([String: WordVocabulary].self, from: folder.appendingPathComponent("vocab.json"))
        guard let source = vocab["source"], let target = vocab["target"] else {
            throw ModelError.invalidConfig(folder.appendingPathComponent("vocab.json").path, "needs \"source\" and \"target\" token lists")
        }
        guard source.count == config.sourceVocabSize, target.count == config.targetVocabSize else {
            throw ModelError.invalidConfig(folder.appendingPathComponent("vocab.json").path,
                "\"source\" has \(source.count) tokens and \"target\" \(target.count), but \(configURL.path) says "
                + "source_vocab_size \(config.sourceVocabSize) and target_vocab_size \(config.targetVocabSize)")
        }
        try checkAgainstWeights(config, configURL: configURL, folder: folder)
        let model = try TinyTranslator(config: config, sourceVocabulary: source, targetVocabulary: target)
        try DemoModels.loadWeights(model, folder: folder)
        return model
    }

    /// Refuses a config whose sizes `model.safetensors` cannot hold before the model is built: a fuzzed config of
    /// d_model 968, 7 encoder layers and ffn_dim 656 over the demo's weights took 19–25 s in the fuzz build to
    /// allocate and initialise a model that the weights then refused. Reads only the safetensors header: the token
    /// tables, the head and the first layers' feed-forward weights fix d_model, ffn_dim and the vocabulary sizes, and
    /// the layer names fix the layer counts.
    static func checkAgainstWeights(_ config: TinyTranslatorConfig, configURL: URL, folder: URL) throws {
        let (d, f) = (config.dModel, config.ffnDim)
        let (src, tgt) = (config.sourceVocabSize, config.targetVocabSize)
        try DemoModels.checkAgainstWeights(
            configURL: configURL, folder: folder,
            shapes: [("encoder.embed_tokens.weight", [src, d], "source_vocab_size \(src) and d_model \(d)"),
                     ("decoder.embed_tokens.weight", [tgt, d], "target_vocab_size \(tgt) and d_model \(d)"),
                     ("lm_head.weight", [tgt, d], "target_vocab_size \(tgt) and d_model \(d)"),
                     ("encoder.layers.0.fc1.weight", [f, d], "ffn_dim \(f) and d_model \(d)"),
                     ("decoder.layers.0.fc1.weight", [f, d], "ffn_dim \(f) and d_model \(d)")],
            layers: [("encoder.layers.", config.encoderLayers, "encoder_layers"),
                     ("decoder.layers.", config.decoderLayers, "decoder_layers")])
    }

    /// The embedded demo translator (or its bottleneck baseline).
    public static func demo(bottleneck: Bool = false) throws -> TinyTranslator {
        try load(folder: DemoModels.requireFolder(bottleneck ? DemoModels.bottleneckTranslator : DemoModels.translator,
                                                  trainCommand: "attend train translator\(bottleneck ? " --bottleneck" : "")"))
    }
}

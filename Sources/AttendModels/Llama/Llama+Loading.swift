// Loading a Llama model from one GGUF file: the config from the `llama.*` metadata, the byte-level BPE tokenizer
// from `tokenizer.ggml.*`, the chat template, and the weights (dequantized to Float32 for the reference path, kept as
// blocks for the quantized path), with llama.cpp's permutation of the Q and K rows undone.
import AttendNN
import AttendTokenizers
import Foundation

extension LlamaModel {
    /// The architecture this family reads (`general.architecture`).
    public static let architecture = "llama"

    /// Loads a GGUF file, or the one `.gguf` file of a folder, or a Hugging Face folder (`config.json` and
    /// safetensors weights, no `.gguf` file: ``load(huggingFaceFolder:activations:)``, always dense Float32, whatever
    /// `path` says); `activations` chooses the quantized path's products (``LlamaActivations``; the reference path
    /// ignores it).
    /// - Throws: `GGUFError` / `SafetensorsError` / ``ModelError`` naming the file and the key, field or tensor
    ///   that is missing or wrong.
    public static func load(_ fileOrFolder: URL, path: LlamaWeightPath = .quantized,
                            activations: LlamaActivations = .int16) throws -> LlamaModel {
        if isHuggingFaceFolder(fileOrFolder) { return try load(huggingFaceFolder: fileOrFolder, activations: activations) }
        let url = try ggufFile(fileOrFolder)
        let file = try GGUFFile(url: url)
        let source = url.path
        let arch = try file.string("general.architecture")
        guard arch == architecture else {
            throw ModelError.invalidConfig(source, "general.architecture is \"\(arch)\", expected \"\(architecture)\"")
        }
        let tokens = try file.stringArray("tokenizer.ggml.tokens")
        let config = LlamaConfig(
            vocabSize: tokens.count,
            hiddenSize: try file.int("llama.embedding_length"),
            intermediateSize: try file.int("llama.feed_forward_length"),
            numLayers: try file.int("llama.block_count"),
            numHeads: try file.int("llama.attention.head_count"),
            numKeyValueHeads: file.value("llama.attention.head_count_kv") == nil
                ? try file.int("llama.attention.head_count") : try file.int("llama.attention.head_count_kv"),
            ropeTheta: file.value("llama.rope.freq_base") == nil ? 10_000 : try file.float("llama.rope.freq_base"),
            rmsNormEps: try file.float("llama.attention.layer_norm_rms_epsilon"),
            contextLength: try file.int("llama.context_length"))
        try config.validate(source: source)
        if let dims = file.value("llama.rope.dimension_count")?.intValue, dims != config.headDim {
            throw ModelError.invalidConfig(source, "llama.rope.dimension_count is \(dims), expected the head size \(config.headDim) (partial rotary is not supported)")
        }
        let tokenizer = try loadTokenizer(file, tokens: tokens)
        let template = file.value("tokenizer.chat_template") == nil ? nil : try ChatTemplate(source: try file.string("tokenizer.chat_template"))

        let (d, h, hkv, f, dim) = (config.hiddenSize, config.numHeads, config.numKeyValueHeads, config.intermediateSize, config.headDim)
        func matrix(_ name: String, _ shape: [Int], unpermuteHeads heads: Int? = nil) throws -> LlamaMatrix {
            let info = try file.info(name)
            guard info.shape == shape else {
                throw GGUFError.shapeMismatch(file: url.lastPathComponent, tensor: name, expected: shape, actual: info.shape)
            }
            let order = heads.map { Self.unpermutedRows(rows: shape[0], heads: $0) }
            switch (path, info.type.isQuantized) {
            case (.quantized, true):
                let q = try file.quantizedMatrix(name, shape: shape)
                return .quantized(try order.map { try Self.reordered(q, rows: $0) } ?? q)
            default:
                let dense = try file.tensor(name, shape: shape)                                     // [out, in] Float32
                guard let order else { return .dense(dense) }
                var values = [Float](); values.reserveCapacity(dense.count)
                for r in order { values += dense.scalars[(r * shape[1])..<((r + 1) * shape[1])] }
                return .dense(try Tensor(shape: shape, scalars: values))
            }
        }
        func vector(_ name: String) throws -> Tensor { try file.tensor(name, shape: [d]) }

        var layers: [LlamaLayer] = []
        for i in 0..<config.numLayers {
            let p = "blk.\(i)."
            layers.append(LlamaLayer(
                attnNorm: try vector(p + "attn_norm.weight"),
                q: try matrix(p + "attn_q.weight", [h * dim, d], unpermuteHeads: h),
                k: try matrix(p + "attn_k.weight", [hkv * dim, d], unpermuteHeads: hkv),
                v: try matrix(p + "attn_v.weight", [hkv * dim, d]),
                o: try matrix(p + "attn_output.weight", [d, h * dim]),
                ffnNorm: try vector(p + "ffn_norm.weight"),
                gate: try matrix(p + "ffn_gate.weight", [f, d]),
                up: try matrix(p + "ffn_up.weight", [f, d]),
                down: try matrix(p + "ffn_down.weight", [d, f])))
        }
        let embedding = try matrix("token_embd.weight", [config.vocabSize, d])
        if file.contains(tensor: "output.weight") {
            throw ModelError.invalidWeights(source, "tensor 'output.weight' (an untied LM head) is not supported yet: this family ties the LM head to token_embd.weight")
        }
        return LlamaModel(config: config, path: path, activations: activations, tokenizer: tokenizer, chatTemplate: template, url: url,
                          embedding: embedding, layers: layers, outputNorm: try vector("output_norm.weight"))
    }

    /// `url` itself when it is a file, else the single `.gguf` file in the folder.
    static func ggufFile(_ url: URL) throws -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelError.missingFile(url.path)
        }
        guard isDirectory.boolValue else { return url }
        let files = ModelStore.ggufFiles(in: url)
        guard let first = files.first else {
            throw ModelError.invalidInput("\(url.path) holds no .gguf file and no config.json: Llama models load from a GGUF file or a Hugging Face folder")
        }
        guard files.count == 1 else {
            throw ModelError.invalidInput("\(url.path) holds \(files.count) .gguf files (\(files.map(\.lastPathComponent).joined(separator: ", "))): name one of them")
        }
        return first
    }

    /// The byte-level BPE tokenizer of the file's `tokenizer.ggml.*` values.
    static func loadTokenizer(_ file: GGUFFile, tokens: [String]) throws -> BPETokenizer {
        let source = file.url.path
        let model = try file.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw ModelError.invalidConfig(source, "tokenizer.ggml.model is \"\(model)\", expected \"gpt2\" (byte-level BPE)")
        }
        let pre = file.value("tokenizer.ggml.pre") == nil ? nil : try file.string("tokenizer.ggml.pre")
        guard let kind = BPEPreTokenizerKind(ggufPre: pre) else {
            throw ModelError.invalidConfig(source, "tokenizer.ggml.pre \"\(pre ?? "")\" is not a pre-tokenizer Attend knows (known: \(BPEPreTokenizerKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        func optionalInt(_ key: String) throws -> Int? { file.value(key) == nil ? nil : try file.int(key) }
        do {
            return try BPETokenizer(
                tokens: tokens, merges: try file.stringArray("tokenizer.ggml.merges"),
                tokenTypes: file.value("tokenizer.ggml.token_type") == nil ? nil : try file.intArray("tokenizer.ggml.token_type"),
                bosId: try optionalInt("tokenizer.ggml.bos_token_id"), eosId: try optionalInt("tokenizer.ggml.eos_token_id"),
                padId: try optionalInt("tokenizer.ggml.padding_token_id"), preTokenizer: kind)
        } catch let error as TokenizerError {
            throw ModelError.invalidConfig(source, "tokenizer: \(error)")
        }
    }

    /// The GGUF row each of transformers' rows comes from. llama.cpp's converter stores head `h`'s rows in the
    /// order (i, half) for its interleaved rope; transformers' `_reverse_permute_weights` reads them back as
    /// (half, i): transformers' row `h·d + half·d/2 + i` is GGUF row `h·d + 2i + half`.
    static func unpermutedRows(rows: Int, heads: Int) -> [Int] {
        let d = rows / heads, half = d / 2
        var order: [Int] = []
        order.reserveCapacity(rows)
        for h in 0..<heads { for s in 0..<2 { for i in 0..<half { order.append(h * d + 2 * i + s) } } }
        return order
    }

    /// The quantized matrix with its rows in `rows` order (each row's blocks copied whole).
    static func reordered(_ m: QuantizedMatrix, rows order: [Int]) throws -> QuantizedMatrix {
        var bytes = [UInt8](repeating: 0, count: m.byteCount)
        let rb = m.rowBytes
        m.withUnsafeBytes { src in
            bytes.withUnsafeMutableBytes { dst in
                for (to, from) in order.enumerated() {
                    dst.baseAddress!.advanced(by: to * rb).copyMemory(from: src.baseAddress!.advanced(by: from * rb), byteCount: rb)
                }
            }
        }
        return try QuantizedMatrix(type: m.type, rows: m.rows, columns: m.columns, bytes: bytes)
    }
}

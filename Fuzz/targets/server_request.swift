// Fuzz target: the server's request decoding and validation for every route that reads a body, through the
// routes' own handlers (the functions `attend serve` calls after reading the body), without HTTP. The first byte
// picks the route, the rest is the body. The embedding routes serve a tiny random BERT (hidden 8, one layer) with
// all-MiniLM-L6-v2's tokenizer, so a body that passes validation also runs the batcher and the response writer
// cheaply; /v1/explain serves the embedded demo models. Any error other than an APIError below 500 (or the
// queue's 429) is what the server would answer as a 500, which RELIABILITY.md calls a bug: the target traps on it.
import AttendModels
@testable import AttendServer
import AttendTokenizers
import Dispatch
import Foundation
import Logging

let routes = ["/v1/embeddings", "/v1/attention", "/v1/explain", "/embed", "/embed_all", "/similarity", "/rerank", "/tokenize", "/decode"]

let server: AttendServer = {
    do {
        let miniLM = URL(fileURLWithPath: ProcessInfo.processInfo.environment["ATTEND_FUZZ_MINILM"]
            ?? (NSHomeDirectory() + "/.cache/attend/models/all-MiniLM-L6-v2"))
        let tokenizer = try Tokenizer(folder: miniLM)
        let config = BertConfig(vocabSize: tokenizer.vocabularySize, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2,
                                intermediateSize: 16, maxPositionEmbeddings: 512)
        let bert = try BertModel(config: config, withPooler: false, seed: 17)
        let embedder = SentenceEmbedder(folder: miniLM, model: bert, tokenizer: tokenizer, pooling: [.mean], normalize: true,
                                        maxSeqLength: 512)
        var options = ServerOptions()
        options.port = 0
        options.maxInputTokens = 48        // bounded work per input: at most 4 inputs of 48 tokens
        options.maxClientBatch = 4
        options.maxBatchTokens = 256
        options.maxQueuedTokens = 1024
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        var demos: [LoadedModel] = []
        for name in AttendServer.defaultDemos {
            guard let folder = DemoModels.folder(named: name) else { continue }
            demos.append(try ModelRegistry.load(folder: folder, name: name))
        }
        return try AttendServer(embedders: [("tiny-bert", embedder)], demos: demos, options: options, logger: logger)
    } catch {
        FileHandle.standardError.write("server_request: cannot set up the server: \(error)\n".data(using: .utf8)!)
        exit(2)
    }
}()

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    _ = server.modelNames
    return 0
}

/// One call's result, and a signal when the detached task has let go of everything it captured.
///
/// libFuzzer counts mallocs against frees for each input and, when they differ, asks LeakSanitizer at once.
/// Waiting only for the handler's answer returned while the task was still being torn down on a cooperative
/// thread, with the request body not yet released: CI at 31c80de reported that body as a 105-byte leak once in
/// 937 inputs (Fuzz/regressions/server_request/leak-race). The task holds this box, so its `deinit` runs only
/// after the task's closure, and with it the body, has been released.
final class Outcome: @unchecked Sendable {
    var error: (any Error)?
    let answered = DispatchSemaphore(value: 0)
    let released: DispatchSemaphore
    init(released: DispatchSemaphore) { self.released = released }
    deinit { released.signal() }
}

/// Runs one route's handler on `body` and waits for it, and for the task that ran it to be released.
func call(_ route: String, _ body: Data) -> (any Error)? {
    let released = DispatchSemaphore(value: 0)
    var outcome: Outcome? = Outcome(released: released)
    let answered = outcome!.answered
    Task.detached { [outcome] in
        guard let outcome else { return }
        do {
            switch route {
            case "/v1/embeddings": _ = try await server.embeddingsResponse(body)
            case "/v1/attention": _ = try server.attentionResponse(body)
            case "/v1/explain": _ = try await server.explainResponse(body)
            case "/embed": _ = try await server.embedResponse(body, all: false)
            case "/embed_all": _ = try await server.embedResponse(body, all: true)
            case "/similarity": _ = try await server.similarityResponse(body)
            case "/rerank": _ = try await server.rerankResponse(body)
            case "/tokenize": _ = try server.tokenizeResponse(body)
            default: _ = try server.decodeResponse(body)
            }
        } catch {
            outcome.error = error
        }
        outcome.answered.signal()
    }
    answered.wait()
    let error = outcome?.error
    outcome = nil
    released.wait()
    return error
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let route = routes[Int(data[0]) % routes.count]
    let body = Data(bytes: data + 1, count: size - 1)
    guard let error = call(route, body) else { return 0 }
    switch error {
    case let e as APIError where e.status.code < 500: return 0
    case BatcherError.overloaded: return 0
    default:
        FileHandle.standardError.write("server_request: \(route) would answer 500 for this body: \(error)\n".data(using: .utf8)!)
        abort()
    }
}

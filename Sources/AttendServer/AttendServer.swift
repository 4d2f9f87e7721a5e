// `attend serve`: one process, models loaded once and shared, the OpenAI- and TEI-compatible routes, Attend's
// attention extension, metrics, and the explorer's files. Every handler runs inside `handle`, which checks the
// key, reads the body within the payload limit, and turns every failure into the route family's JSON error, so
// nothing a client sends reaches the process as an unhandled error.
import AttendModels
import AttendNN
import AttendSearch
import AttendViz
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

public final class AttendServer: Sendable {
    public let options: ServerOptions
    /// The models the embedding routes serve (sentence encoders), the default first.
    public let models: [ServedModel]
    /// Every model `/v1/explain` runs: the encoders above, the language models, then the demo models (explain only).
    public let explainers: [ServedExplainer]
    /// The corpus indexes `POST /v1/search` searches, each paired with the served encoder that built it.
    public let indexes: [ServedIndex]
    /// The language models `/v1/completions` and `/v1/chat/completions` generate with (also explained).
    public let decoders: [ServedDecoder]
    /// Lines for the person who started the server (a default model that is not installed, …).
    public let notices: [String]
    public let metrics: ServerMetrics
    let logger: Logger

    /// Serves already-loaded embedders (tests share one loaded model across servers this way), language models
    /// (`decoders`: completions, chat completions and `/v1/explain`), for `/v1/explain` only models of any family
    /// (`demos`: the embedded tiny-translator and tiny-gpt), and corpus indexes for `/v1/search` (each must have been
    /// built by one of `embedders`, else ``ServerError/indexModelNotServed``).
    public init(embedders: [(name: String, embedder: SentenceEmbedder)], decoders: [LoadedModel] = [],
                demos: [LoadedModel] = [], indexes: [(name: String, index: CorpusIndex)] = [], options: ServerOptions,
                notices: [String] = [], metrics: ServerMetrics = ServerMetrics(),
                logger: Logger = Logger(label: "attend.serve")) throws {
        let problems = options.problems()
        guard problems.isEmpty else { throw ServerError.badOptions(problems) }
        guard !embedders.isEmpty || !demos.isEmpty || !decoders.isEmpty else { throw ServerError.noModels }
        var seen = Set<String>()
        for name in embedders.map(\.name) + decoders.map(\.name) + demos.map(\.name) where !seen.insert(name).inserted {
            throw ServerError.duplicateModel(name)
        }
        let batcher = BatcherOptions(maxBatchTokens: options.maxBatchTokens, maxQueuedTokens: options.maxQueuedTokens)
        self.options = options
        self.metrics = metrics
        self.logger = logger
        self.notices = notices
        self.models = embedders.map {
            ServedModel(name: $0.name, embedder: $0.embedder, maxInputTokens: options.maxInputTokens, batcher: batcher, metrics: metrics)
        }
        self.indexes = try Self.serve(indexes: indexes, encoders: embedders)
        self.decoders = try decoders.map {
            guard let llama = $0.model as? LlamaModel else {
                throw ServerError.badOptions(["\($0.name) is not a language model (family \($0.family)); only llama GGUF models generate"])
            }
            return ServedDecoder(name: $0.name, model: llama, maxQueued: options.maxQueuedGenerations, metrics: metrics)
        }
        self.explainers = embedders.map { ServedExplainer(LoadedModel(name: $0.name, folder: $0.embedder.folder, model: $0.embedder), embeds: true) }
            + decoders.map { ServedExplainer($0, embeds: false) }
            + demos.map { ServedExplainer($0, embeds: false) }
    }

    /// The sentence encoder `attend serve` serves when no --model is given.
    public static let defaultEncoder = "all-MiniLM-L6-v2"
    /// The embedded demo models every default server adds (explain only).
    public static let defaultDemos = ["tiny-translator", "tiny-gpt"]
    /// The language model a default server adds when it is installed (completions, chat completions, explain).
    public static let defaultDecoder = "smollm2-135m"

    /// A model folder loaded through its family, except that a sentence encoder runs its linear layers at
    /// `precision` (``ServerOptions/precision``); every other family ignores it.
    static func load(folder: URL, name: String, precision: InferencePrecision) throws -> LoadedModel {
        if precision != .fp32, let type = try? ModelFolder.modelType(of: folder), SentenceEncoders.modelTypes.contains(type) {
            return LoadedModel(name: name, folder: folder, model: try SentenceEmbedder.load(folder: folder, precision: precision))
        }
        return try ModelRegistry.load(folder: folder, name: name)
    }

    /// Loads each model once (a known name, a folder, or an embedded demo's name); the first encoder is the
    /// embedding routes' default. Sentence encoders (bert, mpnet) serve every route; other families serve
    /// `/v1/explain` only; language models (llama GGUF) serve completions, chat completions and `/v1/explain`.
    /// With no names: all-MiniLM-L6-v2 when it is installed (a notice says how to install it when it is not),
    /// smollm2-135m when it is installed, and the two demo models, so a fresh clone serves without a network.
    /// `indexes` are corpus index files for `/v1/search` (`attend index build`), each built by one of the served
    /// encoders; with none, the built-in demo corpus is embedded once for each served encoder.
    public static func load(models names: [String], indexes indexFiles: [String] = [], options: ServerOptions,
                            logger: Logger = Logger(label: "attend.serve")) throws -> AttendServer {
        // Index files first: a path that is not an index stops the start before any model loads.
        var indexes: [(name: String, index: CorpusIndex)] = []
        for path in indexFiles {
            do { indexes.append((ServedIndex.name(forFile: path), try CorpusIndex(path: path))) } catch let e as SearchError {
                throw ServerError.cannotOpenIndex(e.message)
            }
        }
        var notices: [String] = []
        var requested = names
        if names.isEmpty {
            if (try? ModelStore.resolve(defaultEncoder)) != nil {
                requested = [defaultEncoder]
            } else {
                notices.append("\(defaultEncoder) is not installed, so the embedding routes are off; install it with `attend models install \(defaultEncoder)` (needs the network once). Serving the demo models \(defaultDemos.joined(separator: " and ")) for /v1/explain and the explorer.")
            }
            if (try? ModelStore.resolve(defaultDecoder)) != nil { requested.append(defaultDecoder) }
            requested += defaultDemos
        }
        var encoders: [(name: String, embedder: SentenceEmbedder)] = []
        var decoders: [LoadedModel] = []
        var demos: [LoadedModel] = []
        for name in requested {
            let folder: URL
            let servedName: String
            if let demo = DemoModels.folder(named: name) {
                (folder, servedName) = (demo, name)
            } else {
                folder = try ModelStore.resolve(name)
                servedName = folder.lastPathComponent
            }
            do {
                let loaded = try load(folder: folder, name: servedName, precision: options.precision)
                if let llama = loaded.model as? LlamaModel {
                    decoders.append(loaded)
                    logger.info("model loaded (language model)", metadata: ["model": "\(servedName)", "file": "\(llama.url.path)", "family": "\(loaded.family)",
                                                                            "context": "\(llama.config.contextLength)"])
                } else if let embedder = loaded.model as? SentenceEmbedder {
                    encoders.append((servedName, embedder))
                    logger.info("model loaded", metadata: ["model": "\(servedName)", "folder": "\(folder.path)", "family": "\(loaded.family)",
                                                           "precision": "\(embedder.model.inferencePrecision)",
                                                           "dimension": "\(embedder.dimension)", "max_tokens": "\(embedder.maxSeqLength)"])
                } else {
                    demos.append(loaded)
                    logger.info("model loaded (explain only)", metadata: ["model": "\(servedName)", "folder": "\(folder.path)", "family": "\(loaded.family)"])
                }
            } catch {
                throw ServerError.cannotLoad(name, folder.path, "\(error)")
            }
        }
        if indexFiles.isEmpty {
            for (name, embedder) in encoders {
                do { indexes.append((ServedIndex.demoName, try ServedIndex.demo(embedder: embedder, model: name))) } catch {
                    throw ServerError.cannotOpenIndex("the built-in demo corpus could not be embedded with \(name): \(error)")
                }
                logger.info("demo corpus embedded", metadata: ["model": "\(name)", "index": "\(ServedIndex.demoName)"])
            }
        }
        return try AttendServer(embedders: encoders, decoders: decoders, demos: demos, indexes: indexes, options: options, notices: notices, logger: logger)
    }

    /// Every served model's name, embedding models first.
    public var modelNames: [String] { explainers.map(\.name) }

    /// The embedding model a request names (the default when it names none); a served model that does not embed
    /// (a demo) is a 400 that says so.
    func model(_ name: String?) throws -> ServedModel {
        guard let name else {
            guard let first = models.first else {
                throw APIError.badRequest("this server serves no embedding model (it serves \(modelNames.map { "\"\($0)\"" }.joined(separator: ", ")), for /v1/explain); start it with `attend serve --model \(Self.defaultEncoder)` after `attend models install \(Self.defaultEncoder)`",
                                          param: "model", code: "no_embedding_model")
            }
            return first
        }
        if let m = models.first(where: { $0.name == name }) { return m }
        if decoders.contains(where: { $0.name == name }) {
            throw APIError.badRequest("model \(name) is a language model: it serves /v1/completions, /v1/chat/completions and /v1/explain, not embeddings; the embedding models here are \(models.isEmpty ? "none" : models.map { "\"\($0.name)\"" }.joined(separator: ", "))",
                                      param: "model", code: "model_not_embedding")
        }
        if explainers.contains(where: { $0.name == name }) {
            throw APIError.badRequest("model \(name) does not produce embeddings: it is served for /v1/explain only; the embedding models here are \(models.isEmpty ? "none" : models.map { "\"\($0.name)\"" }.joined(separator: ", "))",
                                      param: "model", code: "model_not_embedding")
        }
        throw APIError.unknownModel(name, served: modelNames)
    }

    /// The model `/v1/explain` runs (the first served when the request names none).
    func explainer(_ name: String?) throws -> ServedExplainer {
        guard let name else { return explainers[0] }
        if let m = explainers.first(where: { $0.name == name }) { return m }
        throw APIError.unknownModel(name, served: modelNames)
    }

    /// The application, ready to run; `onRunning` gets the bound port (useful with port 0).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        if let origin = options.corsOrigin {
            router.add(middleware: CORSMiddleware(allowOrigin: origin == "*" ? .all : .custom(origin),
                                                  allowHeaders: [.accept, .authorization, .contentType, .origin],
                                                  allowMethods: [.get, .post, .options]))
        }
        router.add(middleware: FallbackMiddleware(server: self))
        addRoutes(to: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "attend"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Runs until SIGINT or SIGTERM; in-flight requests finish first.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = application(onRunning: onRunning)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    // MARK: - The common handler

    /// Wraps a route: key check, body within the limit, errors in `flavor`'s shape, metrics and one log line.
    func handle(_ route: String, _ flavor: Flavor, isPublic: Bool = false, readsBody: Bool = false,
                _ body: @escaping @Sendable (Data, Request, BasicRequestContext) async throws -> Response)
        -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        { request, context in
            let started = ContinuousClock.now
            var response: Response
            do {
                if !isPublic { try self.authorize(request) }
                if readsBody {
                    try self.checkLength(request)
                    if Self.closesAfter(request) {
                        // A client that hangs up cancels this task, which drops its inputs from the batch queue.
                        // Watching for the hang-up consumes the connection's inbound stream, so Hummingbird closes
                        // the connection after the answer: only done when the client asked for that anyway.
                        response = try await request.body.consumeWithCancellationOnInboundClose { requestBody in
                            try await body(try await self.readBody(requestBody), request, context)
                        }
                    } else {
                        // Keep-alive (HTTP/1.1's default): the body is read as usual and the connection serves the
                        // client's next request; a keep-alive client that vanishes mid-request has its inputs run.
                        response = try await body(try await self.readBody(request.body), request, context)
                    }
                } else {
                    response = try await body(Data(), request, context)
                }
            } catch {
                response = self.errorResponse(error, flavor, route: route, context: context)
            }
            response.headers[.init("X-Request-Id")!] = context.id
            let status = response.status.code
            self.metrics.request(route: route, status: status)
            let elapsed = ContinuousClock.now - started
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            context.logger.log(level: status >= 500 ? .error : .info, "request",
                               metadata: ["method": "\(request.method)", "route": "\(route)", "status": "\(status)",
                                          "ms": "\(String(format: "%.1f", ms))"])
            return response
        }
    }

    /// Whether the client said `Connection: close` (then the server watches for it hanging up mid-request).
    static func closesAfter(_ request: Request) -> Bool {
        guard let value = request.headers[.connection] else { return false }
        return value.lowercased().split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "close" }
    }

    func authorize(_ request: Request) throws {
        guard let key = options.apiKey else { return }
        let given = request.headers[.authorization] ?? ""
        guard given == "Bearer \(key)" else { throw APIError.unauthorized() }
    }

    /// A declared length over the limit is refused before any byte of the body is read.
    func checkLength(_ request: Request) throws {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > options.payloadLimit {
            throw APIError.payloadTooLarge(limit: options.payloadLimit)
        }
    }

    func readBody(_ body: RequestBody) async throws -> Data {
        let limit = options.payloadLimit
        do {
            let buffer = try await body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge(limit: limit)
        }
    }

    func errorResponse(_ error: any Error, _ flavor: Flavor, route: String, context: BasicRequestContext) -> Response {
        var api: APIError
        switch error {
        case let e as APIError: api = e
        case BatcherError.overloaded(let seconds): api = .overloaded(retryAfter: seconds)
        case is CancellationError:
            api = APIError(status: .init(code: 499, reasonPhrase: "Client Closed Request"), message: "the request was cancelled",
                           type: "cancelled", teiType: "Cancelled")
        case let e as HTTPError:
            api = APIError(status: e.status, message: e.body ?? e.status.reasonPhrase, type: "invalid_request_error", teiType: "Validation")
        default:
            context.logger.error("internal error", metadata: ["route": "\(route)", "error": "\(error)"])
            api = .internalError("the server failed on this request: \(error)")
        }
        // TEI answers 422 for a well-formed body with wrong contents, 400 only for JSON that does not parse.
        if flavor == .tei && api.status == .badRequest && api.code != "invalid_json" { api.status = .unprocessableContent }
        return api.response(flavor)
    }
}

public enum ServerError: Error, CustomStringConvertible, Equatable {
    case badOptions([String])
    case noModels
    case duplicateModel(String)
    case cannotLoad(String, String, String)
    /// An index no served encoder built: (path, its model, the served encoders, the model's name).
    case indexModelNotServed(String, String, String, String)
    case duplicateIndex(String)
    case cannotOpenIndex(String)

    public var description: String {
        switch self {
        case .badOptions(let p): return p.joined(separator: "; ")
        case .noModels: return "no model to serve"
        case .duplicateModel(let n): return "model \"\(n)\" is listed twice"
        case let .cannotLoad(name, path, why): return "cannot load model '\(name)' from \(path): \(why)"
        case let .indexModelNotServed(path, model, served, name):
            return "\(path) was built with model \(model); this server loads \(served). Serve it with --model \(name), or rebuild the index with a served model"
        case .duplicateIndex(let n): return "two indexes are named \"\(n)\" for one model; rename one of the files"
        case .cannotOpenIndex(let why): return why
        }
    }
}

/// Unknown routes and anything thrown outside a handler still answer in JSON (OpenAI's shape under /v1).
struct FallbackMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let server: AttendServer
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let flavor: Flavor = request.uri.path.hasPrefix("/v1/") ? .openAI : .tei
            let e: any Error = (error as? HTTPError)?.status == .notFound ? APIError.notFound(request.uri.path) : error
            let response = server.errorResponse(e, flavor, route: "unmatched", context: context)
            server.metrics.request(route: "unmatched", status: response.status.code)
            return response
        }
    }
}

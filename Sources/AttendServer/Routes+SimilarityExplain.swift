// POST /v1/similarity/explain: "why are these two sentences similar?", answering exactly what
// `attend similarity A B --explain --json` prints (the same library calls): the cosine split into token × token
// contributions that sum to it (SimilarityExplanation), and the score carried back to the input words by integrated
// gradients (IntegratedGradients.similarity), with the completeness error.
// Request decoding is a pure function of the body's bytes (`SimilarityExplainRequest(_:)`).
import AttendModels
import AttendViz
import Foundation
import Hummingbird
import NIOCore

/// A parsed `/v1/similarity/explain` body.
public struct SimilarityExplainRequest: Sendable, Equatable {
    public var a: String
    public var b: String
    public var model: String?
    /// Points on the integrated-gradients path (`attend similarity --steps`).
    public var steps: Int
    /// Whether to carry the score back to the input words (`--no-input-attribution` is false).
    public var inputAttribution: Bool

    public static let fields: Set<String> = ["a", "b", "model", "steps", "input_attribution"]
    /// The CLI's default number of path points.
    public static let defaultSteps = 32
    /// The most path points a request may ask for: each is one forward and backward pass per text on the autograd
    /// path, and explain requests run one at a time (the CLI allows up to 1000).
    public static let maxSteps = 64
    /// The most work one request's input attributions may ask for, in token-steps: (tokens of a + tokens of b) ×
    /// (steps + 1), each one token through one forward and backward pass on the autograd path (about 12 ms in a debug
    /// build, far less in release). Two 30-token sentences at the default 32 steps fit.
    public static let maxTokenSteps = 2048

    /// Parses `data`; throws `APIError` 400 for JSON that does not parse, a missing or empty text, wrong types,
    /// unknown fields or steps outside 1…``maxSteps``.
    public init(_ data: Data) throws {
        let body = try JSONBody(data)
        try body.rejectUnknown(Self.fields)
        func text(_ key: String) throws -> String {
            guard let t = try body.string(key) else {
                throw APIError.badRequest("\"\(key)\" is required: the \(key == "a" ? "first" : "second") sentence", param: key)
            }
            guard !t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw APIError.badRequest("\"\(key)\" is empty: send a sentence", param: key)
            }
            return t
        }
        a = try text("a")
        b = try text("b")
        model = try body.string("model")
        steps = try body.int("steps") ?? Self.defaultSteps
        guard (1...Self.maxSteps).contains(steps) else {
            throw APIError.badRequest("\"steps\" must be between 1 and \(Self.maxSteps), got \(steps)", param: "steps")
        }
        inputAttribution = try body.bool("input_attribution", default: true)
    }
}

extension AttendServer {
    func similarityExplainResponse(_ data: Data) async throws -> Response {
        let request = try SimilarityExplainRequest(data)
        let served = try model(request.model)
        if request.inputAttribution {
            let na = served.tokenizer.encode(request.a, maxLength: served.embedder.maxSeqLength).count
            let nb = served.tokenizer.encode(request.b, maxLength: served.embedder.maxSeqLength).count
            let work = (na + nb) * (request.steps + 1)
            guard work <= SimilarityExplainRequest.maxTokenSteps else {
                throw APIError.tooLargeToCompute("integrated gradients over \(na) + \(nb) tokens and \(request.steps) steps are (\(na) + \(nb)) × \(request.steps + 1) = \(work) token-steps of forward and backward passes on the autograd path; this server allows at most \(SimilarityExplainRequest.maxTokenSteps): send fewer \"steps\", shorter texts, or \"input_attribution\": false for the token × token table alone",
                                                 param: "steps")
            }
        }
        let text: String = try await withCheckedThrowingContinuation { done in
            explainQueue.async { done.resume(with: Result { try Self.similarityExplanation(served, request) }) }
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `attend similarity A B --explain --json [--steps N] [--no-input-attribution]`'s text, computed as the CLI does.
    static func similarityExplanation(_ served: ServedModel, _ request: SimilarityExplainRequest) throws -> String {
        do {
            let explanation = try SimilarityExplanation.explain(embedder: served.embedder, request.a, request.b)
            let attributions = request.inputAttribution
                ? try IntegratedGradients.similarity(embedder: served.embedder, request.a, request.b, steps: request.steps) : nil
            return explanation.jsonReport(model: served.name, attributions: attributions).rendered() + "\n"
        } catch let e as ExplainMethodError {
            throw APIError.unprocessable(e.description, param: nil)
        } catch let e as ModelError {
            throw APIError.unprocessable("\(served.name) cannot run on this text: \(e)", param: nil)
        }
    }
}

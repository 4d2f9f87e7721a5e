// Attend's own routes, answering with exactly the JSON the CLI prints (the same library calls):
//   POST /v1/attention  the `attend attention` input {"q", "k", "v", "mask"?, "scale"?, "heads"?}
//                       → `attend attention --json`'s output (AttentionProblem → AttentionReport.json)
//   POST /v1/explain    {"text", "model"?, "layer"?, "head"?, "token"?, "method"?, "target"?, "target_token"?}
//                       → `attend explain [--method M] --format json`'s object (ExplainTrace.capture + ExplainJSON.make,
//                       or ExplainMethods.result + MethodResult.explainJSON) on any served model, the demos included
//   POST /v1/similarity/explain  {"a", "b", "model"?, "steps"?, "input_attribution"?} → `attend similarity A B
//                       --explain --json` (SimilarityExplanation + IntegratedGradients), in Routes+SimilarityExplain.swift
// Request decoding is a pure function of the body's bytes (`ExplainRequest(_:)`, `AttentionRequest.problem(_:)`),
// so a fuzzer can drive it without a server.
import AttendTensor
import AttendViz
import Foundation
import Hummingbird
import NIOCore

/// A parsed `/v1/explain` body.
public struct ExplainRequest: Sendable, Equatable {
    public var text: String
    public var model: String?
    public var layer: Int?
    public var head: Int?
    /// A query token (as `attend explain --token`: a word piece or its index).
    public var token: String?
    /// The explanation method (`attend explain --method`); nil = the raw trace without the method keys.
    public var method: ExplainMethod?
    /// grad-attention on a sentence encoder: the other sentence, whose cosine similarity is explained.
    public var target: String?
    /// grad-attention on a decoder (tiny-gpt): the next token whose log-probability is explained.
    public var targetToken: String?

    public static let fields: Set<String> = ["text", "model", "layer", "head", "token", "method", "target", "target_token"]

    /// Parses `data`; throws `APIError` 400 for JSON that does not parse, a missing or empty text, wrong types,
    /// unknown fields, an unknown method, or targets that do not go with the method (as `attend explain` refuses them).
    public init(_ data: Data) throws {
        let body = try JSONBody(data)
        try body.rejectUnknown(Self.fields)
        guard let text = try body.string("text") else {
            throw APIError.badRequest("\"text\" is required: the sentence to explain", param: "text")
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.badRequest("\"text\" is empty: send a sentence to explain", param: "text")
        }
        self.text = text
        self.model = try body.string("model")
        self.layer = try body.int("layer")
        self.head = try body.int("head")
        switch body.fields["token"] {
        case nil, .some(.null): token = nil
        case .some(.int(let i)): token = String(i)
        case .some(.string(let s)): token = s
        case .some(let other):
            throw APIError.badRequest("\"token\" must be a token (a string) or its index (an integer), got \(other.typeName)", param: "token")
        }
        if let name = try body.string("method") {
            guard let m = ExplainMethod(rawValue: name) else {
                throw APIError.badRequest("unknown method \"\(name)\"; use one of \(ExplainMethod.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))",
                                          param: "method")
            }
            method = m
        }
        target = try body.string("target")
        targetToken = try body.string("target_token")
        if target != nil && targetToken != nil {
            throw APIError.badRequest("give \"target\" or \"target_token\", not both", param: "target_token")
        }
        if method != .gradAttention, target != nil || targetToken != nil {
            throw APIError.badRequest("\"\(target != nil ? "target" : "target_token")\" belongs to \"method\": \"grad-attention\"",
                                      param: target != nil ? "target" : "target_token")
        }
        if method == .gradAttention, target == nil && targetToken == nil {
            throw APIError.badRequest("\"method\": \"grad-attention\" explains one output: give \"target\" (another sentence, for sentence encoders) or \"target_token\" (the next token, for tiny-gpt)",
                                      param: "target")
        }
        if let t = target, t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw APIError.badRequest("\"target\" is empty: send the other sentence", param: "target")
        }
    }
}

/// `/v1/attention`'s body: the `attend attention` input format.
public enum AttentionRequest {
    /// The largest problem one request may ask for: Lq × Lk × heads score entries (each step returns that many
    /// numbers, so this also bounds the answer).
    public static let maxScoreEntries = 1 << 20

    /// Parses and validates `data`; JSON that does not parse is a 400, a well-formed problem that cannot be
    /// computed (shapes that disagree, a bad mask, too large) is a 422 whose message names the key.
    public static func problem(_ data: Data) throws -> AttentionProblem {
        let json: JSONValue
        do { json = try JSONValue.parse(data, source: "request body") } catch let e as JSONSyntaxError {
            throw APIError.badRequest("the request body is not valid JSON: \(e.description)", code: "invalid_json")
        }
        let problem: AttentionProblem
        do { problem = try AttentionProblem.parse(json, source: "request body") } catch let e as AttentionProblemError {
            throw APIError.unprocessable(e.message, param: nil)
        }
        let (entries, overflow) = problem.lq.multipliedReportingOverflow(by: problem.lk)
        let (total, overflow2) = entries.multipliedReportingOverflow(by: problem.heads)
        guard !overflow && !overflow2 && total <= maxScoreEntries else {
            throw APIError.unprocessable("the problem is too large: \(problem.lq) queries × \(problem.lk) keys × \(problem.heads) heads; at most \(maxScoreEntries) scores per request",
                                         param: nil)
        }
        return problem
    }
}

extension AttendServer {
    func attentionResponse(_ data: Data) throws -> Response {
        let problem = try AttentionRequest.problem(data)
        let text: String
        do {
            let trace = try problem.run()
            text = try AttentionReport.json(input: problem, trace: trace).rendered() + "\n"
        } catch let e as AttentionProblemError {
            throw APIError.unprocessable(e.message, param: nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func explainResponse(_ data: Data) async throws -> Response {
        let request = try ExplainRequest(data)
        let model = try explainer(request.model)
        let text: String = try await withCheckedThrowingContinuation { done in
            explainQueue.async { done.resume(with: Result { try model.explain(request) }) }
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

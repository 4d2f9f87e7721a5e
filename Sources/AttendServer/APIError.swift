// Every failure a client can cause, and how each API family spells it:
// OpenAI (`/v1/…`): {"error": {"message", "type", "param", "code"}};
// TEI (`/embed`, `/rerank`, …): {"error": "...", "error_type": "Validation" | "Tokenizer" | "Overloaded" | …}.
import Foundation
import Hummingbird

/// Which ecosystem's error shape a route answers with.
enum Flavor: Sendable { case openAI, tei }

struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var message: String
    /// OpenAI's `type` (`invalid_request_error`, …).
    var type: String
    /// TEI's `error_type` (`Validation`, `Empty`, `Tokenizer`, `Overloaded`, `Backend`).
    var teiType: String
    var param: String?
    var code: String?
    /// Seconds, for 429.
    var retryAfter: Int?

    static func badRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", teiType: "Validation", param: param, code: code)
    }

    static func unauthorized() -> APIError {
        APIError(status: .unauthorized, message: "missing or wrong API key: send the header `Authorization: Bearer KEY` with the key the server was started with",
                 type: "invalid_request_error", teiType: "Unauthorized", code: "invalid_api_key")
    }

    static func unknownModel(_ name: String, served: [String]) -> APIError {
        APIError(status: .notFound, message: "the model \"\(name)\" is not served here; this server serves \(served.map { "\"\($0)\"" }.joined(separator: ", "))",
                 type: "invalid_request_error", teiType: "Validation", param: "model", code: "model_not_found")
    }

    static func notFound(_ path: String) -> APIError {
        APIError(status: .notFound, message: "no route \(path); see /openapi.json for the routes", type: "invalid_request_error",
                 teiType: "Validation", code: "not_found")
    }

    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "the request body is larger than the server's limit of \(limit) bytes",
                 type: "invalid_request_error", teiType: "Validation", code: "payload_too_large")
    }

    static func overloaded(retryAfter: Int) -> APIError {
        APIError(status: .tooManyRequests, message: "the server is busy: its queue is full; retry after \(retryAfter) s",
                 type: "server_overloaded", teiType: "Overloaded", code: "overloaded", retryAfter: retryAfter)
    }

    static func internalError(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error", teiType: "Backend", code: "internal_error")
    }

    /// The body in `flavor`'s shape.
    func body(_ flavor: Flavor) -> String {
        switch flavor {
        case .openAI:
            return ResponseJSON.object([("error", .object([
                ("message", .string(message)), ("type", .string(type)),
                ("param", param.map { .string($0) } ?? .null), ("code", code.map { .string($0) } ?? .null),
            ]))]).text
        case .tei:
            return ResponseJSON.object([("error", .string(message)), ("error_type", .string(teiType))]).text
        }
    }

    func response(_ flavor: Flavor) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body(flavor))))
    }
}

extension APIError {
    /// 422: the body parsed and has the right types, but its contents cannot be done (a layer out of range, …).
    static func unprocessable(_ message: String, param: String?) -> APIError {
        APIError(status: .unprocessableContent, message: message, type: "invalid_request_error", teiType: "Validation",
                 param: param, code: "unprocessable")
    }
}

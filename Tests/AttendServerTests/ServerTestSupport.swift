import AttendModels
@testable import AttendServer
import AttendTestSupport
import Foundation
import Logging
import Testing

/// The model the servers under test serve: its own instance (weights memory-mapped again), so the reference
/// results computed on the test's thread never share a model object with the server's inference thread.
enum ServedFixture {
    static let embedderResult: Result<SentenceEmbedder, Error> = Result {
        try SentenceEmbedder.load(folder: installedModelFolder("all-MiniLM-L6-v2"))
    }
    static func embedder() throws -> SentenceEmbedder { try embedderResult.get() }

    /// The reference: the library's own embedding of `texts` (what `attend embed` prints).
    static func reference(_ texts: [String]) throws -> [[Float]] {
        try SharedModels.miniLM().embed(texts).map(\.vector)
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "attend.serve.test")
        logger.logLevel = .critical
        return logger
    }
}

/// Starts a server on a free loopback port, runs `body`, and stops it (gracefully) whatever happens.
func withServer(_ configure: (inout ServerOptions) -> Void = { _ in },
                _ body: (Int, AttendServer) async throws -> Void) async throws {
    var options = ServerOptions()
    options.port = 0
    configure(&options)
    let server = try AttendServer(embedders: [("all-MiniLM-L6-v2", try ServedFixture.embedder())], options: options,
                                  logger: ServedFixture.quietLogger)
    let running = try await server.start()
    do {
        try await body(running.port, server)
    } catch {
        try? await running.stop()
        throw error
    }
    try await running.stop()
}

/// Embedding arrays of a JSON answer as Floats.
func floats(_ any: Any?) -> [Float] { flattenFloats(any) }

/// `|a − b| ≤ atol + rtol·|b|` everywhere, with the worst index in the message.
func expectNear(_ a: [Float], _ b: [Float], atol: Float = 1e-6, rtol: Float = 0, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) numbers", sourceLocation: sourceLocation)
    guard a.count == b.count else { return }
    var worst = (index: -1, excess: Float(0))
    for i in a.indices {
        let excess = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
        if excess > worst.excess { worst = (i, excess) }
    }
    #expect(worst.index < 0, "\(what): worst at \(worst.index): \(worst.index >= 0 ? "\(a[worst.index]) vs \(b[worst.index])" : "")",
            sourceLocation: sourceLocation)
}

/// Decodes OpenAI's base64 embedding (little-endian Float32).
func decodeBase64Floats(_ s: String) -> [Float] {
    guard let data = Data(base64Encoded: s) else { return [] }
    return stride(from: 0, to: data.count - 3, by: 4).map { i in
        let b = data.startIndex + i
        let bits = UInt32(data[b]) | UInt32(data[b + 1]) << 8 | UInt32(data[b + 2]) << 16 | UInt32(data[b + 3]) << 24
        return Float(bitPattern: bits)
    }
}

let sentences = [
    "The cat sat on the mat.", "A dog lay on the rug", "Stock prices fell sharply on Monday.",
    "Attention is all you need", "Transformers mix information across positions with attention; every other layer works on each position alone.",
    "Héllo wörld — naïve café", "短い文", "one", "The quick brown fox jumps over the lazy dog, again and again and again.",
]

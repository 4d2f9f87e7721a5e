// The route table. Public (no key even when one is set): /health, the explorer page and its files, /openapi.json.
import AttendViz
import Foundation
import Hummingbird

extension AttendServer {
    func addRoutes(to router: Router<BasicRequestContext>) {
        // OpenAI-compatible.
        router.post("/v1/embeddings", use: handle("/v1/embeddings", .openAI, readsBody: true) { data, _, _ in
            try await self.embeddingsResponse(data)
        })
        router.post("/v1/completions", use: handle("/v1/completions", .openAI, readsBody: true) { data, _, _ in
            try await self.completionsResponse(data, chat: false)
        })
        router.post("/v1/chat/completions", use: handle("/v1/chat/completions", .openAI, readsBody: true) { data, _, _ in
            try await self.completionsResponse(data, chat: true)
        })
        router.get("/v1/models", use: handle("/v1/models", .openAI) { _, _, _ in self.modelsResponse() })
        router.get("/v1/models/{id}", use: handle("/v1/models/{id}", .openAI) { _, _, context in
            let id = context.parameters.get("id") ?? ""
            return self.json(self.modelJSON(try self.explainer(id)))
        })

        // Attend's own: the CLI's JSON over HTTP (/v1/search: `attend search --index --json`).
        router.post("/v1/attention", use: handle("/v1/attention", .openAI, readsBody: true) { data, _, _ in
            try self.attentionResponse(data)
        })
        router.post("/v1/explain", use: handle("/v1/explain", .openAI, readsBody: true) { data, _, _ in
            try await self.explainResponse(data)
        })
        router.post("/v1/search", use: handle("/v1/search", .openAI, readsBody: true) { data, _, _ in
            try await self.searchResponse(data)
        })
        router.post("/v1/similarity/explain", use: handle("/v1/similarity/explain", .openAI, readsBody: true) { data, _, _ in
            try await self.similarityExplainResponse(data)
        })

        // TEI-compatible.
        router.post("/embed", use: handle("/embed", .tei, readsBody: true) { data, _, _ in try await self.embedResponse(data, all: false) })
        router.post("/embed_all", use: handle("/embed_all", .tei, readsBody: true) { data, _, _ in try await self.embedResponse(data, all: true) })
        router.post("/similarity", use: handle("/similarity", .tei, readsBody: true) { data, _, _ in try await self.similarityResponse(data) })
        router.post("/rerank", use: handle("/rerank", .tei, readsBody: true) { data, _, _ in try await self.rerankResponse(data) })
        router.post("/tokenize", use: handle("/tokenize", .tei, readsBody: true) { data, _, _ in try self.tokenizeResponse(data) })
        router.post("/decode", use: handle("/decode", .tei, readsBody: true) { data, _, _ in try self.decodeResponse(data) })
        router.get("/info", use: handle("/info", .tei) { _, _, _ in self.infoResponse() })
        router.get("/health", use: handle("/health", .tei, isPublic: true) { _, _, _ in Response(status: .ok) })
        router.get("/metrics", use: handle("/metrics", .tei) { _, _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: self.metrics.exposition())))
        })

        // The API's description and the explorer.
        router.get("/openapi.json", use: handle("/openapi.json", .tei, isPublic: true) { _, _, _ in
            try self.file("openapi.json")
        })
        router.get("/", use: handle("/", .tei, isPublic: true) { _, _, _ in try self.file("explorer.html") })
        for name in VizResources.servedNames where name != "explorer.html" {
            router.get("/\(name)", use: handle("/\(name)", .tei, isPublic: true) { _, _, _ in try self.file(name) })
        }
    }

    /// A resource of AttendViz (or this target's openapi.json), as it is, with its content type.
    func file(_ name: String) throws -> Response {
        let data: Data
        if name == "openapi.json" {
            guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources")
                    ?? Optional(Bundle.module.bundleURL.appendingPathComponent("Resources/openapi.json")),
                  let d = try? Data(contentsOf: url) else {
                throw APIError.internalError("the resource openapi.json is missing from Attend_AttendServer.resources")
            }
            data = d
        } else {
            do { data = try VizResources.data(name) } catch { throw APIError.internalError("\(error)") }
        }
        return Response(status: .ok, headers: [.contentType: VizResources.contentType(of: name), .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

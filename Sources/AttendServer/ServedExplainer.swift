// Every model a server answers `/v1/explain` for: the sentence encoders it embeds with (the same loaded object)
// and the embedded demo models (tiny-translator, tiny-gpt), which have attention to show but no embeddings.
// Explain runs are serialised on one queue of their own, so a model object is never run by two explain requests
// at once and the embedding batches keep their own queue.
import AttendModels
import AttendViz
import Dispatch
import Foundation

/// One model `/v1/explain` can run, as the registry loaded it.
public final class ServedExplainer: @unchecked Sendable {
    /// The name clients use (`model` in requests).
    public let name: String
    /// The folder it was loaded from (`model_path` in the explain JSON, as `attend explain` prints it).
    public let folder: URL
    /// The model's family (`bert`, `mpnet`, `tiny-translator`, `tiny-gpt`).
    public let family: String
    /// Whether the embedding routes serve it too.
    public let embeds: Bool
    /// Only touched on `explainQueue`.
    let loaded: LoadedModel
    /// Layers (attention sites) and their head counts, for `/v1/models` and the explorer.
    public let sites: [AttentionSite]
    /// Unix time of loading, for `/v1/models`.
    public let created: Int

    init(_ loaded: LoadedModel, embeds: Bool) {
        self.name = loaded.name
        self.folder = loaded.folder
        self.family = loaded.family
        self.embeds = embeds
        self.loaded = loaded
        self.sites = loaded.attentionSites
        self.created = Int(Date().timeIntervalSince1970)
    }
}

/// The one queue explain requests run on (a model object is never run by two of them at once).
let explainQueue = DispatchQueue(label: "attend.explain", qos: .userInitiated)

extension ServedExplainer {
    /// `attend explain --format json`'s object for `request`, computed as the CLI computes it.
    /// Throws `APIError` 422 for a layer, head or token out of range and for a text the model cannot read.
    func explain(_ request: ExplainRequest) throws -> String {
        guard !sites.isEmpty else { throw APIError.unprocessable("\(name) has no attention layers to explain", param: "model") }
        let layer = try Self.index(request.layer ?? sites.count - 1, count: sites.count, param: "layer") {
            VizError.layerOutOfRange($0, layers: self.sites.count)
        }
        let head = try Self.index(request.head ?? 0, count: sites[layer].heads, param: "head") {
            VizError.headOutOfRange($0, heads: self.sites[layer].heads)
        }
        do {
            // A source-side token is checked before the model runs (as the CLI does).
            if sites[layer].queries == .source, let token = request.token {
                _ = try ExplainTrace.findToken(token, in: loaded.tokens(request.text))
            }
            let trace = try ExplainTrace.capture(loaded, text: request.text)
            let focus = try request.token.map { try ExplainTrace.findToken($0, in: trace.layer(layer).queryTokens).index }
            let value = try ExplainJSON.make(trace: trace, layer: layer, head: head, focus: focus,
                                             model: ExplainJSON.ModelInfo(path: folder.path))
            return value.rendered() + "\n"
        } catch let e as VizError {
            switch e {
            case .tokenNotFound, .tokenIndexOutOfRange: throw APIError.unprocessable(e.description, param: "token")
            default: throw APIError.unprocessable(e.description, param: nil)
            }
        } catch let e as ModelError {
            throw APIError.unprocessable("\(name) cannot run on this text: \(e)", param: "text")
        }
    }

    /// A layer or head index; negative counts from the end (as `attend explain`).
    static func index(_ i: Int, count: Int, param: String, error: (Int) -> VizError) throws -> Int {
        let resolved = i < 0 ? count + i : i
        guard resolved >= 0 && resolved < count else { throw APIError.unprocessable(error(i).description, param: param) }
        return resolved
    }
}

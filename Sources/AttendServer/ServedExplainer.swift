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
    /// `attend explain [--method M] --format json`'s object for `request`, computed as the CLI computes it.
    /// Throws `APIError` 422 for a layer, head or token out of range, a text the model cannot read, a method the model
    /// does not support (rollout over a cross-attention layer, grad-attention without a target, …) or a problem over the server's bounds.
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
            if let method = request.method, method != .raw { try checkSize(method, request) }
            let trace = try ExplainTrace.capture(loaded, text: request.text)
            let focus = try request.token.map { try ExplainTrace.findToken($0, in: trace.layer(layer).queryTokens).index }
            if let method = request.method, method != .raw {
                // As `attend explain --method M --format json`: value-norm reads one head only when one is asked for.
                let target: GradientTarget? = request.target.map { .similarity(to: $0) } ?? request.targetToken.map { .nextToken($0) }
                let result = try ExplainMethods.result(method, trace: trace, layer: layer, head: request.head == nil ? nil : head,
                                                       model: loaded.model, text: request.text, target: target)
                return result.explainJSON(model: name, focus: focus).rendered() + "\n"
            }
            var value = try ExplainJSON.make(trace: trace, layer: layer, head: head, focus: focus,
                                             model: ExplainJSON.ModelInfo(path: folder.path))
            if request.method == .raw { value = try ExplainMethods.withMethodKeys(value, trace: trace, layer: layer, head: head) }
            return value.rendered() + "\n"
        } catch let e as APIError {
            throw e
        } catch let e as ExplainMethodError {
            switch e {
            case .tooLarge: throw APIError.tooLargeToCompute(e.description, param: "text")
            case .invalidInput: throw APIError.unprocessable(e.description, param: request.targetToken != nil ? "target_token" : nil)
            case .unsupported: throw APIError.unprocessable(e.description, param: "method")
            }
        } catch let e as VizError {
            switch e {
            case .tokenNotFound, .tokenIndexOutOfRange: throw APIError.unprocessable(e.description, param: "token")
            default: throw APIError.unprocessable(e.description, param: nil)
            }
        } catch let e as ModelError {
            throw APIError.unprocessable("\(name) cannot run on this text: \(e)", param: "text")
        } catch {
            // Anything else a method reports about this input (a target token outside the vocabulary, …).
            throw APIError.unprocessable("\(request.method?.rawValue ?? "explain") cannot run on this input: \(error)", param: nil)
        }
    }

    /// The most tokens (text and target each) a gradient method runs on: grad-attention runs the model forward and
    /// backward on Attend's autograd (the reference path), whose time and memory grow with the length, and explain
    /// requests run one at a time.
    public static let maxGradientTokens = 64

    /// Refuses, before the model runs, what the server will not compute: grad-attention over
    /// ``maxGradientTokens`` tokens, flow over ``AttentionFlow/defaultMaxTokens`` (the library's own bound).
    func checkSize(_ method: ExplainMethod, _ request: ExplainRequest) throws {
        let count = try loaded.tokens(request.text).count
        switch method {
        case .flow where count > AttentionFlow.defaultMaxTokens:
            throw APIError.tooLargeToCompute("attention flow refuses a sentence of \(count) tokens: at most \(AttentionFlow.defaultMaxTokens) tokens (it solves T² exact max-flow problems, whose cost grows as T⁴·layers); use \"method\": \"rollout\"",
                                         param: "text")
        case .gradAttention:
            if count > Self.maxGradientTokens {
                throw APIError.tooLargeToCompute("grad-attention runs the model forward and backward on the autograd path; this server allows at most \(Self.maxGradientTokens) tokens, the text has \(count)",
                                             param: "text")
            }
            if let target = request.target, let t = try? loaded.tokens(target).count, t > Self.maxGradientTokens {
                throw APIError.tooLargeToCompute("grad-attention runs the model forward and backward on the autograd path; this server allows at most \(Self.maxGradientTokens) tokens, the target has \(t)",
                                             param: "target")
            }
        default: break
        }
    }

    /// A layer or head index; negative counts from the end (as `attend explain`).
    static func index(_ i: Int, count: Int, param: String, error: (Int) -> VizError) throws -> Int {
        let resolved = i < 0 ? count + i : i
        guard resolved >= 0 && resolved < count else { throw APIError.unprocessable(error(i).description, param: param) }
        return resolved
    }
}

extension APIError {
    /// 422 with code `too_large`: a well-formed request whose computation is over a bound of the server or the library
    /// (TEI and /v1/attention answer 422 for a problem too large to compute; 413 is for bodies over the payload limit).
    static func tooLargeToCompute(_ message: String, param: String?) -> APIError {
        APIError(status: .unprocessableContent, message: message, type: "invalid_request_error", teiType: "Validation",
                 param: param, code: "too_large")
    }
}

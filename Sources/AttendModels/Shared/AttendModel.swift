// The seam every model family plugs into. A family's model says what it is (`family`, its config's `model_type`),
// how it cuts text into tokens, which attention sites it has, and runs an input reporting each site's intermediates
// to an observer under the site's name ("L3.weights", "decoder.L1.encoder_attn.q", …). The views (AttendViz) and
// the front-ends (the CLI, the server) work from this protocol alone, with no per-family code.
import AttendNN
import Foundation

/// What kind of attention a site does; the views use it for labels, masks and the head summary.
public enum AttentionKind: String, Sendable, Codable {
    /// Every token attends to every token of the same sequence (BERT, a translator's encoder).
    case selfAttention = "self"
    /// A token attends to itself and earlier tokens only (a decoder).
    case causalSelfAttention = "causal"
    /// Decoder tokens (rows) attend to encoder tokens (columns).
    case crossAttention = "cross"
}

/// Which tokens label one axis (queries or keys) of an attention site.
public enum SiteTokens: Sendable, Equatable {
    /// The model's input sequence: BERT's and TinyGPT's tokens, a translator's source sentence.
    case source
    /// The decoder's input of an encoder-decoder: `<bos>` and the target tokens (teacher forcing).
    case target
    /// A fixed list, e.g. the one pooled vector a bottleneck decoder attends to.
    case fixed([String])
}

/// One place in a model where attention happens: one layer's self-, causal self- or cross-attention.
public struct AttentionSite: Sendable, Equatable {
    /// The observer prefix the model reports under (`"L3"`, `"decoder.L1.encoder_attn"`): it reports
    /// `"\(name).weights"` `[B, H, Lq, Lk]` and, when it can, `.q`, `.k`, `.v` and `.context`.
    public var name: String
    /// For people: `"layer 3"`, `"decoder 1 · cross"`.
    public var label: String
    public var kind: AttentionKind
    public var heads: Int
    /// The tokens that label the rows (the attending positions).
    public var queries: SiteTokens
    /// The tokens that label the columns (the attended-to positions).
    public var keys: SiteTokens
    /// What a reader of the reported q/k/v should know beyond the plain projections (rotary positions, …), or nil.
    public var note: String?
    /// The observer name of an additive bias `[1 or B, H, Lq, Lk]` the site adds to the scaled scores before the
    /// softmax (MPNet's relative-position bias, `"position_bias"`), or nil.
    public var scoreBias: String?

    public init(name: String, label: String, kind: AttentionKind, heads: Int, queries: SiteTokens, keys: SiteTokens,
                note: String? = nil, scoreBias: String? = nil) {
        self.scoreBias = scoreBias
        self.name = name
        self.label = label
        self.kind = kind
        self.heads = heads
        self.queries = queries
        self.keys = keys
        self.note = note
    }
}

/// One run of a model on an input, as the attention views need it: the tokens on the axes and which are real.
public struct AttentionRun: Sendable {
    /// The input text (for a translator: the source text).
    public var text: String
    /// The model's input tokens (encoder-only and decoder-only models have only these).
    public var sourceTokens: [String]
    /// The decoder's input tokens of an encoder-decoder (`<bos>` first); empty otherwise.
    public var targetTokens: [String]
    /// Per source token, false where it is padding (masked as a key); nil when every token is real.
    public var sourceIsReal: [Bool]?
    /// The input was cut to the model's length limit.
    public var wasTruncated: Bool
    /// How the reported `"embeddings"` are made, for the step-by-step text (`"LayerNorm(token + position embedding)"`).
    public var embeddingsFormula: String?

    public init(text: String, sourceTokens: [String], targetTokens: [String] = [], sourceIsReal: [Bool]? = nil,
                wasTruncated: Bool = false, embeddingsFormula: String? = nil) {
        self.embeddingsFormula = embeddingsFormula
        self.text = text
        self.sourceTokens = sourceTokens
        self.targetTokens = targetTokens
        self.sourceIsReal = sourceIsReal
        self.wasTruncated = wasTruncated
    }

    /// The tokens that label an axis.
    public func tokens(_ axis: SiteTokens) -> [String] {
        switch axis {
        case .source: return sourceTokens
        case .target: return targetTokens
        case .fixed(let list): return list
        }
    }
}

/// A model of any family, as commands, views and servers see it.
public protocol AttendModel: AnyObject {
    /// The family: the `model_type` of its `config.json` (`"bert"`, `"tiny-translator"`, `"tiny-gpt"`).
    var family: String { get }
    /// Every attention site, in model order (for an encoder-decoder: encoder layers, then per decoder layer its
    /// causal self-attention and its cross-attention). Layers and heads count from 0 everywhere.
    var attentionSites: [AttentionSite] { get }
    /// The tokens the model reads for `text` (a WordPiece tokenizer's pieces, a word vocabulary's words).
    /// - Throws: ``ModelError/invalidInput(_:)`` when the text has nothing the model can read.
    func tokens(_ text: String) throws -> [String]
    /// Runs the model on `text`, reporting every site's intermediates to `observer`; returns the tokens on the axes.
    /// Embeddings, when the model has a single embedding output, are reported as `"embeddings"` `[B, T, D]`.
    func runAttention(_ text: String, observer: any IntermediateObserver) throws -> AttentionRun
}

/// A model loaded from a folder, with the name it goes by.
public struct LoadedModel {
    /// The name the user gave (`all-MiniLM-L6-v2`, `tiny-translator`) or the folder's name.
    public var name: String
    public var folder: URL
    public var model: any AttendModel

    public init(name: String, folder: URL, model: any AttendModel) {
        self.name = name
        self.folder = folder
        self.model = model
    }

    public var family: String { model.family }
    public var attentionSites: [AttentionSite] { model.attentionSites }
    public func tokens(_ text: String) throws -> [String] { try model.tokens(text) }
}

// BERT behind the model seam: the sentence-transformers folder (tokenizer + encoder) is the model commands see.
import AttendNN
import AttendTokenizers
import Foundation

extension SentenceEmbedder: AttendModel {
    public var family: String { model.modelType }

    /// One self-attention site per layer, `"L0"` … `"L{n-1}"`, labelled `"layer i"`.
    public var attentionSites: [AttentionSite] {
        (0..<model.layerCount).map {
            AttentionSite(name: "L\($0)", label: "layer \($0)", kind: .selfAttention, heads: model.heads,
                          queries: .source, keys: .source, scoreBias: model.scoreBias)
        }
    }

    /// WordPiece tokens with `[CLS]` and `[SEP]`, cut to `max_seq_length` as sentence-transformers does.
    public func tokens(_ text: String) throws -> [String] {
        tokenizer.encode(text, maxLength: maxSeqLength).tokens
    }

    public func runAttention(_ text: String, observer: any IntermediateObserver) throws -> AttentionRun {
        try runAttention(encoding: tokenizer.encode(text, maxLength: maxSeqLength), text: text, observer: observer)
    }

    /// Runs the encoder on one encoding; the observer receives "embeddings" and "L{i}.q/k/v/weights/context".
    public func runAttention(encoding: Encoding, text: String, observer: any IntermediateObserver) throws -> AttentionRun {
        let typeIds = encoding.typeIds.count == encoding.ids.count ? encoding.typeIds : Array(repeating: 0, count: encoding.ids.count)
        _ = try model.encode(ids: [encoding.ids], typeIds: [typeIds], attentionMask: nil, observer: observer)   // [1, T, hidden]
        return AttentionRun(text: text, sourceTokens: encoding.tokens, wasTruncated: encoding.wasTruncated,
                            embeddingsFormula: model.embeddingsFormula)
    }
}

extension BertModel {
    /// Runs the encoder on one encoding, reporting to `observer`; the tokens of both axes are the encoding's.
    public func runAttention(encoding: Encoding, text: String, observer: any IntermediateObserver) throws -> AttentionRun {
        let typeIds = encoding.typeIds.count == encoding.ids.count ? encoding.typeIds : Array(repeating: 0, count: encoding.ids.count)
        _ = try self(ids: [encoding.ids], typeIds: [typeIds], observer: observer)     // [1, T, hidden]
        return AttentionRun(text: text, sourceTokens: encoding.tokens, wasTruncated: encoding.wasTruncated)
    }
}

// The translator behind the model seam. Explaining a sentence runs the translator twice: greedy decoding finds its
// own translation, then one teacher-forced pass over `<bos>` + that translation reports every attention site, so the
// views show the attention that produced each target word.
import AttendNN
import Foundation

extension TinyTranslator: AttendModel {
    public var family: String { config.modelType }

    /// Per encoder layer its self-attention (`"encoder.L{i}.self_attn"`, source × source); per decoder layer its causal
    /// self-attention (`"decoder.L{i}.self_attn"`, target × target) and its cross-attention
    /// (`"decoder.L{i}.encoder_attn"`, target rows × source columns, or one pooled column for the bottleneck baseline).
    public var attentionSites: [AttentionSite] {
        let h = config.attentionHeads
        var sites = (0..<config.encoderLayers).map {
            AttentionSite(name: "encoder.L\($0).self_attn", label: "encoder \($0) · self", kind: .selfAttention, heads: h,
                          queries: .source, keys: .source)
        }
        let crossKeys: SiteTokens = config.isBottleneck ? .fixed(["⟨pooled source⟩"]) : .source
        for i in 0..<config.decoderLayers {
            sites.append(AttentionSite(name: "decoder.L\(i).self_attn", label: "decoder \(i) · self", kind: .causalSelfAttention,
                                       heads: h, queries: .target, keys: .target))
            sites.append(AttentionSite(name: "decoder.L\(i).encoder_attn", label: "decoder \(i) · cross", kind: .crossAttention,
                                       heads: h, queries: .target, keys: crossKeys))
        }
        return sites
    }

    /// The English words of `text` as the corpus tokenises them (lower case, punctuation dropped).
    /// - Throws: ``ModelError/invalidInput(_:)`` naming a word outside the grammar and the closest known ones.
    public func tokens(_ text: String) throws -> [String] {
        let words = TranslationCorpus.tokenizeEnglish(text)
        _ = try sourceIDs([words])
        return words
    }

    /// Translates `text` greedily, then runs `<bos>` + the translation teacher-forced, reporting every site.
    public func runAttention(_ text: String, observer: any IntermediateObserver) throws -> AttentionRun {
        let source = try tokens(text)
        guard let translation = try translate([text]).first else { throw ModelError.invalidInput("nothing to translate") }
        let target = Array((["<bos>"] + translation.target).prefix(config.maxPositionEmbeddings))
        var run = try runAttention(sourceTokens: source, targetTokens: target, observer: observer)
        run.text = text
        return run
    }

    /// One teacher-forced pass: the encoder reads `sourceTokens`, the decoder `targetTokens` (starting with `<bos>`).
    /// Source tokens spelled `<pad>` are masked as keys.
    public func runAttention(sourceTokens: [String], targetTokens: [String],
                             observer: any IntermediateObserver) throws -> AttentionRun {
        guard !sourceTokens.isEmpty, !targetTokens.isEmpty else {
            throw ModelError.invalidInput("the translator needs at least one source and one target token")
        }
        let src = sourceVocabulary.encode(sourceTokens)   // [S]
        let tgt = targetVocabulary.encode(targetTokens)   // [T]
        var ctx = ForwardContext.inference(observer: observer)
        _ = try self(source: [src], targetIn: [tgt], &ctx)                                       // [1, T, V]
        let real = src.map { $0 != WordVocabulary.pad }
        return AttentionRun(text: sourceTokens.joined(separator: " "), sourceTokens: sourceTokens, targetTokens: targetTokens,
                            sourceIsReal: real.contains(false) ? real : nil)
    }
}

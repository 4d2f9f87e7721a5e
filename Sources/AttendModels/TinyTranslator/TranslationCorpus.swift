// A synthetic English→French corpus generated from a small grammar, with gold word alignments.
//
// The grammar has the phenomena that make translation need attention rather than a word-for-word copy:
//   - reordering: most adjectives follow the noun ("the red car" → "la voiture rouge"), a few precede it
//     ("the small dog" → "le petit chien"), so "the small red car" → "la petite voiture rouge";
//   - agreement: determiners, adjectives and participles agree with the noun's gender and number
//     ("the red cars" → "les voitures rouges", "the girls fell" → "les filles sont tombées"), possessives agree
//     with the thing possessed ("her dog" → "son chien"), verbs with their subject;
//   - discontinuous and many-to-many words: negation wraps the verb ("does not see" → "ne voit pas"),
//     "sat" → "s'est assis", "in front of" → "devant", "near the dogs" → "près des chiens" (de + les → des),
//     "some small dogs" → "de petits chiens", "does not see a dog" → "ne voit pas de chien";
//   - relative clauses and coordination, for sentences up to ~24 words.
//
// Every French token carries the English tokens it comes from (its gold alignment), its role (noun, adjective,
// verb or function word) and whether it took part in an adjective–noun swap.
import AttendNN

/// What a target word is, for the alignment measurements.
public enum WordRole: String, Sendable, Codable {
    case function, noun, adjective, verb
    /// Nouns, adjectives and verbs.
    public var isContent: Bool { self != .function }
}

/// One English sentence, its French translation (tokens; "s'" and "n'" are tokens of their own, glued to the next
/// word by ``TranslationCorpus/detokenize(_:)``), and per French token its gold alignment.
public struct TranslationPair: Sendable, Equatable {
    public var source: [String]
    public var target: [String]
    /// For each target token, the indices of the source tokens it translates (empty for none).
    public var alignment: [[Int]]
    public var roles: [WordRole]
    /// For each target token, whether it is a noun or adjective whose order was swapped relative to English.
    public var swapped: [Bool]

    public var sourceText: String { source.joined(separator: " ") }
    public var targetText: String { TranslationCorpus.detokenize(target) }
}

/// The corpus generator: seeded, deterministic, with a held-out split of sentences never seen in training.
public enum TranslationCorpus {
    /// Every English word the grammar produces (a few hundred).
    public static var sourceWords: [String] { Lexicon.englishWords }
    /// Every French token the grammar produces.
    public static var targetWords: [String] { Lexicon.frenchWords }

    /// `["le", "chat", "s'", "est", "assis"]` → `"le chat s'est assis"`.
    public static func detokenize(_ tokens: [String]) -> String {
        var out = ""
        for (i, t) in tokens.enumerated() {
            out += t
            if i + 1 < tokens.count && !t.hasSuffix("'") { out += " " }
        }
        return out
    }

    /// `"The cat sat on the mat."` → `["the", "cat", "sat", "on", "the", "mat"]` (lower-cased, punctuation dropped).
    public static func tokenizeEnglish(_ text: String) -> [String] {
        var cleaned = ""
        for c in text.lowercased() { cleaned.append(c.isLetter || c == "'" ? c : " ") }
        return cleaned.split(separator: " ").map(String.init)
    }

    /// `count` distinct sentence pairs (distinct English sentences), drawn with `seed`.
    public static func generate(count: Int, seed: UInt64, maxSourceLength: Int = 24) -> [TranslationPair] {
        var rng = SeededRNG(seed: seed)
        var seen = Set<String>()
        var out: [TranslationPair] = []
        var attempts = 0
        while out.count < count && attempts < count * 20 {
            attempts += 1
            let pair = sentence(&rng)
            guard pair.source.count <= maxSourceLength, seen.insert(pair.sourceText).inserted else { continue }
            out.append(pair)
        }
        return out
    }

    /// A seeded train/held-out split: `train + heldOut` distinct sentences, the held-out ones never in training.
    public static func split(train: Int, heldOut: Int, seed: UInt64) -> (train: [TranslationPair], heldOut: [TranslationPair]) {
        let all = generate(count: train + heldOut, seed: seed)
        let trainPart = Array(all.prefix(Swift.max(0, all.count - heldOut)))
        return (trainPart, Array(all.suffix(Swift.min(heldOut, all.count))))
    }

    // MARK: - The grammar

    /// A phrase under construction: both sides, and per French token its English sources, role and swap flag.
    struct Phrase {
        var en: [String] = []
        var fr: [String] = []
        var align: [[Int]] = []
        var roles: [WordRole] = []
        var swapped: [Bool] = []

        /// Appends an English word, returning its index.
        @discardableResult
        mutating func english(_ w: String) -> Int { en.append(w); return en.count - 1 }

        mutating func french(_ w: String, _ from: [Int], _ role: WordRole = .function, swapped s: Bool = false) {
            fr.append(w)
            align.append(from)
            roles.append(role)
            swapped.append(s)
        }

        mutating func append(_ p: Phrase) {
            let offset = en.count
            en += p.en
            fr += p.fr
            align += p.align.map { $0.map { $0 + offset } }
            roles += p.roles
            swapped += p.swapped
        }
    }

    /// The agreement features of a noun phrase.
    struct Agreement { var feminine: Bool; var plural: Bool }

    static func pick<T>(_ items: [T], _ rng: inout SeededRNG) -> T { items[Int(rng.next() % UInt64(items.count))] }
    static func chance(_ p: Float, _ rng: inout SeededRNG) -> Bool { rng.nextUnit() < p }

    static func sentence(_ rng: inout SeededRNG) -> TranslationPair {
        var p = Phrase()
        let r = rng.nextUnit()
        if r < 0.08 {
            p.append(nounPhrase(&rng, allowRelative: false).phrase)
        } else if r < 0.88 {
            p.append(clause(&rng))
        } else {
            p.append(clause(&rng, allowRelative: false))
            let i = p.english("and")
            p.french("et", [i])
            p.append(clause(&rng, allowRelative: false))
        }
        return TranslationPair(source: p.en, target: p.fr, alignment: p.align, roles: p.roles, swapped: p.swapped)
    }

    /// Subject + verb phrase; one of the two noun phrases may carry a relative clause.
    static func clause(_ rng: inout SeededRNG, allowRelative: Bool = true) -> Phrase {
        let relativeOnSubject = allowRelative && chance(0.15, &rng)
        let (subject, agreement) = nounPhrase(&rng, allowRelative: relativeOnSubject)
        var p = Phrase()
        p.append(subject)
        p.append(verbPhrase(&rng, subject: agreement, negate: chance(0.15, &rng),
                            allowRelative: allowRelative && !relativeOnSubject))
        return p
    }

    /// determiner [pre-adjective] [post-adjective] noun → déterminant [adj. antéposé] nom [adj. postposé],
    /// everything agreeing with the noun; optionally followed by "that" + verb phrase → "qui" + …
    static func nounPhrase(_ rng: inout SeededRNG, allowRelative: Bool, allowIndefinite: Bool = true)
        -> (phrase: Phrase, agreement: Agreement) {
        let noun = pick(Lexicon.nouns, &rng)
        let plural = noun.enPlural != noun.en && chance(0.3, &rng)
        var det = pickDeterminer(&rng)
        if !allowIndefinite && !det.allowsDe { det = Lexicon.determiners[0] }
        if plural && det.enPlural == nil || !plural && det.enSingular == nil { det = Lexicon.determiners[0] }
        let agreement = Agreement(feminine: noun.feminine, plural: plural)

        // Adjectives: none, one, or one of each kind (English puts size/age first: "the small red car").
        var pre: Adjective? = nil, post: Adjective? = nil
        let r = rng.nextUnit()
        if r < 0.4 {
            let a = pick(Lexicon.adjectives, &rng)
            if a.beforeNoun { pre = a } else { post = a }
        } else if r < 0.55 {
            pre = pick(Lexicon.adjectives.filter(\.beforeNoun), &rng)
            post = pick(Lexicon.adjectives.filter { !$0.beforeNoun }, &rng)
        }

        var p = Phrase()
        var enDet = plural ? det.enPlural! : det.enSingular!
        let nextWord = pre?.en ?? post?.en ?? noun.en
        if enDet == "a", let c = nextWord.first, "aeio".contains(c) { enDet = "an" }   // "an old dog"
        let iDet = p.english(enDet)
        let iPre = pre.map { p.english($0.en) }
        let iPost = post.map { p.english($0.en) }
        let iNoun = p.english(plural ? noun.enPlural : noun.en)

        var frDet = plural ? det.frPlural : (noun.feminine ? det.frFeminine : det.frMasculine)
        if frDet == "des" && pre != nil { frDet = "de" }     // "de petits chiens"
        p.french(frDet, [iDet])
        if let pre, let iPre { p.french(pre.form(feminine: noun.feminine, plural: plural), [iPre], .adjective) }
        p.french(plural ? noun.frPlural : noun.fr, [iNoun], .noun, swapped: post != nil)
        if let post, let iPost { p.french(post.form(feminine: noun.feminine, plural: plural), [iPost], .adjective, swapped: true) }

        if allowRelative {
            let i = p.english("that")
            p.french("qui", [i])
            p.append(verbPhrase(&rng, subject: agreement, negate: false, allowRelative: false, allowCopula: false))
        }
        return (p, agreement)
    }

    static func pickDeterminer(_ rng: inout SeededRNG) -> Determiner {
        let r = rng.nextUnit()
        let d = Lexicon.determiners
        if r < 0.45 { return d[0] }        // the
        if r < 0.65 { return d[1] }        // a / some
        if r < 0.75 { return d[2] }        // my
        if r < 0.82 { return d[3] }        // his
        if r < 0.89 { return d[4] }        // her
        return d[5]                        // this / these
    }

    /// A verb phrase agreeing with its subject: present, past (passé composé) or copula + adjective, optionally
    /// negated, with an object for transitive verbs and an optional prepositional phrase.
    static func verbPhrase(_ rng: inout SeededRNG, subject: Agreement, negate: Bool, allowRelative: Bool,
                           allowCopula: Bool = true) -> Phrase {
        var p = Phrase()
        let r = rng.nextUnit()
        if allowCopula && r < 0.15 {
            let past = chance(0.3, &rng)
            let adjective = pick(Lexicon.adjectives, &rng)
            let en = past ? (subject.plural ? "were" : "was") : (subject.plural ? "are" : "is")
            let fr = past ? (subject.plural ? "étaient" : "était") : (subject.plural ? "sont" : "est")
            let iVerb = p.english(en)
            if negate {
                let iNot = p.english("not")
                p.french(Lexicon.elided(fr) ? "n'" : "ne", [iNot])
                p.french(fr, [iVerb])
                p.french("pas", [iNot])
            } else {
                p.french(fr, [iVerb])
            }
            let iAdj = p.english(adjective.en)
            p.french(adjective.form(feminine: subject.feminine, plural: subject.plural), [iAdj], .adjective)
            return p
        }
        let transitive = chance(0.6, &rng)
        let verb = pick(Lexicon.verbs.filter { $0.transitive == transitive }, &rng)
        let past = chance(0.4, &rng)
        var frPresent = (subject.plural ? verb.frPl : verb.frSg).split(separator: " ").map(String.init)
        if past {
            let aux: [String]
            switch verb.auxiliary {
            case .avoir: aux = [subject.plural ? "ont" : "a"]
            case .etre: aux = [subject.plural ? "sont" : "est"]
            case .reflexive: aux = subject.plural ? ["se", "sont"] : ["s'", "est"]
            }
            let participle = verb.participle(feminine: subject.feminine, plural: subject.plural)
            if negate {
                // "did not see" → "n'a pas vu"; "did not sit" → "ne s'est pas assis"
                let iDid = p.english("did"), iNot = p.english("not"), iVerb = p.english(verb.enBase)
                p.french(Lexicon.elided(aux[0]) ? "n'" : "ne", [iNot])
                if aux.count == 2 { p.french(aux[0], [iVerb]) }
                p.french(aux.last!, [iDid])
                p.french("pas", [iNot])
                p.french(participle, [iVerb], .verb)
            } else {
                // "saw" → "a vu"; "sat" → "s'est assis"
                let iVerb = p.english(verb.enPast)
                for a in aux { p.french(a, [iVerb]) }
                p.french(participle, [iVerb], .verb)
            }
        } else if negate {
            // "does not see" → "ne voit pas"; "do not hide" → "ne se cachent pas"
            let iDo = p.english(subject.plural ? "do" : "does"), iNot = p.english("not"), iVerb = p.english(verb.enBase)
            _ = iDo
            p.french(Lexicon.elided(frPresent[0]) ? "n'" : "ne", [iNot])
            let main = frPresent.removeLast()
            for pronoun in frPresent { p.french(pronoun, [iVerb]) }
            p.french(main, [iVerb], .verb)
            p.french("pas", [iNot])
        } else {
            let iVerb = p.english(subject.plural ? verb.enBase : verb.en3sg)
            let main = frPresent.removeLast()
            for pronoun in frPresent { p.french(pronoun, [iVerb]) }
            p.french(main, [iVerb], .verb)
        }
        if transitive {
            var object = nounPhrase(&rng, allowRelative: allowRelative && chance(0.2, &rng)).phrase
            // Under negation the indefinite article becomes "de": "does not see a dog" → "ne voit pas de chien".
            if negate, let article = object.fr.first, ["un", "une", "des"].contains(article) { object.fr[0] = "de" }
            p.append(object)
        }
        if chance(transitive ? 0.2 : 0.45, &rng) { p.append(prepositionalPhrase(&rng)) }
        return p
    }

    /// preposition + noun phrase; "près de" contracts with "le"/"les" into "du"/"des".
    static func prepositionalPhrase(_ rng: inout SeededRNG) -> Phrase {
        let prep = pick(Lexicon.prepositions, &rng)
        var np = nounPhrase(&rng, allowRelative: false, allowIndefinite: !prep.endsWithDe).phrase
        var p = Phrase()
        let indices = prep.en.map { p.english($0) }
        if prep.endsWithDe, let article = np.fr.first, article == "le" || article == "les" {
            // "near the dog" → "près du chien": "de" and "le" merge; "du" comes from "near" and "the".
            p.french(prep.fr[0], indices)            // près ← near
            np.fr[0] = article == "le" ? "du" : "des"
            let contracted = p.fr.count
            p.append(np)
            p.align[contracted] = indices + p.align[contracted]   // du ← near + the
            return p
        }
        for w in prep.fr { p.french(w, indices) }
        p.append(np)
        return p
    }
}

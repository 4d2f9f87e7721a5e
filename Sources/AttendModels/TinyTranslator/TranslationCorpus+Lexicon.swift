// The lexicon of the synthetic English→French corpus: about a hundred nouns with their gender, forty-odd
// adjectives with their four agreeing forms and their place (most after the noun, a few "BAGS" adjectives —
// beauty, age, goodness, size — before it), and forty verbs with present forms, past participle and auxiliary.
// French nouns are chosen to start with a consonant, so "le"/"la" never elide to "l'" and gender stays visible.

/// A noun: English singular/plural, French singular/plural, gender.
struct Noun {
    let en: String, enPlural: String
    let fr: String, frPlural: String
    let feminine: Bool

    init(_ en: String, _ fr: String, feminine: Bool = false, enPlural: String? = nil, frPlural: String? = nil) {
        self.en = en
        self.fr = fr
        self.feminine = feminine
        self.enPlural = enPlural ?? en + "s"
        self.frPlural = frPlural ?? (fr.hasSuffix("s") ? fr : fr + "s")
    }
}

/// An adjective: its four French forms (masc. sg, fem. sg, masc. pl, fem. pl) and whether it precedes the noun.
struct Adjective {
    let en: String
    let forms: [String]
    let beforeNoun: Bool

    init(_ en: String, _ ms: String, _ fs: String? = nil, _ mp: String? = nil, _ fp: String? = nil, before: Bool = false) {
        self.en = en
        let fs = fs ?? (ms.hasSuffix("e") ? ms : ms + "e")
        forms = [ms, fs, mp ?? (ms.hasSuffix("s") || ms.hasSuffix("x") ? ms : ms + "s"), fp ?? fs + "s"]
        beforeNoun = before
    }

    func form(feminine: Bool, plural: Bool) -> String { forms[(plural ? 2 : 0) + (feminine ? 1 : 0)] }
}

/// How a verb builds its passé composé.
enum Auxiliary { case avoir, etre, reflexive }

/// A verb: English 3rd-person singular / plural-and-base / past; French 3rd-person singular / plural present
/// (a reflexive verb's present includes its pronoun as separate tokens, e.g. ["se", "cache"]), auxiliary, and
/// participle (agreeing with the subject after "être").
struct Verb {
    let en3sg: String, enBase: String, enPast: String
    let frSg: String, frPl: String
    let auxiliary: Auxiliary
    let participle: String
    let transitive: Bool

    init(_ en3sg: String, _ enBase: String, _ enPast: String, _ frSg: String, _ frPl: String,
         _ participle: String, _ auxiliary: Auxiliary = .avoir, transitive: Bool) {
        self.en3sg = en3sg
        self.enBase = enBase
        self.enPast = enPast
        self.frSg = frSg
        self.frPl = frPl
        self.participle = participle
        self.auxiliary = auxiliary
        self.transitive = transitive
    }

    /// The participle agreeing with the subject (only after "être" and for reflexive verbs).
    func participle(feminine: Bool, plural: Bool) -> String {
        guard auxiliary != .avoir else { return participle }
        var form = participle + (feminine ? "e" : "")
        if plural && !form.hasSuffix("s") { form += "s" }
        return form
    }
}

/// A determiner's English word(s) and French forms (masc. sg, fem. sg, plural).
struct Determiner {
    let enSingular: String?, enPlural: String?
    let frMasculine: String, frFeminine: String, frPlural: String
    /// Whether "près de" may precede it (indefinites would elide to "d'un").
    let allowsDe: Bool
}

/// A preposition: English tokens and French tokens; `de` prepositions contract with le/les (du, des).
struct Preposition {
    let en: [String]
    let fr: [String]
    let endsWithDe: Bool
}

enum Lexicon {
    static let nouns: [Noun] = [
        Noun("cat", "chat"), Noun("dog", "chien"), Noun("horse", "cheval", frPlural: "chevaux"), Noun("boy", "garçon"),
        Noun("book", "livre"), Noun("mat", "tapis"), Noun("garden", "jardin"), Noun("boat", "bateau", frPlural: "bateaux"),
        Noun("train", "train"), Noun("truck", "camion"), Noun("bike", "vélo"), Noun("bed", "lit"), Noun("bridge", "pont"),
        Noun("hat", "chapeau", frPlural: "chapeaux"), Noun("fish", "poisson", enPlural: "fish"), Noun("rabbit", "lapin"),
        Noun("wolf", "loup", enPlural: "wolves"), Noun("king", "roi"), Noun("teacher", "professeur"), Noun("doctor", "médecin"),
        Noun("cake", "gâteau", frPlural: "gâteaux"), Noun("pen", "stylo"), Noun("wall", "mur"), Noun("park", "parc"),
        Noun("castle", "château", frPlural: "châteaux"), Noun("village", "village"), Noun("novel", "roman"),
        Noun("knife", "couteau", enPlural: "knives", frPlural: "couteaux"), Noun("basket", "panier"), Noun("piano", "piano"),
        Noun("monkey", "singe"), Noun("pig", "cochon"), Noun("sheep", "mouton", enPlural: "sheep"),
        Noun("fox", "renard", enPlural: "foxes"), Noun("lion", "lion"), Noun("tiger", "tigre"), Noun("duck", "canard"),
        Noun("snake", "serpent"), Noun("soldier", "soldat"), Noun("neighbor", "voisin"), Noun("brother", "frère"),
        Noun("father", "père"), Noun("cheese", "fromage"), Noun("bag", "sac"), Noun("phone", "téléphone"),
        Noun("desk", "bureau", frPlural: "bureaux"), Noun("camel", "chameau", frPlural: "chameaux"), Noun("cloud", "nuage"),
        Noun("bowl", "bol"), Noun("notebook", "cahier"), Noun("ball", "ballon"), Noun("toy", "jouet"),
        Noun("coat", "manteau", frPlural: "manteaux"), Noun("glass", "verre", enPlural: "glasses"),
        Noun("car", "voiture", feminine: true), Noun("house", "maison", feminine: true), Noun("table", "table", feminine: true),
        Noun("chair", "chaise", feminine: true), Noun("girl", "fille", feminine: true),
        Noun("woman", "femme", feminine: true, enPlural: "women"), Noun("flower", "fleur", feminine: true),
        Noun("door", "porte", feminine: true), Noun("window", "fenêtre", feminine: true), Noun("lamp", "lampe", feminine: true),
        Noun("cup", "tasse", feminine: true), Noun("bottle", "bouteille", feminine: true), Noun("letter", "lettre", feminine: true),
        Noun("street", "rue", feminine: true), Noun("city", "ville", feminine: true, enPlural: "cities"),
        Noun("forest", "forêt", feminine: true), Noun("beach", "plage", feminine: true, enPlural: "beaches"),
        Noun("mountain", "montagne", feminine: true), Noun("river", "rivière", feminine: true),
        Noun("mouse", "souris", feminine: true, enPlural: "mice"), Noun("cow", "vache", feminine: true),
        Noun("goat", "chèvre", feminine: true), Noun("hen", "poule", feminine: true), Noun("queen", "reine", feminine: true),
        Noun("sister", "sœur", feminine: true), Noun("mother", "mère", feminine: true),
        Noun("box", "boîte", feminine: true, enPlural: "boxes"), Noun("banana", "banane", feminine: true),
        Noun("map", "carte", feminine: true), Noun("shirt", "chemise", feminine: true),
        Noun("dress", "robe", feminine: true, enPlural: "dresses"), Noun("guitar", "guitare", feminine: true),
        Noun("tower", "tour", feminine: true), Noun("kitchen", "cuisine", feminine: true), Noun("bedroom", "chambre", feminine: true),
        Noun("fork", "fourchette", feminine: true), Noun("spoon", "cuillère", feminine: true), Noun("apple", "pomme", feminine: true),
        Noun("turtle", "tortue", feminine: true), Noun("whale", "baleine", feminine: true), Noun("giraffe", "girafe", feminine: true),
        Noun("frog", "grenouille", feminine: true), Noun("radio", "radio", feminine: true), Noun("photo", "photo", feminine: true),
        Noun("jacket", "veste", feminine: true), Noun("skirt", "jupe", feminine: true), Noun("ring", "bague", feminine: true),
        Noun("key", "clé", feminine: true),
    ]

    static let adjectives: [Adjective] = [
        Adjective("red", "rouge"), Adjective("blue", "bleu"), Adjective("green", "vert"), Adjective("black", "noir"),
        Adjective("white", "blanc", "blanche"), Adjective("yellow", "jaune"), Adjective("gray", "gris", "grise"),
        Adjective("brown", "marron", "marron", "marron", "marron"), Adjective("orange", "orange", "orange", "orange", "orange"),
        Adjective("pink", "rose"), Adjective("happy", "heureux", "heureuse"), Adjective("sad", "triste"),
        Adjective("tired", "fatigué"), Adjective("hungry", "affamé"), Adjective("angry", "fâché"), Adjective("fast", "rapide"),
        Adjective("slow", "lent"), Adjective("heavy", "lourd"), Adjective("light", "léger", "légère"), Adjective("quiet", "calme"),
        Adjective("noisy", "bruyant"), Adjective("clean", "propre"), Adjective("dirty", "sale"), Adjective("hot", "chaud"),
        Adjective("cold", "froid"), Adjective("round", "rond"), Adjective("strong", "fort"),
        Adjective("brave", "courageux", "courageuse"), Adjective("clever", "intelligent"),
        Adjective("lazy", "paresseux", "paresseuse"), Adjective("famous", "célèbre"), Adjective("strange", "étrange"),
        Adjective("broken", "cassé"), Adjective("empty", "vide"), Adjective("full", "plein"), Adjective("rich", "riche"),
        Adjective("polite", "poli"), Adjective("curious", "curieux", "curieuse"),
        Adjective("small", "petit", before: true), Adjective("big", "grand", before: true),
        Adjective("old", "vieux", "vieille", "vieux", "vieilles", before: true), Adjective("young", "jeune", before: true),
        Adjective("pretty", "joli", before: true), Adjective("beautiful", "beau", "belle", "beaux", "belles", before: true),
        Adjective("good", "bon", "bonne", before: true), Adjective("bad", "mauvais", "mauvaise", before: true),
        Adjective("new", "nouveau", "nouvelle", "nouveaux", "nouvelles", before: true),
        Adjective("long", "long", "longue", before: true), Adjective("fat", "gros", "grosse", before: true),
    ]

    static let verbs: [Verb] = [
        Verb("sees", "see", "saw", "voit", "voient", "vu", transitive: true),
        Verb("likes", "like", "liked", "aime", "aiment", "aimé", transitive: true),
        Verb("eats", "eat", "ate", "mange", "mangent", "mangé", transitive: true),
        Verb("finds", "find", "found", "trouve", "trouvent", "trouvé", transitive: true),
        Verb("watches", "watch", "watched", "regarde", "regardent", "regardé", transitive: true),
        Verb("follows", "follow", "followed", "suit", "suivent", "suivi", transitive: true),
        Verb("carries", "carry", "carried", "porte", "portent", "porté", transitive: true),
        Verb("has", "have", "had", "a", "ont", "eu", transitive: true),
        Verb("takes", "take", "took", "prend", "prennent", "pris", transitive: true),
        Verb("buys", "buy", "bought", "achète", "achètent", "acheté", transitive: true),
        Verb("paints", "paint", "painted", "peint", "peignent", "peint", transitive: true),
        Verb("pushes", "push", "pushed", "pousse", "poussent", "poussé", transitive: true),
        Verb("catches", "catch", "caught", "attrape", "attrapent", "attrapé", transitive: true),
        Verb("holds", "hold", "held", "tient", "tiennent", "tenu", transitive: true),
        Verb("helps", "help", "helped", "aide", "aident", "aidé", transitive: true),
        Verb("draws", "draw", "drew", "dessine", "dessinent", "dessiné", transitive: true),
        Verb("chases", "chase", "chased", "chasse", "chassent", "chassé", transitive: true),
        Verb("hears", "hear", "heard", "entend", "entendent", "entendu", transitive: true),
        Verb("knows", "know", "knew", "connaît", "connaissent", "connu", transitive: true),
        Verb("opens", "open", "opened", "ouvre", "ouvrent", "ouvert", transitive: true),
        Verb("visits", "visit", "visited", "visite", "visitent", "visité", transitive: true),
        Verb("sells", "sell", "sold", "vend", "vendent", "vendu", transitive: true),
        Verb("breaks", "break", "broke", "casse", "cassent", "cassé", transitive: true),
        Verb("loves", "love", "loved", "adore", "adorent", "adoré", transitive: true),
        Verb("wants", "want", "wanted", "veut", "veulent", "voulu", transitive: true),
        Verb("forgets", "forget", "forgot", "oublie", "oublient", "oublié", transitive: true),
        Verb("brings", "bring", "brought", "apporte", "apportent", "apporté", transitive: true),
        Verb("throws", "throw", "threw", "lance", "lancent", "lancé", transitive: true),
        Verb("sleeps", "sleep", "slept", "dort", "dorment", "dormi", transitive: false),
        Verb("runs", "run", "ran", "court", "courent", "couru", transitive: false),
        Verb("sings", "sing", "sang", "chante", "chantent", "chanté", transitive: false),
        Verb("dances", "dance", "danced", "danse", "dansent", "dansé", transitive: false),
        Verb("waits", "wait", "waited", "attend", "attendent", "attendu", transitive: false),
        Verb("plays", "play", "played", "joue", "jouent", "joué", transitive: false),
        Verb("walks", "walk", "walked", "marche", "marchent", "marché", transitive: false),
        Verb("swims", "swim", "swam", "nage", "nagent", "nagé", transitive: false),
        Verb("laughs", "laugh", "laughed", "rit", "rient", "ri", transitive: false),
        Verb("works", "work", "worked", "travaille", "travaillent", "travaillé", transitive: false),
        Verb("cries", "cry", "cried", "pleure", "pleurent", "pleuré", transitive: false),
        Verb("jumps", "jump", "jumped", "saute", "sautent", "sauté", transitive: false),
        Verb("falls", "fall", "fell", "tombe", "tombent", "tombé", .etre, transitive: false),
        Verb("arrives", "arrive", "arrived", "arrive", "arrivent", "arrivé", .etre, transitive: false),
        Verb("leaves", "leave", "left", "part", "partent", "parti", .etre, transitive: false),
        Verb("stays", "stay", "stayed", "reste", "restent", "resté", .etre, transitive: false),
        Verb("sits", "sit", "sat", "s' assoit", "s' assoient", "assis", .reflexive, transitive: false),
        Verb("hides", "hide", "hid", "se cache", "se cachent", "caché", .reflexive, transitive: false),
    ]

    static let determiners: [Determiner] = [
        Determiner(enSingular: "the", enPlural: "the", frMasculine: "le", frFeminine: "la", frPlural: "les", allowsDe: true),
        Determiner(enSingular: "a", enPlural: "some", frMasculine: "un", frFeminine: "une", frPlural: "des", allowsDe: false),
        Determiner(enSingular: "my", enPlural: "my", frMasculine: "mon", frFeminine: "ma", frPlural: "mes", allowsDe: true),
        Determiner(enSingular: "his", enPlural: "his", frMasculine: "son", frFeminine: "sa", frPlural: "ses", allowsDe: true),
        Determiner(enSingular: "her", enPlural: "her", frMasculine: "son", frFeminine: "sa", frPlural: "ses", allowsDe: true),
        Determiner(enSingular: "this", enPlural: "these", frMasculine: "ce", frFeminine: "cette", frPlural: "ces", allowsDe: true),
    ]

    static let prepositions: [Preposition] = [
        Preposition(en: ["on"], fr: ["sur"], endsWithDe: false),
        Preposition(en: ["under"], fr: ["sous"], endsWithDe: false),
        Preposition(en: ["in"], fr: ["dans"], endsWithDe: false),
        Preposition(en: ["behind"], fr: ["derrière"], endsWithDe: false),
        Preposition(en: ["with"], fr: ["avec"], endsWithDe: false),
        Preposition(en: ["near"], fr: ["près", "de"], endsWithDe: true),
        Preposition(en: ["in", "front", "of"], fr: ["devant"], endsWithDe: false),
    ]

    /// Every English word the grammar can produce (the source vocabulary).
    static var englishWords: [String] {
        var words = Set<String>()
        for n in nouns { words.insert(n.en); words.insert(n.enPlural) }
        for a in adjectives { words.insert(a.en) }
        for v in verbs { words.insert(v.en3sg); words.insert(v.enBase); words.insert(v.enPast) }
        for d in determiners { d.enSingular.map { _ = words.insert($0) }; d.enPlural.map { _ = words.insert($0) } }
        for p in prepositions { p.en.forEach { words.insert($0) } }
        for w in ["an", "is", "are", "was", "were", "not", "does", "do", "did", "that", "and"] { words.insert(w) }
        return words.sorted()
    }

    /// Every French token the grammar can produce (the target vocabulary).
    static var frenchWords: [String] {
        var words = Set<String>()
        for n in nouns { words.insert(n.fr); words.insert(n.frPlural) }
        for a in adjectives { a.forms.forEach { words.insert($0) } }
        for v in verbs {
            for form in [v.frSg, v.frPl] { form.split(separator: " ").forEach { words.insert(String($0)) } }
            for f in [false, true] { for p in [false, true] { words.insert(v.participle(feminine: f, plural: p)) } }
            for form in [v.frSg, v.frPl] {
                if let last = form.split(separator: " ").last { words.insert(elided(String(last)) ? "n'" : "ne") }
            }
        }
        for d in determiners { [d.frMasculine, d.frFeminine, d.frPlural].forEach { words.insert($0) } }
        for p in prepositions { p.fr.forEach { words.insert($0) } }
        for w in ["du", "des", "de", "est", "sont", "a", "ont", "s'", "se", "ne", "n'", "pas", "qui", "et", "était", "étaient"] {
            words.insert(w)
        }
        return words.sorted()
    }

    /// Whether a French word starts with a vowel sound (so "ne" → "n'", "se" → "s'").
    static func elided(_ word: String) -> Bool {
        guard let c = word.first else { return false }
        return "aeiouéèêâîôûh".contains(c)
    }
}

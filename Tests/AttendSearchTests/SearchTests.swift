import AttendSearch
import AttendTensor
import AttendTestSupport
import AttendTokenizers
import Foundation
import Testing

@Suite("Soft lookup")
struct SoftLookupTests {
    /// softmax(c / T) computed by hand in Double, the reference for the library's Float weights.
    func referenceWeights(_ c: [Float], _ t: Float) -> [Float] {
        let m = c.map { Double($0) / Double(t) }.max() ?? 0
        let e = c.map { Foundation.exp(Double($0) / Double(t) - m) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }

    @Test(arguments: [Float(0.01), 0.05, 0.5, 1, 10])
    func weightsAreSoftmaxOfScaledCosines(temperature: Float) throws {
        let cosines: [Float] = [0.91, 0.12, -0.3, 0.55, 0.90, 0.0, 0.33]
        let lookup = try SoftLookup(cosines: cosines, temperature: temperature)
        let c = closeness(lookup.weights, referenceWeights(cosines, temperature), atol: 1e-6, rtol: 1e-5)
        #expect(c.ok, "\(c)")
        #expect(abs(lookup.weights.reduce(0, +) - 1) <= 1e-5)
        // Entropy in nats against the reference weights.
        let ref = referenceWeights(cosines, temperature).map(Double.init)
        let h = -ref.reduce(0) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) }
        #expect(abs(Double(lookup.entropy) - h) <= 1e-5 + 1e-4 * h)
    }

    @Test func rankingIsByCosineAndTopCutsIt() throws {
        let lookup = try SoftLookup(cosines: [0.2, 0.9, -0.1, 0.5], temperature: 0.1)
        #expect(lookup.ranking == [1, 3, 0, 2])
        #expect(Array(lookup.top(2)) == [1, 3])
        #expect(Array(lookup.top(10)) == [1, 3, 0, 2])
        #expect(abs(lookup.share(of: lookup.ranking) - 1) <= 1e-5)
    }

    @Test func temperatureSharpensAndSpreads() throws {
        let cosines: [Float] = [0.8, 0.7, 0.1]
        let sharp = try SoftLookup(cosines: cosines, temperature: 0.01)
        let flat = try SoftLookup(cosines: cosines, temperature: 100)
        #expect(sharp.weights[0] > 0.99)
        #expect(sharp.effectiveDocuments < 1.01)
        // Nearly uniform: entropy close to ln 3, three effective documents.
        #expect(abs(flat.entropy - Foundation.log(3)) <= 1e-3)
        #expect(abs(flat.effectiveDocuments - 3) <= 1e-2)
    }

    @Test func fromVectorsUsesCosineSimilarity() throws {
        let query: [Float] = [1, 0]
        let docs: [[Float]] = [[0, 1], [2, 0], [1, 1], [-1, 0]]
        let lookup = try SoftLookup(query: query, documents: docs, temperature: 1)
        let c = closeness(lookup.cosines, [0, 1, Float(1 / 2.0.squareRoot()), -1], atol: 1e-6, rtol: 1e-6)
        #expect(c.ok, "\(c)")
        #expect(lookup.ranking == [1, 2, 0, 3])
    }

    @Test func badInputsAreErrors() {
        #expect(throws: SearchError("temperature must be a positive number, got 0.0")) {
            try SoftLookup(cosines: [1], temperature: 0)
        }
        #expect(throws: SearchError("temperature must be a positive number, got nan")) {
            try SoftLookup(cosines: [1], temperature: .nan)
        }
        #expect(throws: SearchError("no documents to search")) { try SoftLookup(cosines: [], temperature: 1) }
        #expect(throws: SearchError("document 1 has 3 dimensions, the query has 2")) {
            try SoftLookup(query: [1, 0], documents: [[1, 0], [1, 0, 0]], temperature: 1)
        }
    }
}

@Suite("Neighbours in an embedding table")
struct NeighborTests {
    @Test func expressionParsesSignsAndWords() throws {
        let e = try NeighborExpression(parsing: "king - man  + woman")
        #expect(e.terms == [.init(sign: 1, word: "king"), .init(sign: -1, word: "man"), .init(sign: 1, word: "woman")])
        #expect(try NeighborExpression(parsing: "cat").terms == [.init(sign: 1, word: "cat")])
    }

    @Test(arguments: [
        ("- king", "expression \"- king\": '-' must come between two words"),
        ("king man", "expression \"king man\": put + or - between words (\"a - b + c\")"),
        ("king +", "expression \"king +\" is empty or ends with an operator"),
        ("   ", "expression \"   \" is empty or ends with an operator"),
    ])
    func badExpressions(text: String, message: String) {
        #expect(throws: SearchError(message)) { try NeighborExpression(parsing: text) }
    }

    /// A WordPiece vocabulary with special tokens, whole words and a continuation piece.
    static func tokenizer() throws -> Tokenizer {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-search-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "king", "queen", "man", "woman", "cat", "dog", "##s", "car"]
        let url = dir.appendingPathComponent("vocab.txt")
        try vocab.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return try Tokenizer(vocabFile: url)
    }

    /// Rows chosen so that king − man + woman = queen exactly, and cat/dog are close to each other.
    static let table: Tensor = {
        let rows: [[Float]] = [
            [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 1, 1], [0, 0, 1, 1],   // specials
            [1, 1, 0, 0],     // king
            [1, 0, 1, 0],     // queen = king - man + woman
            [0, 1, 0, 0],     // man
            [0, 0, 1, 0],     // woman
            [0.1, 0, 0, 2],   // cat
            [0.2, 0, 0, 2],   // dog
            [1, 0, 1, 0.1],   // ##s: nearly queen, listed only with allPieces
            [-1, 0, 0, 0],    // car
        ]
        return (try? Tensor(rows: rows)) ?? Tensor(scalar: 0)
    }()

    @Test func analogyFindsQueenAndLeavesOutTheQueryWords() throws {
        let tok = try Self.tokenizer()
        let found = try EmbeddingNeighbors(of: NeighborExpression(parsing: "king - man + woman"), table: Self.table, tokenizer: tok, top: 3)
        #expect(found.neighbors.map(\.token) == ["queen", "dog", "cat"])
        #expect(abs(found.neighbors[0].cosine - 1) <= 1e-6)
        #expect(!found.neighbors.contains { ["king", "man", "woman"].contains($0.token) })
        #expect(found.vocabularySize == 12 && found.dimensions == 4)
    }

    @Test func continuationPiecesAndSpecialsOnlyWithAllPieces() throws {
        let tok = try Self.tokenizer()
        let e = try NeighborExpression(parsing: "queen")
        let plain = try EmbeddingNeighbors(of: e, table: Self.table, tokenizer: tok, top: 12)
        #expect(!plain.neighbors.contains { $0.token == "##s" || $0.token == "[CLS]" })
        let all = try EmbeddingNeighbors(of: e, table: Self.table, tokenizer: tok, top: 12, allPieces: true)
        #expect(all.neighbors.first?.token == "##s")
        #expect(all.neighbors.count == 11)
        // Best first: cosines never increase down the list.
        #expect(zip(all.neighbors, all.neighbors.dropFirst()).allSatisfy { $0.cosine >= $1.cosine })
    }

    @Test func wordOfSeveralPiecesUsesTheirMeanAndUnknownIsReported() throws {
        let tok = try Self.tokenizer()
        var unknown: [String] = []
        let found = try EmbeddingNeighbors(of: NeighborExpression(parsing: "cats + zebra"), table: Self.table, tokenizer: tok,
                                           top: 2) { unknown.append($0) }
        #expect(found.explanations == ["\"cats\" = mean of cat ##s"])
        #expect(unknown == ["zebra"])
    }
}

@Suite("Similarity matrix")
struct SimilarityMatrixTests {
    @Test func symmetricWithUnitDiagonal() {
        let v: [[Float]] = [[1, 0, 0], [1, 1, 0], [0, 0, 2], [-1, 0, 0]]
        let m = cosineSimilarityMatrix(v)
        #expect(m.count == 4 && m.allSatisfy { $0.count == 4 })
        for i in 0..<4 {
            #expect(abs(m[i][i] - 1) <= 1e-6)
            for j in 0..<4 { #expect(m[i][j] == m[j][i]) }
        }
        #expect(abs(m[0][1] - Float(1 / 2.0.squareRoot())) <= 1e-6)
        #expect(m[0][2] == 0)
        #expect(abs(m[0][3] + 1) <= 1e-6)
    }
}

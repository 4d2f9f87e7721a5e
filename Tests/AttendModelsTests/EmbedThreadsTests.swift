import AttendNN
import AttendTensor
import AttendTestSupport
import Foundation
import Testing
@testable import AttendModels

/// `SentenceEmbedder.embed` with several batches and several threads runs whole batches side by side, each on
/// single-threaded kernels. Text for text it must give exactly what one thread gives batch by batch (the same
/// kernels on the same batches), in the input's order, and report progress up to the total.
@Suite("Embedding batches on several threads", .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct EmbedThreadsTests {
    /// 25 texts of 1–13 words (batches of 4 mix lengths, so padding and masks differ between batches), an empty one.
    static let texts = (0..<24).map { i in (0..<(1 + (i * 7) % 13)).map { "word\($0 + i)" }.joined(separator: " ") } + [""]

    @Test(arguments: [InferencePrecision.fp32, .int8, .bf16])
    func threadsGiveTheSerialVectorsInOrder(precision: InferencePrecision) throws {
        let e = precision == .fp32 ? try MiniLM.embedder()
            : try SentenceEmbedder.load(folder: installedModelFolder("all-MiniLM-L6-v2"), precision: precision)
        #expect(e.model.inferencePrecision == precision)
        let serial = try Kernels.withSettings({ $0.maxThreads = 1 }) { try e.embed(Self.texts, batchSize: 4) }
        let lock = NSLock()
        var reports: [Int] = []
        let parallel = try Kernels.withSettings({ $0.maxThreads = 3 }) {
            try e.embed(Self.texts, batchSize: 4) { done, total in
                lock.lock()
                reports.append(total == Self.texts.count ? done : -1)
                lock.unlock()
            }
        }
        #expect(parallel.map(\.text) == Self.texts)
        for (a, b) in zip(serial, parallel) {
            #expect(a.vector.count == 384)
            #expect(a.vector == b.vector, "\(precision) “\(a.text)”: the threaded embedding differs from the serial one")
        }
        // One report per batch of 4, counts rising to the total.
        #expect(reports.count == 7)
        #expect(reports == reports.sorted() && reports.first ?? 0 > 0 && reports.last == Self.texts.count)
    }

    /// 25 texts in batches of at most 4 are seven batches of 3 or 4, not six of 4 and one of 1: with threads taking
    /// whole batches, a short batch left one thread idle while the other finished a full one.
    @Test func batchesAreEqualInSize() throws {
        let e = try MiniLM.embedder()
        var reports: [Int] = []
        _ = try Kernels.withSettings({ $0.maxThreads = 1 }) {
            try e.embed(Self.texts, batchSize: 4) { done, _ in reports.append(done) }
        }
        let sizes = zip(reports, [0] + reports).map { $0 - $1 }
        #expect(sizes.count == 7 && sizes.allSatisfy { $0 == 3 || $0 == 4 }, "batch sizes \(sizes)")
        #expect(reports.last == Self.texts.count)
    }

    /// One batch keeps every thread for its kernels (the serial path), and gives the same vectors as one thread
    /// within rounding (the threads split the products' rows and columns, not their sums).
    @Test func oneBatchUsesTheKernelsThreads() throws {
        let e = try MiniLM.embedder()
        let one = try Kernels.withSettings({ $0.maxThreads = 1 }) { try e.embed(Self.texts, batchSize: 32) }
        let two = try Kernels.withSettings({ $0.maxThreads = 2 }) { try e.embed(Self.texts, batchSize: 32) }
        for (a, b) in zip(one, two) {
            let worst = zip(a.vector, b.vector).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6, "“\(a.text)”: \(worst)")
        }
    }
}

/// How `embed` cuts texts (sorted shortest first) into batches: at most `batchSize` texts and `maxTokens` padded
/// tokens each, equal sizes within a run of texts that allow the same size.
@Suite("Embedding batches: sizes and token budget")
struct EmbedBatchingTests {
    /// Checks the batches cover 0..<n in order, each within the budget unless it holds one text.
    static func check(_ batches: [[Int]], lengths: [Int], batchSize: Int, maxTokens: Int) {
        #expect(batches.flatMap { $0 } == Array(lengths.indices), "every text once, in order")
        for b in batches {
            let padded = b.count * (b.map { lengths[$0] }.max() ?? 0)
            #expect(!b.isEmpty && b.count <= batchSize && (b.count == 1 || padded <= maxTokens),
                    "batch of \(b.count) with \(padded) tokens")
        }
    }

    @Test func shortTextsMakeEqualBatches() {
        let lengths = [Int](repeating: 12, count: 1000)
        let batches = SentenceEmbedder.batches(lengths, batchSize: 32, maxTokens: 1024)
        Self.check(batches, lengths: lengths, batchSize: 32, maxTokens: 1024)
        #expect(batches.count == 32 && batches.allSatisfy { $0.count == 31 || $0.count == 32 })
    }

    @Test func longTextsFitTheTokenBudget() {
        let lengths = [Int](repeating: 128, count: 256)
        let batches = SentenceEmbedder.batches(lengths, batchSize: 32, maxTokens: 1024)
        Self.check(batches, lengths: lengths, batchSize: 32, maxTokens: 1024)
        #expect(batches.count == 32 && batches.allSatisfy { $0.count == 8 })
    }

    @Test func mixedLengthsAndTextsLongerThanTheBudget() {
        let lengths = [3, 5, 9, 9, 10, 100, 120, 130, 300, 600, 2000]
        let batches = SentenceEmbedder.batches(lengths, batchSize: 4, maxTokens: 512)
        Self.check(batches, lengths: lengths, batchSize: 4, maxTokens: 512)
        // 3–120 tokens allow 4 per batch (seven texts: batches of 3 and 4), 130 allows 3, 300 and more allow 1.
        #expect(batches == [[0, 1, 2], [3, 4, 5, 6], [7], [8], [9], [10]])
        #expect(SentenceEmbedder.batches([], batchSize: 32, maxTokens: 1024).isEmpty)
        #expect(SentenceEmbedder.batches([7], batchSize: 0, maxTokens: 0) == [[0]])
    }
}

// Dynamic batching. Requests arrive already tokenized (tokenization runs on the request's own task, off the
// inference path) and wait in a bounded queue; one worker per model takes the oldest input and the waiting inputs
// closest to it in length, up to a token budget (padded length × inputs), and runs them as one forward pass on the
// shared inference queue. Padding stays small because a batch holds inputs of similar length; no input waits
// behind more than the queue's bound, because a full queue answers 429 at once.
//
// Gathering: under a closed loop of clients (each sends its next request when its answer comes), the inputs of one
// forward pass come back together, but not at the same instant. Starting the next pass on the first arrival splits
// the clients into waves (a pass of the few that are back, then a pass of the rest) that never merge again, and a
// small pass costs more per input (its GEMMs get few rows). So when a pass of n inputs ends with m others waiting,
// the worker waits until n + m inputs wait (the n coming back join the m), or at most half that pass's time (never
// over 10 ms), whichever comes first. A lone client (n = 1, m = 0) never waits; when clients stop, one pass waits
// the short deadline and the next target is what actually came.
import AttendModels
import AttendNN
import AttendTensor
import AttendTokenizers
import Dispatch
import Foundation

public struct BatcherOptions: Sendable {
    /// Padded length × inputs of one forward pass.
    public var maxBatchTokens: Int
    /// Tokens that may wait; a request that would pass it is refused whole (429).
    public var maxQueuedTokens: Int
    public init(maxBatchTokens: Int, maxQueuedTokens: Int) {
        self.maxBatchTokens = maxBatchTokens
        self.maxQueuedTokens = maxQueuedTokens
    }
}

/// What a route wants from the forward pass beyond the pooled vector.
struct Wants: Hashable, Sendable {
    /// The last hidden state of every token (`/embed_all`).
    var tokenStates = false
    /// Every layer's and head's attention weights.
    var attention = false
}

/// The forward pass's results for one input.
struct InferenceOutput: Sendable {
    /// `[dimension]`, pooled as the model's folder says (unit length when it lists a Normalize module).
    var vector: [Float]
    /// `[dimension]`, pooled and never normalised (TEI's `normalize: false`).
    var pooled: [Float]
    /// `[tokens][hidden]` when asked.
    var tokenStates: [[Float]]?
    /// `[layer]` of `[head, query, key]` row-major (`heads·T·T` floats), when asked.
    var attention: [[Float]]?
}

enum BatcherError: Error {
    /// The queue is full; try again after this many seconds.
    case overloaded(retryAfter: Int)
}

/// All forward passes run here, one at a time: the kernels use every core for one pass, and a model is not yet
/// safe to call from two threads at once (issue #10 item 5).
let inferenceQueue = DispatchQueue(label: "attend.inference", qos: .userInitiated)

actor EmbeddingBatcher {
    let model: String
    let embedder: SentenceEmbedder
    /// The same model pooling without normalisation.
    let rawPooler: SentenceEmbedder
    let options: BatcherOptions
    let metrics: ServerMetrics

    /// One request's inputs; resumed when every input has its output.
    final class Job {
        let id: Int
        let encodings: [Encoding]
        let wants: Wants
        let enqueued = ContinuousClock.now
        var outputs: [InferenceOutput?]
        var remaining: Int
        var continuation: CheckedContinuation<[InferenceOutput], Error>?
        init(id: Int, encodings: [Encoding], wants: Wants) {
            self.id = id
            self.encodings = encodings
            self.wants = wants
            self.outputs = Array(repeating: nil, count: encodings.count)
            self.remaining = encodings.count
        }
    }

    struct Pending {
        let job: Job
        let index: Int
        var length: Int { job.encodings[index].count }
    }

    private var pending: [Pending] = []
    private var jobs: [Int: Job] = [:]
    private var queuedTokens = 0
    private var nextID = 0
    private var working = false
    /// While paused, inputs queue up and no forward pass starts (tests use it to fill the queue on purpose).
    private var paused = false
    /// Inputs and duration of the last forward pass: the gathering target and its deadline.
    private var lastBatchInputs = 0
    private var lastInference: Duration = .zero
    /// The worker, waiting for `lastBatchInputs` inputs; resumed by `run` when they are there, or by the deadline.
    private var gathering: CheckedContinuation<Void, Never>?
    /// Counts waits, so a deadline that fires after its wait ended cannot end the next one.
    private var gatherRound = 0

    func pause() { paused = true }
    func resume() {
        paused = false
        startIfNeeded()
    }

    private func startIfNeeded() {
        guard !working, !paused, !pending.isEmpty else { return }
        working = true
        Task { await self.drain() }
    }

    init(model: String, embedder: SentenceEmbedder, options: BatcherOptions, metrics: ServerMetrics) {
        self.model = model
        self.embedder = embedder
        self.rawPooler = SentenceEmbedder(folder: embedder.folder, model: embedder.model, tokenizer: embedder.tokenizer,
                                          pooling: embedder.pooling, normalize: false, maxSeqLength: embedder.maxSeqLength)
        self.options = options
        self.metrics = metrics
    }

    /// Inputs waiting now (for tests and `/info`).
    var queuedInputs: Int { pending.count }

    /// Runs `encodings` (one request's inputs) and returns their outputs in order. Throws
    /// `BatcherError.overloaded` at once when the queue cannot take them, `CancellationError` when the request's
    /// task is cancelled (its client went away) before its inputs ran.
    func run(_ encodings: [Encoding], wants: Wants) async throws -> [InferenceOutput] {
        guard !encodings.isEmpty else { return [] }
        let tokens = encodings.reduce(0) { $0 + $1.count }
        if queuedTokens + tokens > options.maxQueuedTokens && !(pending.isEmpty && tokens > options.maxQueuedTokens) {
            metrics.rejected(model: model)
            throw BatcherError.overloaded(retryAfter: 1)
        }
        nextID += 1
        let job = Job(id: nextID, encodings: encodings, wants: wants)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[InferenceOutput], Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                job.continuation = continuation
                jobs[job.id] = job
                for i in encodings.indices { pending.append(Pending(job: job, index: i)) }
                queuedTokens += tokens
                metrics.queueDepth(model: model, inputs: pending.count)
                if pending.count >= lastBatchInputs { endGathering() }
                startIfNeeded()
            }
        } onCancel: {
            Task { await self.cancel(job.id) }
        }
    }

    /// Drops a job's waiting inputs (its client disconnected) and resumes it with CancellationError.
    private func cancel(_ id: Int) {
        guard let job = jobs.removeValue(forKey: id) else { return }
        let dropped = pending.filter { $0.job === job }
        pending.removeAll { $0.job === job }
        queuedTokens -= dropped.reduce(0) { $0 + $1.length }
        metrics.dropped(model: model, inputs: dropped.count)
        job.continuation?.resume(throwing: CancellationError())
        job.continuation = nil
    }

    private func endGathering(round: Int? = nil) {
        if let round, round != gatherRound { return }
        gathering?.resume()
        gathering = nil
    }

    /// Waits until `lastBatchInputs` inputs are pending or the deadline (half the last pass, at most 10 ms) passes.
    private func gather() async {
        guard pending.count < lastBatchInputs else { return }
        let wait = min(lastInference / 2, .milliseconds(10))
        guard wait > .zero else { return }
        gatherRound += 1
        let round = gatherRound
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            gathering = continuation
            Task {
                try? await Task.sleep(for: wait)
                await self.endGathering(round: round)
            }
        }
    }

    /// Takes batches until nothing waits.
    private func drain() async {
        while !pending.isEmpty && !paused {
            await gather()
            guard !pending.isEmpty && !paused else { break }   // cancelled or paused meanwhile
            let batch = takeBatch()
            let encodings = batch.map { $0.job.encodings[$0.index] }
            let wants = batch[0].job.wants
            let started = ContinuousClock.now
            for p in batch { metrics.queued(model: model, duration: started - p.job.enqueued) }
            let padded = (encodings.map(\.count).max() ?? 0) * encodings.count
            metrics.batch(model: model, inputs: encodings.count, paddedTokens: padded)
            let (embedder, rawPooler) = (self.embedder, self.rawPooler)
            let result: Result<[InferenceOutput], Error> = await withCheckedContinuation { done in
                inferenceQueue.async { done.resume(returning: Result { try Self.forward(embedder, rawPooler, encodings, wants: wants) }) }
            }
            lastInference = ContinuousClock.now - started
            lastBatchInputs = batch.count + pending.count   // the pass's inputs come back to join those waiting now
            metrics.inference(model: model, duration: lastInference)
            deliver(batch, result)
        }
        working = false
    }

    /// The oldest waiting input and the inputs nearest to it in length (with the same wants), within the budget.
    private func takeBatch() -> [Pending] {
        let anchor = pending[0]
        let candidates = pending.indices
            .filter { pending[$0].job.wants == anchor.job.wants }
            .sorted { a, b in
                let da = abs(pending[a].length - anchor.length), db = abs(pending[b].length - anchor.length)
                return da != db ? da < db : a < b
            }
        var chosen: [Int] = []
        var longest = 0
        for i in candidates {
            let l = max(longest, pending[i].length)
            if !chosen.isEmpty && l * (chosen.count + 1) > options.maxBatchTokens { continue }
            chosen.append(i)
            longest = l
        }
        let taken = Set(chosen)
        let batch = chosen.sorted().map { pending[$0] }
        pending = pending.indices.filter { !taken.contains($0) }.map { pending[$0] }
        queuedTokens -= batch.reduce(0) { $0 + $1.length }
        return batch
    }

    private func deliver(_ batch: [Pending], _ result: Result<[InferenceOutput], Error>) {
        switch result {
        case .success(let outputs):
            for (p, out) in zip(batch, outputs) {
                guard jobs[p.job.id] != nil else { continue }   // cancelled meanwhile
                p.job.outputs[p.index] = out
                p.job.remaining -= 1
                if p.job.remaining == 0 {
                    jobs[p.job.id] = nil
                    p.job.continuation?.resume(returning: p.job.outputs.map { $0! })
                    p.job.continuation = nil
                }
            }
        case .failure(let error):
            for p in batch {
                guard jobs.removeValue(forKey: p.job.id) != nil else { continue }
                pending.removeAll { $0.job === p.job }
                p.job.continuation?.resume(throwing: error)
                p.job.continuation = nil
            }
            queuedTokens = pending.reduce(0) { $0 + $1.length }
        }
    }

    /// One padded forward pass: pooled vectors, and per-token states and attention weights when asked. The rows
    /// of each input are cut back to its own length, so an input's result equals running it alone.
    static func forward(_ embedder: SentenceEmbedder, _ rawPooler: SentenceEmbedder, _ encodings: [Encoding],
                        wants: Wants) throws -> [InferenceOutput] {
        let t = encodings.map(\.count).max() ?? 0
        let pad = embedder.tokenizer.padTokenId ?? 0
        let ids = encodings.map { $0.ids + Array(repeating: pad, count: t - $0.count) }           // [B][T]
        let types = encodings.map { $0.typeIds + Array(repeating: 0, count: t - $0.count) }       // [B][T]
        let mask = encodings.map { $0.attentionMask + Array(repeating: 0, count: t - $0.count) }  // [B][T]
        let recorder = wants.attention ? IntermediateRecorder { $0.hasSuffix(".weights") } : nil
        let hidden = try embedder.model.encode(ids: ids, typeIds: types, attentionMask: mask, observer: recorder)  // [B, T, H]
        let vectors = embedder.pool(hidden, mask: mask)                                                    // [B][D]
        let pooled = embedder.normalize ? rawPooler.pool(hidden, mask: mask) : vectors                     // [B][D]
        let h = hidden.shape[2]
        let states = wants.tokenStates ? hidden.scalars : []
        var weights: [[Float]] = []
        var heads = 0
        if let recorder {
            for l in 0..<embedder.model.layerCount {
                guard let w = recorder["L\(l).weights"] else {
                    throw ModelError.invalidInput("layer \(l) reported no attention weights")
                }
                heads = w.shape[1]
                weights.append(w.scalars)                                                          // [B, heads, T, T]
            }
        }
        return encodings.indices.map { b in
            let n = encodings[b].count
            var out = InferenceOutput(vector: vectors[b], pooled: pooled[b])
            if wants.tokenStates {
                out.tokenStates = (0..<n).map { i in Array(states[((b * t) + i) * h ..< ((b * t) + i + 1) * h]) }   // [n][H]
            }
            if wants.attention {
                out.attention = weights.map { w in                                                 // [heads·n·n]
                    var cut = [Float](); cut.reserveCapacity(heads * n * n)
                    for hi in 0..<heads {
                        for i in 0..<n {
                            let row = ((b * heads + hi) * t + i) * t
                            cut.append(contentsOf: w[row ..< row + n])
                        }
                    }
                    return cut
                }
            }
            return out
        }
    }
}

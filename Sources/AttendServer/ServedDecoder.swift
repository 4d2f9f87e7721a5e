// A language model the server generates with (`/v1/completions`, `/v1/chat/completions`): loaded once, shared by
// every request. Generations run one at a time per model on a serial queue of their own (off the event loop and
// off Swift's task pool), behind a bounded line: when `maxQueuedGenerations` already wait, a request gets 429 with
// Retry-After. A generation whose client went away (its task cancelled, or its stream no longer read) stops at
// its next token. Each generation reports to the server's metrics: refusals, queue wait, prompt and generated tokens,
// time to first token and between tokens, and whether its client stopped it.
import AttendModels
import Dispatch
import Foundation

/// One loaded decoder (a Llama-family GGUF model).
public final class ServedDecoder: @unchecked Sendable {
    /// The name clients use (`model` in requests).
    public let name: String
    public let model: LlamaModel
    /// Unix time of loading, for the response's `created`-style fields.
    public let created: Int
    /// Generations that may wait while one runs.
    let maxQueued: Int
    let queue: DispatchQueue
    let metrics: ServerMetrics
    private let lock = NSLock()
    /// Admitted generations not yet finished (the running one included).
    private var admitted = 0
    /// Wall-clock seconds of the last finished generation (for Retry-After).
    private var lastSeconds = 1.0

    public init(name: String, model: LlamaModel, maxQueued: Int, metrics: ServerMetrics = ServerMetrics()) {
        self.name = name
        self.model = model
        self.maxQueued = maxQueued
        self.metrics = metrics
        self.created = Int(Date().timeIntervalSince1970)
        self.queue = DispatchQueue(label: "attend.generate.\(name)", qos: .userInitiated)
    }

    /// Tokens written by the last finished generation, and whether it was stopped (tests).
    private var last: (steps: Int, stopped: Bool)?

    /// Generations admitted and not yet finished (tests).
    var inFlight: Int { lock.withLock { admitted } }
    /// The last finished generation: tokens written and whether it was stopped by a client going away (tests).
    var lastRun: (steps: Int, stopped: Bool)? { lock.withLock { last } }

    /// Takes a place in the line (returning the time of admission), or throws 429 when it is full.
    func admit() throws -> ContinuousClock.Instant {
        do {
            try lock.withLock {
                guard admitted <= maxQueued else {
                    let wait = Int((lastSeconds * Double(admitted)).rounded(.up))
                    throw APIError.overloaded(retryAfter: Swift.min(Swift.max(1, wait), 600))
                }
                admitted += 1
            }
        } catch {
            metrics.rejected(model: name)
            throw error
        }
        return ContinuousClock.now
    }

    private func release(seconds: Double, steps: Int, stopped: Bool) {
        lock.withLock {
            admitted -= 1
            lastSeconds = seconds
            last = (steps, stopped)
        }
    }

    /// Runs one admitted generation on the model's queue; `onStep` sees every token (throwing from it stops).
    private func runAdmitted(_ prompt: [Int], _ options: GenerationOptions, job: GenerationJob, admitted: ContinuousClock.Instant,
                             onStep: @escaping (GenerationStep) throws -> Void) throws -> GenerationResult {
        let started = DispatchTime.now().uptimeNanoseconds
        var steps = 0
        var previous: ContinuousClock.Instant?
        var stoppedByClient = false
        defer {
            release(seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, steps: steps, stopped: job.isCancelled)
            metrics.generationFinished(model: name, duration: ContinuousClock.now - admitted, stoppedByClient: stoppedByClient)
        }
        if job.isCancelled {
            stoppedByClient = true
            throw CancellationError()
        }
        metrics.generationStarted(model: name, promptTokens: prompt.count, queued: ContinuousClock.now - admitted)
        return try model.generate(prompt: prompt, options: options, onStep: { step in
            let now = ContinuousClock.now
            self.metrics.generatedToken(model: self.name, sinceAdmission: now - admitted, sincePrevious: previous.map { now - $0 })
            previous = now
            if job.isCancelled {
                stoppedByClient = true
                throw CancellationError()
            }
            steps += 1
            try onStep(step)
        })
    }

    /// The whole generation (admission first: 429 when the line is full); cancelling the task stops it.
    func generate(_ prompt: [Int], options: GenerationOptions) async throws -> GenerationResult {
        let admitted = try admit()
        let job = GenerationJob()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { done in
                queue.async {
                    done.resume(with: Result { try self.runAdmitted(prompt, options, job: job, admitted: admitted) { _ in } })
                }
            }
        } onCancel: { job.cancel() }
    }

    /// A streamed generation: admitted now (429 when the line is full), started on the model's queue at once; its
    /// tokens, then its result, arrive on the stream. Stopping reading the stream (or `job.cancel()`) stops it.
    func stream(_ prompt: [Int], options: GenerationOptions) throws -> (events: AsyncThrowingStream<GenerationEvent, Error>, job: GenerationJob) {
        let admitted = try admit()
        let job = GenerationJob()
        let (events, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        continuation.onTermination = { _ in job.cancel() }
        queue.async {
            do {
                var index = 0
                let result = try self.runAdmitted(prompt, options, job: job, admitted: admitted) { step in
                    continuation.yield(.step(index, step))
                    index += 1
                }
                continuation.yield(.done(result))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return (events, job)
    }
}

/// What a streamed generation reports: each token (its index among the generated ones), then the result.
enum GenerationEvent: Sendable {
    case step(Int, GenerationStep)
    case done(GenerationResult)
}

/// A flag a generation reads before each token.
final class GenerationJob: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    func cancel() { lock.withLock { cancelled = true } }
    var isCancelled: Bool { lock.withLock { cancelled } }
}

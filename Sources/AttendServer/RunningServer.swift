// A server started in this process (tests, or a program embedding Attend's server): its port, and a graceful stop
// that lets requests in flight finish.
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

public final class RunningServer: Sendable {
    public let server: AttendServer
    /// The port it listens on (the one the system picked when the options said 0).
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, Error>

    init(server: AttendServer, port: Int, group: ServiceGroup, task: Task<Void, Error>) {
        self.server = server
        self.port = port
        self.group = group
        self.task = task
    }

    /// Stops accepting connections, waits for requests in flight, and returns when the server has stopped.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

extension AttendServer {
    /// Starts listening (no signal handling: the caller stops it) and returns once the port is bound.
    public func start() async throws -> RunningServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = application(onRunning: { continuation.yield($0); continuation.finish() })
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value                 // rethrows why it could not start (port in use, …)
            throw ServerError.badOptions(["the server stopped before it listened on \(options.host):\(options.port)"])
        }
        return RunningServer(server: self, port: port, group: group, task: task)
    }
}

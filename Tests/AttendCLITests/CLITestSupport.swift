import AttendTestSupport
import Foundation
import Testing

/// The result of running the built `attend` binary.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var crashed: Bool
}

enum CLI {
    /// The `attend` executable built beside the test bundle (swift test builds every product).
    static let binary: URL? = {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let first = CommandLine.arguments.first {
            var dir = URL(fileURLWithPath: first).deletingLastPathComponent()
            if dir.pathExtension == "xctest" || first.hasSuffix(".xctest") { dir = URL(fileURLWithPath: first).deletingLastPathComponent() }
            candidates.append(dir.appendingPathComponent("attend"))
        }
        for path in Bundle.allBundles.map(\.bundleURL) {
            candidates.append(path.deletingLastPathComponent().appendingPathComponent("attend"))
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/attend"))
        return candidates.first { fm.isExecutableFile(atPath: $0.path) }
    }()

    static func run(_ args: [String], stdin: String? = nil, env: [String: String] = [:]) throws -> CLIResult {
        guard let binary else {
            Issue.record("the attend binary was not found next to the tests; run `swift build` first")
            return CLIResult(status: -1, stdout: "", stderr: "", crashed: false)
        }
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = packageRoot
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so a large output cannot block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let outData = outBox.data
        p.waitUntilExit()
        return CLIResult(status: p.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self),
                         crashed: p.terminationReason == .uncaughtSignal)
    }

    /// Writes `text` to a temporary file and returns its path.
    static func tempFile(_ text: String, name: String = "input.json") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }
}

/// Flattens nested JSON arrays of numbers.
func flatNumbers(_ any: Any?) -> [Float] {
    if let n = any as? NSNumber { return [n.floatValue] }
    if let a = any as? [Any] { return a.flatMap { flatNumbers($0) } }
    return []
}

/// The nesting shape of a JSON array.
func jsonShape(_ any: Any?) -> [Int] {
    guard let a = any as? [Any] else { return [] }
    return [a.count] + jsonShape(a.first)
}

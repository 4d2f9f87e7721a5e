// Shared by every fuzz target (compiled into each): a scratch file per process for readers that take a path.
import Foundation

enum FuzzScratch {
    /// A per-process directory under /dev/shm (or the temp directory) for inputs the readers open by path.
    static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("attend-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Writes `bytes` to `name` inside the scratch directory and returns its URL.
    static func write(_ data: UnsafePointer<UInt8>, _ size: Int, name: String) -> URL {
        let url = directory.appendingPathComponent(name)
        let d = Data(bytes: data, count: size)
        try? d.write(to: url)
        return url
    }
}

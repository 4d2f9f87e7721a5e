// A file written by appending whole chunks, that can be synced, truncated back to a checkpointed length, patched in
// place (a header whose count is known only at the end) and finally renamed into place. POSIX calls, no buffering
// beyond the caller's own chunk: after `sync()` returns, `length` bytes are on disk.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An output file opened for appending.
public final class OutputFile {
    public let path: String
    private var fd: Int32
    /// Bytes in the file.
    public private(set) var length: Int64

    /// Opens `path` for writing: truncated to `keeping` bytes (0: emptied; created if missing).
    public init(path: String, keeping: Int64 = 0) throws {
        self.path = path
        let d = open(path, O_WRONLY | O_CREAT, 0o644)
        guard d >= 0 else { throw SearchError("\(path): cannot be written (\(String(cString: strerror(errno))))") }
        fd = d
        var st = stat()
        guard fstat(d, &st) == 0 else { sysClose(d); throw SearchError("\(path): cannot be inspected") }
        guard Int64(st.st_size) >= keeping else {
            sysClose(d)
            throw SearchError("\(path): has \(st.st_size) bytes, the checkpoint expects at least \(keeping); delete it and its .progress file to start again")
        }
        guard ftruncate(d, off_t(keeping)) == 0, lseek(d, off_t(keeping), SEEK_SET) >= 0 else {
            sysClose(d)
            throw SearchError("\(path): cannot be truncated to \(keeping) bytes")
        }
        length = keeping
    }

    deinit { if fd >= 0 { _ = sysClose(fd) } }

    /// Appends `bytes`.
    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeAll($0, at: nil) }
        length += Int64(bytes.count)
    }

    /// Overwrites `bytes` at `offset` (inside what is written) without moving the end.
    public func patch(_ bytes: [UInt8], at offset: Int64) throws {
        try bytes.withUnsafeBytes { try writeAll($0, at: offset) }
    }

    /// Flushes the file's data to disk.
    public func sync() throws {
        guard fsync(fd) == 0 else { throw SearchError("\(path): fsync failed (\(String(cString: strerror(errno))))") }
    }

    public func close() {
        if fd >= 0 { _ = sysClose(fd) }
        fd = -1
    }

    private func writeAll(_ buffer: UnsafeRawBufferPointer, at offset: Int64?) throws {
        var done = 0
        while done < buffer.count {
            let n: Int
            if let offset {
                n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            } else {
                n = write(fd, buffer.baseAddress! + done, buffer.count - done)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw SearchError("\(path): write failed (\(String(cString: strerror(errno))))")
            }
            done += n
        }
    }
}

/// File helpers for atomic replacement.
public enum FileOps {
    /// Writes `bytes` to `path` through `path.tmp`, fsync and rename: a reader sees the old or the new file, whole.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let tmp = path + ".tmp"
        let f = try OutputFile(path: tmp)
        try f.append(bytes)
        try f.sync()
        f.close()
        try rename(tmp, to: path)
    }

    /// `rename(2)`: replaces `to` in one step.
    public static func rename(_ from: String, to: String) throws {
        guard sysRename(from, to) == 0 else {
            throw SearchError("cannot rename \(from) to \(to) (\(String(cString: strerror(errno))))")
        }
    }

    public static func remove(_ path: String) { _ = unlink(path) }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Size in bytes of a regular file, nil for anything else (stdin, a pipe).
    public static func size(_ path: String) -> Int64? {
        var st = stat()
        guard path != "-", stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }
}

// The C library's calls under names that the methods called close/rename here do not shadow.
@inline(__always) @discardableResult func sysClose(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.close(fd)
    #else
    return Darwin.close(fd)
    #endif
}

@inline(__always) func sysRename(_ from: String, _ to: String) -> Int32 {
    #if canImport(Glibc)
    return Glibc.rename(from, to)
    #else
    return Darwin.rename(from, to)
    #endif
}

@inline(__always) func sysWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}

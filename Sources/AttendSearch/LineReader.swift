// Reads a file or stdin one line at a time through a fixed buffer, so memory stays bounded by the longest line and
// not by the input. Lines end at `\n`; a `\r` before it is dropped; a last line without `\n` still counts.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An input line as raw bytes (not yet decoded: invalid UTF-8 is the caller's to report).
public struct InputLine: Sendable {
    /// 1-based line number in the input.
    public var number: Int
    public var bytes: [UInt8]
}

/// A line reader over a file descriptor.
public final class LineReader {
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var eof = false
    /// Lines returned so far.
    public private(set) var linesRead = 0
    /// Bytes consumed so far (including line ends).
    public private(set) var bytesRead: Int64 = 0
    /// The source's name for messages.
    public let source: String

    /// Reads `path`, or stdin when `path` is "-".
    public init(path: String, bufferSize: Int = 1 << 20) throws {
        if path == "-" {
            fd = STDIN_FILENO
            ownsDescriptor = false
            source = "stdin"
        } else {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
                throw SearchError("\(path): no such file")
            }
            let d = open(path, O_RDONLY)
            guard d >= 0 else { throw SearchError("\(path): cannot be opened (\(String(cString: strerror(errno))))") }
            fd = d
            ownsDescriptor = true
            source = path
        }
        buffer = [UInt8](repeating: 0, count: max(4096, bufferSize))
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// The next line, or nil at the end of the input.
    public func next() throws -> InputLine? {
        while true {
            if let nl = buffer[start..<end].firstIndex(of: 0x0A) {
                var line = Array(buffer[start..<nl])
                if line.last == 0x0D { line.removeLast() }
                bytesRead += Int64(nl + 1 - start)
                start = nl + 1
                linesRead += 1
                return InputLine(number: linesRead, bytes: line)
            }
            if eof {
                guard start < end else { return nil }
                var line = Array(buffer[start..<end])
                if line.last == 0x0D { line.removeLast() }
                bytesRead += Int64(end - start)
                start = end
                linesRead += 1
                return InputLine(number: linesRead, bytes: line)
            }
            try fill()
        }
    }

    /// Skips `count` lines without decoding them (for resuming); returns how many were there.
    @discardableResult
    public func skip(_ count: Int) throws -> Int {
        var skipped = 0
        while skipped < count, try next() != nil { skipped += 1 }
        return skipped
    }

    private func fill() throws {
        if start > 0 {
            let n = end - start
            if n > 0 { buffer.withUnsafeMutableBufferPointer { b in _ = memmove(b.baseAddress!, b.baseAddress! + start, n) } }
            start = 0
            end = n
        }
        if end == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }   // a long line
        let got = buffer.withUnsafeMutableBufferPointer { b in read(fd, b.baseAddress! + end, b.count - end) }
        if got < 0 {
            if errno == EINTR { return }
            throw SearchError("\(source): read failed (\(String(cString: strerror(errno))))")
        }
        if got == 0 { eof = true } else { end += got }
    }
}

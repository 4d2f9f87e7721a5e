// A small HTTP/1.1 client over a real loopback socket (blocking I/O on GCD threads, never on the task pool the
// server runs on), so the tests see exactly the bytes a client would.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct HTTPReply: Sendable {
    var status: Int
    var headers: [String: String]     // lower-cased names
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> Any { try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
    var object: [String: Any] { ((try? json()) as? [String: Any]) ?? [:] }
    /// OpenAI's {"error": {…}} fields.
    var openAIError: [String: Any]? { object["error"] as? [String: Any] }
}

struct HTTPClientError: Error, CustomStringConvertible {
    var description: String
}

enum HTTP {
    /// Sends one request with `Connection: close` and reads the whole answer.
    static func request(port: Int, _ method: String, _ path: String, body: Data? = nil,
                        headers: [String: String] = [:]) async throws -> HTTPReply {
        try await withCheckedThrowingContinuation { done in
            DispatchQueue.global().async {
                done.resume(with: Result { try blockingRequest(port: port, method, path, body: body, headers: headers) })
            }
        }
    }

    static func post(port: Int, _ path: String, json: Any, headers: [String: String] = [:]) async throws -> HTTPReply {
        try await request(port: port, "POST", path, body: try JSONSerialization.data(withJSONObject: json),
                          headers: ["Content-Type": "application/json"].merging(headers) { $1 })
    }

    static func post(port: Int, _ path: String, raw: String, headers: [String: String] = [:]) async throws -> HTTPReply {
        try await request(port: port, "POST", path, body: Data(raw.utf8), headers: ["Content-Type": "application/json"].merging(headers) { $1 })
    }

    static func get(port: Int, _ path: String, headers: [String: String] = [:]) async throws -> HTTPReply {
        try await request(port: port, "GET", path, headers: headers)
    }

    /// A connected socket to 127.0.0.1:port.
    static func connect(port: Int) throws -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw HTTPClientError(description: "socket() failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw HTTPClientError(description: "connect to port \(port) failed") }
        return fd
    }

    static func send(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { (p: UnsafeRawBufferPointer) in
            var off = 0
            while off < p.count {
                let n = Glibc.send(fd, p.baseAddress! + off, p.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { throw HTTPClientError(description: "send failed") }
                off += n
            }
        }
    }

    static func head(_ method: String, _ path: String, port: Int, headers: [String: String], length: Int?) -> Data {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let length { head += "Content-Length: \(length)\r\n" }
        head += "\r\n"
        return Data(head.utf8)
    }

    static func blockingRequest(port: Int, _ method: String, _ path: String, body: Data?, headers: [String: String]) throws -> HTTPReply {
        let fd = try connect(port: port)
        defer { close(fd) }
        var tv = timeval(tv_sec: 900, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        try send(fd, head(method, path, port: port, headers: headers, length: body.map(\.count) ?? (method == "POST" ? 0 : nil)))
        if let body, !body.isEmpty { try? send(fd, body) }   // the server may answer (413) before reading it all
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return try parse(data)
    }

    static func parse(_ data: Data) throws -> HTTPReply {
        guard let split = data.range(of: Data("\r\n\r\n".utf8)) else {
            throw HTTPClientError(description: "no HTTP head in \(data.count) bytes: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        let headText = String(decoding: data[..<split.lowerBound], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw HTTPClientError(description: "bad status line \(headText)") }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(data[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = try dechunk(body) }
        return HTTPReply(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: Data) throws -> Data {
        var out = Data()
        var i = data.startIndex
        while i < data.endIndex {
            guard let eol = data[i...].range(of: Data("\r\n".utf8)) else { break }
            let sizeText = String(decoding: data[i..<eol.lowerBound], as: UTF8.self).split(separator: ";")[0]
            guard let size = Int(sizeText, radix: 16) else { throw HTTPClientError(description: "bad chunk size \(sizeText)") }
            if size == 0 { break }
            let start = eol.upperBound
            out.append(data[start..<start + size])
            i = start + size + 2
        }
        return out
    }
}

// SHA-256 digests of downloaded files, by swift-crypto (Apple's CryptoKit API; BoringSSL on Linux): the model store
// verifies every file it installs against the digest its catalogue pins.
import Crypto
import Foundation

/// Lower-case hex SHA-256 digests.
public enum Checksum {
    /// The digest of `bytes`.
    public static func sha256Hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        hex(SHA256.hash(data: Array(bytes)))
    }

    /// The digest of a file, streamed through the hash in chunks of `chunkSize` bytes (never the whole file in memory).
    /// - Throws: the file-system error if the file cannot be opened or read.
    public static func sha256Hex(ofFile url: URL, chunkSize: Int = 1 << 20) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: max(1, chunkSize)), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hex(hasher.finalize())
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A safetensors file, memory-mapped and validated.
///
/// `init(url:)` maps the file read-only and checks the whole header before any tensor is touched:
/// the header length is sane and inside the file, the header is a UTF-8 JSON object, every entry has
/// a known dtype, a shape of non-negative integers and `data_offsets` `[begin, end]` with
/// `0 ≤ begin ≤ end ≤ data size` and `end − begin == product(shape) · dtype.size`, and no two
/// tensors' bytes overlap. Tensor bytes are read only when asked for, so opening a 90 MB checkpoint
/// costs one `mmap` and a parse of its ~11 KB header.
///
///     let file = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
///     let w = try file.tensor("embeddings.word_embeddings.weight", shape: [30522, 384])
///
/// The object is immutable and may be shared between threads. The mapping lives as long as the object.
public final class SafetensorsFile: @unchecked Sendable {
    /// The file that was opened.
    public let url: URL
    /// Tensor names, sorted (excludes `__metadata__`).
    public let names: [String]
    /// The `__metadata__` map (empty if absent).
    public let metadata: [String: String]
    /// Length of the JSON header in bytes (the u64 prefix).
    public let headerLength: Int

    private let infos: [String: SafetensorsTensorInfo]
    private let mapping: MappedFile
    /// Byte offset of the data section within the file: `8 + headerLength`.
    private let dataStart: Int
    /// The file's path, used to name it in errors.
    private var file: String { url.path }

    /// Maps and validates the file at `url`.
    /// - Throws: ``SafetensorsError`` naming the file and, for per-tensor problems, the tensor.
    public init(url: URL) throws {
        let file = url.path
        let mapping = try MappedFile(path: file)
        let bytes = mapping.bytes
        guard bytes.count >= 8 else { throw SafetensorsError.fileTooSmall(file: file, size: bytes.count) }

        let n = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard n <= UInt64(Safetensors.maxHeaderLength) else {
            throw SafetensorsError.headerTooLarge(file: file, headerLength: n)
        }
        let headerLength = Int(n)
        guard 8 + headerLength <= bytes.count else {
            throw SafetensorsError.headerPastEndOfFile(file: file, headerLength: n, fileSize: bytes.count)
        }
        let header = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])
        let dataSize = bytes.count - 8 - headerLength
        let parsed = try SafetensorsFile.parseHeader(header, dataSize: dataSize, file: file)

        self.url = url
        self.mapping = mapping
        self.headerLength = headerLength
        self.dataStart = 8 + headerLength
        self.infos = parsed.tensors
        self.names = parsed.tensors.keys.sorted()
        self.metadata = parsed.metadata
    }

    /// Whether the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool { infos[name] != nil }

    /// The dtype, shape and byte range of `name`.
    public func info(_ name: String) throws -> SafetensorsTensorInfo {
        guard let info = infos[name] else {
            throw SafetensorsError.tensorNotFound(file: file, tensor: name, suggestion: suggestion(for: name))
        }
        return info
    }

    /// Infos of all tensors, sorted by name.
    public var tensorInfos: [SafetensorsTensorInfo] { names.compactMap { infos[$0] } }

    /// Loads a floating-point tensor (F32, F16, BF16, F64, F8_E5M2, F8_E4M3) as Float32.
    /// - Throws: ``SafetensorsError/unsupportedDType(file:tensor:dtype:accessor:)`` for integer dtypes.
    public func tensor(_ name: String) throws -> Tensor {
        let info = try self.info(name)
        return try Tensor(shape: info.shape, scalars: floats(info))
    }

    /// The tensor read in place from the mapping (no copy), or nil when that is not possible: a dtype other
    /// than F32, bytes not 4-byte aligned in the file, or a big-endian machine (load those with ``tensor(_:)``).
    public func mappedTensor(_ name: String) throws -> MappedTensor? {
        let info = try self.info(name)
        #if _endian(little)
        let raw = rawBytes(info)
        guard info.dtype == .f32, let base = raw.baseAddress,
              Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 else { return nil }
        return MappedTensor(shape: info.shape, base: base.assumingMemoryBound(to: Float.self), owner: mapping)
        #else
        return nil
        #endif
    }

    /// Loads a floating-point tensor like ``tensor(_:)``, then releases its mapped pages (``releasePages(of:)``).
    /// An F32 tensor is copied in 4 MiB pieces, each released as soon as it is copied, so a large table (a
    /// 47 MB word-embedding matrix) never sits in memory twice.
    public func tensor(_ name: String, releasingPages: Bool) throws -> Tensor {
        guard releasingPages else { return try tensor(name) }
        let info = try self.info(name)
        #if _endian(little)
        if info.dtype == .f32 {
            let raw = rawBytes(info)
            let piece = 1 << 20   // floats
            let values = [Float](unsafeUninitializedCapacity: info.count) { out, initialized in
                var done = 0
                while done < info.count, let src = raw.baseAddress, let dst = out.baseAddress {
                    let n = Swift.min(piece, info.count - done)
                    UnsafeMutableRawPointer(dst + done).copyMemory(from: src + 4 * done, byteCount: 4 * n)
                    release(bytes: dataStart + info.dataOffsets.lowerBound + 4 * done, count: 4 * n)
                    done += n
                }
                initialized = info.count
            }
            return try Tensor(shape: info.shape, scalars: values)
        }
        #endif
        defer { releasePages(of: name) }
        return try tensor(name)
    }

    /// Tells the kernel the mapped pages of `name` are no longer needed (after copying it out), so loading a
    /// checkpoint does not hold the file and its copy in memory at once. Reading the tensor again still works:
    /// the pages are read back from the file.
    public func releasePages(of name: String) {
        guard let info = infos[name] else { return }
        release(bytes: dataStart + info.dataOffsets.lowerBound, count: info.byteCount)
    }

    /// Drops the whole pages inside `start ..< start + count` of the mapping (file offsets).
    private func release(bytes start: Int, count: Int) {
        guard let base = mapping.bytes.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let end = start + count
        let alignedStart = (start + page - 1) / page * page, alignedEnd = end / page * page
        guard alignedEnd > alignedStart else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + alignedStart), alignedEnd - alignedStart, Int32(MADV_DONTNEED))
    }

    /// Loads a floating-point tensor and checks its shape.
    /// - Throws: ``SafetensorsError/shapeMismatch(file:tensor:expected:actual:)`` naming both shapes.
    public func tensor(_ name: String, shape expected: [Int]) throws -> Tensor {
        let info = try self.info(name)
        guard info.shape == expected else {
            throw SafetensorsError.shapeMismatch(file: file, tensor: name, expected: expected, actual: info.shape)
        }
        return try Tensor(shape: info.shape, scalars: floats(info))
    }

    /// Reads an integer tensor (I8…I64, U8…U64, BOOL as 0 / 1) as a flat row-major `[Int]`.
    /// - Throws: ``SafetensorsError/unsupportedDType(file:tensor:dtype:accessor:)`` for float dtypes,
    ///   ``SafetensorsError/integerOverflow(file:tensor:index:)`` for a U64 above `Int.max`.
    public func intArray(_ name: String) throws -> [Int] {
        let info = try self.info(name)
        guard info.dtype.isInteger else {
            throw SafetensorsError.unsupportedDType(file: file, tensor: name, dtype: info.dtype, accessor: "intArray")
        }
        let raw = rawBytes(info)
        if let values = SafetensorsConvert.ints(raw, dtype: info.dtype, count: info.count) { return values }
        let index = SafetensorsConvert.firstOverflow(raw, dtype: info.dtype, count: info.count) ?? 0
        throw SafetensorsError.integerOverflow(file: file, tensor: name, index: index)
    }

    /// Calls `body` with the tensor's raw little-endian bytes, straight from the mapping (no copy).
    public func withUnsafeRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try body(rawBytes(try info(name)))
    }

    /// Calls `body` with the tensor's values as Float32.
    ///
    /// For an F32 tensor whose bytes are 4-byte aligned in the mapping (true for files written by
    /// `safetensors` and by Attend, whose headers are padded to 8 bytes) on a little-endian machine,
    /// the buffer points straight into the mapping: no copy. Otherwise the values are decoded into
    /// a temporary array first. The buffer must not escape `body`.
    public func withUnsafeFloatBuffer<R>(_ name: String, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        let info = try self.info(name)
        #if _endian(little)
        let raw = rawBytes(info)
        if info.dtype == .f32, let base = raw.baseAddress,
           Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: info.count))
        }
        #endif
        let values = try floats(info)
        return try values.withUnsafeBufferPointer(body)
    }

    // MARK: - Internals

    private func rawBytes(_ info: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        let start = dataStart + info.dataOffsets.lowerBound
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[start..<(start + info.byteCount)])
    }

    private func floats(_ info: SafetensorsTensorInfo) throws -> [Float] {
        guard info.dtype.isFloatingPoint else {
            throw SafetensorsError.unsupportedDType(file: file, tensor: info.name, dtype: info.dtype, accessor: "tensor")
        }
        return SafetensorsConvert.floats(rawBytes(info), dtype: info.dtype, count: info.count)
    }

    /// A close name for a missing tensor: one that differs by a leading prefix such as `bert.`.
    private func suggestion(for name: String) -> String? {
        names.first { $0.hasSuffix("." + name) || name.hasSuffix("." + $0) }
    }
}

/// A read-only memory mapping of a whole file, unmapped on deinit.
final class MappedFile: @unchecked Sendable {
    /// The mapped bytes (empty for an empty file).
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SafetensorsError.cannotOpen(file: path, reason: MappedFile.errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw SafetensorsError.cannotOpen(file: path, reason: MappedFile.errnoText())
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw SafetensorsError.cannotOpen(file: path, reason: "not a regular file")
        }
        guard let size = Int(exactly: st.st_size), size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let pointer, pointer != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw SafetensorsError.cannotOpen(file: path, reason: "mmap failed: " + MappedFile.errnoText())
        }
        bytes = UnsafeRawBufferPointer(start: pointer, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

import AttendKernelsC
import Foundation

/// A small pool of 64-byte-aligned scratch buffers for GEMM packing, so that a call allocates
/// nothing once the pool is warm (fresh large allocations would also pay page faults every call).
///
/// Each GEMM call (and each of its worker threads) borrows buffers for its duration and returns
/// them; at most ``capacity`` idle buffers are kept.
enum GEMMBuffers {
    private struct Buffer {
        let pointer: UnsafeMutablePointer<Float>
        let floats: Int
    }

    /// The idle buffers, touched only under their lock (any thread of any task may borrow and return).
    private final class Pool: @unchecked Sendable {
        private let lock = NSLock()
        private var idle: [Buffer] = []

        /// The smallest idle buffer of at least `floats` floats, removed from the pool, or nil.
        func take(atLeast floats: Int) -> Buffer? {
            lock.lock()
            defer { lock.unlock() }
            var best: Int? = nil
            for (i, buf) in idle.enumerated() where buf.floats >= floats {
                if best.map({ buf.floats < idle[$0].floats }) ?? true { best = i }
            }
            return best.map { idle.remove(at: $0) }
        }

        /// Returns `buf`; gives back the smallest buffer when more than `capacity` are idle (the big ones are the
        /// expensive ones to recreate), for the caller to free outside the lock.
        func give(_ buf: Buffer, capacity: Int) -> Buffer? {
            lock.lock()
            defer { lock.unlock() }
            idle.append(buf)
            guard idle.count > capacity, let i = idle.indices.min(by: { idle[$0].floats < idle[$1].floats }) else { return nil }
            return idle.remove(at: i)
        }
    }

    private static let pool = Pool()
    static let capacity = 8

    private static func take(_ floats: Int) -> Buffer {
        if let buf = pool.take(atLeast: floats) { return buf }
        // Round up so that slowly growing requests reuse one buffer.
        let rounded = max(floats, 1024).roundedUpToPowerOfTwoish
        let raw = UnsafeMutableRawPointer.allocate(byteCount: rounded * MemoryLayout<Float>.stride, alignment: 64)
        return Buffer(pointer: raw.bindMemory(to: Float.self, capacity: rounded), floats: rounded)
    }

    private static func give(_ buf: Buffer) {
        pool.give(buf, capacity: capacity)?.pointer.deallocate()
    }

    /// Runs `body` with a scratch buffer of at least `floats` floats.
    static func with<R>(floats: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let buf = take(floats)
        defer { give(buf) }
        return try body(buf.pointer)
    }

    /// Runs `body` with two scratch buffers.
    static func with<R>(floats f0: Int, _ f1: Int,
                        _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let b0 = take(f0), b1 = take(f1)
        defer { give(b1); give(b0) }
        return try body(b0.pointer, b1.pointer)
    }
}

private extension Int {
    /// Rounds up to 1, 1.25, 1.5 or 1.75 times a power of two (at most 25% slack).
    var roundedUpToPowerOfTwoish: Int {
        guard self > 4 else { return self }
        let top = Int.bitWidth - 1 - leadingZeroBitCount      // floor(log2(self))
        let step = 1 << (top - 2)
        return (self + step - 1) / step * step
    }
}

extension Kernels {
    /// Tunes the C library's allocator for running models, once at process start (the `attend` command does):
    /// with glibc, blocks below 32 MiB come from the heap instead of fresh `mmap` pages and up to 256 MiB of freed
    /// heap is kept for reuse instead of being given back, so a model's large intermediate tensors (1–3 MiB per
    /// layer in a prefill, 6–25 MiB for a batch of 32 sentences of 128 tokens) stop paying page faults and the
    /// kernel's zeroing of new pages on every call. Measured on all-MiniLM-L6-v2's long set after its short set in one
    /// process: 1.36 M page faults and 118 sentences/s untuned, 37 k and 154 with this (peak RSS unchanged, 175 MiB).
    /// Every thread allocates from the one heap (glibc gives other threads their own arenas of mmap'd heaps, which
    /// are unmapped whenever they empty: two threads embedding batches side by side paid 691 k page faults on the
    /// long set, 57 k with one arena), so call it at the start of the program, before other threads allocate.
    /// The cost: a process whose heap once grew keeps up to 256 MiB of it. Elsewhere it does nothing.
    /// - Returns: whether the setting was applied.
    @discardableResult
    public static func keepFreedMemory() -> Bool { attend_keep_freed_memory() == 1 }
}

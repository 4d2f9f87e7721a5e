/// An immutable open-addressing hash table from byte strings (UTF-8) to token ids.
///
/// WordPiece looks up every candidate piece of every word; hashing the UTF-8 bytes
/// in place avoids building a `String` per candidate, and compares bytes exactly
/// (as `tokenizers` does) rather than by Unicode canonical equivalence.
final class ByteTable: @unchecked Sendable {
    // Immutable after init, hence safe to share across threads.
    private let keyBytes: UnsafeMutablePointer<UInt8>
    private let keyStarts: UnsafeMutablePointer<Int>   // count + 1 entries
    private let values: UnsafeMutablePointer<Int>
    private let slots: UnsafeMutablePointer<Int32>       // entry index or -1
    private let slotMask: Int
    let count: Int
    /// The largest number of Unicode scalars in any key.
    let maxKeyScalars: Int

    /// `entries`: (key bytes, id). Later duplicates of a key are ignored.
    init(_ entries: [(key: [UInt8], id: Int)]) {
        let totalBytes = entries.reduce(0) { $0 + $1.key.count }
        let keyBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(totalBytes, 1))
        let keyStarts = UnsafeMutablePointer<Int>.allocate(capacity: entries.count + 1)
        let values = UnsafeMutablePointer<Int>.allocate(capacity: max(entries.count, 1))
        var capacity = 16
        while capacity < entries.count * 2 { capacity <<= 1 }
        let slots = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        slots.initialize(repeating: -1, count: capacity)
        let mask = capacity - 1

        var n = 0, offset = 0, maxScalars = 0
        keyStarts[0] = 0
        for (key, id) in entries {
            // Copy the key in place, then index it unless it is already present.
            key.withUnsafeBufferPointer { k in
                if let base = k.baseAddress { (keyBytes + offset).update(from: base, count: k.count) }
            }
            if Self.lookup(keyBytes + offset, key.count, keyBytes, keyStarts, values, slots, mask) != nil { continue }
            values[n] = id
            keyStarts[n + 1] = offset + key.count
            var slot = Self.hash(keyBytes + offset, key.count) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(n)
            offset += key.count
            n += 1
            maxScalars = max(maxScalars, key.reduce(0) { $0 + (($1 & 0xC0) != 0x80 ? 1 : 0) })
        }
        self.keyBytes = keyBytes
        self.keyStarts = keyStarts
        self.values = values
        self.slots = slots
        self.slotMask = mask
        count = n
        maxKeyScalars = maxScalars
    }

    deinit {
        keyBytes.deallocate()
        keyStarts.deallocate()
        values.deallocate()
        slots.deallocate()
    }

    /// The id stored for the `length` bytes at `bytes`, if any.
    @inline(__always)
    func lookup(_ bytes: UnsafePointer<UInt8>, _ length: Int) -> Int? {
        Self.lookup(bytes, length, keyBytes, keyStarts, values, slots, slotMask)
    }

    func lookup(_ key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { k in
            guard let base = k.baseAddress else {
                var zero: UInt8 = 0
                return lookup(&zero, 0)
            }
            return lookup(base, k.count)
        }
    }

    @inline(__always)
    private static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        // FNV-1a, then a final avalanche so the low bits are well mixed.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<n { h = (h ^ UInt64(p[i])) &* 0x0000_0100_0000_01b3 }
        h ^= h >> 29
        h &*= 0xbf58_476d_1ce4_e5b9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    @inline(__always)
    private static func lookup(_ p: UnsafePointer<UInt8>, _ n: Int,
                               _ keyBytes: UnsafeMutablePointer<UInt8>, _ keyStarts: UnsafeMutablePointer<Int>,
                               _ values: UnsafeMutablePointer<Int>, _ slots: UnsafeMutablePointer<Int32>,
                               _ mask: Int) -> Int? {
        var slot = hash(p, n) & mask
        while true {
            let e = Int(slots[slot])
            if e < 0 { return nil }
            let s = Int(keyStarts[e]), len = Int(keyStarts[e + 1]) - s
            if len == n {
                var i = 0
                while i < n && keyBytes[s + i] == p[i] { i += 1 }
                if i == n { return values[e] }
            }
            slot = (slot + 1) & mask
        }
    }
}

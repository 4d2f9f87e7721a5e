/// Placeholder, generated later.
enum HFUnicodeExceptions {
    @inline(__always) static func notControl(_ v: UInt32) -> Bool { false }
    @inline(__always) static func notPunctuation(_ v: UInt32) -> Bool { false }
}

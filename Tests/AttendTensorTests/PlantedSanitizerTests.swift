import Foundation
import Testing

/// Planted bugs that check `Tests/sanitize.sh` itself: with `ATTEND_PLANTED_BUGS=1` (never set in the normal suite or
/// in CI), AddressSanitizer must report the out-of-bounds write and ThreadSanitizer the unsynchronised counter, and
/// the script must then fail. docs/RELIABILITY.md has the commands and what they printed.
@Suite("Planted sanitizer bugs (ATTEND_PLANTED_BUGS=1 only)",
       .enabled(if: ProcessInfo.processInfo.environment["ATTEND_PLANTED_BUGS"] == "1"))
struct PlantedSanitizerTests {
    /// A heap-buffer-overflow: one element past a 4-element allocation (the index comes from the environment so the
    /// compiler cannot see it coming).
    @Test func outOfBoundsWrite() {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 4)
        defer { p.deallocate() }
        let i = Int(ProcessInfo.processInfo.environment["ATTEND_PLANTED_INDEX"] ?? "4") ?? 4
        p[i] = 1
        #expect(p[0] == p[0])
    }

    /// A data race: two threads increment one counter with no synchronisation.
    @Test func dataRace() {
        final class Counter: @unchecked Sendable { var n = 0 }
        let c = Counter()
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            for _ in 0..<10_000 { c.n += 1 }
        }
        #expect(c.n <= 20_000)
    }
}

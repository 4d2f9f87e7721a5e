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

    /// A data race: two threads increment one counter with no synchronisation. They are plain pthreads joined by
    /// the test, so the two threads' writes are unordered whatever the timing. (The first version used
    /// DispatchQueue.concurrentPerform with 2 iterations and passed under TSan with no report: libdispatch may run
    /// both iterations on the calling thread, and then there is no race to find.)
    @Test func dataRace() {
        let c = PlantedCounter()
        let body: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
            let c = Unmanaged<PlantedCounter>.fromOpaque(raw!).takeUnretainedValue()
            for _ in 0..<10_000 { c.n += 1 }
            return nil
        }
        let raw = Unmanaged.passUnretained(c).toOpaque()
        var threads: [pthread_t] = []
        for _ in 0..<2 {
            var t = pthread_t()
            #expect(pthread_create(&t, nil, body, raw) == 0)
            threads.append(t)
        }
        for t in threads { pthread_join(t, nil) }
        withExtendedLifetime(c) { #expect(c.n <= 20_000) }
    }
}

/// The planted race's counter (file scope, so the C-convention thread body can name it).
private final class PlantedCounter: @unchecked Sendable { var n = 0 }

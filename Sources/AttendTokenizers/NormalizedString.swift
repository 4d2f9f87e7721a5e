/// Text on its way through the normalizers, with every scalar aligned to the span
/// of the *original* text it came from, so that token offsets can be reported in
/// the caller's string even after lowercasing, accent stripping or deletions.
///
/// Offsets are counted in Unicode scalars (code points) of the original string,
/// like the `char` offsets of Hugging Face `tokenizers`. When a normalizer turns one
/// scalar into several (`é` → `e` + U+0301, `İ` → `i` + U+0307) every output scalar
/// keeps the span of its source; deleted scalars simply leave a gap.
public struct NormalizedString: Sendable, Hashable {
    /// The normalized text, one Unicode scalar per element.
    public private(set) var scalars: [Unicode.Scalar]
    /// `alignments[i]` is the span of original scalars that `scalars[i]` came from.
    public private(set) var alignments: [Range<Int>]

    /// Wraps `text` unchanged: scalar `i` is aligned to `i..<i+1`.
    public init(_ text: String) {
        self.init(Array(text.unicodeScalars), firstOffset: 0)
    }

    /// Wraps a run of original scalars whose first one sits at `firstOffset`.
    public init<C: Collection>(_ scalars: C, firstOffset: Int) where C.Element == Unicode.Scalar {
        self.scalars = Array(scalars)
        var alignments: [Range<Int>] = []
        alignments.reserveCapacity(self.scalars.count)
        for i in 0..<self.scalars.count { alignments.append(firstOffset + i ..< firstOffset + i + 1) }
        self.alignments = alignments
    }

    init(scalars: [Unicode.Scalar], alignments: [Range<Int>]) {
        self.scalars = scalars
        self.alignments = alignments
    }

    /// The normalized text as a `String`.
    public var string: String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars)
        return String(s)
    }

    public var count: Int { scalars.count }
    public var isEmpty: Bool { scalars.isEmpty }

    /// The original-text span covered by the normalized scalars `range` (non-empty).
    @inline(__always)
    public func originalSpan(of range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return 0..<0 }
        let lo = alignments[range.lowerBound].lowerBound
        let hi = alignments[range.upperBound - 1].upperBound
        return lo ..< max(lo, hi)
    }

    // MARK: - Editing (each output scalar inherits its source's alignment)

    /// Replaces every scalar by the scalars `body` emits for it (none deletes it).
    public mutating func transform(_ body: (Unicode.Scalar, _ emit: (Unicode.Scalar) -> Void) -> Void) {
        var newScalars: [Unicode.Scalar] = []
        var newAlignments: [Range<Int>] = []
        newScalars.reserveCapacity(scalars.count + scalars.count / 4)
        newAlignments.reserveCapacity(scalars.count + scalars.count / 4)
        for i in 0..<scalars.count {
            let a = alignments[i]
            body(scalars[i]) { out in
                newScalars.append(out)
                newAlignments.append(a)
            }
        }
        scalars = newScalars
        alignments = newAlignments
    }

    /// Keeps only the scalars for which `keep` is true.
    public mutating func filter(_ keep: (Unicode.Scalar) -> Bool) {
        var w = 0
        for r in 0..<scalars.count where keep(scalars[r]) {
            scalars[w] = scalars[r]
            alignments[w] = alignments[r]
            w += 1
        }
        scalars.removeSubrange(w...)
        alignments.removeSubrange(w...)
    }

    /// Canonical ordering (the last step of NFD): within each run of scalars with
    /// non-zero canonical combining class, stable-sort by that class.
    public mutating func reorderCanonically() {
        var i = 0
        let n = scalars.count
        while i < n {
            guard scalars[i].value >= 0x300, scalars[i].properties.canonicalCombiningClass.rawValue != 0 else {
                i += 1
                continue
            }
            var j = i + 1
            while j < n, scalars[j].value >= 0x300, scalars[j].properties.canonicalCombiningClass.rawValue != 0 { j += 1 }
            if j - i > 1 {
                let run = (i..<j).map { (scalars[$0], alignments[$0]) }
                // Swift's sort is not guaranteed stable: sort by (class, position).
                let sorted = run.enumerated().sorted {
                    let a = $0.element.0.properties.canonicalCombiningClass.rawValue
                    let b = $1.element.0.properties.canonicalCombiningClass.rawValue
                    return a != b ? a < b : $0.offset < $1.offset
                }
                for (k, e) in sorted.enumerated() {
                    scalars[i + k] = e.element.0
                    alignments[i + k] = e.element.1
                }
            }
            i = j
        }
    }
}

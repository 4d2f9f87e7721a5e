import AttendTestSupport
import Testing
@testable import AttendTensor

/// `HeadView`: `[B, T, C]` read as `[B, H, T, d]` by strides, never copied until asked.
@Suite("Head views")
struct HeadViewTests {
    /// Viewing a `[B, T, H·d]` projection as heads and copying it out equals `splitHeads`; merging gives the base
    /// back without a copy. Swept over batch, length, heads and head dim.
    @Test(arguments: [(1, 1, 1, 1), (2, 7, 3, 5), (3, 17, 4, 16), (1, 16, 12, 32)])
    func viewEqualsSplitHeads(_ sizes: (Int, Int, Int, Int)) throws {
        let (b, t, h, d) = sizes
        var rng = SeededRNG(seed: UInt64(b * 1000 + t * 10 + h))
        let x = Tensor.randomNormal([b, t, h * d], rng: &rng)          // [B, T, H·d]
        let view = try x.viewAsHeads(h)                                 // [B, H, T, d]
        #expect(view.shape == [b, h, t, d])
        #expect(view.contiguous() == (try x.splitHeads(h)))
        #expect(view.mergedHeads() == x)
        #expect(try HeadView(x.splitHeads(h)).mergedHeads() == x)
    }

    /// Heads taken from the middle of a wider row (one fused Q/K/V projection): the right columns, and merging
    /// them copies exactly those columns.
    @Test func columnsOfAFusedProjection() throws {
        let (b, t, h, hkv, d) = (2, 5, 4, 2, 3)
        let width = (h + 2 * hkv) * d
        let qkv = try Tensor(shape: [b, t, width], scalars: (0..<(b * t * width)).map(Float.init))
        let k = try qkv.viewAsHeads(hkv, dim: d, column: h * d)        // [B, Hkv, T, d]
        let expected = try qkv.slice(axis: 2, (h * d)..<((h + hkv) * d)).splitHeads(hkv)
        #expect(k.contiguous() == expected)
        #expect(k.mergedHeads() == (try expected.mergeHeads()))
    }

    @Test func badViewsAreTypedErrors() throws {
        let x = Tensor.zeros([2, 3, 12])
        #expect(throws: TensorError.self) { try x.viewAsHeads(5) }                        // 12 not divisible by 5
        #expect(throws: TensorError.self) { try x.viewAsHeads(2, dim: 4, column: 5) }     // runs past the row
        #expect(throws: TensorError.self) { try Tensor.zeros([3, 12]).viewAsHeads(2) }    // not [B, T, C]
        #expect(throws: TensorError.self) { try HeadView(Tensor.zeros([3, 12])) }
        #expect(throws: TensorError.self) {
            try HeadView(base: x, offset: 1, batch: 2, heads: 2, length: 3, dim: 6, layout: .init(batch: 36, head: 6, row: 12))
        }
    }
}

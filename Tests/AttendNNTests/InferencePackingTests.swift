import AttendTestSupport
import Testing
@testable import AttendNN
@testable import AttendTensor

// Inference caches (weights packed once for the GEMM, Q/K/V fused into one projection) must give the
// same outputs as the plain layers, and must never be used once the weights they were built from change.
struct InferencePackingTests {
    @Test("a packed Linear matches the unpacked one, and a weight change is picked up")
    func linearPacking() throws {
        var rng = SeededRNG(seed: 11)
        let layer = Linear(48, 70, rng: &rng)
        let x = Tensor.randomNormal([2, 9, 48], rng: &rng)
        let plain = try layer(x, activation: .gelu)
        try layer.prepareForInference()
        #expect(layer.packedWeight != nil)
        expectClose(try layer(x, activation: .gelu), plain, atol: 1e-5, rtol: 1e-5, "packed")
        // Change the weights in place (as an optimizer does): the packing is stale and must not be used.
        layer.weight.value.scalars[0] += 1
        #expect(layer.packedWeight == nil)
        let fresh = Linear(48, 70)
        fresh.weight.value = layer.weight.value
        fresh.bias?.value = layer.bias!.value
        expectClose(try layer(x, activation: .gelu), try fresh(x, activation: .gelu), atol: 1e-6, rtol: 1e-6, "after change")
    }

    @Test("fused and packed self-attention matches the plain one, and a weight change is picked up")
    func attentionPacking() throws {
        var rng: SeededRNG? = SeededRNG(seed: 5)
        let mha = try MultiHeadAttention(embedDim: 32, heads: 4, initializer: &rng)
        var r = SeededRNG(seed: 6)
        let x = Tensor.randomNormal([2, 7, 32], rng: &r)
        let plain = try mha(query: x).output
        try mha.prepareForInference()
        #expect(mha.fusedQKV != nil)
        expectClose(try mha(query: x).output, plain, atol: 1e-5, rtol: 1e-5, "fused + packed")
        mha.kProj.weight.value.scalars[3] -= 0.5
        mha.outProj.bias?.value.scalars[1] += 0.25
        mha.unfuseProjections()
        let expected = try mha(query: x).output
        try mha.fuseProjections()
        mha.kProj.weight.value.scalars[3] += 0   // any write counts as a change
        #expect(try mha(query: x).output == expected, "a stale fused projection was used")
    }
}

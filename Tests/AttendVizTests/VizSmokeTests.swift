import AttendViz
import Testing

@Test func vizModuleReexportsModels() {
    #expect(PoolingMode.allCases.count == 4)
}

import Testing
@Test func placeholderAttendNNTests() {}

import Testing
@Test func placeholderAttendTensorTests() {}

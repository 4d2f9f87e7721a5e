import Testing
@Test func placeholderAttendCLITests() {}

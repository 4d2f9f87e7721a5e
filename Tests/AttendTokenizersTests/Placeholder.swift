import Testing
@Test func placeholderAttendTokenizersTests() {}

import Testing
@testable import TunwardenCommands

@Suite struct AlertSinkTests {
    /// A leak of thousands is one readable log line and an environment variable execve accepts.
    @Test func longOrphanListsAreAbbreviatedWithACount() {
        let names = (0..<9900).map { "bt\($0)" }
        let line = AlertSinks.abbreviated(names, separator: ", ")
        #expect(line.hasPrefix("bt0, bt1, "))
        #expect(line.hasSuffix("bt19, … (9880 more)"))
        #expect(AlertSinks.abbreviated(names, separator: " ", limit: 1000).utf8.count < 128 * 1024)
        #expect(AlertSinks.abbreviated(["a", "b"], separator: ", ") == "a, b")
    }
}

#if os(Linux)
import CLinuxShims
import Foundation
import Glibc
import Testing

/// The watcher hears of holders' exits through the proc connector, filtered in the kernel so that
/// the rest of the host's processes coming and going never wake it.
@Suite(.enabled(if: getuid() == 0, "needs root (the proc connector)"))
struct ProcessExitFilterTests {
    static func run(_ path: String, _ arguments: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
        return process
    }

    /// Whether the socket has something to read within `milliseconds`.
    static func readable(_ fd: Int32, within milliseconds: Int32) -> Bool {
        var probe = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&probe, 1, milliseconds) == 1
    }

    @Test func onlyTheExitsOfTheNamedProcessesPass() throws {
        let fd = tw_proc_events_open()
        try #require(fd >= 0)
        defer { close(fd) }
        let named = try Self.run("/bin/sleep", ["30"])
        var pids = [named.processIdentifier]
        #expect(tw_proc_events_filter(fd, &pids, 1) == 0)
        // Other processes start, exec and exit: none of it reaches the socket.
        for _ in 0..<5 { try Self.run("/bin/true").waitUntilExit() }
        #expect(!Self.readable(fd, within: 300))
        // SIGKILL: a spawned child inherits the test runner's signal mask, which may block SIGTERM.
        kill(named.processIdentifier, SIGKILL)
        named.waitUntilExit()
        #expect(Self.readable(fd, within: 5000))
        var exited = [Int32](repeating: 0, count: 16)
        let count = tw_proc_events_read(fd, &exited, Int32(exited.count))
        #expect(Array(exited.prefix(Int(max(count, 0)))) == [named.processIdentifier])
    }

    @Test func withTooManyToNameEveryProcessExitPassesAndNothingElse() throws {
        let fd = tw_proc_events_open()
        try #require(fd >= 0)
        defer { close(fd) }
        var none: [Int32] = []
        #expect(tw_proc_events_filter(fd, &none, -1) == 1)
        let started = try (0..<3).map { _ in try Self.run("/bin/true") }
        for process in started { process.waitUntilExit() }
        // Each datagram that passes is an exit (forks and execs are held back); the three are among them.
        var seen = Set<Int32>()
        var exited = [Int32](repeating: 0, count: 16)
        while !seen.isSuperset(of: started.map(\.processIdentifier)), Self.readable(fd, within: 2000) {
            let count = tw_proc_events_read(fd, &exited, Int32(exited.count))
            #expect(count >= 1, "a datagram with no exit passed the filter")
            seen.formUnion(exited.prefix(Int(max(count, 0))))
        }
        #expect(seen.isSuperset(of: started.map(\.processIdentifier)))
    }

    @Test func anEmptyListLetsNothingThrough() throws {
        let fd = tw_proc_events_open()
        try #require(fd >= 0)
        defer { close(fd) }
        var none: [Int32] = []
        #expect(tw_proc_events_filter(fd, &none, 0) == 0)
        for _ in 0..<3 { try Self.run("/bin/true").waitUntilExit() }
        #expect(!Self.readable(fd, within: 300))
    }
}
#endif

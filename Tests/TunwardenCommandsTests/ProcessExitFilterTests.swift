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

    /// Whether the socket has something to read (or an error to report) within `milliseconds`.
    /// Only those count: POLLNVAL would say the descriptor was closed under the test by some
    /// other code of the test process, which is not what these tests are about.
    static func readable(_ fd: Int32, within milliseconds: Int32) -> Bool {
        var probe = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&probe, 1, milliseconds) == 1 && probe.revents & Int16(POLLIN | POLLERR) != 0
    }

    /// The exits read within `milliseconds` of quiet; a lost broadcast (ENOBUFS: the kernel
    /// could not copy an event for some socket, and tells every later one) is not an event.
    static func exits(_ fd: Int32, quietFor milliseconds: Int32, until done: (Set<Int32>) -> Bool = { _ in false }) -> (exits: Set<Int32>, emptyReads: Int) {
        var seen = Set<Int32>()
        var empty = 0
        var exited = [Int32](repeating: 0, count: 16)
        while !done(seen), readable(fd, within: milliseconds) {
            let count = tw_proc_events_read(fd, &exited, Int32(exited.count))
            if count == -ENOBUFS { continue }
            if count <= 0 { empty += 1 }
            seen.formUnion(exited.prefix(Int(max(count, 0))))
        }
        return (seen, empty)
    }

    @Test func onlyTheExitsOfTheNamedProcessesPass() throws {
        let fd = tw_proc_events_open()
        try #require(fd >= 0)
        defer { close(fd) }
        let named = try Self.run("/bin/sleep", ["30"])
        var pids = [named.processIdentifier]
        #expect(tw_proc_events_filter(fd, &pids, 1) == 0)
        // What the socket took before the filter was attached (other tests' processes exiting,
        // while the whole suite runs) is read and set aside.
        _ = Self.exits(fd, quietFor: 50)
        // Other processes start, exec and exit: none of it reaches the socket.
        for _ in 0..<5 { try Self.run("/bin/true").waitUntilExit() }
        let before = Self.exits(fd, quietFor: 300)
        #expect(before.exits.isEmpty && before.emptyReads == 0, "passed: \(before)")
        // SIGKILL: a spawned child inherits the test runner's signal mask, which may block SIGTERM.
        kill(named.processIdentifier, SIGKILL)
        named.waitUntilExit()
        let after = Self.exits(fd, quietFor: 5000) { $0.contains(named.processIdentifier) }
        #expect(after.exits == [named.processIdentifier] && after.emptyReads == 0, "passed: \(after)")
    }

    @Test func withTooManyToNameEveryProcessExitPassesAndNothingElse() throws {
        let fd = tw_proc_events_open()
        try #require(fd >= 0)
        defer { close(fd) }
        var none: [Int32] = []
        #expect(tw_proc_events_filter(fd, &none, -1) == 1)
        _ = Self.exits(fd, quietFor: 50)  // what came before the filter
        let started = try (0..<3).map { _ in try Self.run("/bin/true") }
        for process in started { process.waitUntilExit() }
        // Each datagram that passes is an exit (forks and execs are held back); the three are among them.
        let wanted = Set(started.map(\.processIdentifier))
        let passed = Self.exits(fd, quietFor: 2000) { $0.isSuperset(of: wanted) }
        #expect(passed.emptyReads == 0, "datagrams with no exit passed the filter")
        #expect(passed.exits.isSuperset(of: wanted))
    }

    @Test func anEmptyListLetsNothingThrough() throws {
        let fd = tw_proc_events_open()
        try #require(fd >= 0)
        defer { close(fd) }
        var none: [Int32] = []
        #expect(tw_proc_events_filter(fd, &none, 0) == 0)
        _ = Self.exits(fd, quietFor: 50)  // what came before the filter
        for _ in 0..<3 { try Self.run("/bin/true").waitUntilExit() }
        let passed = Self.exits(fd, quietFor: 300)
        #expect(passed.exits.isEmpty && passed.emptyReads == 0, "passed: \(passed)")
    }
}
#endif

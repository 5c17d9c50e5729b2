#if os(Linux)
import Foundation
import Glibc
@testable import Inventory
import Testing

/// What the node watch tells of opens and closes, and how it comes back after its node is made
/// again, with a regular file standing in for the tun node (inotify reports both alike).
struct TunNodeEventsTests {
    static func temporaryNode() throws -> String {
        let path = NSTemporaryDirectory() + "tunwarden-node-\(UUID().uuidString)"
        try #require(FileManager.default.createFile(atPath: path, contents: nil))
        return path
    }

    /// Waits a little for events to be queued (they are queued synchronously; this is margin).
    static func drainSoon(_ events: TunNodeEvents) -> TunNodeEvents.Activity {
        var polled = pollfd(fd: events.descriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&polled, 1, 200)
        return events.drain()
    }

    @Test func opensAndClosesAreToldApart() throws {
        let path = try Self.temporaryNode()
        defer { unlink(path) }
        let events = try TunNodeEvents(path: path)
        defer { events.close() }
        #expect(events.takeProblem() == nil)
        #expect(events.drain() == TunNodeEvents.Activity())
        let fd = open(path, O_RDWR)
        #expect(Self.drainSoon(events) == TunNodeEvents.Activity(opened: true, closed: false))
        Glibc.close(fd)
        #expect(Self.drainSoon(events) == TunNodeEvents.Activity(opened: false, closed: true))
    }

    @Test func aNodeMadeAgainIsWatchedAgain() throws {
        let path = try Self.temporaryNode()
        defer { unlink(path) }
        let events = try TunNodeEvents(path: path)
        defer { events.close() }
        // The node goes: its watch ends, which counts as an open (what follows may go unheard),
        // and watching it again fails while it is missing.
        unlink(path)
        #expect(Self.drainSoon(events).opened)
        #expect(events.takeProblem() != nil)
        #expect(events.watchPathAgain() == false)
        // Made again: the next look watches it, and its opens are heard again.
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        #expect(events.watchPathAgain() == true)
        #expect(events.watchPathAgain() == false)
        let fd = open(path, O_RDONLY)
        Glibc.close(fd)
        #expect(Self.drainSoon(events) == TunNodeEvents.Activity(opened: true, closed: true))
    }

    @Test func aNodeThatCannotBeWatchedLeavesTheWatchUsable() throws {
        let events = try TunNodeEvents(path: "/nonexistent/tunwarden/tun")
        defer { events.close() }
        #expect(events.takeProblem()?.contains("No such file") == true)
        #expect(events.takeProblem() == nil)
        // Holders' nodes are watched only when they are the tun device: a file this process
        // holds open is not, and its opens and closes stay unheard.
        let other = try Self.temporaryNode()
        defer { unlink(other) }
        let held = open(other, O_RDONLY)
        defer { Glibc.close(held) }
        events.watchNodes(of: [getpid(): held])
        Glibc.close(open(other, O_RDONLY))
        #expect(Self.drainSoon(events) == TunNodeEvents.Activity())
    }
}
#endif

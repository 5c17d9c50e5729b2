#if os(Linux)
import Foundation
import Glibc
@testable import Inventory
import Testing
import TestSupport
@testable import TunwardenCommands
import TunwardenCore

/// The watcher's picture, kept up to date by events alone, against a fresh inventory after each
/// kind of change, on the real kernel in a throwaway namespace.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct WatchEventKernelTests {
    /// What a judgement says about the namespace, without what differs between two looks at an
    /// unchanged system (when they were taken, how many processes the holder scan saw).
    static func picture(_ assessment: Assessment) -> [String] {
        assessment.interfaces.map { entry in
            let addresses = entry.interface.addresses.map(\.display).sorted().joined(separator: ",")
            let routes = entry.routes.map { "\($0.display) t\($0.table) m\($0.metric ?? 0)" }.sorted().joined(separator: ",")
            return "\(entry.interface.index) \(entry.interface.name) \(entry.interface.kind) \(entry.state) up=\(entry.interface.isUp) [\(addresses)] [\(routes)] holders=\(entry.holders.map(\.pid).sorted())"
        } + assessment.findings.map { "finding \($0.id) \($0.severity) \($0.ifname ?? "-")" }.sorted()
    }

    final class Watched {
        let ns: TestNamespace
        let source: LinuxEventSource
        let engine = JudgingEngine()
        let identity: String
        var resyncs = 0

        init(_ ns: TestNamespace, receiveBuffer: Int32 = 1 << 20) throws {
            self.ns = ns
            source = try LinuxEventSource(inventory: LinuxInventory(namespaceName: ns.name), receiveBuffer: receiveBuffer)
            let snapshot = try source.snapshot()
            identity = snapshot.namespaceIdentity
            engine.load(snapshot)
        }

        /// Takes what the sources report until they are quiet for a while, then settles, as the
        /// loop does after its coalescing window.
        func catchUp() throws {
            var quietSince = Date()
            var resync = false
            func take(_ news: [WatchNews]) {
                for item in news {
                    switch item {
                    case let .changes(changes): engine.apply(changes, to: identity, at: Date())
                    case .resync: resync = true
                    case .pending, .urgent, .look: break
                    }
                }
            }
            while Date().timeIntervalSince(quietSince) < 0.3 {
                var polled = source.descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                if poll(&polled, nfds_t(polled.count), 50) > 0 {
                    take(source.read(ready: Set(polled.filter { $0.revents != 0 }.map(\.fd))))
                    quietSince = Date()
                }
            }
            take(source.settle())
            if resync {
                resyncs += 1
                engine.load(try source.snapshot())
            }
        }

        /// The picture by events, and a fresh inventory's.
        func compare(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try catchUp()
            let byEvents = WatchEventKernelTests.picture(engine.assessment(of: identity)!)
            let fresh = WatchEventKernelTests.picture(Heuristics.assess(try source.kernel.inventory.snapshot()))
            #expect(byEvents == fresh, "\(what): \(zip(byEvents, fresh).first { $0 != $1 }.map { "\($0) != \($1)" } ?? "\(byEvents.count) != \(fresh.count) lines")",
                    sourceLocation: sourceLocation)
        }

        func state(_ name: String) -> InterfaceState? {
            engine.assessment(of: identity)?.interfaces.first { $0.interface.name == name }?.state
        }
    }

    @Test func eachKindOfEventChangesWhatItShould() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "held0", "mode", "tun")
        let first = try ns.hold("held0")
        let watched = try Watched(ns)
        #expect(watched.state("held0") == .live)

        try ns.ip("tuntap", "add", "dev", "ev1", "mode", "tun")
        try watched.compare("a persistent tun made and let go of")
        #expect(watched.state("ev1") == .orphaned)

        try ns.ip("link", "set", "ev1", "up")
        try ns.ip("addr", "add", "10.1.0.1/24", "dev", "ev1")
        try ns.ip("-6", "addr", "add", "fd00::1/64", "dev", "ev1", "nodad")
        try ns.ip("route", "add", "10.2.0.0/16", "dev", "ev1")
        try ns.ip("route", "add", "0.0.0.0/1", "dev", "ev1", "table", "100")
        try ns.ip("route", "add", "128.0.0.0/1", "dev", "ev1", "table", "100")
        try watched.compare("addresses and routes added")
        try ns.ip("route", "replace", "10.2.0.0/16", "dev", "ev1", "proto", "static")
        try ns.ip("route", "del", "128.0.0.0/1", "table", "100")
        try ns.ip("addr", "del", "10.1.0.1/24", "dev", "ev1")
        try watched.compare("a route replaced, a route and an address deleted")

        // Down: the kernel flushes the IPv4 routes without a word.
        try ns.ip("link", "set", "ev1", "down")
        try ns.ip("link", "set", "ev1", "name", "ev1renamed")
        try watched.compare("set down and renamed")

        try ns.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
        try ns.ip("tuntap", "add", "dev", "tp0", "mode", "tap")
        try ns.ip("link", "add", "mv0", "link", "tp0", "type", "macvlan")
        try watched.compare("a veth pair, a macvlan stacked on a tap")
        #expect(watched.state("va") == .live)
        try ns.ip("link", "del", "vb")
        try watched.compare("one veth of a pair deleted, which deletes both")
        #expect(watched.state("va") == nil)

        // A process attaches to the down orphan: no event; the look at orphan candidates sees it.
        try ns.ip("tuntap", "add", "dev", "ev2", "mode", "tun")
        try watched.catchUp()
        #expect(watched.state("ev2") == .orphaned)
        let second = try ns.hold("ev2")
        let candidates = watched.engine.assessment(of: watched.identity)!.interfaces
            .filter { ($0.interface.kind == .tun || $0.interface.kind == .tap) && ($0.state == .orphaned || !$0.interface.isUp) }
            .map(\.interface)
        watched.engine.apply(watched.source.look(at: candidates) ?? [], to: watched.identity, at: Date())
        try watched.compare("a holder attached to a down orphan")
        #expect(watched.state("ev2") == .live)

        // Its holder exits: the proc connector says so, and the devices it held are read again.
        var held: [Int32: [Int]] = [:]
        for entry in watched.engine.assessment(of: watched.identity)!.interfaces {
            for holder in entry.holders { held[holder.pid, default: []].append(entry.interface.index) }
        }
        watched.source.noteHolders(held, nodes: [:])
        ns.release(second)
        ns.release(first)
        try watched.compare("both holders exited")
        #expect(watched.state("ev2") == .orphaned)
        #expect(watched.state("held0") == .orphaned)

        try ns.ip("link", "del", "ev1renamed")
        try ns.ip("link", "del", "tp0")
        try watched.compare("a tun, and a tap with a macvlan on it, deleted")
        #expect(watched.resyncs == 0)
        watched.source.close()
    }

    @Test func aLookAtManyOrphansReportsOnlyWhatChanged() throws {
        let ns = try TestNamespace(), files = try TemporaryDirectory()
        defer { ns.remove(); files.remove() }
        // More than are asked for one by one: the look reads one dump of tun devices.
        let count = LinuxWatchSource.singleLookLimit + 6
        let batch = files.path + "/batch"
        try Data((0..<count).map { "tuntap add dev o\($0) mode tun\n" }.joined().utf8).write(to: URL(fileURLWithPath: batch))
        try ns.ip("-batch", batch)
        let watched = try Watched(ns)
        func candidates() -> [NetworkInterface] {
            watched.engine.assessment(of: watched.identity)!.interfaces.filter { $0.state == .orphaned }.map(\.interface)
        }
        #expect(candidates().count == count)
        #expect(watched.source.look(at: candidates())?.isEmpty == true)

        // Against the picture before: one gains a holder, one is renamed, one is deleted.
        let known = candidates()
        // Killed when the namespace is removed.
        try ns.hold("o5")
        try ns.ip("link", "set", "o7", "name", "renamed7")
        try ns.ip("link", "del", "o9")
        let changes = watched.source.look(at: known) ?? []
        let index = { (name: String) in known.first { $0.name == name }!.index }
        var reported: [String] = []
        for change in changes {
            switch change {
            case let .link(interface): reported.append("link \(interface.index) \(interface.name) carrier \(interface.carrier ?? false)")
            case let .linkRemoved(gone): reported.append("gone \(gone)")
            case .holders: reported.append("holders")
            default: reported.append("other")
            }
        }
        #expect(reported == ["link \(index("o5")) o5 carrier true", "link \(index("o7")) renamed7 carrier false", "gone \(index("o9"))", "holders"])
        watched.engine.apply(changes, to: watched.identity, at: Date())
        try watched.compare("a look after an attach, a rename and a deletion")
        #expect(watched.state("o5") == .live)
    }

    @Test func aHolderGoneBeforeItsExitCouldBeHeardIsTakenAsGone() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "early0", "mode", "tun")
        let holder = try ns.hold("early0")
        let watched = try Watched(ns)
        #expect(watched.state("early0") == .live)
        let index = try #require(watched.engine.assessment(of: watched.identity)!.interfaces.first { $0.interface.name == "early0" }).interface.index
        // The holder exits after the scan that found it and before the exit filter names it.
        ns.release(holder)
        watched.source.noteHolders([holder.processIdentifier: [index]], nodes: [:])
        #expect(watched.source.deadline != nil)
        #expect(watched.source.tick(now: Date()).contains { if case .urgent = $0 { true } else { false } })
        try watched.compare("a holder gone before the filter named it")
        #expect(watched.state("early0") == .orphaned)
        #expect(watched.source.deadline == nil)
    }

    @Test func lostEventsAskForAFreshInventory() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        // A receive buffer the kernel rounds up to its minimum: a few hundred links overflow it.
        let watched = try Watched(ns, receiveBuffer: 1)
        let batch = FileManager.default.temporaryDirectory.appendingPathComponent("tw-lost-\(getpid()).batch").path
        try (0..<400).map { "tuntap add dev lost\($0) mode tun\n" }.joined().write(toFile: batch, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: batch) }
        try ns.ip("-batch", batch)
        try watched.compare("400 devices made while the socket overflowed")
        #expect(watched.resyncs == 1)
        #expect(watched.engine.assessment(of: watched.identity)?.interfaces.count == 400)
        watched.source.close()
    }
}
#endif

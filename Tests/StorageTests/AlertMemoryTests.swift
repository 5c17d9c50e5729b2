import Foundation
import Testing
@testable import Storage
import TunwardenCore

/// What the state remembers of alerts across runs that share it: which sink an alert is owed to
/// (runs of other namespaces have other commands), and which devices were alerted, kept through
/// a watcher's hold-down though they are orphans no more.
@Suite struct AlertMemoryTests {
    static let t0 = StateDatabaseTests.t0
    static let red = "netns-cookie:21@boot:b1", blue = "netns-cookie:22@boot:b1"

    static func judging(exec: String?, hold: TimeInterval? = nil) -> AlertJudging {
        var judging = AlertJudging(growth: GrowthPolicy(), sinks: exec == nil ? [] : [.exec], hold: hold.map { AlertDecision.Hold(holdDown: $0) }) { "h" }
        judging.addresses = SinkAddresses(exec: exec)
        return judging
    }

    /// `assessment` with the device at `position` renamed.
    static func renamed(_ assessment: Assessment, _ position: Int, to name: String) -> Assessment {
        var snapshot = assessment.snapshot
        snapshot.interfaces[position].name = name
        snapshot.holders.attachments = snapshot.holders.attachments.map { attachment in
            var attachment = attachment
            if attachment.ifname == assessment.snapshot.interfaces[position].name { attachment.ifname = name }
            return attachment
        }
        return Heuristics.assess(snapshot)
    }

    /// One watcher per namespace, each paging its own team, share the state: an alert RED's
    /// command failed is retried by RED's runs (with their command as it is now) or through the
    /// very same command, never through BLUE's; one a run without sinks decided in RED is RED's
    /// runs' to deliver, not BLUE's.
    @Test func anAlertIsOwedToTheSinkOfItsRunNotToAnyOfItsKind() throws {
        let directory = try StateDatabaseTests.Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        let red = Self.judging(exec: "page red"), blue = Self.judging(exec: "page blue")
        _ = try database.record(StateDatabaseTests.assessment(1, at: Self.t0, identity: Self.blue, netns: "blue"), label: nil, alerting: blue)
        let decided = try database.record(StateDatabaseTests.assessment(1, orphaned: [0], at: Self.t0, identity: Self.red, netns: "red"),
                                          label: nil, alerting: red)
        let delivery = try #require(decided.claimed.first)
        try database.finishDelivery(of: delivery, delivered: [], failed: [.exec], problem: "relay down", now: Self.t0 + 1)
        let later = Self.t0 + 3600
        #expect(try database.nextDeliveryAttempt(sinks: [.exec], addresses: blue.addresses, own: Self.blue) == nil)
        #expect(try database.claimDueAlerts(sinks: [.exec], addresses: blue.addresses, own: Self.blue, now: later).isEmpty)
        let mended = SinkAddresses(exec: "page red --relay backup")
        let retried = try database.claimDueAlerts(sinks: [.exec], addresses: mended, own: Self.red, now: later)
        #expect(retried.map(\.covers) == [delivery.covers])
        try database.finishDelivery(of: retried[0], delivered: [.exec], failed: [], problem: nil, now: later)

        // Decided by a run without sinks (an admin's audit of RED): RED's watcher's, not BLUE's.
        let look = try database.record(StateDatabaseTests.assessment(1, at: later + 1, identity: Self.red, netns: "red"), label: nil,
                                       alerting: Self.judging(exec: nil))
        #expect(look.alert?.event == "resolved" && look.claimed.isEmpty)
        #expect(try database.claimDueAlerts(sinks: [.exec], addresses: blue.addresses, own: Self.blue, now: later + 2).isEmpty)
        #expect(try database.claimDueAlerts(sinks: [.exec], addresses: red.addresses, own: Self.red, now: later + 2).map(\.event) == ["resolved"])
    }

    /// A device alerted that stops being an orphan stays remembered as alerted for the
    /// watcher's hold-down, though another orphan keeps the status where it is: its relapse
    /// within it (a daemon restarting in a loop) is no new orphan; one after it is.
    @Test func aDeviceOrphanedAgainWithinTheHoldDownIsNoNewOrphanWhateverTheStatus() throws {
        let directory = try StateDatabaseTests.Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        let watcher = Self.judging(exec: "page", hold: 60)
        func record(_ orphaned: Set<Int>, at seconds: TimeInterval) throws -> Recording {
            try database.record(StateDatabaseTests.assessment(2, orphaned: orphaned, at: Self.t0 + seconds), label: nil, alerting: watcher)
        }
        #expect(try record([0, 1], at: 0).alert?.newOrphans == ["t0", "t1"])
        for round in 0..<4 {
            let attached = try record([0], at: TimeInterval(1 + 3 * round))
            #expect(attached.alert == nil && attached.kept == ["t1": Self.t0 + TimeInterval(1 + 3 * round)])
            #expect(try record([0, 1], at: TimeInterval(2 + 3 * round)).alert == nil, "round \(round)")
        }
        // Attached for longer than the hold-down: its next orphaning is news.
        _ = try record([0], at: 20)
        #expect(try record([0, 1], at: 81).alert?.newOrphans == ["t1"])
        // A device deleted is forgotten at once: one made again under its name is another.
        _ = try database.record(StateDatabaseTests.assessment(1, orphaned: [0], at: Self.t0 + 82), label: nil, alerting: watcher)
        #expect(try record([0, 1], at: 83).alert?.newOrphans == ["t1"])
        // A run without a hold-down (an audit) takes a device that is an orphan no more as forgotten.
        _ = try record([0], at: 90)
        let audit = try database.record(StateDatabaseTests.assessment(2, orphaned: [0, 1], at: Self.t0 + 91), label: nil, alerting: Self.judging(exec: nil))
        #expect(audit.alert?.newOrphans == ["t1"])
    }

    /// An orphan renamed is the same device (its ifindex and identity): no new orphan, in a
    /// whole recording as in the watcher's record of a change.
    @Test func anOrphanRenamedIsNoNewOrphan() throws {
        let directory = try StateDatabaseTests.Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        let watcher = Self.judging(exec: "page", hold: 60)
        let first = StateDatabaseTests.assessment(2, orphaned: [0, 1], at: Self.t0)
        #expect(try database.record(first, label: nil, alerting: watcher).alert?.newOrphans == ["t0", "t1"])
        let moved = Self.renamed(StateDatabaseTests.assessment(2, orphaned: [0, 1], at: Self.t0 + 1), 1, to: "r1")
        #expect(try database.record(moved, label: nil, alerting: watcher).alert == nil)
        var cache = try database.observations(namespace: StateDatabaseTests.identity)
        let back = StateDatabaseTests.assessment(2, orphaned: [0, 1], at: Self.t0 + 2)
        let change = try database.recordChanges(back, changed: [back.interfaces[1]], removed: [InterfaceKey(ifindex: 3, ifname: "r1")], label: nil,
                                                alerting: watcher, cache: &cache)
        #expect(change.alert == nil)
        // Another device (a tap) under the ifindex and a new name is a new orphan.
        var snapshot = StateDatabaseTests.assessment(2, orphaned: [0, 1], at: Self.t0 + 3).snapshot
        snapshot.interfaces[1].name = "x1"
        snapshot.interfaces[1].kind = .tap
        #expect(try database.record(Heuristics.assess(snapshot), label: nil, alerting: watcher).alert?.newOrphans == ["x1"])
    }
}

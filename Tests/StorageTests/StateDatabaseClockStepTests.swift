import Foundation
import Testing
@testable import Storage
import TunwardenCore

/// Runs recording one namespace are ordered by the boot clock, which no one steps: a backward
/// step of the wall clock neither silences the alerts of the runs after it nor loses what they
/// saw, and says so; an older inventory recorded after a newer one is still refused. The step is
/// simulated by a last recording stamped ahead of the run's wall clock (what a run before the
/// step leaves behind); the machine's clock is never touched.
@Suite struct StateDatabaseClockStepTests {
    typealias Base = StateDatabaseTests
    static let hour: TimeInterval = 3600

    /// `Base.assessment`, with the boot clock read at `boot` rather than in step with the wall clock.
    static func assessment(_ count: Int, orphaned: Set<Int> = [], wall: Date, boot: TimeInterval?, identity: String = Base.identity) -> Assessment {
        var assessment = Base.assessment(count, orphaned: orphaned, at: wall, identity: identity)
        assessment.snapshot.bootClock = boot
        return assessment
    }

    /// The reviewer's case: the clock went back an hour after a clean audit; the next audit sees
    /// a new orphan. It is recorded (first seen, orphaned since, a count sample) and alerted, and
    /// the recording tells how far the clock went back and that the boot clock decided.
    @Test func aBackwardStepOfTheWallClockStillRecordsAndAlerts() throws {
        let directory = try Base.Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        let before = try database.record(Self.assessment(2, wall: Base.t0 + Self.hour, boot: 1000), label: nil, alerting: Base.judging)
        #expect(before.clockStep == nil)
        let after = try database.record(Self.assessment(3, orphaned: [2], wall: Base.t0, boot: 1060), label: nil, alerting: Base.judging)
        #expect(!after.wasStale)
        #expect(after.alert?.newOrphans == ["t2"])
        let step = try #require(after.clockStep)
        #expect(step.seconds == Self.hour && step.byBootClock && step.lastRun == Base.t0 + Self.hour)
        // The sample stamped before the step lay an hour ahead of every sample to come.
        #expect(step.countSamplesDropped == 1)
        #expect(step.description.contains("went back by at least 1h"))
        let read = try database.observations(namespace: Base.identity)
        #expect(read.namespaces[Base.identity]?[Observations.key(4, "t2")]?.orphanedSince == Base.t0)
        #expect(read.histories[Base.identity]?.counts.map(\.count) == [3])
        // Said once: the next run compares with this one.
        let next = try database.record(Self.assessment(3, orphaned: [2], wall: Base.t0 + 60, boot: 1120), label: nil, alerting: Base.judging)
        #expect(next.clockStep == nil && !next.wasStale && next.alert == nil)
    }

    /// The watcher's recording of a change does the same, and keeps its cache.
    @Test func aWatchersChangeAfterABackwardStepIsRecordedAndAlerted() throws {
        let directory = try Base.Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        var cache = try database.record(Self.assessment(2, wall: Base.t0 + 5, boot: 1000), label: nil, alerting: Base.judging).observations
        let next = Self.assessment(3, orphaned: [2], wall: Base.t0, boot: 1002)
        let recording = try database.recordChanges(next, changed: [next.interfaces[2]], removed: [], label: nil, alerting: Base.judging, cache: &cache)
        #expect(!recording.wasStale && recording.alert?.newOrphans == ["t2"])
        #expect(recording.clockStep?.seconds == 5)
        #expect(cache.namespaces[Base.identity]?[Observations.key(4, "t2")]?.orphanedSince == Base.t0)
    }

    /// An older inventory (a run that took its look first and records last) is refused by the
    /// boot clock even when the wall clock stepped forward in between and stamps it later.
    @Test func anOlderInventoryIsStaleByTheBootClockWhateverTheWallSays() throws {
        let directory = try Base.Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        _ = try database.record(Self.assessment(2, wall: Base.t0, boot: 1000), label: nil, alerting: Base.judging)
        let older = try database.record(Self.assessment(3, orphaned: [2], wall: Base.t0 + Self.hour, boot: 990), label: nil, alerting: Base.judging)
        #expect(older.wasStale && older.alert == nil && older.clockStep == nil)
    }

    /// Without a boot clock (macOS, a capture) the wall clock orders runs: a last recording
    /// stamped later than the clock reads now cannot be a newer run's (every inventory is
    /// stamped before it is recorded), so the clock went back and this run is recorded; one
    /// stamped earlier than now but later than this inventory is a newer run's, and this one is stale.
    @Test func withoutABootClockAFutureLastRunIsAStepAndAPastOneANewerRun() throws {
        let directory = try Base.Directory()
        let database = try #require(try StateStore(directory: directory.path).database())
        let now = Date()
        _ = try database.record(Self.assessment(2, wall: now + Self.hour, boot: nil, identity: "darwin"), label: nil, alerting: Base.judging)
        let after = try database.record(Self.assessment(3, orphaned: [2], wall: now, boot: nil, identity: "darwin"), label: nil, alerting: Base.judging)
        #expect(!after.wasStale && after.alert != nil)
        #expect(after.clockStep.map { !$0.byBootClock && abs($0.seconds - Self.hour) < 0.01 } == true)
        let older = try database.record(Self.assessment(3, wall: now - 5, boot: nil, identity: "darwin"), label: nil, alerting: Base.judging)
        #expect(older.wasStale && older.clockStep == nil)
    }
}

import Foundation
import TunwardenCore

/// Which of two runs recording one namespace saw it later, so that an older inventory finishing
/// after a newer one does not overwrite it, while a step of the wall clock never stops a run
/// from recording.
extension StateDatabase {
    /// How a recording stands to the namespace's last one.
    enum RunOrder {
        /// Another run recorded an inventory taken after this one: nothing is written.
        case older
        /// This run's inventory is the newer one and is recorded; `clockStep` when the wall clock
        /// reads earlier than the last recording's, so that it went back since.
        case newer(clockStep: ClockStep?)
    }

    /// Orders `snapshot` against the namespace's last recording (`row`). Within one boot both
    /// carry a boot-clock reading (a Linux identity names its boot), which no one steps: it alone
    /// decides. Without one on either side (macOS, a capture, a namespace last recorded by a
    /// tunwarden that kept none) the wall clock decides, with `wallNow` read as the recording
    /// begins: a last recording stamped later than that cannot be another run's newer inventory
    /// (every inventory is stamped before it is recorded), so the clock went back and this run is
    /// taken as the newer one.
    static func order(_ snapshot: Snapshot, after row: NamespaceRow, wallNow: Date) -> RunOrder {
        let takenAt = snapshot.takenAt
        let step = row.lastRun.flatMap { last in last > takenAt ? ClockStep(seconds: last.timeIntervalSince(takenAt), lastRun: last, byBootClock: false) : nil }
        if let lastBoot = row.lastRunBoot, let boot = snapshot.agingClock {
            guard lastBoot <= boot else { return .older }
            return .newer(clockStep: step.map { var step = $0; step.byBootClock = true; return step })
        }
        guard let step else { return .newer(clockStep: nil) }
        return step.lastRun > wallNow ? .newer(clockStep: step) : .older
    }

    /// Before recording after the wall clock went back to `now`: deletes the namespace's count
    /// samples stamped later than `now`, which would otherwise lie ahead of every sample to come
    /// (leak growth judges from those kept, and from the new ones). Returns how many went.
    func dropCounts(of namespace: Int64, laterThan now: Date) throws -> Int {
        try connection.statement("DELETE FROM counts WHERE namespace = ?1 AND time > ?2").bind(1, namespace).bind(2, now).run()
        forgetCountsRead(of: namespace)
        return Int(connection.changes)
    }
}

/// The wall clock read earlier at a recording than at the namespace's last one: it went back
/// (NTP's first sync on a machine whose clock ran ahead, `date -s`, a virtual machine resumed).
/// The run was recorded and alerted as usual; the caller says so once.
public struct ClockStep: Sendable, Equatable {
    /// How far it went back, at least: the last recording's time less this run's.
    public var seconds: TimeInterval
    /// When the last recording was stamped, by the clock before the step.
    public var lastRun: Date
    /// Whether the boot clock showed this run to be the newer one; false: it was taken as the
    /// newer one because the last recording was stamped later than the clock read when this
    /// one began.
    public var byBootClock: Bool
    /// Count samples stamped later than this run, deleted (see `StateDatabase.dropCounts`).
    public var countSamplesDropped = 0

    /// One line for standard error.
    public var description: String {
        let assumed = byBootClock ? "the boot clock shows this run is the newer one" : "the last one is stamped later than the clock read when this one began"
        let dropped = countSamplesDropped > 0 ? "; \(countSamplesDropped) count sample\(countSamplesDropped == 1 ? "" : "s") stamped after now dropped, so leak growth judges from the others" : ""
        return "the wall clock went back by at least \(DurationText.format(seconds)) since this namespace was last recorded (at \(ISO8601DateFormatter().string(from: lastRun))): recorded and alerted as usual (\(assumed))\(dropped); times recorded before the step lie ahead of the clock"
    }
}

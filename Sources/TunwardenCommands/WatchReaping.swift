#if os(Linux)
import Foundation
import Glibc
import Inventory
import Reaper
import Storage
import TunwardenCore
import CLinuxShims

/// `watch --reap`: reaping from the watcher, exactly as `tunwarden reap --yes` would, repairs of
/// killed reaps first.
extension Watch {
    /// Reaps what is due under the watcher's reap policy, exactly as `tunwarden reap --yes` would,
    /// and returns when the next orphan becomes due (nil: none waiting).
    ///
    /// As `reap` does, it first gives back what a reap killed outright in this namespace left
    /// fenced (its unfinished intents in the journal, whatever was appended after them), under
    /// the same locks as the reap, and leaves out of the plan a device it could not give back
    /// whole. The watcher's facts are those of the namespace `held` holds (nil: its own), and the
    /// reaper acts in that one alone: the plan carries its identity, and the reaper refuses in
    /// another one (see `LinuxReaper.reverify`).
    func reapDue(_ assessment: Assessment, observations: Observations, runtime: Runtime, store: StateStore,
                 held: HeldNamespace?, repairs: RepairCheck) -> Date? {
        let snapshot = assessment.snapshot
        guard snapshot.holders.complete else { return nil }
        let reaper = held.map { LinuxReaper(holding: $0) } ?? LinuxReaper(namespaceName: runtime.namespace)
        var plan = ReapPlan.make(assessment, observations: observations, namespaceKey: snapshot.namespaceIdentity,
                                 policy: runtime.reapPolicy, now: snapshot.takenAt)
        let waiting = plan.excluded.compactMap(\.reason.reapableAt).min()
        // Begun before the locks are awaited: a planned device replaced meanwhile by another
        // under its ifindex and name is told from it (the facts judged are as fresh as the events
        // read, and a replacement among those started its observation afresh).
        let linkWatch = plan.items.isEmpty ? nil : reaper.watchLinks()
        let journal = Journal(path: runtime.journalPath)
        let repairDue = repairs.due(journal, reaper: reaper)
        guard !plan.items.isEmpty || repairDue else { return waiting }
        let locks: (state: RunLock, journal: RunLock)
        do {
            locks = try RunLock.acquireReaping(directory: store.directory, journal: runtime.journalPath, command: "watch", patience: Self.lockPatience) {
                $0.purpose == .reaping || tw_stop_requested() != 0
            }
        } catch {
            Terminal.log("watch: reap postponed: \(error)", priority: 4)
            return Date().addingTimeInterval(Self.lockPatience)
        }
        defer {
            locks.journal.release()
            locks.state.release()
        }
        // As `reap` does: a damaged line anywhere in the journal (a killed run's intent among
        // them, maybe) stops the reap before anything is changed; the watcher goes on watching.
        // The same refusal is logged once an hour: a watcher judging at every change would
        // repeat it many times a second.
        do {
            try journal.checkWritable()
            _ = try journal.openIntents()
            repairs.refusal = nil
        } catch {
            let line = "watch: reap refused, nothing changed: \(error)"
            if repairs.isNew(refusal: line) { Terminal.log(line, priority: 3) }
            return waiting
        }
        if repairDue {
            do {
                let repaired = try reaper.repairInterrupted(journal: journal)
                for repair in repaired { Terminal.log("watch: \(repair.line)", priority: repair.failed ? 3 : 5) }
                plan.leaveOut(repairFailed: Set(repaired.filter(\.failed).map(\.ifindex)), interfaces: snapshot.interfaces)
                repairs.tried(journal)
            } catch let incomplete as RepairJournalIncomplete {
                for repair in incomplete.repairs { Terminal.log("watch: \(repair.line)", priority: repair.failed ? 3 : 5) }
                Terminal.log("watch: reap postponed: the repairs above were made, but the journal lacks their result records: \(incomplete.reason)", priority: 3)
                return waiting
            } catch {
                Terminal.log("watch: reap postponed: cannot repair what an interrupted reap left behind: \(error)", priority: 3)
                return waiting
            }
        }
        guard !plan.items.isEmpty else { return waiting }
        // A stop, or a reload whose settings may keep a device this plan deletes, asked for
        // while the locks were awaited: nothing is started (the act phase would roll it back).
        if tw_stop_requested() != 0 || tw_reload_pending() != 0 { return waiting }
        let results: [ReapResult]
        do {
            results = try reaper.execute(plan, journal: journal, runID: UUID().uuidString.lowercased(), linkWatch: linkWatch)
        } catch let incomplete as ReapJournalIncomplete {
            results = incomplete.results
            Terminal.log("watch: reap: the devices below were acted on, but the journal lacks their result records: \(incomplete.reason)", priority: 3)
        } catch {
            Terminal.log("watch: reap failed, nothing more is removed until the next change: \(error)", priority: 3)
            return waiting
        }
        for result in results {
            // A device deleted without being planned says so, with its kind, not "failed" alone.
            let outcome = result.unplanned ? "(\(result.kindWord), not planned) also deleted, a failure" : result.outcome.rawValue
            Terminal.log("watch: reap: \(result.ifname) \(outcome)\(result.detail.map { " (\($0))" } ?? "")",
                         priority: result.outcome == .failed ? 3 : 5)
        }
        let deleted = results.count { $0.outcome == .deleted }
        if deleted > 0 {
            do {
                try store.database()?.addReaped(deleted, namespace: snapshot.namespaceIdentity)
            } catch {
                Terminal.log("watch: reaped count not saved: \(error)", priority: 4)
            }
        }
        return waiting
    }
}

/// Whether the journal holds intents of a reap killed outright in the watcher's namespace, for
/// `watch --reap` to repair before it reaps: asked at every judgement, it reads the journal
/// (without a lock, as `reap` first does) only when the journal changed since it last found
/// nothing to repair, or last tried a repair. It also keeps the last refusal logged, so that a
/// journal that stays damaged is named once an hour, not at every judgement.
final class RepairCheck {
    /// The journal's device, inode and size when it was last found to need nothing.
    private var settled: [UInt64]?
    /// The refusal last logged, and when; nil once a reap is no longer refused.
    var refusal: (line: String, at: ContinuousClock.Instant)?
    /// How long the same refusal stays unrepeated in the log.
    static let refusalQuiet: Duration = .seconds(3600)

    /// Whether `reaper` finds intents of its namespace in `journal`, or in the newest rotated
    /// journal, that no result answers. A rotation makes a new journal, so it is read again.
    func due(_ journal: Journal, reaper: LinuxReaper) -> Bool {
        guard let now = Self.key(journal) else { return false }
        guard now != settled else { return false }
        // A journal that cannot be read now is read again at the next judgement.
        guard let open = try? journal.openIntents() else { return false }
        if !reaper.hasSomethingToRepair(journal, open: open) {
            settled = now
            return false
        }
        return true
    }

    /// Notes that a repair was made (whatever it could give back): intents it left open (one
    /// whose device it could not tell) are not tried again until the journal changes.
    func tried(_ journal: Journal) {
        settled = Self.key(journal)
    }

    /// Whether the refusal `line` should be logged: it differs from the last one logged, or that
    /// was logged `refusalQuiet` ago or more. Notes it as logged when so.
    func isNew(refusal line: String, now: ContinuousClock.Instant = .now) -> Bool {
        if let refusal, refusal.line == line, now - refusal.at < Self.refusalQuiet { return false }
        refusal = (line, now)
        return true
    }

    /// The journal's device, inode and size; nil when there is no journal (nothing to repair).
    private static func key(_ journal: Journal) -> [UInt64]? {
        var info = stat()
        guard stat(journal.path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino), UInt64(info.st_size)]
    }
}
#endif

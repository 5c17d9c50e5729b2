import ArgumentParser
import Foundation
import Reaper
import Storage
import TunwardenCore

/// What a reap killed outright leaves behind (devices renamed into its fence, in its private link
/// group, with intents and no results in the journal): given back before anything else is planned,
/// or, for a dry run, listed as what the next real reap would give back.
extension Reap {
    /// Undoes what a reap killed outright (SIGKILL, a power cut) left behind, from its intent
    /// records, before anything is planned: otherwise its private link group and names would be
    /// taken for the devices' own state. Returns what became of each device, which the JSON
    /// report carries and people read on standard error.
    func repairInterruptedRun(journal: Journal, namespace: String?, context: RunContext, json: Bool = false) throws -> [ReapRepair] {
        func fail(_ message: String) -> ExitCode { Self.fail(message, context.console, json: json ? [] : nil) }
        guard from == nil, context.isPrivileged else { return [] }
        let reaper: any PlanReaper
        do { reaper = try context.reaper(namespace) } catch { return [] }
        // Nearly always there is nothing to repair, and no lock is taken to find that out. A
        // damaged line among those read stops the run: it may be a killed run's intent.
        let open: OpenIntents
        do { open = try journal.openIntents() } catch { throw fail("\(error)") }
        guard reaper.hasSomethingToRepair(journal, open: open) else { return [] }
        // Only under the reaping locks, the state directory's and the journal's: a reap acting
        // right now has intents without results too, whichever state directory it keeps.
        let locks: (state: RunLock, journal: RunLock)
        do {
            locks = try RunLock.acquireReaping(directory: context.stateDirectory, journal: journal.path, command: "reap",
                                               patience: Self.lockPatience) { $0.purpose == .reaping }
        } catch {
            throw fail("\(error)")
        }
        defer {
            locks.journal.release()
            locks.state.release()
        }
        do {
            let repairs = try reaper.repairInterrupted(journal: journal)
            for repair in repairs {
                if repair.failed { context.console.error(repair.line) } else { context.console.note(repair.line) }
            }
            return repairs
        } catch let incomplete as RepairJournalIncomplete {
            throw Self.unjournaled(incomplete, context.console, json: json)
        } catch {
            throw fail("cannot repair what an interrupted reap left behind: \(error)")
        }
    }

    /// Says every repair that was made, then that the journal lacks their records and why, and
    /// gives exit code 1 to throw: the run stops there, since the journal that could not take the
    /// repairs' records would not take this run's intents either. `json`: the error object, with
    /// the repairs, goes to standard output too.
    static func unjournaled(_ incomplete: RepairJournalIncomplete, _ console: any Console, json: Bool) -> ExitCode {
        for repair in incomplete.repairs {
            if repair.failed { console.error(repair.line) } else { console.note(repair.line) }
        }
        let message = "the repairs above were made, but the journal lacks their result records: \(incomplete.reason.hasSuffix(".") ? String(incomplete.reason.dropLast()) : incomplete.reason). "
            + "Nothing else was changed: nothing is reaped while the journal cannot take its records; the next reap looks at those devices again"
        if json { console.write(ReapFailure(error: message, repairs: incomplete.repairs).json() + [10]) }
        console.error(message)
        return ExitCode(1)
    }

    /// The devices a reap killed outright left that the next real reap would repair, from the
    /// journal's intent records, without a lock and without touching anything (for a dry run).
    func pendingRepairs(journal: Journal, namespace: String?, context: RunContext, json: Bool = false) throws -> [PendingRepair] {
        guard from == nil, context.isPrivileged, let reaper = try? context.reaper(namespace) else { return [] }
        let open: OpenIntents
        do { open = try journal.openIntents() } catch { throw Self.fail("\(error)", context.console, json: json ? [] : nil) }
        return (reaper.unfinishedRotatedIntents(journal) + reaper.unfinishedIntents(open.records)).map {
            PendingRepair(run: $0.run, ifname: $0.ifname, ifindex: $0.ifindex)
        }
    }
}

import ArgumentParser
import Foundation
import Reaper
import Storage
import Testing
import TestSupport
@testable import TunwardenCommands
import TunwardenConfig
import TunwardenCore

/// A stand-in reaper whose repair of a killed reap gives devices back, then cannot journal that.
final class UnjournaledRepairReaper: PlanReaper, @unchecked Sendable {
    var plans: [ReapPlan] = []
    let repairs: [ReapRepair]
    var stoppingSignal: Int32 = 0

    init(repairs: [ReapRepair]) { self.repairs = repairs }

    func execute(_ plan: ReapPlan, journal: Journal, runID: String, progress: ((Int, Int) -> Void)?) throws -> [ReapResult] {
        plans.append(plan)
        return []
    }

    func unfinishedIntents(_ records: [JournalRecord]) -> [JournalRecord] { records }
    func repairInterrupted(journal: Journal) throws -> [ReapRepair] {
        throw RepairJournalIncomplete(repairs: repairs, reason: "\(journal.path): could not be written (No space left on device). Check the disk.")
    }
}

/// Round "faults 52" F1: a reap that gives back what a killed reap left, then cannot journal those
/// repairs (a full disk), said "Nothing was changed" and exited 3, printing no repair and no
/// `repairs` in its JSON error object. What was done is said whatever the journal takes.
@Suite struct UnjournaledRepairTests {
    static let repairs = [
        ReapRepair(run: "killed-run", ifname: "ctx0", ifindex: 7, result: .skipped,
                   detail: "run killed-run left it fenced (killed before deleting it, or it could not give it back); group 0 restored, private alternative name removed"),
        ReapRepair(run: "killed-run", ifname: "mq0", ifindex: 9, result: .failed,
                   detail: "run killed-run left it fenced (killed before deleting it, or it could not give it back); renamed back, set up again, but it lacks what it had before the fence: route 10.53.0.0/16"),
    ]

    /// Runs `reap` with `arguments` against a journal holding one open intent; returns its exit
    /// code, the console, and the plans the reaper was given.
    func reap(_ arguments: [String]) throws -> (code: Int32, console: RecordingConsole, plans: [ReapPlan]) {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        try Journal(path: state.path + "/journal.jsonl").append([JournalRecord(time: Date(), run: "killed-run", type: .intent, netns: nil, ifname: "ctx0",
                                                                               ifindex: 7, fenceGroup: 0x1234_5678, fenceName: "tw0000000000001")])
        let console = RecordingConsole()
        let reaper = UnjournaledRepairReaper(repairs: Self.repairs)
        let context = RunContext(settings: Settings(file: .empty, section: .reap), stateDirectory: state.path, console: console, isPrivileged: true,
                                 inventory: { _, _ in RunContextTests.FixedInventory(taken: RunContextTests.snapshot()) }, reaper: { _ in reaper })
        do {
            try Reap.parse(arguments).run(in: context)
        } catch let code as ExitCode {
            return (code.rawValue, console, reaper.plans)
        }
        Issue.record("the command ended without an exit code")
        return (-1, console, reaper.plans)
    }

    @Test func repairsTheJournalCouldNotTakeAreStillSaidAndTheRunExits1() throws {
        let (code, console, plans) = try reap(["--yes", "--min-age", "0"])
        #expect(code == 1, "\(console.errors)")
        #expect(!console.errors.lowercased().contains("nothing was changed"), "\(console.errors)")
        #expect(console.errors.contains("tunwarden: note: Repaired ctx0 (ifindex 7): run killed-run left it fenced"), "\(console.errors)")
        #expect(console.errors.contains("tunwarden: error: Could not repair mq0 (ifindex 9):"), "\(console.errors)")
        #expect(console.errors.contains("the repairs above were made, but the journal lacks their result records")
                && console.errors.contains("No space left on device"), "\(console.errors)")
        // Nothing more is done with a journal that cannot take records.
        #expect(plans.isEmpty)
    }

    @Test func theJSONErrorObjectListsTheRepairs() throws {
        let (code, console, _) = try reap(["--yes", "--min-age", "0", "--format", "json"])
        #expect(code == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(console.output)) as? [String: Any], "\(console.text)")
        let repairs = try #require(object["repairs"] as? [[String: Any]], "\(console.text)")
        #expect(repairs.compactMap { $0["ifname"] as? String } == ["ctx0", "mq0"])
        #expect(repairs.compactMap { $0["result"] as? String } == ["skipped", "failed"])
        #expect((object["error"] as? String)?.contains("the journal lacks their result records") == true, "\(console.text)")
    }
}

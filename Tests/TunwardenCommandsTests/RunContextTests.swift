import ArgumentParser
import Foundation
import Reaper
import Storage
import Testing
import TestSupport
@testable import TunwardenCommands
import TunwardenConfig
import TunwardenCore

/// A console that keeps what a run said, and answers a question from a list.
final class RecordingConsole: Console, @unchecked Sendable {
    var isTerminal = false
    var inputIsTerminal = false
    var errorIsTerminal = false
    var width: Int?
    var answers: [String] = []
    private(set) var output: [UInt8] = []
    var errors = ""

    var text: String { String(decoding: output, as: UTF8.self) }
    func colorEnabled(_ choice: ColorChoice) -> Bool { choice == .always }
    func write(_ bytes: UnsafeRawBufferPointer) { output += bytes }
    func note(_ message: String) { errors += "tunwarden: note: \(message)\n" }
    func warning(_ message: String) { errors += "tunwarden: warning: \(message)\n" }
    func error(_ message: String) { errors += "tunwarden: error: \(message)\n" }
    func progress(_ text: String) { errors += text }
    func readLine() -> String? { answers.isEmpty ? nil : answers.removeFirst() }
}

/// A stand-in reaper: keeps the plans it was given and reports each item with `outcome`.
final class RecordingReaper: PlanReaper, @unchecked Sendable {
    var plans: [ReapPlan] = []
    var outcome: JournalRecord.Outcome = .deleted
    var detail: String?
    var stoppingSignal: Int32 = 0

    func execute(_ plan: ReapPlan, journal: Journal, runID: String, progress: ((Int, Int) -> Void)?) throws -> [ReapResult] {
        plans.append(plan)
        return plan.items.map { ReapResult(ifname: $0.ifname, ifindex: $0.interface.index, kind: $0.interface.kind, outcome: outcome, detail: detail) }
    }

    func unfinishedIntents(_ records: [JournalRecord]) -> [JournalRecord] { [] }
    func repairInterrupted(journal: Journal) throws -> [ReapRepair] { [] }
}

/// `reap` and `audit` run in-process with a stand-in system, a temporary state directory and a
/// recording console: no root, no device touched, every branch of the command's own logic reachable.
@Suite struct RunContextTests {
    /// An orphaned persistent tun (ctx0, ifindex 7) and a tun a process holds (busy0, ifindex 8).
    static func snapshot() -> Snapshot {
        let orphan = NetworkInterface(index: 7, name: "ctx0", kind: .tun, infoKind: "tun", operstate: "DOWN", carrier: false, group: 0,
                                      tun: TunDetails(persistent: true, multiQueue: false, packetInfo: false, vnetHeader: false))
        var held = orphan
        held.index = 8
        held.name = "busy0"
        held.carrier = true
        let holder = HolderAttachment(holder: Holder(pid: 4061, comm: "openvpn", fd: 5), ifname: "busy0", inInspectedNamespace: true)
        return Snapshot(platform: .linux, namespaceIdentity: "scripted", interfaces: [orphan, held], routes: [],
                        holders: HolderScan(complete: true, attachments: [holder], processesScanned: 20))
    }

    struct FixedInventory: InventoryBackend {
        var taken: Snapshot?
        func snapshot() throws -> Snapshot {
            guard let taken else { throw InventoryError("cannot read the kernel's interfaces and routes: scripted failure") }
            return taken
        }
    }

    let state: TemporaryDirectory
    let console = RecordingConsole()
    let reaper = RecordingReaper()

    init() throws { state = try TemporaryDirectory() }

    func context(_ section: ConfigSection, privileged: Bool = true, snapshot: Snapshot? = RunContextTests.snapshot(),
                 stateDirectory: String? = nil) -> RunContext {
        let reaper = self.reaper
        return RunContext(settings: Settings(file: .empty, section: section), stateDirectory: stateDirectory ?? state.path, console: console,
                          isPrivileged: privileged, inventory: { _, _ in FixedInventory(taken: snapshot) }, reaper: { _ in reaper })
    }

    /// The exit code `body` ends with; a command always ends by throwing one.
    func exitCode(_ body: () throws -> Void) throws -> Int32 {
        do {
            try body()
        } catch let code as ExitCode {
            return code.rawValue
        }
        Issue.record("the command ended without an exit code")
        return -1
    }

    func reapedTotal() throws -> Int? {
        try StateStore(directory: state.path).database(create: false)?.observations(namespace: "scripted").histories["scripted"]?.reapedTotal
    }

    @Test func reapWithConsentDeletesTheOrphanOnlyAndCountsIt() throws {
        let code = try exitCode { try Reap.parse(["--yes", "--min-age", "0"]).run(in: context(.reap)) }
        #expect(code == 0, "\(console.errors)")
        #expect(reaper.plans.map { $0.items.map(\.ifname) } == [["ctx0"]])
        #expect(console.text.contains("Would delete tun ctx0 (ifindex 7)"), "\(console.text)")
        #expect(console.text.contains("Deleted tun ctx0 (ifindex 7)\n"), "\(console.text)")
        #expect(console.text.hasSuffix("Reaped 1 of 1.\n"), "\(console.text)")
        #expect(try reapedTotal() == 1)
    }

    @Test func aFailedDeleteExits1AndIsNotCounted() throws {
        reaper.outcome = .failed
        let code = try exitCode { try Reap.parse(["--yes", "--min-age", "0"]).run(in: context(.reap)) }
        #expect(code == 1)
        #expect(console.text.contains("Failed to delete tun ctx0 (ifindex 7)"), "\(console.text)")
        #expect(try reapedTotal() == 0)
    }

    @Test func withoutPrivilegesAReapRefusesAndCreatesNothing() throws {
        let missing = state.path + "/state"
        for arguments in [["--yes"], ["--dry-run"]] {
            let code = try exitCode { try Reap.parse(arguments + ["--min-age", "0"]).run(in: context(.reap, privileged: false, stateDirectory: missing)) }
            #expect(code == 3, "\(arguments)")
        }
        #expect(console.errors.contains("error: reaping needs root"), "\(console.errors)")
        #expect(reaper.plans.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test func theFirstReapOnlyStartsTheClock() throws {
        let code = try exitCode { try Reap.parse(["--yes"]).run(in: context(.reap)) }
        #expect(code == 0)
        #expect(reaper.plans.isEmpty, "nothing is old enough to reap")
        #expect(console.text.contains("ctx0 is due at"), "\(console.text)")
        let observations = try StateStore(directory: state.path).database(create: false)?.observations(namespace: "scripted") ?? Observations()
        #expect(observations.histories["scripted"] != nil, "the observation that starts the clock was saved")
    }

    @Test func aDryRunPlansAndActsOnNothing() throws {
        let code = try exitCode { try Reap.parse(["--dry-run", "--min-age", "0"]).run(in: context(.reap)) }
        #expect(code == 0)
        #expect(console.text.contains("Would delete tun ctx0 (ifindex 7)"))
        #expect(console.text.contains("1 interface to delete.\n"), "\(console.text)")
        #expect(reaper.plans.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: state.path + "/journal.jsonl"))
    }

    /// On a terminal the plan is fitted to its width under a hanging indent, as the audit's
    /// findings are; to a pipe (no width) each item stays one line.
    @Test func thePlanIsWrappedToTheTerminalOnly() throws {
        console.isTerminal = true
        console.width = 40
        #expect(try exitCode { try Reap.parse(["--dry-run", "--min-age", "0"]).run(in: context(.reap)) } == 0)
        let lines = console.text.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 40 }, "\(console.text)")
        let first = try #require(lines.firstIndex { $0.hasPrefix("Would delete tun ctx0") }, "\(console.text)")
        #expect(lines[first + 1].hasPrefix("    ") && !lines[first + 1].hasPrefix("     "), "\(console.text)")

        let piped = RecordingConsole()
        let pipedContext = RunContext(settings: Settings(file: .empty, section: .reap), stateDirectory: state.path, console: piped, isPrivileged: true,
                                      inventory: { _, _ in FixedInventory(taken: RunContextTests.snapshot()) }, reaper: { [reaper] _ in reaper })
        #expect(try exitCode { try Reap.parse(["--dry-run", "--min-age", "0"]).run(in: pipedContext) } == 0)
        let item = try #require(piped.text.split(separator: "\n").first { $0.hasPrefix("Would delete tun ctx0") })
        #expect(item.count > 40, "one line, unwrapped: \(piped.text)")
    }

    /// A program that forgot --yes still reads the plan it was refused, as a dry run prints it.
    @Test func aRefusalForLackOfYesStillPrintsThePlanAsJSON() throws {
        #expect(try exitCode { try Reap.parse(["--min-age", "0", "--format", "json"]).run(in: context(.reap)) } == 64)
        #expect(console.errors.contains("refusing to delete without --yes"), "\(console.errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(console.text.utf8)) as? [String: Any], "\(console.text)")
        #expect(object["dry_run"] as? Bool == true)
        #expect((object["plan"] as? [Any])?.count == 1, "\(console.text)")
        #expect(reaper.plans.isEmpty)
    }

    @Test func consentIsAskedOnATerminalAndRefusedWithoutOne() throws {
        #expect(try exitCode { try Reap.parse(["--min-age", "0"]).run(in: context(.reap)) } == 64)
        #expect(console.errors.contains("refusing to delete without --yes"), "\(console.errors)")
        console.inputIsTerminal = true
        console.answers = ["n"]
        #expect(try exitCode { try Reap.parse(["--min-age", "0"]).run(in: context(.reap)) } == 0)
        #expect(reaper.plans.isEmpty)
        #expect(console.errors.contains("Delete 1 interface listed above? [y/N] "))
        console.answers = ["y"]
        #expect(try exitCode { try Reap.parse(["--min-age", "0"]).run(in: context(.reap)) } == 0)
        #expect(reaper.plans.count == 1)
    }

    /// The closing summary names a few skipped devices, not every one on one line (each has its
    /// own line above): a reap that skipped hundreds printed a line of 40 KB.
    @Test func theSummaryNamesAFewSkippedDevices() {
        let results = (0..<400).map { ReapItemResult(ifname: "sk\($0)", ifindex: $0 + 2, kind: .tun, result: $0 < 397 ? .skipped : .deleted,
                                                     detail: $0 < 397 ? "a process holds it" : nil) }
        let text = Reap.describe(results)
        let summary = text.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary == "Reaped 3 of 400; 397 skipped: sk0 a process holds it, sk1 a process holds it, sk2 a process holds it, and 394 more (each above).")
        #expect(text.contains("Skipped tun sk396 (ifindex 398): a process holds it\n"))
        let few = Reap.describe(Array(results.suffix(4)))
        #expect(few.hasSuffix("Reaped 3 of 4; 1 skipped: sk396 a process holds it.\n"), "\(few)")
    }

    /// A signal exits 128 plus it, and says what it stopped: the devices it kept from deletion,
    /// or nothing when it came after the last deletion (never "rolled back" when nothing was).
    @Test func aSignalDuringTheActExits128PlusIt() throws {
        reaper.outcome = .skipped
        reaper.detail = "interrupted by SIGTERM before deleting"
        reaper.stoppingSignal = SIGTERM
        let code = try exitCode { try Reap.parse(["--yes", "--min-age", "0"]).run(in: context(.reap)) }
        #expect(code == 128 + SIGTERM)
        #expect(console.errors.contains("interrupted by signal \(SIGTERM): 1 device was left as it was"), "\(console.errors)")
        console.errors = ""
        reaper.outcome = .deleted
        reaper.detail = nil
        #expect(try exitCode { try Reap.parse(["--yes", "--min-age", "0"]).run(in: context(.reap)) } == 128 + SIGTERM)
        #expect(console.errors.contains("it came after the last deletion, so nothing was rolled back or left out"), "\(console.errors)")
    }

    @Test func anInventoryThatFailsStopsTheReapBeforeAnything() throws {
        let code = try exitCode { try Reap.parse(["--yes", "--min-age", "0"]).run(in: context(.reap, snapshot: nil)) }
        #expect(code == 3)
        #expect(console.errors.contains("scripted failure") && console.errors.contains("nothing was changed"), "\(console.errors)")
        #expect(reaper.plans.isEmpty)
    }

    @Test func anAuditJudgesTheStandInAndKeepsItsObservations() throws {
        let code = try exitCode { try Audit.parse([]).run(in: context(.audit)) }
        #expect(code == 1, "an orphaned tun is a warning: \(console.errors)")
        let lines = console.text.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("ctx0 ") && $0.contains("orphaned") }, "\(console.text)")
        #expect(lines.contains { $0.hasPrefix("busy0 ") && $0.contains("live") }, "\(console.text)")
        #expect(try StateStore(directory: state.path).database(create: false)?.observations(namespace: "scripted").histories["scripted"] != nil)
    }

    /// With thousands of rows, the table's rows are made while the recording runs: the table
    /// still shows the age the recording gives each one, fitted to a terminal or not.
    @Test func aLargeAuditTableShowsTheAgeOfEveryRow() throws {
        func many(at time: Date) -> Snapshot {
            var snapshot = Self.snapshot()
            let orphan = snapshot.interfaces[0]
            snapshot.interfaces = (0..<2500).map { n in
                var interface = orphan
                (interface.index, interface.name) = (100 + n, "many\(n)")
                return interface
            }
            snapshot.takenAt = time
            return snapshot
        }
        let now = Date()
        // Two hours and half a minute: a time kept as seconds since 1970 comes back a hair off,
        // and an age of exactly 7,200 s could read as 1h 59m.
        _ = try exitCode { try Audit.parse(["--quiet"]).run(in: context(.audit, snapshot: many(at: now.addingTimeInterval(-7230)))) }
        #expect(console.output.isEmpty)
        for (run, width) in [nil, 200].enumerated() {
            let start = console.output.count
            console.width = width
            let code = try exitCode { try Audit.parse([]).run(in: context(.audit, snapshot: many(at: now.addingTimeInterval(Double(run))))) }
            #expect(code == 2, "2,500 tunnels are over the limit: \(console.errors)")
            let lines = String(decoding: console.output[start...], as: UTF8.self).split(separator: "\n")
            #expect(lines.first?.hasSuffix("  AGE") == true, "\(lines.first ?? "")")
            #expect(lines.filter { $0.hasPrefix("many") && $0.hasSuffix("  2h") }.count == 2500, "width \(width ?? 0): \(lines.dropFirst().first ?? "")")
        }
    }

    @Test func anAuditWithoutStateWritesNothingThere() throws {
        let code = try exitCode { try Audit.parse(["--no-state", "--format", "nagios"]).run(in: context(.audit)) }
        #expect(code == 1)
        #expect(console.text.hasPrefix("TUNWARDEN WARNING"), "\(console.text)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: state.path).isEmpty)
    }

    @Test func anAuditThatCannotInspectSaysSoInItsFormat() throws {
        let code = try exitCode { try Audit.parse(["--format", "nagios"]).run(in: context(.audit, snapshot: nil)) }
        #expect(code == 3)
        #expect(console.text.hasPrefix("TUNWARDEN UNKNOWN"), "\(console.text)")
        #expect(console.errors.contains("scripted failure"))
    }
}

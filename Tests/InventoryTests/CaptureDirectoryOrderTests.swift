import Foundation
import Testing
@testable import Inventory
import TunwardenCore

/// A capture directory of pastes saved one by one (not the snapshot's own file names): its files
/// are ordered only by a sequence number their names carry; without one, none is later than
/// another, and a judgement another file contradicts is unknown, with nothing planned for it.
@Suite struct CaptureDirectoryOrderTests {
    static func directory(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/darwin-dirs/\(name)", withExtension: nil)).path
    }

    /// Status and planned commands of an audit of the directory at `path`.
    static func outcome(_ path: String) throws -> (status: AuditStatus, commands: [String], notes: [String]) {
        let snapshot = try CapturedInventory(path: path).snapshot()
        let assessment = Heuristics.assess(snapshot)
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        return (assessment.status, plan.items.flatMap(DarwinCommands.reap).map { $0.joined(separator: " ") }, snapshot.readingNotes)
    }

    /// A tun0 `closed` in one file and `open (pid 412)` in the other, with its four routes: with
    /// no order in the names (before/after, per tool, times of day), tun0 is unknown and its live
    /// routes are never planned away; numbered (`capture-9`, `capture-10`, also zero-padded, and
    /// `1-before`, `2-after`), the later file says it is open, and nothing is planned either.
    /// Of the hoard, units that carry routes in one file are never planned as idle.
    @Test(arguments: [("d1-before-after", AuditStatus.unknown, 0), ("d2-per-tool", .unknown, 0), ("d4-times", .unknown, 0),
                      ("d3-numbered", .ok, 0), ("d3c-numbered-pad", .ok, 0), ("d1c-control-1-2", .ok, 0),
                      ("d5-hoard", .warning, 0), ("d5c-hoard", .warning, 12)])
    func filesAreOrderedOnlyByEvidence(name: String, status: AuditStatus, commands: Int) throws {
        let result = try Self.outcome(try Self.directory(name))
        #expect(result.status == status, "\(name): \(result)")
        #expect(result.commands.count == commands, "\(name): \(result.commands)")
        #expect(!result.commands.contains { $0.contains("10.8.0.5") }, "\(name)")
        #expect(result.notes.contains { $0.contains("files ") && ($0.contains("sequence numbers") || $0.contains("moments of their own")) }, "\(result.notes)")
    }

    /// Every way round: the closed file named so as to sort first or last, with or without a
    /// number, is never read as now when the other says open.
    @Test(arguments: [("a.txt", "b.txt", false), ("b.txt", "a.txt", false), ("capture-2.txt", "capture-10.txt", true),
                      ("run-1.log", "run-2.log", true), ("10-x.out", "9-y.out", true)])
    func noNameOrderMakesTheOlderCaptureNow(closed: String, open: String, numbered: Bool) throws {
        let source = try Self.directory("d1-before-after")
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("tw-order-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        try FileManager.default.copyItem(atPath: source + "/before.txt", toPath: temporary.path + "/" + closed)
        try FileManager.default.copyItem(atPath: source + "/after.txt", toPath: temporary.path + "/" + open)
        let result = try Self.outcome(temporary.path)
        #expect(result.commands.isEmpty == (numbered ? CapturedInventory.sequenceNumber(closed)! < CapturedInventory.sequenceNumber(open)! : true),
                "\(closed) \(open): \(result.commands)")
        if !numbered { #expect(result.status == .unknown) }
    }

    @Test func sequenceNumbersInNames() {
        #expect(CapturedInventory.sequenceNumber("capture-10.txt") == 10)
        #expect(CapturedInventory.sequenceNumber("capture-09.txt") == 9)
        #expect(CapturedInventory.sequenceNumber("2-after.txt") == 2)
        #expect(CapturedInventory.sequenceNumber("tw-9.05.txt") == nil)
        #expect(CapturedInventory.sequenceNumber("after.txt") == nil)
        #expect(CapturedInventory.sequenceNumber("2024-12-05.txt") == nil)
        #expect(CapturedInventory.fileOrder(["capture-9.txt", "capture-10.txt"]).ordered == ["capture-9.txt", "capture-10.txt"])
        #expect(CapturedInventory.fileOrder(["after.txt", "before.txt"]).ordered == nil)
        #expect(CapturedInventory.fileOrder(["1-a.txt", "1-b.txt"]).ordered == nil)
    }
}

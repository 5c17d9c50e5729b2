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
        #expect(result.notes.contains { $0.contains("files ") && ($0.contains("numbers in their names") || $0.contains("moments of their own")) }, "\(result.notes)")
    }

    /// Every way round: the closed file named so as to sort first or last, with or without a
    /// number, is never read as now when the other says open.
    /// Numbers that count something else than captures (hours, `9am`/`2pm`, `11pm`/`1am`, `09h`/`14h`;
    /// interfaces, `utun10`/`utun4`; days, `dec-31`/`jan-2`; tickets, pids, Finder's copies) and
    /// numbers written in different shapes (`1-before`/`after-2`, `capture-2`/`run-1`) give no order.
    @Test(arguments: [("a.txt", "b.txt", false), ("b.txt", "a.txt", false), ("capture-2.txt", "capture-10.txt", true),
                      ("run-1.log", "run-2.log", true), ("10-x.out", "9-y.out", true), ("v1.txt", "v2.txt", true),
                      ("v10.txt", "v9.txt", true), ("1.txt", "2.txt", true), ("2_after.txt", "1_before.txt", true),
                      ("9am.txt", "2pm.txt", false), ("2pm.txt", "9am.txt", false), ("11pm.txt", "1am.txt", false),
                      ("9-am.txt", "2-pm.txt", false), ("09h.txt", "14h.txt", false), ("14h.txt", "09h.txt", false),
                      ("utun10.txt", "utun4.txt", false), ("utun4.txt", "utun10.txt", false), ("tun-1.txt", "tun-0.txt", false),
                      ("feth1.txt", "feth0.txt", false), ("dec-31.txt", "jan-2.txt", false), ("31-dec.txt", "2-jan.txt", false),
                      ("mon-3.txt", "tue-1.txt", false), ("ticket-5812.txt", "ticket-5799.txt", false), ("pid-412.txt", "pid-98.txt", false),
                      ("capture copy 2.txt", "capture copy.txt", false), ("capture 2.txt", "capture 10.txt", false),
                      ("capture (1).txt", "capture (2).txt", false), ("1-before.txt", "after-2.txt", false),
                      ("capture-2.txt", "run-1.txt", false), ("run-2-after.txt", "run-3-after.txt", false),
                      ("2023-12-01.txt", "2023-12-02.txt", false), ("10.15.txt", "9.05.txt", false)])
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
        if !numbered {
            #expect(result.status == .unknown, "\(closed) \(open)")
            #expect(result.notes.contains { $0.contains("moments of their own") && !$0.contains("sequence numbers in their names") }, "\(result.notes)")
        } else {
            #expect(result.notes.contains { $0.contains("order of the numbers in their names") && $0.contains("the names' alone") }, "\(result.notes)")
        }
    }

    /// The hoard, with the routes utun9 and utun10 carry now in the newer file: under names whose
    /// numbers are hours, none is planned; numbered as a sequence, the 12 idle units' are.
    @Test(arguments: [("9am.txt", "2pm.txt", 0), ("09h.txt", "14h.txt", 0), ("utun9.txt", "utun10.txt", 0),
                      ("1-before.txt", "2-after.txt", 12), ("snap_1.txt", "snap_2.txt", 12), ("v1.txt", "v2.txt", 12)])
    func hoardOrderedOnlyBySequences(older: String, newer: String, commands: Int) throws {
        let source = try Self.directory("d5c-hoard")
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("tw-order-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        try FileManager.default.copyItem(atPath: source + "/1-before.txt", toPath: temporary.path + "/" + older)
        try FileManager.default.copyItem(atPath: source + "/2-after.txt", toPath: temporary.path + "/" + newer)
        let result = try Self.outcome(temporary.path)
        #expect(result.commands.count == commands, "\(older) \(newer): \(result.commands)")
        #expect(!result.commands.contains { $0.contains("utun9 ") || $0.contains("utun10") }, "\(result.commands)")
    }

    /// Files per tool that share a number are one moment, as a snapshot's four are: the closed
    /// tun0 split into `ifconfig-1.txt` and `netstat-1.txt` is CRITICAL with its 4 routes, as the
    /// same text in one file is; a second number that shows it open is later, and nothing is
    /// planned; a tool named twice under one number, or per-tool names mixed with others, give
    /// no order.
    @Test(arguments: [(["ifconfig-1.txt": "c-if", "netstat-1.txt": "c-ns"], AuditStatus.critical, 4),
                      (["1-ifconfig.txt": "c-if", "1-netstat.txt": "c-ns"], .critical, 4),
                      (["ifconfig_1.txt": "c-if", "netstat_1.txt": "c-ns", "ifconfig_2.txt": "o-if", "netstat_2.txt": "o-ns"], .ok, 0),
                      (["ifconfig-2.txt": "c-if", "netstat-2.txt": "c-ns", "ifconfig-1.txt": "o-if", "netstat-1.txt": "o-ns"], .critical, 4),
                      (["ifconfig-1.txt": "c-if", "netstat-1.txt": "c-ns", "2-after.txt": "open"], .unknown, 0),
                      (["ifconfig-1.txt": "c-if", "netstat-1.txt": "c-ns", "netstat-2.txt": "o-ns", "ifconfig-3.txt": "o-if"], .ok, 0)])
    func perToolFilesOfOneNumberAreOneMoment(files: [String: String], status: AuditStatus, commands: Int) throws {
        let source = try Self.directory("d1-before-after")
        func lines(_ file: String) throws -> [Substring] {
            try String(contentsOfFile: source + "/" + file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        }
        let closed = try lines("before.txt"), open = try lines("after.txt")
        let parts = ["c-if": closed[..<24], "c-ns": closed[24...], "o-if": open[..<24], "o-ns": open[24...], "open": open[...]]
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("tw-order-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        for (name, part) in files {
            try parts[part]!.joined(separator: "\n").write(toFile: temporary.path + "/" + name, atomically: true, encoding: .utf8)
        }
        let result = try Self.outcome(temporary.path)
        #expect(result.status == status, "\(files): \(result)")
        #expect(result.commands.count == commands, "\(files): \(result.commands)")
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
        for name in ["9am.txt", "2pm.txt", "2-pm.txt", "09h.txt", "14h.txt", "utun4.txt", "utun10.txt", "utun-4.txt", "tun0.txt",
                     "feth1.txt", "dec-31.txt", "jan-2.txt", "31-dec.txt", "pid-412.txt", "capture copy 2.txt", "capture 2.txt",
                     "capture (2).txt", "run-2-after.txt", "capture9.txt", "1-before-2.txt", ".1-before.txt", "ticket_5812.txt"] {
            #expect(CapturedInventory.sequenceNumber(name) == nil, "\(name)")
        }
        for (name, number) in [("v1.txt", 1), ("run-v2.txt", 2), ("run_10.txt", 10), ("3.after.txt", 3), ("1.txt", 1), ("2_after.log", 2)] {
            #expect(CapturedInventory.sequenceNumber(name) == number, "\(name)")
        }
    }

    /// The AppleDouble companion macOS writes beside a file copied to a FAT, exFAT or SMB volume.
    static let appleDouble = Data([0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00] + Array("Mac OS X        ".utf8) + [0x00, 0x02, 0x00, 0x00, 0x00, 0x09] + Array(repeating: 0, count: 64))

    /// A copy of the fixture directory `name` in a temporary directory, with `extra` files added
    /// (by name, their text or bytes) and `removed` ones taken out.
    static func copy(_ name: String, adding extra: [String: Data] = [:], removing removed: [String] = []) throws -> URL {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("tw-order-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: try directory(name), toPath: temporary.path)
        for file in removed { try FileManager.default.removeItem(atPath: temporary.path + "/" + file) }
        for (file, data) in extra { try data.write(to: temporary.appendingPathComponent(file)) }
        return temporary
    }

    /// A snapshot's four files (tun0 `closed`, nothing holding /dev/tun0) beside a later paste
    /// that shows tun0 `open (pid 412)`: nothing says which is later, so tun0 is unknown and its
    /// live routes are never planned, whatever the paste is named; alone, the four give their 4
    /// commands; a file beside them with no tool output in it changes nothing, and is named.
    @Test(arguments: [([String](), [String: String](), AuditStatus.unknown, 0),
                      (["2-after-reconnect.txt"], [:], .critical, 4),
                      (["2-after-reconnect.txt"], ["notes.txt": "Called the helpdesk at 2pm; they said to reboot.\n"], .critical, 4),
                      (["2-after-reconnect.txt"], ["after.txt": "@open"], .unknown, 0),
                      (["2-after-reconnect.txt"], ["zz-9pm.log": "@open"], .unknown, 0),
                      ([], ["before.txt": "@closed"], .unknown, 0)])
    func pastesBesideASnapshotAreMomentsOfTheirOwn(removed: [String], extra: [String: String], status: AuditStatus, commands: Int) throws {
        let d1 = try Self.directory("d1-before-after")
        var files: [String: Data] = [:]
        for (name, text) in extra {
            files[name] = text == "@open" ? try Data(contentsOf: URL(fileURLWithPath: d1 + "/after.txt"))
                : text == "@closed" ? try Data(contentsOf: URL(fileURLWithPath: d1 + "/before.txt")) : Data(text.utf8)
        }
        let temporary = try Self.copy("d6-snapshot-extra", adding: files, removing: removed)
        defer { try? FileManager.default.removeItem(at: temporary) }
        let result = try Self.outcome(temporary.path)
        #expect(result.status == status, "\(removed) \(extra.keys): \(result)")
        #expect(result.commands.count == commands, "\(result.commands)")
        if extra["notes.txt"] != nil { #expect(result.notes.contains { $0.contains("notes.txt not read") }, "\(result.notes)") }
        if status == .unknown { #expect(result.notes.contains { $0.contains("read as one moment") }, "\(result.notes)") }
    }

    /// AppleDouble companions (`._1-before.txt`) are left out, with no effect on the order or
    /// the verdict, beside numbered pastes and beside a snapshot's files; other hidden files may
    /// hold a paste and are read (unordered, as their names carry no number).
    @Test func appleDoubleCompanionsAreLeftOut() throws {
        let numbered = try Self.copy("d1c-control-1-2", adding: ["._1-before.txt": Self.appleDouble, "._2-after.txt": Self.appleDouble])
        defer { try? FileManager.default.removeItem(at: numbered) }
        let result = try Self.outcome(numbered.path)
        #expect(result.status == .ok && result.commands.isEmpty, "\(result)")
        #expect(result.notes.contains { $0.contains("._1-before.txt, ._2-after.txt left out") }, "\(result.notes)")
        #expect(result.notes.contains { $0.contains("order of the numbers") }, "\(result.notes)")
        let snapshot = try Self.copy("d6-snapshot-extra", adding: ["._ifconfig.txt": Self.appleDouble, "._2-after-reconnect.txt": Self.appleDouble],
                                     removing: ["2-after-reconnect.txt"])
        defer { try? FileManager.default.removeItem(at: snapshot) }
        let alone = try Self.outcome(snapshot.path)
        #expect(alone.status == .critical && alone.commands.count == 4, "\(alone)")
        let hidden = try Self.copy("d1c-control-1-2", adding: [".3-later.txt": try Data(contentsOf: URL(fileURLWithPath: try Self.directory("d1-before-after") + "/before.txt"))])
        defer { try? FileManager.default.removeItem(at: hidden) }
        let withHidden = try Self.outcome(hidden.path)
        #expect(withHidden.status == .unknown && withHidden.commands.isEmpty, "\(withHidden)")
    }


    /// A TextEdit RTFD bundle (saved so once the document holds an image) is read from its
    /// `TXT.rtf`, as that file given alone is; one without it, and a directory holding only
    /// documents (`capture.rtf`, `capture.md`), are refused with a message that names them.
    @Test func anRTFDBundleIsReadFromItsText() throws {
        let bundle = try Self.directory("r9-gs-split-only.rtfd")
        let read = try Self.outcome(bundle)
        let alone = try Self.outcome(bundle + "/TXT.rtf")
        #expect(read.status == .critical && read.status == alone.status && read.commands == alone.commands, "\(read) vs \(alone)")
        #expect(read.notes.contains { $0.contains("RTFD bundle, read from its TXT.rtf") }, "\(read.notes)")
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("tw-order-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: temporary.path + "/empty.rtfd", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        #expect(throws: InventoryError.self) { try CapturedInventory(path: temporary.path + "/empty.rtfd").snapshot() }
        do {
            _ = try CapturedInventory(path: temporary.path + "/empty.rtfd").snapshot()
        } catch {
            #expect("\(error)".contains("TXT.rtf"), "\(error)")
        }
        let documents = temporary.appendingPathComponent("docs")
        try FileManager.default.createDirectory(at: documents, withIntermediateDirectories: true)
        try Data(contentsOf: URL(fileURLWithPath: bundle + "/TXT.rtf")).write(to: documents.appendingPathComponent("capture.rtf"))
        do {
            _ = try CapturedInventory(path: documents.path).snapshot()
            Issue.record("a directory of documents only was read")
        } catch {
            #expect("\(error)".contains("capture.rtf"), "\(error)")
        }
    }

}

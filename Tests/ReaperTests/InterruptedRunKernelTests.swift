#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
import Storage
import TunwardenCore

/// A reap killed outright is given back by the next reap in its namespace, whatever other runs
/// sharing the journal appended since: against the real kernel, as root, through the command.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct InterruptedRunKernelTests {
    func reap(_ ns: TestNamespace, _ state: TemporaryDirectory, _ extra: String...) throws -> Shell.Result {
        try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--journal", state.path + "/journal.jsonl",
                           "--min-age", "0"] + extra)
    }

    /// The finding's case: a multi-queue tap left renamed, down and grouped by a killed reap in
    /// one namespace; a reap in another namespace sharing the journal runs first. The next reap in
    /// the first namespace still gives it back (name, group, up), once: the reap after it finds
    /// nothing left to repair.
    @Test func aKilledReapIsRepairedAfterAReapInAnotherNamespace() throws {
        let a = try TestNamespace(), b = try TestNamespace(), state = try TemporaryDirectory()
        defer { a.remove(); b.remove(); state.remove() }
        try a.ip("tuntap", "add", "dev", "ikmq0", "mode", "tap", "multi_queue")
        try a.ip("link", "set", "ikmq0", "up")
        try b.ip("tuntap", "add", "dev", "ikb0", "mode", "tap")
        let journal = Journal(path: state.path + "/journal.jsonl")
        let index = try journalKilledIntent(a, journal, "ikmq0", fenceName: "tw00000000000c1", group: 0x1234_56c1)
        try a.ip("link", "set", "ikmq0", "down")
        try a.ip("link", "set", "ikmq0", "name", "tw00000000000c1")
        try a.ip("link", "set", "tw00000000000c1", "group", "\(0x1234_56c1)")

        let other = try reap(b, state, "--yes")
        #expect(other.status == 0 && other.stdout.contains("Deleted tap ikb0"), "\(other.stdout)\n\(other.stderr)")
        #expect(!other.stderr.contains("Repaired"), "a reap repairs only its own namespace's intents: \(other.stderr)")

        let dry = try reap(a, state, "--dry-run")
        #expect(dry.stderr.contains("intents without results (run killed-ikmq0"), "\(dry.stderr)")
        let repairing = try reap(a, state, "--yes", "--protect", "ikmq0")
        #expect(repairing.stderr.contains("Repaired ikmq0 (ifindex \(index))"), "\(repairing.stdout)\n\(repairing.stderr)")
        let link = try a.ip("-d", "link", "show", "dev", "ikmq0")
        #expect(link.contains("state") && link.contains(",UP") && !link.contains("group \(0x1234_56c1)"), "\(link)")
        #expect(try journal.read().filter { $0.run == "killed-ikmq0" && $0.type == .result }.count == 1)

        let again = try reap(a, state, "--yes", "--protect", "ikmq0")
        #expect(!again.stderr.contains("Repaired"), "repaired twice: \(again.stderr)")
        #expect(try journal.read().filter { $0.run == "killed-ikmq0" && $0.type == .result }.count == 1)
    }

    /// Rotates `journal` as the shipped logrotate entry (packaging/logrotate/tunwarden) does,
    /// with logrotate itself where it is installed: renamed to `PATH.1`, a new empty journal made
    /// with mode 0640. Without logrotate, the same by hand.
    func rotate(_ journal: Journal, work: TemporaryDirectory) throws {
        if Shell.which("logrotate") != nil {
            let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let entry = try String(contentsOf: repository.appendingPathComponent("packaging/logrotate/tunwarden"), encoding: .utf8)
            let config = work.path + "/tunwarden.logrotate"
            try Data(entry.replacingOccurrences(of: "/var/lib/tunwarden/journal.jsonl", with: journal.path).utf8).write(to: URL(fileURLWithPath: config))
            let rotation = try Shell.capture(["logrotate", "-f", "-s", work.path + "/logrotate.status", config])
            #expect(rotation.status == 0, "\(rotation.stdout)\(rotation.stderr)")
        } else {
            #expect(rename(journal.path, journal.path + ".1") == 0)
            #expect(FileManager.default.createFile(atPath: journal.path, contents: nil, attributes: [.posixPermissions: 0o640]))
        }
        #expect((try FileManager.default.attributesOfItem(atPath: journal.path)[.size] as? UInt64) == 0)
    }

    /// Round 42's F2: a reap killed after fencing a multi-queue tap, then the journal rotated as
    /// logrotate rotates it, its intents now in `journal.jsonl.1`. The next reap still gives the
    /// tap back (name, group, up), journals the repair in the new journal, and only once. A
    /// device fenced by a run whose intents are in neither journal (rotated further) is not
    /// promised back: the reap names both journals and how to reach an older one, and doing so
    /// gives it back.
    @Test func aKilledReapIsRepairedAfterTheJournalIsRotated() throws {
        let a = try TestNamespace(), state = try TemporaryDirectory()
        defer { a.remove(); state.remove() }
        try a.ip("tuntap", "add", "dev", "ikrot0", "mode", "tap", "multi_queue")
        try a.ip("tuntap", "add", "dev", "ikrot1", "mode", "tap", "multi_queue")
        try a.ip("link", "set", "ikrot0", "up")
        let journal = Journal(path: state.path + "/journal.jsonl")
        let index = try journalKilledIntent(a, journal, "ikrot0", fenceName: "tw00000000000c3", group: 0x1234_56c3)
        try a.ip("link", "set", "ikrot0", "down")
        try a.ip("link", "set", "ikrot0", "name", "tw00000000000c3")
        try a.ip("link", "set", "tw00000000000c3", "group", "\(0x1234_56c3)")
        try rotate(journal, work: state)
        let rotated = try String(contentsOfFile: journal.path + ".1", encoding: .utf8)

        let dry = try reap(a, state, "--dry-run", "--protect", "ikrot*")
        #expect(dry.stderr.contains("intents without results (run killed-ikrot0"), "\(dry.stderr)")
        let repairing = try reap(a, state, "--yes", "--protect", "ikrot*")
        #expect(repairing.stderr.contains("Repaired ikrot0 (ifindex \(index))"), "\(repairing.stdout)\n\(repairing.stderr)")
        let link = try a.ip("-d", "link", "show", "dev", "ikrot0")
        #expect(link.contains(",UP") && !link.contains("group \(0x1234_56c3)"), "\(link)")
        #expect(try journal.read().filter { $0.run == "killed-ikrot0" && $0.type == .result }.count == 1)
        #expect(try String(contentsOfFile: journal.path + ".1", encoding: .utf8) == rotated, "the rotated journal is only read")
        let again = try reap(a, state, "--yes", "--protect", "ikrot*")
        #expect(!again.stderr.contains("Repaired"), "repaired twice: \(again.stderr)")

        // Killed two rotations ago: its intent lies in journal.jsonl.2 (here already uncompressed).
        try a.ip("link", "del", "ikrot0")
        let older = Journal(path: journal.path + ".2")
        _ = try journalKilledIntent(a, older, "ikrot1", fenceName: "tw00000000000c4", group: 0x1234_56c4)
        try a.ip("link", "set", "ikrot1", "name", "tw00000000000c4")
        try a.ip("link", "set", "tw00000000000c4", "group", "\(0x1234_56c4)")
        let stuck = try reap(a, state, "--yes")
        #expect(!stuck.stdout.contains("gives it back first"), "a promise no reap keeps: \(stuck.stdout)")
        #expect(stuck.stdout.contains("no intent record without a result in \(journal.path) or \(journal.path).1 names it")
                && stuck.stdout.contains("`tunwarden reap --journal \(journal.path).N`"), "\(stuck.stdout)\n\(stuck.stderr)")
        let told = try Shell.capture([Shell.tunwardenBinary, "--netns", a.name, "reap", "--state-dir", state.path, "--journal", older.path,
                                      "--min-age", "0", "--yes", "--protect", "ikrot*"])
        #expect(told.stderr.contains("Repaired ikrot1"), "\(told.stdout)\n\(told.stderr)")
        #expect(try a.ip("link", "show", "dev", "ikrot1").contains("ikrot1"))
    }

    /// A single-queue tap a killed reap left with its fence (private alternative name, link
    /// group) and its own name is no orphan to an audit; after another namespace's reap, the next
    /// reap here takes the fence off first, so that when it then deletes the tap, its intent
    /// journals the tap's own group and names, not the fence's.
    @Test func aSingleQueueFenceIsUnknownThenTakenOffNeverJournaledAsTheDevicesOwn() throws {
        let a = try TestNamespace(), b = try TestNamespace(), state = try TemporaryDirectory()
        defer { a.remove(); b.remove(); state.remove() }
        try a.ip("tuntap", "add", "dev", "iksq0", "mode", "tap")
        try a.ip("link", "set", "iksq0", "up")
        try b.ip("tuntap", "add", "dev", "ikb1", "mode", "tap")
        let journal = Journal(path: state.path + "/journal.jsonl")
        _ = try journalKilledIntent(a, journal, "iksq0", fenceName: "tw00000000000c2", group: 0x1234_56c2)
        try a.ip("link", "property", "add", "dev", "iksq0", "altname", "tw00000000000c2")
        try a.ip("link", "set", "iksq0", "group", "\(0x1234_56c2)")

        let audit = try Shell.capture([Shell.tunwardenBinary, "--netns", a.name, "audit", "--no-state"])
        #expect(audit.stdout.contains("fenced by a reap (its private alternative name tw00000000000c2 and link group \(0x1234_56c2))"),
                "\(audit.stdout)")
        #expect(try reap(b, state, "--yes").status == 0)
        let result = try reap(a, state, "--yes")
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("Repaired iksq0") && result.stdout.contains("Deleted tap iksq0"), "\(result.stdout)\n\(result.stderr)")
        let intents = try journal.read().filter { $0.type == .intent && $0.ifname == "iksq0" && $0.run != "killed-iksq0" }
        let intent = try #require(intents.first)
        #expect(intent.prior?.group == 0, "\(String(describing: intent.prior))")
        #expect(intent.recreate?.contains { $0.contains("tw00000000000c2") || $0.contains("group") } == false, "\(intent.recreate ?? [])")
    }
}
#endif

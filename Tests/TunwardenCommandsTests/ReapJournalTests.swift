#if os(Linux)
import Foundation
import Glibc
import Storage
import Testing
import TestSupport

/// A reap whose journal fills the disk, on a small tmpfs mounted in a mount namespace of the
/// test's own (`unshare -m`), so the host's mounts are never touched. As root, against throwaway
/// network namespaces.
@Suite(.enabled(if: TestNamespace.available && Shell.which("unshare") != nil && Shell.which("mount") != nil,
                "needs root, /dev/net/tun, ip, python3, unshare and mount"))
struct ReapJournalTests {
    func linkNames(_ ns: TestNamespace) throws -> Set<String> {
        let links = try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "link", "show").utf8)) as? [[String: Any]] ?? []
        return Set(links.compactMap { $0["ifname"] as? String })
    }

    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Two reaps with different state directories and one journal: while one holds the journal's
    /// lock (here this test, as a reap acting holds it), the other acts on nothing, changes nothing
    /// in the journal, and says who holds it.
    @Test func aReapSharingAJournalWithAnotherActingActsOnNothing() throws {
        let ns = try TestNamespace()
        let state = try TemporaryDirectory(), other = try TemporaryDirectory()
        defer { ns.remove(); state.remove(); other.remove() }
        try ns.ip("tuntap", "add", "dev", "jshare0", "mode", "tun")
        let journal = other.path + "/journal.jsonl"
        try Data().write(to: URL(fileURLWithPath: journal))
        let acting = try RunLock.acquire(journal: journal, patience: 1)
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--yes", "--min-age", "0",
                                        "--state-dir", state.path, "--journal", journal])
        acting.release()
        #expect(result.status == 3, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stderr.contains("another tunwarden reap (pid unknown) is running"), "\(result.stderr)")
        #expect(try linkNames(ns) == ["lo", "jshare0"])
        #expect(lines(journal).isEmpty)
        // Once the other is done, it acts.
        let after = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--yes", "--min-age", "0",
                                       "--state-dir", state.path, "--journal", journal])
        #expect(after.status == 0, "\(after.stderr)")
        #expect(try linkNames(ns) == ["lo"])
    }

    /// A killed run's intent damaged in the middle of the journal (a NUL where a byte was), with
    /// a whole record after it: `reap`, dry run or not, exits 3 naming line 1, deletes nothing and
    /// adds nothing to the journal, as `tunwarden journal` refuses it with the same words.
    @Test func aDamagedIntentInTheMiddleStopsTheReapWithNothingChanged() throws {
        let ns = try TestNamespace(name: "l48b-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["l48bk1", "l48bk2"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tun") }
        let journal = Journal(path: state.path + "/journal.jsonl")
        try journal.append([JournalRecord(time: Date(), run: "killed", type: .intent, netns: ns.name, ifname: "l48bk1", ifindex: 2,
                                          recreate: ["ip -n \(ns.name) tuntap add dev l48bk1 mode tun"], fenceGroup: 313_246_047, fenceName: "tw0123456789abc")])
        try journal.append([JournalRecord(time: Date(), run: "later", type: .result, netns: ns.name, ifname: "zz", ifindex: 999, result: .skipped, detail: "x")])
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: journal.path)))
        let marker = Array("\"recreate\"".utf8)
        let at = try #require((0...(bytes.count - marker.count)).first { Array(bytes[$0..<$0 + marker.count]) == marker })
        bytes[at + 1] = 0
        try Data(bytes).write(to: URL(fileURLWithPath: journal.path))
        for mode in ["--yes", "--dry-run"] {
            let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", mode, "--min-age", "0", "--state-dir", state.path])
            #expect(result.status == 3, "\(mode): stdout: \(result.stdout)\nstderr: \(result.stderr)")
            #expect(result.stderr.contains("journal.jsonl: line 1 is not a journal record"), "\(result.stderr)")
            #expect(result.stderr.contains("move the journal aside"), "\(result.stderr)")
            #expect(try linkNames(ns) == ["lo", "l48bk1", "l48bk2"])
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: journal.path))) == bytes)
        }
        let shown = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal.path])
        #expect(shown.status == 3 && shown.stderr.contains("line 1 is not a journal record"), "\(shown.stderr)")
        // watch --reap does not start on it (killed after 20 s if it did).
        let watch = try Shell.capture(["timeout", "-s", "KILL", "20", Shell.tunwardenBinary, "--netns", ns.name, "watch", "--reap", "--min-age", "0",
                                       "--state-dir", state.path])
        #expect(watch.status == 3 && watch.stderr.contains("line 1 is not a journal record"), "\(watch.status): \(watch.stderr)")
        #expect(try linkNames(ns) == ["lo", "l48bk1", "l48bk2"])
    }

    /// The intents fit on the disk, the results do not: every device is deleted, the output says
    /// so device by device, the run exits 1 and never claims nothing was changed. The journal keeps
    /// its intents and the part of the results that fitted; once there is room again the next reap
    /// reports the record cut short, starts its own on a new line, and the journal reads whole.
    @Test func aReapThatCannotJournalItsResultsSaysWhatItDidAndExits1() throws {
        let calibration = try TestNamespace(), ns = try TestNamespace()
        let calibrationState = try TemporaryDirectory(), state = try TemporaryDirectory()
        defer { calibration.remove(); ns.remove(); calibrationState.remove(); state.remove() }
        // An odd count, so that half the results ends inside a record.
        let names = (0..<7).map { "jfull\($0)" }
        for namespace in [calibration, ns] {
            for name in names { try namespace.ip("tuntap", "add", "dev", name, "mode", "tun") }
        }

        // What this reap's records weigh, from the same reap in a twin namespace whose name may
        // differ in length.
        let calibrated = try Shell.capture([Shell.tunwardenBinary, "--netns", calibration.name, "reap", "--yes", "--min-age", "0",
                                            "--state-dir", calibrationState.path])
        try #require(calibrated.status == 0, "\(calibrated.stderr)")
        let lengthDifference = ns.name.utf8.count - calibration.name.utf8.count
        func weight(_ type: String) -> Int {
            lines(calibrationState.path + "/journal.jsonl").filter { $0.contains("\"type\":\"\(type)\"") }.reduce(0) { sum, line in
                sum + line.utf8.count + 1 + (line.components(separatedBy: calibration.name).count - 1) * lengthDifference
            }
        }
        let intents = weight("intent"), results = weight("result")
        try #require(intents > 0 && results > 0)

        // The tmpfs has 16 pages. The journal may grow by the intents and half the results: a
        // valid record fills it up to that much short of a page boundary, and a filler file takes
        // every page beyond.
        let room = intents + results / 2
        let pages = (room + 200 + 4095) / 4096
        try #require(pages <= 16, "the records do not fit a 64k tmpfs: \(room) bytes")
        let prefillLength = pages * 4096 - room
        let stub = #"{"time":"2026-01-01T00:00:00Z","run":"prefill","type":"result","ifname":"pad","ifindex":1,"result":"skipped","detail":""}"#
        let prefill = stub.replacingOccurrences(of: #""detail":"""#, with: "\"detail\":\"" + String(repeating: "x", count: prefillLength - stub.utf8.count - 1) + "\"") + "\n"
        #expect(prefill.utf8.count == prefillLength)
        try Data(prefill.utf8).write(to: URL(fileURLWithPath: state.path + "/prefill.jsonl"))

        let mountPoint = state.path + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let script = """
        dir=$1 bin=$2 ns=$3 state=$4 filler=$5
        mount -t tmpfs -o size=64k tmpfs "$dir" || exit 90
        dd if=/dev/zero of="$dir/filler" bs=4096 count="$filler" status=none || exit 91
        cp "$state/prefill.jsonl" "$dir/journal.jsonl" || exit 92
        "$bin" --netns "$ns" reap --yes --min-age 0 --state-dir "$state" --journal "$dir/journal.jsonl"
        status=$?
        cp "$dir/journal.jsonl" "$state/after-first.jsonl"
        rm "$dir/filler"
        ip -n "$ns" tuntap add dev jlate0 mode tun
        "$bin" --netns "$ns" reap --yes --min-age 0 --state-dir "$state" --journal "$dir/journal.jsonl" >"$state/second.out" 2>"$state/second.err"
        echo $? >"$state/second.status"
        cp "$dir/journal.jsonl" "$state/after-second.jsonl"
        exit $status
        """
        let result = try Shell.capture(["unshare", "-m", "sh", "-c", script, "sh", mountPoint, Shell.tunwardenBinary, ns.name, state.path, "\(16 - pages)"])
        // The tmpfs lived only in the unshared mount namespace.
        // (Read leniently: a mount point elsewhere may have a name that is not UTF-8.)
        #expect(!String(decoding: FileManager.default.contents(atPath: "/proc/self/mountinfo") ?? Data(), as: UTF8.self).contains(mountPoint))

        #expect(result.status == 1, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(ns) == ["lo"])
        for name in names { #expect(result.stdout.contains("Deleted tun \(name) (ifindex "), "missing \(name): \(result.stdout)") }
        #expect(result.stdout.contains("Reaped 7 of 7."))
        #expect(!result.stderr.contains("nothing was changed"), "\(result.stderr)")
        #expect(result.stderr.contains("the journal lacks this run's result records"))
        #expect(result.stderr.contains("No space left on device"))

        // The intents are all there; the results stop inside a record.
        let first = try Journal(path: state.path + "/after-first.jsonl").contents()
        #expect(first.records.filter { $0.type == .intent }.map(\.ifname).sorted() == names)
        let written = first.records.filter { $0.type == .result }.count
        #expect(written > 0 && written < 7, "\(written) results fitted")
        #expect(first.torn.count == 1)

        // With room again: the next reap goes on, saying where the record was cut short. The
        // devices whose results were lost are gone, which nothing in the journal proves deleted
        // rather than moved where no namespace shows them: those repairs are failed (exit 1).
        #expect(lines(state.path + "/second.status") == ["1"], "\(lines(state.path + "/second.err"))")
        #expect(lines(state.path + "/second.err").contains { $0.contains("Could not repair") && $0.contains("deleted (by that run, or since), or moved") })
        let tornAt = try #require(first.torn.first?.offset)
        #expect(lines(state.path + "/second.err").contains { $0.contains("warning:") && $0.contains("journal.jsonl: the record at byte \(tornAt) was cut short") })
        #expect(lines(state.path + "/second.out").contains { $0.hasPrefix("Deleted tun jlate0") })
        let second = try Journal(path: state.path + "/after-second.jsonl").contents()
        #expect(second.torn.map(\.offset) == [tornAt])
        // It first completed the cut-off run: a result for each device whose result was lost
        // (gone: deleted or moved), then its own intent and result.
        let firstRun = try #require(first.records.first { $0.type == .intent }?.run)
        let completed = second.records.filter { $0.run == firstRun && $0.type == .result }
        #expect(Set(completed.map(\.ifname)) == Set(names))
        #expect(completed.count == 7)
        #expect(second.records.filter { $0.run == firstRun && $0.type == .intent }.count == 7)
        #expect(second.records.suffix(2).map(\.ifname) == ["jlate0", "jlate0"])
        let shown = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", state.path + "/after-second.jsonl"])
        #expect(shown.status == 0)
        #expect(shown.stderr.contains("the record at byte \(tornAt) was cut short"))
        #expect(shown.stdout.contains("deleted  tun jlate0"))
    }
}
#endif

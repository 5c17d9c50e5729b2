#if os(Linux)
import Foundation
import Glibc
import Inventory
import Storage
import Testing
import TestSupport
import TunwardenCore

/// `watch` and the namespace it watches: the repair of a killed reap before `--reap` reaps, a
/// namespace made again under the watched name, and names that would break a log line. Against
/// the real kernel, as root, in throwaway namespaces.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct WatchNamespaceTests {
    typealias Watcher = WatchTests.Watcher

    /// `watch --reap` gives back what a reap killed outright in its namespace left fenced, under
    /// the reaping locks, before it reaps anything, as `reap` does: here a multi-queue tap left
    /// renamed, down and grouped. It is not deleted (it has not been orphaned for --min-age).
    @Test func watchReapRepairsAKilledReapFirst() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "wkmq0", "mode", "tap", "multi_queue")
        try ns.ip("link", "set", "wkmq0", "up")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let device = try #require(snapshot.interfaces.first { $0.name == "wkmq0" })
        let journal = Journal(path: state.path + "/journal.jsonl")
        try journal.append([JournalRecord(time: Date(), run: "killed", type: .intent, netns: ns.name, ifname: "wkmq0", ifindex: device.index,
                                          prior: PriorState(device, routes: []), fenceGroup: 0x1234_56d1, fenceName: "tw00000000000d1",
                                          namespaceIdentity: snapshot.namespaceIdentity)])
        try ns.ip("link", "set", "wkmq0", "down")
        try ns.ip("link", "set", "wkmq0", "name", "tw00000000000d1")
        try ns.ip("link", "set", "tw00000000000d1", "group", "\(0x1234_56d1)")
        let watcher = try Watcher(ns, state: state, extra: ["--reap", "--min-age", "1h"])
        try watcher.wait("the repair") { $0.contains("watch: Repaired wkmq0 (ifindex \(device.index))") }
        let link = try ns.ip("-d", "link", "show", "dev", "wkmq0")
        #expect(link.contains(",UP") && !link.contains("group \(0x1234_56d1)"), "\(link)")
        #expect(try journal.read().filter { $0.run == "killed" && $0.type == .result }.count == 1)
        #expect(watcher.terminate().status == 0)
    }

    /// The watched namespace deleted and made again under its name (a service restarting), with
    /// a new tap of the same name and index: the watcher reads nothing of the new namespace into
    /// the old one's facts and reaps nothing there; it stops and exits 3, saying why.
    @Test func aWatcherOfANamespaceMadeAgainStopsAndExits3() throws {
        var ns = try TestNamespace()
        let state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "wremade0", "mode", "tap")
        let watcher = try Watcher(ns, state: state, extra: ["--reap", "--min-age", "3s", "--stats-interval", "1s"])
        let name = ns.name
        ns.remove()
        ns = try TestNamespace(name: name)
        try ns.ip("tuntap", "add", "dev", "wremade0", "mode", "tap")
        let deadline = Date().addingTimeInterval(8)
        while watcher.process.isRunning, Date() < deadline { usleep(20_000) }
        #expect(!watcher.process.isRunning, "still watching: \(watcher.log)")
        _ = watcher.terminate()
        #expect(watcher.process.terminationStatus == 3, "\(watcher.log)")
        // (Whether it woke between the deletion and the new namespace or after both.)
        #expect(watcher.log.contains("watch: stopping: the namespace watched was deleted: '\(name)' names another network namespace now")
                || watcher.log.contains("watch: stopping: the namespace watched was deleted: no network namespace named '\(name)' any more"), "\(watcher.log)")
        #expect(try ns.ip("-br", "link").contains("wremade0"), "the new namespace's tap was deleted: \(watcher.log)")
        #expect(!watcher.log.contains("reap: wremade0"), "\(watcher.log)")
    }

    /// A watched namespace deleted while an alerted orphan's recovery is held back
    /// (--resolve-after), or with the orphan still in it: the sink is told `resolved` before the
    /// watcher exits 3, for no later run can tell it (a namespace made under the name is another).
    @Test(arguments: [true, false]) func aDeletedNamespacesOpenAlertIsResolvedBeforeTheWatcherExits(orphanGoneFirst: Bool) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let events = state.path + "/events"
        func sent() -> [String] { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        try ns.ip("tuntap", "add", "dev", "wdel0", "mode", "tun")
        let watcher = try Watcher(ns, state: state, extra: ["--stats-interval", "1s", "--resolve-after", "60s",
                                                            "--alert-exec", "echo \"$TUNWARDEN_EVENT $TUNWARDEN_PREVIOUS_STATUS $TUNWARDEN_NEW_ORPHANS\" >> \(events)"])
        let deadline = Date().addingTimeInterval(5)
        while sent().isEmpty, Date() < deadline { usleep(20_000) }
        #expect(sent() == ["transition ok wdel0"], "\(watcher.log)")
        if orphanGoneFirst {
            try ns.ip("link", "del", "wdel0")
            try watcher.wait("the judgement") { $0.contains("0 orphaned; status OK") }
        }
        ns.remove()
        let exit = Date().addingTimeInterval(10)
        while watcher.process.isRunning, Date() < exit { usleep(20_000) }
        #expect(!watcher.process.isRunning, "still watching a deleted namespace: \(watcher.log)")
        _ = watcher.terminate()
        #expect(watcher.process.terminationStatus == 3)
        #expect(watcher.log.contains("alert: resolved: OK (was WARNING). The namespace was deleted; its interfaces"), "\(watcher.log)")
        #expect(sent() == ["transition ok wdel0", "resolved warning "], "\(watcher.log)")
        #expect(try StateSQL.integers(state.path, "SELECT count(*) FROM alerts WHERE pending_exec") == [0])
        #expect(try StateSQL.integers(state.path, "SELECT count(*) FROM namespaces WHERE alerted_status <> 'ok'") == [0])
    }

    /// A namespace name with a newline (root can make one) never starts a log line of its own:
    /// under systemd that line could claim any priority. It is written `\x0a`, as names are.
    @Test func aNamespaceNameNeverBreaksALogLine() throws {
        let ns = try TestNamespace(name: "twtest-\(getpid())-nl\n<2>tunwarden: FORGED")
        let state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let watcher = try Watcher(ns, state: state, environment: ["JOURNAL_STREAM": "1:1"])
        #expect(watcher.terminate().status == 0)
        let lines = watcher.log.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("<2>") }, "\(watcher.log)")
        #expect(watcher.log.contains("watching namespace twtest-\(getpid())-nl\\x0a<2>tunwarden: FORGED for link"), "\(watcher.log)")
    }
}
#endif

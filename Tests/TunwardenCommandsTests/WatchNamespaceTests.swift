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
}
#endif

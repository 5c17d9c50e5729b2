#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// A watcher told to reload a configuration it cannot use keeps its running settings, says why,
/// and goes on watching and alerting; as root, in a throwaway namespace.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct WatchReloadTests {
    /// A YAML alias bomb (eight levels of ten, which took minutes to compose) is refused at once:
    /// the reload is logged as not done, naming the line, the watcher alerts a new orphan after
    /// it, and SIGTERM stops it.
    @Test func anAliasBombIsRefusedAndTheWatcherGoesOn() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let config = state.path + "/tunwarden.conf"
        try "limit: 500\n".write(toFile: config, atomically: true, encoding: .utf8)
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--config", config])
        var bomb = "limit: 10\nx0: &a0 [" + Array(repeating: "l", count: 10).joined(separator: ",") + "]\n"
        for level in 1...8 { bomb += "x\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]\n" }
        try (bomb + "? *a8\n: 1\n").write(toFile: config, atomically: true, encoding: .utf8)
        kill(watcher.process.processIdentifier, SIGHUP)
        try watcher.wait("the refused reload") {
            $0.contains("watch: SIGHUP: configuration not reloaded, keeping the running one: \(config):2: an anchor (&) is not allowed")
        }
        try ns.ip("tuntap", "add", "dev", "wrl0", "mode", "tun")
        try watcher.wait("the alert after the reload") { $0.contains("new orphans: wrl0") }
        let (seconds, status) = watcher.terminate()
        #expect(seconds < 5 && status == 0, "took \(seconds) s, status \(status): \(watcher.log)")
    }
}
#endif

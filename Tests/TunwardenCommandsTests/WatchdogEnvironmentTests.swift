#if os(Linux)
import Foundation
import Testing
import TestSupport

/// WATCHDOG_USEC is a number from outside: the watcher takes it only as systemd writes it.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct WatchdogEnvironmentTests {
    @Test(arguments: ["1e400", "-5", "nan", "0"])
    func aWatchdogIntervalSystemdWouldNotWriteIsLoggedAndIgnored(value: String) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let watcher = try WatchTests.Watcher(ns, state: state, environment: ["NOTIFY_SOCKET": state.path + "/no-socket", "WATCHDOG_USEC": value])
        #expect(watcher.log.contains("WATCHDOG_USEC='\(value)' is not a positive whole number of microseconds; not sending WATCHDOG=1"), "\(watcher.log)")
        #expect(watcher.terminate().status == 0)
    }
}
#endif

import ChildProcesses
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TunwardenCore

/// `route -n monitor`, running: every message the routing socket carries (routes added or
/// deleted, addresses, interface flags) arrives as text on a pipe the caller can poll. What the
/// messages say does not matter to tunwarden, only that something changed: it then re-reads the
/// whole snapshot. Interface arrival and departure travel on the kernel event socket instead, so
/// a watcher also re-reads on a slow timer.
public final class RouteMonitor {
    let child: ChildProcess.Running

    /// Starts `route -n monitor` from `tools`.
    public init(tools: DarwinTools) throws {
        guard let path = tools.locate("route") else {
            throw InventoryError("route not found in \(tools.searchPath.joined(separator: ":")); it is needed to watch the routing socket")
        }
        do {
            child = try ChildProcess.start(path, ["-n", "monitor"])
        } catch {
            throw InventoryError("\(error)")
        }
    }

    deinit { stop() }

    /// The descriptor that becomes readable when the monitor printed something (or ended).
    public var descriptor: Int32 { child.output }

    /// Reads what is waiting after `descriptor` polled readable. Returns false once the monitor has
    /// ended (end of file): the caller should start another.
    public func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        return count > 0 || (count < 0 && errno == EINTR)
    }

    /// Ends the monitor and waits for it: SIGTERM, then SIGKILL after a second. The monitor
    /// starts with signals unblocked, so SIGTERM ends it at once.
    public func stop() {
        child.stop(grace: 1)
    }
}

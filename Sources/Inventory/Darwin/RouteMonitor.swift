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
    let process = Process()
    let output = Pipe()

    /// Starts `route -n monitor` from `tools`.
    public init(tools: DarwinTools) throws {
        guard let path = tools.locate("route") else {
            throw InventoryError("route not found in \(tools.searchPath.joined(separator: ":")); it is needed to watch the routing socket")
        }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-n", "monitor"]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit { stop() }

    /// The descriptor that becomes readable when the monitor printed something (or ended).
    public var descriptor: Int32 { output.fileHandleForReading.fileDescriptor }

    /// Reads what is waiting after `descriptor` polled readable. Returns false once the monitor has
    /// ended (end of file): the caller should start another.
    public func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        return count > 0 || (count < 0 && errno == EINTR)
    }

    /// Ends the monitor and waits for it. SIGKILL: it holds nothing that needs cleaning up, and a
    /// child of a process with signals blocked (a test runner, Foundation's Process) would sit
    /// through SIGTERM.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

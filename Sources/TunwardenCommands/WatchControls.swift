import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if os(Linux)
import CLinuxShims
#endif

/// Writes one byte to a pipe's write end, leaving `errno` as it was (it is called from signal
/// handlers).
func wakePipe(_ descriptor: Int32) {
    var byte: UInt8 = 1
    let saved = errno
    _ = write(descriptor, &byte, 1)
    errno = saved
}

/// A close-on-exec pipe, both ends non-blocking when asked; both ends -1 when none could be made.
func makePipe(nonBlocking: Bool) -> (read: Int32, write: Int32) {
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { return (-1, -1) }
    for end in ends {
        _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        if nonBlocking { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
    }
    return (ends[0], ends[1])
}

/// Empties a non-blocking pipe.
func drainPipe(_ descriptor: Int32) {
    var buffer = [UInt8](repeating: 0, count: 64)
    while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
}

#if os(Linux)
/// The watcher's signals (SIGTERM, SIGINT: stop; SIGHUP: reload), through the shims' handlers
/// and their pipe.
struct SignalControl: WatchControl {
    init() { tw_install_watch_signals() }
    var descriptor: Int32 { tw_watch_signal_fd() }
    var stopRequested: Bool { tw_stop_requested() != 0 }
    func takeReload() -> Bool { tw_take_reload() != 0 }
    func drain() { drainPipe(descriptor) }
}
#endif

/// SIGTERM, SIGINT and SIGHUP through plain signal handlers and a pipe, where the Linux shims are
/// not used.
enum PortableSignals {
    nonisolated(unsafe) static var stop: sig_atomic_t = 0
    nonisolated(unsafe) static var reload: sig_atomic_t = 0
    nonisolated(unsafe) static var pipeEnds: [Int32] = [-1, -1]

    static func install() {
        let ends = makePipe(nonBlocking: true)
        if ends.read >= 0 { pipeEnds = [ends.read, ends.write] }
        signal(SIGTERM) { _ in PortableSignals.stop = 1; PortableSignals.wake() }
        signal(SIGINT) { _ in PortableSignals.stop = 1; PortableSignals.wake() }
        signal(SIGHUP) { _ in PortableSignals.reload = 1; PortableSignals.wake() }
    }

    /// Writes a byte to the pipe, from a signal handler.
    static func wake() {
        wakePipe(pipeEnds[1])
    }

    /// Whether a reload was asked for since the last call.
    static func takeReload() -> Bool {
        guard reload != 0 else { return false }
        reload = 0
        return true
    }
}

/// `PortableSignals` as the loop's control.
struct PortableSignalControl: WatchControl {
    var descriptor: Int32 { PortableSignals.pipeEnds[0] }
    var stopRequested: Bool { PortableSignals.stop != 0 }
    func takeReload() -> Bool { PortableSignals.takeReload() }
    func drain() { drainPipe(descriptor) }
}

/// A control for tests: `stop()` and `requestReload()` from another thread wake the loop through a pipe.
final class PipeControl: WatchControl, @unchecked Sendable {
    private let ends: [Int32]
    private let lock = NSLock()
    private var stopping = false
    private var reloading = false

    init() {
        var ends: [Int32] = [-1, -1]
        _ = pipe(&ends)
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        self.ends = ends
    }

    deinit { ends.forEach { _ = close($0) } }

    var descriptor: Int32 { ends[0] }
    var stopRequested: Bool { lock.withLock { stopping } }
    func takeReload() -> Bool { lock.withLock { defer { reloading = false }; return reloading } }
    func drain() { drainPipe(ends[0]) }

    func stop() {
        lock.withLock { stopping = true }
        wake()
    }

    func requestReload() {
        lock.withLock { reloading = true }
        wake()
    }

    private func wake() {
        wakePipe(ends[1])
    }
}

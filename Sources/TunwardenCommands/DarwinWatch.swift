import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Inventory
import Storage
import TunwardenCore

/// The watcher where there is no rtnetlink (macOS): `route -n monitor` reports routing-socket
/// changes, each burst is coalesced into one fresh snapshot from the system's tools, judged as
/// `audit` judges it; a slow periodic re-read (`--stats-interval`) catches what the routing socket
/// does not carry (interfaces arriving and leaving, holders exiting). It is written for macOS but
/// compiles everywhere, so it is tested on Linux with stand-in tools.
struct DarwinWatchLoop {
    var inventory: DarwinInventory
    var store: StateStore
    var runtime: Watch.Runtime
    /// How long to wait before starting another `route -n monitor` after one ended.
    var monitorRestartDelay: TimeInterval = 5
    /// Called after each judgement (for tests).
    var judged: (Assessment) -> Void = { _ in }

    /// Runs until `shouldStop` says so. `takeReload` reports a pending reload request, which
    /// `reload` turns into new settings (or nil to keep the running ones).
    mutating func run(shouldStop: () -> Bool, takeReload: () -> Bool = { false }, reload: (Watch.Runtime) -> Watch.Runtime? = { _ in nil }) {
        var lastSummary = ""
        var monitor: RouteMonitor?
        do {
            monitor = try RouteMonitor(tools: inventory.tools)
        } catch {
            Terminal.log("watch: \(error); re-reading every \(DurationText.format(runtime.statsInterval)) instead", priority: 4)
        }
        var monitorRestartAt: Date?
        func evaluate() -> Bool {
            do {
                let (assessment, _) = try Watch.judge(try inventory.snapshot(), runtime: runtime, store: store, lastSummary: &lastSummary,
                                                      giveUp: { _ in shouldStop() })
                judged(assessment)
                return true
            } catch let busy as RunLock.Busy {
                Terminal.note("watch: observations not saved, retrying: \(busy)")
                return false
            } catch {
                Terminal.note("watch: inventory failed, retrying: \(error)")
                return false
            }
        }
        _ = evaluate()
        Terminal.log("watch: watching the routing socket (route -n monitor), re-reading every \(DurationText.format(runtime.statsInterval))")
        var pendingSince: Date?
        var nextReread = Date().addingTimeInterval(runtime.statsInterval)
        while !shouldStop() {
            if let current = monitor {
                var descriptor = pollfd(fd: current.descriptor, events: Int16(POLLIN), revents: 0)
                if poll(&descriptor, 1, 100) > 0 {
                    if current.drain() {
                        if pendingSince == nil { pendingSince = Date() }
                    } else {
                        Terminal.log("watch: route -n monitor ended; starting another in \(DurationText.format(monitorRestartDelay))", priority: 4)
                        current.stop()
                        monitor = nil
                        monitorRestartAt = Date().addingTimeInterval(monitorRestartDelay)
                    }
                }
            } else {
                usleep(100_000)
            }
            if monitor == nil, let at = monitorRestartAt, Date() >= at {
                monitor = try? RouteMonitor(tools: inventory.tools)
                monitorRestartAt = monitor == nil ? Date().addingTimeInterval(monitorRestartDelay) : nil
                // What changed while nobody listened is picked up at once.
                if monitor != nil, pendingSince == nil { pendingSince = .distantPast }
            }
            if takeReload(), let reloaded = reload(runtime) {
                runtime = reloaded
                if pendingSince == nil { pendingSince = .distantPast }
            }
            if Date() >= nextReread, pendingSince == nil { pendingSince = .distantPast }
            if let since = pendingSince, Date().timeIntervalSince(since) * 1000 >= Double(runtime.coalesce) {
                pendingSince = evaluate() ? nil : Date()
                nextReread = Date().addingTimeInterval(runtime.statsInterval)
            }
        }
        monitor?.stop()
    }
}

/// SIGTERM, SIGINT and SIGHUP through plain signal handlers, where the Linux shims are not used.
enum PortableSignals {
    nonisolated(unsafe) static var stop: sig_atomic_t = 0
    nonisolated(unsafe) static var reload: sig_atomic_t = 0

    static func install() {
        signal(SIGTERM) { _ in PortableSignals.stop = 1 }
        signal(SIGINT) { _ in PortableSignals.stop = 1 }
        signal(SIGHUP) { _ in PortableSignals.reload = 1 }
    }

    /// Whether a reload was asked for since the last call.
    static func takeReload() -> Bool {
        guard reload != 0 else { return false }
        reload = 0
        return true
    }
}

import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Inventory
import Netlink
#if os(Linux)
import CLinuxShims
#endif
import Storage
import TunwardenCore

/// `tunwarden watch`: a long-running watcher that alerts on leaks as they happen.
public struct Watch: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Watch tunnel interfaces and alert on changes as they happen (Linux: rtnetlink events).",
        discussion: """
        Subscribes to the kernel's link, address and route events. A burst of events is coalesced \
        (--coalesce), then one fresh, consistent inventory is judged exactly as `audit` judges it, with the \
        same observations, leak detection, alerts (on transitions only) and metrics. Nothing is polled: with \
        no events the watcher sleeps. If the kernel reports lost events (ENOBUFS) it resynchronises with a \
        full inventory and logs that it did.

        A holder that exits turns its device's carrier off, which is an event: the orphaned-tun alert \
        follows within the coalescing delay plus one inventory.

        SIGTERM or SIGINT: the state is saved and the watcher exits 0. Under systemd (NOTIFY_SOCKET) it \
        sends READY=1 after the first inventory, STATUS= after each, and WATCHDOG=1 when WatchdogSec is set.

        Example:
          sudo tunwarden watch --alert-exec 'logger -t tunwarden' --textfile /var/lib/node_exporter/textfile_collector/tunwarden.prom
        """
    )

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var state: StateOptions
    @OptionGroup public var monitoring: MonitoringOptions

    @Option(name: .long, help: ArgumentHelp("Tunnel-style interfaces at which the count is critical.", valueName: "n"))
    public var limit: Int = 95

    @Option(name: .long, help: ArgumentHelp("Count from which the count is a warning (default: 80% of --limit).", valueName: "n"))
    public var warn: Int?

    @Option(name: .long, help: ArgumentHelp("How long to gather a burst of events before judging, in milliseconds.", valueName: "ms"))
    public var coalesce: Int = 200

    @Option(name: .customLong("event-buffer"), help: ArgumentHelp(
        "Receive buffer of the event socket in bytes; events beyond it are lost and trigger a resynchronisation.", valueName: "bytes"))
    public var eventBuffer: Int = 8 * 1024 * 1024

    public init() {}

    public func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1 (got \(limit))") }
        if let warn, warn < 1 || warn > limit { throw ValidationError("--warn must be between 1 and --limit (\(limit)); got \(warn)") }
        guard (0...60_000).contains(coalesce) else { throw ValidationError("--coalesce takes milliseconds from 0 to 60000; got \(coalesce)") }
        guard eventBuffer >= 1024 else { throw ValidationError("--event-buffer must be at least 1024 bytes; got \(eventBuffer)") }
        if state.noState { throw ValidationError("watch keeps observations to alert on changes: drop --no-state") }
    }

    public func run() throws {
        #if os(Linux)
        tw_install_watch_signals()
        let notifier = SystemdNotifier()
        let inventory = LinuxInventory(namespaceName: global.netns)
        let events: NetlinkSocket
        do {
            events = try inventory.eventSocket(receiveBuffer: Int32(clamping: eventBuffer))
        } catch {
            Terminal.error("cannot subscribe to rtnetlink events: \(error)")
            Terminal.exit(AuditStatus.unknown.exitCode)
        }
        // A down device losing its last holder raises no rtnetlink event (the kernel reports carrier
        // changes only for devices that are up), so holders' exits are watched too: through the proc
        // connector where it is available, otherwise by checking the known holders every second.
        let processEvents = tw_proc_events_open()
        if processEvents < 0 {
            Terminal.log("watch: process exit events unavailable (\(String(cString: strerror(-processEvents)))); checking known holders every second instead")
        }
        let policy = AuditPolicy(limit: limit, warnAt: warn)
        var lastSummary = ""
        var holderPIDs = Set<Int32>()
        func evaluate() -> Bool {
            do {
                let snapshot = try inventory.snapshot()
                holderPIDs = Set(snapshot.holders.attachments.map(\.holder.pid))
                let (assessment, observations) = Audit.observe(Heuristics.assess(snapshot, policy: policy), store: state.store, monitoring: monitoring)
                monitoring.writeMetrics(assessment, observations: observations)
                let summary = AuditTable.summaryLine(assessment)
                if summary != lastSummary { Terminal.log("watch: \(summary)") }
                lastSummary = summary
                notifier?.send("STATUS=\(summary)")
                return true
            } catch {
                Terminal.note("watch: inventory failed, retrying: \(error)")
                return false
            }
        }

        _ = evaluate()
        Terminal.log("watch: watching \(global.netns.map { "namespace \($0)" } ?? "this namespace") for link, address and route events")
        notifier?.send("READY=1")
        var pendingSince: Date?
        var lastWatchdog = Date()
        var lastHolderCheck = Date()
        var descriptors = [pollfd(fd: events.descriptor, events: Int16(POLLIN), revents: 0)]
        if processEvents >= 0 { descriptors.append(pollfd(fd: processEvents, events: Int16(POLLIN), revents: 0)) }
        var exited = [Int32](repeating: 0, count: 256)
        while tw_stop_requested() == 0 {
            for i in descriptors.indices { descriptors[i].revents = 0 }
            // Signals interrupt the wait (EINTR), so a stop request is seen at once.
            if poll(&descriptors, nfds_t(descriptors.count), 100) > 0 {
                if descriptors[0].revents != 0 {
                    // Drain what is queued; its content does not matter, only that something changed.
                    while events.waitReadable(milliseconds: 0) {
                        do {
                            _ = try events.receive()
                        } catch NetlinkError.system(_, let code) where code == ENOBUFS {
                            Terminal.log("watch: events were lost (ENOBUFS); resynchronising with a full inventory")
                        } catch {
                            Terminal.note("watch: receiving events failed: \(error)")
                            break
                        }
                        if pendingSince == nil { pendingSince = Date() }
                    }
                }
                if descriptors.count > 1, descriptors[1].revents != 0 {
                    var more = true
                    while more {
                        let count = tw_proc_events_read(processEvents, &exited, Int32(exited.count))
                        if count == -ENOBUFS || exited.prefix(Int(max(count, 0))).contains(where: holderPIDs.contains) {
                            if pendingSince == nil { pendingSince = Date() }
                        }
                        var probe = pollfd(fd: processEvents, events: Int16(POLLIN), revents: 0)
                        more = count >= 0 && poll(&probe, 1, 0) > 0
                    }
                }
            }
            if processEvents < 0, Date().timeIntervalSince(lastHolderCheck) >= 1 {
                lastHolderCheck = Date()
                if holderPIDs.contains(where: { kill($0, 0) != 0 && errno == ESRCH }), pendingSince == nil { pendingSince = Date() }
            }
            if tw_take_reload() != 0 {
                Terminal.log("watch: SIGHUP: no configuration file is in use; the command-line options stay as they are")
            }
            if let since = pendingSince, Date().timeIntervalSince(since) * 1000 >= Double(coalesce) {
                pendingSince = evaluate() ? nil : Date()
            }
            if let interval = notifier?.watchdogInterval, Date().timeIntervalSince(lastWatchdog) >= interval / 2 {
                notifier?.send("WATCHDOG=1")
                lastWatchdog = Date()
            }
        }
        if processEvents >= 0 { close(processEvents) }
        notifier?.send("STOPPING=1")
        Terminal.log("watch: stopping on signal; observations are saved after every judgement")
        Terminal.exit(0)
        #else
        Terminal.error("watch is not available on this platform yet; run `tunwarden audit` from a timer instead")
        Terminal.exit(AuditStatus.unknown.exitCode)
        #endif
    }
}

/// The systemd notification protocol (sd_notify): datagrams to $NOTIFY_SOCKET.
struct SystemdNotifier {
    let path: String
    /// Half of this is how often WATCHDOG=1 is sent, when systemd asked for it.
    let watchdogInterval: TimeInterval?

    init?() {
        let environment = ProcessInfo.processInfo.environment
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        self.path = path
        if let usec = environment["WATCHDOG_USEC"].flatMap(Double.init),
           environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true {
            watchdogInterval = usec / 1_000_000
        } else {
            watchdogInterval = nil
        }
    }

    func send(_ message: String) {
        #if os(Linux)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        // A leading '@' names an abstract socket: a NUL byte in the kernel's view.
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        _ = Array(message.utf8).withUnsafeBytes { payload in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, payload.baseAddress, payload.count, 0, $0, length)
                }
            }
        }
        #endif
    }
}

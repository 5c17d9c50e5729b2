import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Inventory
import Netlink
import Reaper
#if os(Linux)
import CLinuxShims
#endif
import Storage
import TunwardenConfig
import TunwardenCore

/// `tunwarden watch`: a long-running watcher that alerts on leaks as they happen.
public struct Watch: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch tunnel interfaces and alert on changes as they happen (Linux: rtnetlink events).",
        usage: "tunwarden watch [<options>]",
        discussion: """
        Run it as a service (`systemctl enable --now tunwarden-watch`) or by hand. It takes one \
        inventory, then follows the kernel's link, address and route events (on macOS, `route -n \
        monitor`) and judges again what they touch, exactly as `audit` judges, with the same \
        observations, alerts and metrics. Alerts fire on changes only (the status moving, a new \
        orphan); each is logged on standard error and sent to --alert-exec or --alert-webhook. \
        A better status is alerted only once it has lasted --resolve-after (default 60s), and a \
        device alerted stays remembered that long after it stops being an orphan, so a daemon \
        restarting in a loop on its tun raises one alert, not two per restart.

        With --reap it also removes, without asking, what `tunwarden reap --yes` would: orphans \
        tunwarden has seen orphaned for --min-age (default 15m, counted from its own first \
        sighting), journaled as reap does. See what that would be with `sudo tunwarden reap \
        --dry-run` first.

        Examples:
          sudo tunwarden watch --alert-exec 'logger -t tunwarden' \\
            --textfile /var/lib/prometheus/node-exporter/tunwarden.prom
          sudo tunwarden watch --reap --min-age 1h --protect 'wg*'

        SIGHUP re-reads the configuration file (a bad file is logged and the running settings are \
        kept); SIGTERM or SIGINT save the state and exit 0. A watched namespace that is deleted, or \
        made again under its name, ends the watch with exit status 3. Under systemd \
        (NOTIFY_SOCKET) it sends READY=1 after the first inventory, STATUS= after each, and \
        WATCHDOG=1 when WatchdogSec is set.

        What raises no event and how it is followed anyway (holders exiting, tun nodes opened, \
        vxlan forwarding entries), lost events, how often counters are read and state and metrics \
        written: tunwarden(8), section watch, and README.md.
        """
    )

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var state: StateDirectoryOption
    @OptionGroup public var monitoring: MonitoringOptions

    @Option(name: .long, help: ArgumentHelp("Tunnel-style interfaces at which the count is critical (default: 95).", valueName: "n"))
    public var limit: Int?

    @Option(name: .long, help: ArgumentHelp("Count from which the count is a warning (default: 80% of --limit).", valueName: "n"))
    public var warn: Int?

    @Option(name: .long, help: ArgumentHelp("How long to gather a burst of events before judging, in milliseconds (default: 200).", valueName: "ms"))
    public var coalesce: Int?

    @Option(name: .customLong("event-buffer"), help: ArgumentHelp(
        "Receive buffer of the event socket in bytes; events beyond it are lost and trigger a resynchronisation (default: 8388608).", valueName: "bytes"))
    public var eventBuffer: Int?

    @Option(name: .customLong("stats-interval"), help: ArgumentHelp(
        "How often tunnel-style interfaces' traffic counters are read, for 'idle since': 30s, 5m; a number needs its unit (default: 60s).", valueName: "duration"))
    public var statsInterval: String?

    @Option(name: .customLong("resolve-after"), help: ArgumentHelp(
        "How long a better status must last before it is alerted (resolved, or a transition down): 30s, 2m; 0 alerts it at once (default: 60s).",
        discussion: "A worse status or a new orphan is alerted at once. A device alerted stays remembered for it after it stops being an orphan, whatever the status does meanwhile: orphaned again within it (a daemon restarting in a loop, a multi-queue holder letting go, the device renamed) it is no new orphan and raises no alert.",
        valueName: "duration"))
    public var resolveAfter: String?

    @OptionGroup(title: "Reaping") public var reaping: WatchReaping

    public init() {}

    public func validate() throws {
        try OptionCheck.number(limit, "--limit", in: SettingBounds.count)
        try OptionCheck.number(warn, "--warn", in: SettingBounds.count)
        if let warn, let limit, warn > limit {
            throw ValidationError("--warn must be between 1 and --limit (\(limit)); got \(warn)")
        }
        try OptionCheck.number(coalesce, "--coalesce", in: SettingBounds.coalesce)
        try OptionCheck.number(eventBuffer, "--event-buffer", in: SettingBounds.eventBuffer)
        try OptionCheck.duration(statsInterval, "--stats-interval", minimum: SettingBounds.shortestInterval, examples: "30s or 5m")
        try OptionCheck.duration(resolveAfter, "--resolve-after", minimum: 0, examples: "30s or 2m")
        if state.noState { throw ValidationError("watch keeps observations to alert on changes: drop --no-state") }
        for kind in reaping.rules.only {
            if let refusal = ReapOptions.refusal(onlyKind: kind, capture: false) { throw ValidationError("--only takes no '\(kind)': \(refusal)") }
        }
    }

    /// What a running watcher does, from the command line and the configuration file. A SIGHUP
    /// rebuilds it from the file; the namespace, state directory and event buffer stay as they
    /// were at start.
    struct Runtime {
        var namespace: String?
        var stateDirectory: String
        var eventBuffer: Int
        var policy: AuditPolicy
        var monitoring: Monitoring
        var coalesce: Int
        var statsInterval: TimeInterval
        var reap: Bool
        var reapPolicy: ReapPolicy
        var journalPath: String
        /// How long an improvement of the status must last before it is alerted (see
        /// `AlertDecision.Hold`).
        var resolveAfter: TimeInterval = 60

        /// The settings only a restart can change, for a reload's message.
        var fixed: [String: String] {
            ["netns": namespace.map { InterfaceName.text(Array($0.utf8)) } ?? "(this process's own)", "state-dir": stateDirectory,
             "event-buffer": "\(eventBuffer)"]
        }
    }

    func runtime(_ settings: Settings) throws -> Runtime {
        Runtime(
            namespace: settings.namespace(global),
            stateDirectory: settings.stateDirectory(given: state.stateDirectory),
            eventBuffer: settings.integer(eventBuffer, "event-buffer", default: 8 * 1024 * 1024),
            policy: try settings.checkedCountPolicy(limit: limit, warn: warn),
            monitoring: monitoring.resolved(settings),
            coalesce: settings.integer(coalesce, "coalesce", default: 200),
            statsInterval: settings.duration(statsInterval, "stats-interval", default: 60),
            reap: settings.flag(reaping.reap, "reap", default: false),
            reapPolicy: try reaping.rules.policy(settings, capture: false),
            journalPath: reaping.rules.journalPath(settings, stateDirectory: settings.stateDirectory(given: state.stateDirectory)),
            resolveAfter: settings.duration(resolveAfter, "resolve-after", default: 60)
        )
    }

    /// The settings the watcher starts with; settings that contradict each other end the run with
    /// exit code 64 before anything is watched.
    func startingRuntime() throws -> Runtime {
        do {
            let runtime = try runtime(try Settings.load(global, for: .watch))
            let ignored = reaping.givenRules
            if !runtime.reap, !ignored.isEmpty {
                throw SettingsConflict(description: "\(ignored.joined(separator: ", ")) act\(ignored.count == 1 ? "s" : "") only when the watcher reaps: add --reap (or set reap: true under watch: in the configuration file), or drop \(ignored.count == 1 ? "it" : "them")")
            }
            return runtime
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(ExitCode.validationFailure.rawValue)
        }
    }

    public func run() throws {
        #if os(Linux)
        let control = SignalControl()
        let runtime = try startingRuntime()
        let source: LinuxEventSource
        do {
            // A named namespace is held: the watcher looks at the one it subscribed to, and stops
            // once its name names another one or none (see `LinuxEventSource.gone`).
            let inventory = try runtime.namespace.map { LinuxInventory(holding: try HeldNamespace(name: $0)) } ?? LinuxInventory()
            source = try LinuxEventSource(inventory: inventory, receiveBuffer: Int32(clamping: runtime.eventBuffer))
        } catch {
            Terminal.error("cannot subscribe to rtnetlink events: \(ErrorAdvice.text(error))")
            throw ExitCode(AuditStatus.unknown.exitCode)
        }
        if runtime.reap {
            do { try Journal(path: runtime.journalPath).checkWritable() } catch {
                Terminal.error("--reap needs a journal it can write: \(error)")
                throw ExitCode(AuditStatus.unknown.exitCode)
            }
        }
        let loop = WatchLoop(source: source, store: Self.store(runtime.stateDirectory, control: control), runtime: runtime, control: control,
                             notifier: SystemdNotifier())
        loop.reload = reload
        let repairs = RepairCheck()
        loop.reaper = { assessment, observations in
            // Facts of a namespace whose name names another now are no plan for either.
            guard loop.runtime.reap, loop.gone == nil else { return nil }
            return reapDue(assessment, observations: observations, runtime: loop.runtime, store: loop.store,
                           held: source.kernel.inventory.held, repairs: repairs)
        }
        let reaping = runtime.reap ? "; reaping orphans after \(DurationText.exact(runtime.reapPolicy.minimumAge))" : ""
        let watched = runtime.namespace.map { "namespace \(InterfaceName.text(Array($0.utf8)))" } ?? "this namespace"
        loop.run(watching: "\(watched) for link, address, route and forwarding-entry events\(reaping)")
        loop.notifier?.send("STOPPING=1")
        if let gone = loop.gone {
            // Its sockets would keep the deleted namespace, and the devices in it, alive. Exit 3:
            // there is nothing left to watch (a restart finds no namespace and exits 3 again).
            Terminal.log("watch: stopping: the namespace watched was deleted: \(gone)", priority: 3)
            loop.closeDeletedNamespace(stop: (control.descriptor, { control.stopRequested }))
            throw ExitCode(AuditStatus.unknown.exitCode)
        }
        Terminal.log("watch: stopping on signal")
        throw ExitCode(0)
        #elseif os(macOS)
        PortableSignals.install()
        var runtime = try startingRuntime()
        if runtime.namespace != nil {
            Terminal.error("--netns is for Linux network namespaces")
            throw ExitCode(ExitCode.validationFailure.rawValue)
        }
        if runtime.reap {
            Terminal.log("watch: reaping from the watcher is Linux-only for now; run `tunwarden reap --yes` from a timer instead", priority: 4)
            runtime.reap = false
        }
        let source = RouteMonitorSource(inventory: DarwinInventory(privileged: geteuid() == 0), rereadInterval: runtime.statsInterval)
        let control = PortableSignalControl()
        let loop = WatchLoop(source: source, store: Self.store(runtime.stateDirectory, control: control), runtime: runtime,
                             control: control, notifier: SystemdNotifier())
        loop.reload = reload
        loop.run(watching: "the routing socket (route -n monitor), re-reading every \(DurationText.exact(runtime.statsInterval))")
        Terminal.log("watch: stopping on signal")
        throw ExitCode(0)
        #else
        Terminal.error("watch is not available on this platform; run `tunwarden audit` from a timer instead")
        throw ExitCode(AuditStatus.unknown.exitCode)
        #endif
    }

    /// How long the watcher waits for another run's hold on the state directory before it tries
    /// again later: a wait blocks the event loop (and systemd's watchdog with it).
    static let lockPatience: TimeInterval = 5

    /// How long the watcher waits for another connection's write lock on the state database
    /// (someone's `sqlite3` shell left in a transaction): the wait blocks the event loop, so the
    /// judgement is alerted without the state after it and recorded again later. A stop asked
    /// meanwhile ends the wait at once.
    static let databasePatience: TimeInterval = 2

    /// The watcher's state store, whose waits on the database's lock give up on a stop.
    static func store(_ directory: String, control: any WatchControl) -> StateStore {
        StateStore(directory: directory, busyWait: BusyWait(timeout: databasePatience, giveUp: { control.stopRequested }))
    }

    /// Re-reads the configuration file after SIGHUP. A file that cannot be used is logged and the
    /// running configuration kept; settings only a restart can change are named and kept.
    func reload(_ current: Runtime) -> Runtime? {
        let next: Runtime
        do {
            next = try runtime(Settings(file: try Configuration.load(explicitPath: global.config), section: .watch))
        } catch {
            Terminal.log("watch: SIGHUP: configuration not reloaded, keeping the running one: \(error)", priority: 3)
            return nil
        }
        var kept = next
        kept.namespace = current.namespace
        kept.stateDirectory = current.stateDirectory
        kept.eventBuffer = current.eventBuffer
        let needRestart = next.fixed.filter { current.fixed[$0.key] != $0.value }.keys.sorted()
        if !needRestart.isEmpty {
            Terminal.log("watch: SIGHUP: \(needRestart.joined(separator: ", ")) changed but take effect only on restart; keeping the running value", priority: 4)
        }
        Terminal.log("watch: SIGHUP: configuration reloaded (limit \(kept.policy.limit), reap \(kept.reap ? "on" : "off"))")
        return kept
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
        // systemd writes a positive whole number of microseconds; anything else is not its doing.
        let usec = environment["WATCHDOG_USEC"].flatMap { UInt64($0) }.flatMap { $0 > 0 ? $0 : nil }
        if let text = environment["WATCHDOG_USEC"], usec == nil {
            Terminal.log("watch: WATCHDOG_USEC='\(text)' is not a positive whole number of microseconds; not sending WATCHDOG=1", priority: 4)
        }
        if let usec, environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true {
            watchdogInterval = Double(usec) / 1_000_000
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

/// Whether the watcher reaps, and by which rules: those of `reap`, shown together in `watch
/// --help` so that the options that act only with --reap stand beside it.
public struct WatchReaping: ParsableArguments {
    @Flag(name: .long, inversion: .prefixedNo, help: ArgumentHelp(
        "Reap automatically: what `tunwarden reap` would remove, with the same plan, --min-age, protection and journal (default: no).",
        discussion: "Orphans become targets once seen orphaned for --min-age; the watcher wakes when the first one is due."))
    public var reap: Bool?

    @OptionGroup public var rules: ReapOptions

    public init() {}

    /// The reaping options given on the command line, which a watcher that does not reap would
    /// quietly ignore.
    var givenRules: [String] {
        var given: [String] = []
        if rules.minAge != nil { given.append("--min-age") }
        if !rules.protect.isEmpty { given.append("--protect") }
        if !rules.only.isEmpty { given.append("--only") }
        if rules.journal != nil { given.append("--journal") }
        return given
    }
}

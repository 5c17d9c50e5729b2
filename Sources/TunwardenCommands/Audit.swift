import ArgumentParser
import Foundation
import Storage
import TunwardenConfig
import TunwardenCore

/// How a report is printed.
extension ColorChoice: ExpressibleByArgument {}

public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json, nagios
}

/// How `reap`, `journal` and `history` print: for people or for programs. They have no Nagios
/// line, so their `--format` neither lists nor takes one.
public enum ListingFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json
}

/// `tunwarden audit`: one inventory, judged once, printed for people or programs.
public struct Audit: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Inventory tunnel interfaces and their routes, and report what is orphaned, leaking or dangerous.",
        usage: "tunwarden audit [<options>]",
        discussion: """
        Each tunnel-style interface (tun, tap, veth, vxlan, geneve, gre, gretap, ipip, sit, ip6tnl, ip6gre, \
        vti, xfrm, wireguard) gets a state:
          live      something uses it (a holder, an attached
                    queue, or a kernel-owned tunnel)
          orphaned  persistent, no carrier (multi-queue: no queue
                    attached), and no process holds it
          suspect   looks abandoned but cannot be proven so (a
                    veth whose peer is gone, a tap with a macvlan
                    on it or enslaved to a bridge)
          unknown   cannot be judged (holders unreadable: run as root)

        AGE, in the table, is the time since tunwarden first saw the interface ((new) the first \
        time), not how old it is: the kernel keeps no creation time. A finding tagged [reapable] is \
        one `tunwarden reap` may remove, once tunwarden has seen it orphaned for --min-age (default \
        15m, counted the same way).

        On macOS (or for a capture from one, with --from) utun and feth interfaces are judged too, and \
        tuntaposx's tun and tap (tun0 to tun15, tap0 to tap15) by the status line of their ifconfig block: \
        open (pid N) is live, closed leaves the routes into it leading nowhere.

        Findings: \(FindingID.all.joined(separator: ", ")). The JSON schema is in README.md.

        The default --limit of 95 is where macOS users report network trouble: anecdotal, since no \
        kernel constant says so (XNU allows 65,536 utun units).

        Names that are not printable UTF-8 are shown with \\xHH for each such byte and \\\\ for a \
        backslash (like ls -b), in every format; tunwarden acts on the kernel's exact bytes.

        Without root, holders of other users' processes cannot be read; tunwarden then calls nothing \
        orphaned and exits 3 (unknown) unless something is worse.

        Examples:
          sudo tunwarden audit
              what is stale, what is dangerous
          sudo tunwarden audit --no-state
              the same as a trial: nothing written
          sudo tunwarden --netns blue audit
              the namespace `ip netns` calls blue
          sudo tunwarden audit --format json
              the JSON report (schema in README.md)
          tunwarden audit --from paste.txt
              a Mac's netstat/ifconfig paste
        """
    )

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var state: StateOptions
    @OptionGroup public var monitoring: MonitoringOptions

    @Option(name: .long, help: "Output: table (for people; the default), json (for programs) or nagios (one plugin line).")
    public var format: OutputFormat?

    @Option(name: .long, help: ArgumentHelp("Tunnel-style interfaces at which the count is critical (default: 95, where macOS users report trouble; anecdotal, no kernel limit).", valueName: "n"))
    public var limit: Int?

    @Option(name: .long, help: ArgumentHelp("Count from which the count is a warning (default: 80% of --limit).", valueName: "n"))
    public var warn: Int?

    @Flag(name: .long, inversion: .prefixedNo, help: "Also list interfaces that are not tunnels, as context (default: no).")
    public var all: Bool?

    @Option(name: .long, help: ArgumentHelp(
        "Audit a captured macOS snapshot instead of this system: a directory (ifconfig.txt, netstat.txt, lsof.txt, ps.txt) or one pasted file.",
        discussion: """
        The file may be a whole terminal session, ticket or saved forum post mixing ifconfig, netstat -r, lsof and ps \
        output with prompts and prose, even with its line breaks lost. What it does not show (other interfaces, \
        filtered routes, other processes' holders, the processes a clipped paste stops before) is reported as unknown, never guessed. Works on any OS, but reads a Mac's output only: \
        another machine's Linux listing beside it (a VM's `ip addr`, a container's net-tools `ifconfig` or `route -n`) \
        is set aside with a note naming its lines, and input holding nothing but Linux output is refused (on Linux, run \
        `sudo tunwarden audit`); `ip route` of Homebrew's iproute2mac is named, not read (paste `netstat -rn`). A routing table none of whose rows can be \
        read makes the answer unknown; `route -n get default` stands for the general default where no table lists it. \
        `-` reads one pasted file from standard input (`pbpaste | tunwarden audit --from -`); \
        files must be regular files (a FIFO or a device is refused). Capture with `tunwarden snapshot DIR` on the Mac.
        """,
        valueName: "path"))
    public var from: String?

    @Flag(name: [.customShort("v"), .long], help: "List every finding, even many of one kind (grouped otherwise); with --from, also say which lines were read as what.")
    public var verbose = false

    @Flag(name: [.customShort("q"), .long], help: ArgumentHelp(
        "Print no report: the exit code is the answer (0 ok, 1 warning, 2 critical, 3 unknown).",
        discussion: "Errors still go to standard error, and so does each alert as it fires (`tunwarden: alert: …`), whether or not --alert-exec or --alert-webhook is set; alerts fire on changes only. Observations, alerts and metrics are kept as usual."))
    public var quiet = false

    @Option(name: .long, help: ArgumentHelp(
        "Colour the table: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always, or never (default: auto).",
        valueName: "when"))
    public var color: ColorChoice?

    public init() {}

    public func validate() throws {
        try OptionCheck.number(limit, "--limit", in: SettingBounds.count)
        try OptionCheck.number(warn, "--warn", in: SettingBounds.count)
        if let warn, let limit, warn > limit {
            throw ValidationError("--warn must be between 1 and --limit (\(limit)); got \(warn)")
        }
        try OptionCheck.path(from, "--from")
        if from != nil, global.netns != nil { throw ValidationError("--from audits a captured snapshot; --netns makes no sense with it") }
        if quiet, let format { throw ValidationError("--quiet prints no report and --format \(format.rawValue) chooses one: give one of them") }
        if quiet, verbose { throw ValidationError("--quiet and --verbose contradict each other: choose one") }
        if state.noState || from != nil, monitoring.alertingGiven {
            throw ValidationError("alerts fire on changes, which need tunwarden's observations: drop --no-state (and --from) to use --alert-exec or --alert-webhook")
        }
    }

    public func run() throws {
        try run(in: RunContext.live(global, for: .audit, stateDirectory: state.stateDirectory))
    }

    /// The audit, with everything it takes from the system coming from `context`; ends by throwing
    /// its `ExitCode`.
    func run(in context: RunContext) throws {
        let settings = context.settings, console = context.console
        // --quiet prints nothing on standard output, whatever format the file sets.
        let format = quiet ? .table : format ?? settings.text(nil, "format").flatMap(OutputFormat.init(rawValue:)) ?? .table
        let all = settings.flag(all, "all", default: false)
        let policy: AuditPolicy
        do { policy = try settings.checkedCountPolicy(limit: limit, warn: warn) } catch { throw context.reject("\(error)") }
        // A captured snapshot is a look at another machine: it is not added to this one's observations.
        let keepState = !state.noState && from == nil
        let monitoring = monitoring.resolved(settings, alerts: keepState)
        // Judged as it is read: links are judged while the kernel still dumps the rest.
        let engine = JudgingEngine(policy: policy)
        let identity: String
        let store = StateStore(directory: context.stateDirectory)
        // What was observed of the namespace before is read on another thread while the kernel
        // dumps what is there now; the recording uses it unless another run wrote meanwhile.
        var readAhead: Background<Void>?
        do {
            let backend = try context.backend(capture: from, namespace: from == nil ? settings.namespace(global) : nil)
            if keepState, let expected = backend.namespaceIdentityAhead() {
                readAhead = Background(yielding: true) { [store] in store.readAhead(namespace: expected) }
            }
            identity = try backend.load(into: engine)
        } catch {
            let reason = ErrorAdvice.text(error)
            switch format {
            case .nagios: console.write(NagiosLine.unknown(reason) + "\n")
            case .json: console.write(#"{"version":1,"status":"unknown","error":\#(JSONWriter.string(reason))}"# + "\n")
            case .table: break
            }
            console.error(reason)
            throw ExitCode(AuditStatus.unknown.exitCode)
        }
        var assessment = engine.assessment(of: identity)!
        CaptureReport.tell(assessment.snapshot, verbose: verbose, to: console)
        // The table's rows do not depend on what recording adds (ages, leak growth): with
        // thousands of them, they are made on the second core while the recording runs.
        let color = console.colorEnabled(color ?? .auto), width = console.width
        let tableRows = keepState && !quiet && format == .table && assessment.interfaces.count >= ReportRendering.shareFrom
            ? Background { [assessment] in AuditTable.rows(assessment, includeContext: all, color: color, width: width) } : nil
        var observations: Observations?
        if keepState {
            // The database is the read-ahead's until it is done.
            _ = readAhead?.value
            do {
                (assessment, observations, _) = try Self.observe(assessment, store: store,
                                                              monitoring: monitoring, command: "audit", keyed: false)
            } catch {
                console.note("observations not used: \(error)")
            }
        }
        monitoring.writeMetrics(assessment, observations: observations)
        context.keepUntilExit(engine, assessment, observations as Any, tableRows as Any)
        if quiet { throw ExitCode(assessment.status.exitCode) }
        switch format {
        case .table:
            let rows = tableRows?.value ?? AuditTable.rows(assessment, includeContext: all, color: color, width: width)
            console.write(AuditTable.render(assessment, rows: rows, observations: observations, verbose: verbose))
        case .json:
            for piece in ReportRendering.json(AuditReport(assessment, includeContext: all, observations: observations), pretty: console.isTerminal) {
                console.write(piece)
            }
            console.write("\n")
        case .nagios:
            console.write(NagiosLine.render(assessment) + "\n")
        }
        throw ExitCode(assessment.status.exitCode)
    }
}

extension Audit {
    /// How long an audit or the watcher waits for a reap's act phase to end before going on
    /// without observations.
    static let lockPatience: TimeInterval = 60

    /// Records this assessment in the state database, judges leak growth from the count
    /// history, and decides on an alert, remembers it and claims it, in one transaction, so that
    /// no other run (an audit, the watcher, a reap) decides on the same alert or loses what this
    /// one recorded; then delivers the alert, and retries undelivered ones that are due. The
    /// state directory's lock is held shared while recording, so that a reap's act phase is never
    /// recorded half-done. A damaged database (or `state.json` being imported) is moved aside and
    /// observing starts afresh; one that cannot be used is reported and the run goes on without
    /// ages or alerts. Throws `RunLock.Busy` when a reap held the lock for longer than `patience`.
    /// Returns the assessment with what the history adds, and the observations (by key too only
    /// when `keyed`: see `StateDatabase.record`).
    static func observe(_ assessment: Assessment, store: StateStore, monitoring: Monitoring, command: String,
                        patience: TimeInterval = lockPatience, giveUp: (RunLock.Holder) -> Bool = { _ in false }, keyed: Bool = true)
        throws -> (assessment: Assessment, observations: Observations?, nextDelivery: Date?) {
        let (recording, nextDelivery) = try observeRecording(assessment, store: store, monitoring: monitoring, command: command,
                                                             patience: patience, giveUp: giveUp, keyed: keyed)
        guard let recording else { return (assessment, nil, nil) }
        return (assessment.adding(recording.historyFindings), recording.observations, nextDelivery)
    }

    /// `observe`, returning the recording itself (nil: the state could not be used) rather than
    /// the assessment joined with its history's findings, for a caller that keeps those apart.
    static func observeRecording(_ assessment: Assessment, store: StateStore, monitoring: Monitoring, command: String,
                                 patience: TimeInterval = lockPatience, giveUp: (RunLock.Holder) -> Bool = { _ in false }, keyed: Bool = true,
                                 delivering: Bool = true)
        throws -> (recording: Recording?, nextDelivery: Date?) {
        let lock: RunLock
        do {
            lock = try RunLock.acquire(directory: store.directory, command: command, purpose: .observing, patience: patience, giveUp: giveUp)
        } catch let busy as RunLock.Busy {
            throw busy
        } catch {
            Terminal.note("observations not used: \(error)")
            return (nil, nil)
        }
        let recording = record(assessment, store: store, alerting: monitoring.judging, keyed: keyed)
        lock.release()
        guard let recording else { return (nil, nil) }
        // The alert is claimed already, so no other run sends it; a slow sink (a command that
        // takes its time, a webhook's retries) holds up no other run. The watcher delivers on a
        // thread of its own (see `AlertCourier`).
        guard delivering else { return (recording, nil) }
        return (recording, monitoring.deliver(recorded: recording, store: store))
    }

    /// Says on standard error what a recording did not do as usual: it was not written because
    /// another run recorded a newer inventory of the namespace meanwhile (that run alerts on
    /// it), or it was written although the wall clock went back since the last one (once per
    /// step: the next recording compares with this one).
    static func noteOrder(of recording: Recording) {
        if recording.wasStale {
            Terminal.log("not recorded: another run recorded a newer inventory of this namespace meanwhile, and decided its alerts", priority: 4)
        }
        if let step = recording.clockStep { Terminal.log(step.description, priority: 4) }
    }

    /// Records the assessment (see `StateDatabase.record`), moving a damaged file aside and
    /// starting afresh once; nil when the state cannot be used (noted).
    static func record(_ assessment: Assessment, store: StateStore, alerting: AlertJudging?, keyed: Bool = true) -> Recording? {
        for attempt in 1...2 {
            do {
                guard let database = try store.database(create: true) else { return nil }
                let recording = try database.record(assessment, label: NamespaceLabels.label(assessment.snapshot), alerting: alerting, keyed: keyed)
                noteOrder(of: recording)
                return recording
            } catch let error as StorageError where error.isCorrupt && attempt == 1 {
                // A damaged file is kept for inspection and observing starts afresh, so a timer job
                // does not lose its ages and alerts for good. (reap, which acts on ages, stops instead.)
                do {
                    let kept = try store.moveAside(error.path)
                    Terminal.note("\(error.path) was damaged (\(error.problem)); moved to \(kept) and started fresh observations")
                } catch {
                    Terminal.note("observations not used: \(error)")
                    return nil
                }
            } catch {
                Terminal.note("observations not used: \(error)")
                return nil
            }
        }
        return nil
    }
}

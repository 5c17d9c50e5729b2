import ArgumentParser
import Foundation
import Reaper
import Storage
import TunwardenConfig
import TunwardenCore

/// `tunwarden reap`: plan, show, ask, and then remove what is provably stale.
public struct Reap: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reap",
        abstract: "Remove orphaned tunnel interfaces: a plan first, then race-free batched deletion, all journaled.",
        usage: "tunwarden reap [<options>]",
        discussion: """
        Start with a dry run: `sudo tunwarden reap --dry-run` prints the plan and changes nothing. \
        A real run shows the same plan and asks before deleting anything; without a terminal (a \
        timer, cron, a pipe) it needs --yes instead.

        Only what the audit calls orphaned and marks reapable is a candidate: a persistent tun or tap \
        device with no carrier (multi-queue: no attached queue) and no holder in a complete scan of \
        every process; the reaper's exclusive attach then proves no queue is attached before it deletes. \
        It is removed once tunwarden has seen it orphaned for --min-age (default 15m). That grace \
        period counts from when tunwarden itself first saw it orphaned, since the kernel keeps no \
        such time: a device orphaned for weeks still waits 15m after the first audit. Run audit or \
        reap from a timer to build those observations. A look that finds it held, or its packet \
        counters moved since the last look (a VM that ran between two audits), starts that clock \
        again, and after the question the grace period is applied again to what happened while it \
        waited (a process that attached and let go meanwhile, sending nothing, counts: its carrier \
        came on). A device that arrives under an orphan's \
        ifindex and name but is not that device (another hardware address, kind or queue mode: one \
        moved in from another namespace) waits out a grace period of its own, and a planned device \
        replaced so while the question waits is skipped. --protect and --only leave devices out.

        Examples:
          sudo tunwarden reap --dry-run
              the plan, changing nothing
          sudo tunwarden reap
              the plan, then a question
          sudo tunwarden reap --yes --min-age 1h --protect 'wg*'
              unattended, e.g. from a timer
          sudo tunwarden journal
              what was removed, and how to make it again

        Every device's prior state, and the `ip` commands that recreate it, go to the journal before \
        anything is deleted. Right before acting each target is fenced, so that nothing can attach \
        to it meanwhile, and checked once more; what fails that check is restored and left alone. \
        The fence, the last check, signals and reaps killed outright (undone by the next reap): \
        tunwarden(8), section reap, and "Safety model" in README.md.

        Exit codes: 0 everything planned was done or skipped for a safe reason; 1 something failed, \
        or the journal could not take the results (every result is still printed); 3 nothing was \
        changed because the inventory cannot be trusted (not root, holders unreadable, damaged state \
        or journal), another reap is acting, or the namespace is not the one planned in; 64 bad \
        usage. A dry run makes the same checks and exits as the real run would, but for what only \
        acting finds.
        """
    )

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var state: StateOptions

    @Flag(name: .customLong("dry-run"), help: "Print the plan and change nothing (same exit code a real run would have).")
    public var dryRun = false

    @Flag(name: .long, help: "Act without asking (needed when not on a terminal).")
    public var yes = false

    @Option(name: .long, help: "Output: table (for people; the default) or json (for programs).")
    public var format: ListingFormat?

    @OptionGroup public var rules: ReapOptions

    @Option(name: .long, help: ArgumentHelp(
        "With --dry-run, plan for a captured macOS snapshot (a directory of ifconfig.txt, netstat.txt, lsof.txt, ps.txt, or one pasted file; - for standard input) and print the exact commands.",
        discussion: "Nothing is ever executed for a capture. A capture has no history, so the grace period is not applied. Only what the capture proves is planned: a feth pair needs ifconfig and ps, not lsof, and the routes into a closed tuntaposx tun or tap need ifconfig and netstat.",
        valueName: "path"))
    public var from: String?

    @Flag(name: [.customShort("v"), .long], help: "With --from, also say which lines of the capture were read as what and which were left aside.")
    public var verbose = false

    @Flag(name: [.customShort("q"), .long], help: ArgumentHelp(
        "Print only what failed: no plan and no 'Deleted' lines (with --yes, e.g. from a timer; or with --dry-run, only the checks).",
        discussion: "Errors still go to standard error and every result to the journal; the exit code is as without it."))
    public var quiet = false

    public init() {}

    public func validate() throws {
        if dryRun && yes { throw ValidationError("--dry-run and --yes contradict each other: choose one") }
        if quiet, !yes, !dryRun { throw ValidationError("--quiet shows no plan to consent to: add --yes (or --dry-run), or drop --quiet") }
        if quiet, let format { throw ValidationError("--quiet prints no report and --format \(format.rawValue) chooses one: give one of them") }
        if quiet, verbose { throw ValidationError("--quiet and --verbose contradict each other: choose one") }
        if from != nil, !dryRun { throw ValidationError("--from only plans for a captured snapshot and never executes: add --dry-run") }
        if from != nil, global.netns != nil { throw ValidationError("--from plans for a captured snapshot; --netns makes no sense with it") }
        try OptionCheck.path(from, "--from")
        for kind in rules.only {
            if let refusal = ReapOptions.refusal(onlyKind: kind, capture: from != nil) { throw ValidationError("--only takes no '\(kind)': \(refusal)") }
        }
        if state.noState && !dryRun {
            throw ValidationError("--no-state is only for --dry-run: a real reap needs observations for --min-age and a journal")
        }
    }

    public func run() throws {
        try run(in: RunContext.live(global, for: .reap, stateDirectory: state.stateDirectory))
    }

    /// The reap, with everything it takes from the system coming from `context`; ends by throwing
    /// its `ExitCode`.
    func run(in context: RunContext) throws {
        let settings = context.settings, console = context.console
        // Once the repair of a killed reap has given devices back, a refusal no longer means
        // that nothing was changed.
        var repaired = false
        var madeRepairs: [ReapRepair] = []
        // --quiet prints only failures, in the table's words, whatever format the file sets.
        let format = quiet ? .table : format ?? settings.text(nil, "format").flatMap(ListingFormat.init(rawValue:)) ?? .table
        // A run stopped before its report still gives a program reading its JSON an answer.
        func fail(_ message: String) -> ExitCode {
            Self.fail(message, console, repaired: repaired, json: format == .json ? madeRepairs : nil)
        }
        var policy: ReapPolicy
        do { policy = try rules.policy(settings, capture: from != nil) } catch { throw context.reject("\(error)") }
        // A capture has no history, so no grace period can be applied to it.
        if from != nil { policy.minimumAge = 0 }
        let store = StateStore(directory: context.stateDirectory)
        let journalPath = rules.journalPath(settings, stateDirectory: context.stateDirectory)
        let namespace = from == nil ? settings.namespace(global) : nil
        // Everything that could stop the run is checked before anything is done, privileges first
        // so that a run that cannot act creates no file. A dry run checks the same, creating
        // nothing, and exits as the real run would.
        if from == nil, !context.isPrivileged {
            throw fail("reaping needs root (to delete interfaces, and to read every process's descriptors to prove nobody holds them)")
        }
        if from == nil, !context.lackedForReaping.isEmpty {
            throw fail("reaping needs \(context.lackedForReaping.joined(separator: " and ")) (to fence and delete interfaces), which this process lacks although it runs as root: a container or a service unit (CapabilityBoundingSet=) may have dropped it")
        }
        var observations = Observations()
        let keepState = !state.noState && from == nil
        if keepState {
            // Ages decide what is deleted: a database that is damaged anywhere stops the reap.
            do { try store.database(create: false)?.quickCheck() } catch { throw fail("\(error)") }
        }
        let journal = Journal(path: journalPath)
        if from == nil {
            do {
                let torn = try dryRun ? journal.checkWritableWithoutCreating() : journal.checkWritable()
                torn.forEach { console.warning("\($0)") }
            } catch {
                // What a killed reap left fenced waits for a reap that can journal giving it back.
                var message = "\(error)"
                if let open = try? journal.openIntents().records, !open.isEmpty {
                    let names = open.prefix(5).map(\.ifname).joined(separator: ", ") + (open.count > 5 ? ", …" : "")
                    message += " The journal holds intents without results for \(open.count) device\(open.count == 1 ? "" : "s") (\(names)): what an interrupted reap left "
                        + "fenced or down stays so until a reap that can write this journal gives it back (`tunwarden audit` names any device still fenced)."
                }
                throw fail(message)
            }
        }
        // A device an interrupted reap left that cannot be given back makes the run exit 1 at least.
        let repairs = dryRun ? [] : try repairInterruptedRun(journal: journal, namespace: namespace, context: context, json: format == .json)
        let repairFailed = repairs.contains { $0.failed }
        repaired = !repairs.isEmpty
        madeRepairs = repairs
        // A dry run repairs nothing, but says what the real run would repair first.
        let pending = dryRun ? try pendingRepairs(journal: journal, namespace: namespace, context: context, json: format == .json) : []
        if !pending.isEmpty {
            let runs = Set(pending.map(\.run)).sorted().joined(separator: ", ")
            let names = pending.prefix(5).map(\.ifname).joined(separator: ", ") + (pending.count > 5 ? ", …" : "")
            console.note("the journal (or the newest one rotated away, \(journalPath).1) holds intents without results (run \(runs): a reap killed outright, or one acting right now) for \(pending.count) device\(pending.count == 1 ? "" : "s") (\(names)); a real reap gives back what a killed one left fenced or down before planning, and exits 1 for any it cannot give back whole")
        }
        // Begun before the plan's inventory: a planned device that leaves the namespace while
        // the question waits, and another that arrives under its ifindex and name, are told apart.
        let linkWatch = from == nil && !dryRun ? (try? context.reaper(namespace))?.watchLinks() : nil
        let snapshot: Snapshot
        do {
            snapshot = try context.backend(capture: from, namespace: namespace, patient: true).snapshot()
        } catch {
            throw fail("\(error)")
        }
        CaptureReport.tell(snapshot, verbose: verbose, to: console)
        // A capture's plan holds only what it proves (a feth pair needs no lsof); the live system's
        // holders must all be readable before anything is planned.
        guard snapshot.holders.complete || from != nil else {
            throw fail("cannot tell orphans from devices in use: holders could not be read (\(snapshot.holders.incompleteReason ?? "incomplete scan")). \(snapshot.holders.remedy ?? "Run as root")")
        }
        // One clock for the whole run: the inventory's.
        let now = snapshot.takenAt
        let assessment = Heuristics.assess(snapshot)
        if keepState {
            do { observations = try Self.record(assessment, in: store, waitingForAnotherReap: dryRun) } catch { throw fail("\(error)") }
        }
        var plan = ReapPlan.make(assessment, observations: observations, namespaceKey: snapshot.namespaceIdentity, policy: policy, now: now)
        plan.leaveOut(repairFailed: Set(repairs.filter(\.failed).map(\.ifindex)), interfaces: snapshot.interfaces)
        // The plan names the namespace as the journal will: the caller's own too (`ip netns exec NAME`).
        if from == nil { plan.place = (try? context.reaper(namespace))?.recreatePlace() }
        // The JSON plan's recreate commands give back neighbour entries made by hand too, as the
        // journal's will: they are read for it here (the table shows no recreate commands).
        if from == nil, format == .json, !plan.items.isEmpty {
            do {
                let reaper = try context.reaper(namespace)
                let found = try reaper.neighboursMadeByHand(of: plan.items)
                let unrecreated = try reaper.unrecreated(of: plan.items)
                let extras = try reaper.extraSettings(of: plan.items)
                // And the namespace's defaults, against which the devices' own sysctls are set again.
                var place = plan.recreatePlace
                place.sysctlDefaults = reaper.namespaceSysctlDefaults()
                plan.place = place
                for position in plan.items.indices {
                    plan.items[position].neighbours = found[plan.items[position].interface.index] ?? []
                    plan.items[position].interface.unrecreated = unrecreated[plan.items[position].interface.index] ?? []
                    plan.items[position].interface.extraSettings = extras[plan.items[position].interface.index]
                }
            } catch {
                console.note("the plan's recreate commands lack the devices' neighbour entries made by hand, which could not be listed (\(error)); a real run journals them when it acts")
            }
        }

        if format == .table, !quiet {
            if from != nil { console.write("Plan for the capture in \(from!) (a capture has no history: no grace period applied; nothing is executed).\n") }
            // Past the repair (in a dry run, past the repairs it names), no intent is left that
            // would give a fenced device back: the words say where its records may be instead.
            let claimed = Set(pending.map(\.ifindex))
            let unknown = assessment.interfaces.filter { $0.state == .unknown }.map { judged in
                (judged.interface.name, from != nil || claimed.contains(judged.interface.index) ? judged.reason
                    : Heuristics.unclaimedFence(judged.interface, journal: journalPath) ?? judged.reason)
            }
            console.write(Self.fitted(Self.describe(plan, now: now, conditional: true, commands: snapshot.platform == .darwin,
                                                     clock: keepState || from != nil, unknown: unknown), width: console.width))
        }
        if plan.items.isEmpty || dryRun {
            // (A real run with nothing to do has no results, and is no dry run.)
            if format == .json {
                console.write(ReapReport(plan: plan, results: dryRun ? nil : [], repairs: repairs, pendingRepairs: pending).json(pretty: console.isTerminal) + [10])
            }
            throw ExitCode(repairFailed ? 1 : 0)
        }
        var recheckSkipped: [ReapResult] = []
        // The plan as shown and consented to: what the report lists, whatever the look after the
        // question leaves of it.
        let asked = plan
        if !yes {
            guard console.inputIsTerminal else {
                // A program reading the JSON gets the plan it refused, as a dry run prints it.
                if format == .json {
                    console.write(ReapReport(plan: plan, results: nil, repairs: repairs, pendingRepairs: pending).json(pretty: console.isTerminal) + [10])
                }
                console.error("refusing to delete without --yes when not on a terminal; see the plan with `tunwarden reap --dry-run`, then run again with --yes")
                throw ExitCode(ExitCode.validationFailure.rawValue)
            }
            console.progress("Delete \(plan.items.count) interface\(plan.items.count == 1 ? "" : "s") listed above? [y/N] ")
            guard let answer = console.readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                console.note(repaired ? "nothing else was changed (the repairs above were made)" : "nothing was changed")
                throw ExitCode(repairFailed ? 1 : 0)
            }
            // The grace period again, by what happened while the question waited.
            do {
                (plan, recheckSkipped) = try Self.recheckedAfterQuestion(plan, planned: snapshot, backend: context.backend(capture: nil, namespace: namespace, patient: true),
                                                                         store: keepState ? store : nil, policy: policy)
            } catch {
                throw fail("cannot look again after the question: \(error)")
            }
        }
        let lock: RunLock
        let journalLock: RunLock
        do {
            (lock, journalLock) = try RunLock.acquireReaping(directory: store.directory, journal: journalPath, command: "reap",
                                                             patience: Self.lockPatience) { $0.purpose == .reaping }
        } catch {
            throw fail("\(error)")
        }
        defer { journalLock.release() }
        let reaper: any PlanReaper
        do { reaper = try context.reaper(namespace) } catch { throw fail("\(error)") }
        var (results, journalProblem) = plan.items.isEmpty ? ([], nil)
            : try execute(plan, journalPath: journalPath, reaper: reaper, console: console, repaired: repaired,
                          linkWatch: linkWatch, json: format == .json ? repairs : nil)
        if !recheckSkipped.isEmpty {
            // Each result in the order of the plan shown (those of devices that went unplanned last).
            let order = Dictionary(asked.items.enumerated().map { ($1.interface.index, $0) }, uniquingKeysWith: { first, _ in first })
            results = (results + recheckSkipped).enumerated()
                .sorted { (order[$0.element.ifindex] ?? Int.max, $0.offset) < (order[$1.element.ifindex] ?? Int.max, $1.offset) }.map(\.element)
        }
        // (Routes removed from a utun or tuntaposx device delete no interface.)
        let deletions = Set(plan.items.filter { $0.action == .deleteInterface }.map(\.ifname))
        let deleted = results.count { $0.outcome == .deleted && deletions.contains($0.ifname) }
        if keepState, deleted > 0 {
            do {
                try store.database()?.addReaped(deleted, namespace: snapshot.namespaceIdentity)
            } catch {
                console.note("reaped count not saved: \(error)")
            }
        }
        lock.release()
        let items = results.map { ReapItemResult(ifname: $0.ifname, ifindex: $0.ifindex, kind: $0.kind, result: $0.outcome, detail: $0.detail, unplanned: $0.unplanned) }
        switch format {
        case .json: console.write(ReapReport(plan: asked, results: items, repairs: repairs).json(pretty: console.isTerminal) + [10])
        default: console.write(Self.fitted(Self.describe(quiet ? items.filter { $0.result == .failed } : items, summary: !quiet), width: console.width))
        }
        if let journalProblem {
            console.error("the results above are what was done, but the journal lacks this run's result records: \(journalProblem)")
        }
        if reaper.stoppingSignal != 0 {
            // Say what the signal stopped: the results name each device it kept from deletion.
            let stopped = items.filter { $0.result == .skipped && ($0.detail?.contains("interrupted by") ?? false) }
            let what = stopped.isEmpty
                ? "it came after the last deletion, so nothing was rolled back or left out"
                : "\(stopped.count) device\(stopped.count == 1 ? " was" : "s were") left as \(stopped.count == 1 ? "it was" : "they were") (those marked interrupted above)"
            console.error("interrupted by signal \(reaper.stoppingSignal): \(what); the results above are exact"
                + (journalProblem == nil ? " and journaled" : ""))
            throw ExitCode(128 + reaper.stoppingSignal)
        }
        throw ExitCode(repairFailed || journalProblem != nil || items.contains { $0.result == .failed } ? 1 : 0)
    }

    /// How long a reap waits for another run's hold on the state directory: an audit or the
    /// watcher holds it for milliseconds; another reap is waited for only by a dry run.
    static let lockPatience: TimeInterval = 60

    /// Records the assessment in the state database, with the state directory's lock held
    /// shared (as observers hold it). When another reap is acting, a reap that will act refuses
    /// at once; a dry run (`waitingForAnotherReap`) waits for it, up to `lockPatience`.
    static func record(_ assessment: Assessment, in store: StateStore, waitingForAnotherReap: Bool = false) throws -> Observations {
        // A reap that will act gives up at once behind another one acting; a dry run, which only
        // reads, waits for it to finish.
        let lock = try RunLock.acquire(directory: store.directory, command: "reap", purpose: .observing, patience: lockPatience) {
            $0.purpose == .reaping && !waitingForAnotherReap
        }
        defer { lock.release() }
        guard let database = try store.database() else { return Observations() }
        return try database.record(assessment, label: NamespaceLabels.label(assessment.snapshot), alerting: nil).observations
    }

    /// Carries out the plan. Returns every result, with why the journal lacks their records when
    /// it does (the devices were acted on all the same); exits 3 when nothing was changed.
    func execute(_ plan: ReapPlan, journalPath: String, reaper: any PlanReaper, console: any Console,
                 repaired: Bool = false, linkWatch: PlanLinkWatch? = nil, json: [ReapRepair]? = nil) throws -> (results: [ReapResult], journalProblem: String?) {
        let journal = Journal(path: journalPath)
        let runID = UUID().uuidString.lowercased()
        let showProgress = !quiet && console.errorIsTerminal && plan.items.count >= 500
        do {
            return (try reaper.execute(plan, journal: journal, runID: runID, linkWatch: linkWatch) { done, total in
                if showProgress { console.progress("\rReaping: \(done)/\(total)" + (done == total ? "\n" : "")) }
            }, nil)
        } catch let incomplete as ReapJournalIncomplete {
            return (incomplete.results, incomplete.reason)
        } catch {
            throw Self.fail("\(error)", console, repaired: repaired, json: json)
        }
    }

    /// Prints the error and gives exit code 3 to throw: the inventory or tunwarden's own files
    /// cannot be trusted. `repaired`: the run gave back what a killed reap had left (and said so)
    /// before it stopped, which is then all it changed. `json`: the run prints JSON, and these
    /// repairs were made; the error object then goes to standard output too (`ReapFailure`).
    static func fail(_ message: String, _ console: any Console, repaired: Bool = false, json: [ReapRepair]? = nil) -> ExitCode {
        if let json { console.write(ReapFailure(error: message, repairs: json).json() + [10]) }
        var message = message
        if repaired {
            for ending in ["; nothing was changed", ". Nothing was changed.", "nothing was changed"] where message.hasSuffix(ending) {
                message = String(message.dropLast(ending.count))
                break
            }
            console.error((message.hasSuffix(".") ? message + " Nothing else was changed" : message + "; nothing else was changed")
                + " (the repairs above were made).")
        } else {
            console.error(message.hasSuffix("nothing was changed") ? message
                : message.hasSuffix(".") ? message + " Nothing was changed." : message + "; nothing was changed")
        }
        return ExitCode(AuditStatus.unknown.exitCode)
    }
}

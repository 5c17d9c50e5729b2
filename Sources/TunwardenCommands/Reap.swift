import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Reaper
import Storage
import TunwardenConfig
import TunwardenCore

/// `tunwarden reap`: plan, show, ask, and then remove what is provably stale.
public struct Reap: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reap",
        abstract: "Remove orphaned tunnel interfaces: a plan first, then race-free batched deletion, all journaled.",
        discussion: """
        Only interfaces the audit calls orphaned and marks reapable are candidates: persistent tun/tap \
        devices with no carrier, no attached queue and no holder in a complete scan of every process. \
        A candidate becomes a target once tunwarden has seen it orphaned for --min-age in its own \
        observations (run audit or reap from a timer to build them), unless --protect or --only leave it out.

        Right before acting, tunwarden re-inventories and fences every target by ifindex: it attaches \
        to each single-queue device exclusively through a private alternative name (if a process \
        attached since the plan, the kernel says EBUSY and the device is skipped), and renames each \
        multi-queue device to a private name so that no attach by its old name can reach it. Whatever \
        fails the last check is restored and left out; the rest is deleted in batches with one \
        RTM_DELLINK per batch. Every device's full prior state and the `ip` commands that would \
        recreate it go to the journal before anything is deleted. SIGTERM, SIGINT or SIGHUP roll \
        back the batch in hand and exit 128 + the signal; a reap killed outright is undone from the \
        journal by the next one. Before acting, only the journal's last record is checked. One reap \
        acts at a time per state directory: a reap that finds another acting says so and changes nothing.

        Without a terminal, a real run needs --yes. Exit codes: 0 everything planned was done or \
        skipped for a safe reason; 1 something failed, or the journal could not take the results of \
        what was done (every result is still printed); 3 the inventory cannot be trusted (not root, \
        holders unreadable, damaged state or journal) or another reap is acting, and nothing was \
        changed; 64 bad usage. A dry run makes the same checks, creating nothing, and exits as the \
        real run would.

        Examples:
          sudo tunwarden reap --dry-run
          sudo tunwarden reap --min-age 0 --protect 'wg*' --yes
          sudo tunwarden --netns blue reap --only tap --format json --yes
        """
    )

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var state: StateOptions

    @Flag(name: .customLong("dry-run"), help: "Print the plan and change nothing (same exit code a real run would have).")
    public var dryRun = false

    @Flag(name: .long, help: "Act without asking (needed when not on a terminal).")
    public var yes = false

    @Option(name: .long, help: "Output: table (for people) or json (default: table).")
    public var format: ListingFormat?

    @OptionGroup public var rules: ReapOptions

    @Option(name: .long, help: ArgumentHelp(
        "With --dry-run, plan for a captured macOS snapshot (a directory of ifconfig.txt, netstat.txt, lsof.txt, ps.txt, or one pasted file) and print the exact commands.",
        discussion: "Nothing is ever executed for a capture. A capture has no history, so the grace period is not applied. Only what the capture proves is planned: a feth pair needs ifconfig and ps, not lsof.",
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
        let settings = try Settings.load(global, for: .reap)
        // --quiet prints only failures, in the table's words, whatever format the file sets.
        let format = quiet ? .table : format ?? settings.text(nil, "format").flatMap(ListingFormat.init(rawValue:)) ?? .table
        var policy: ReapPolicy
        do { policy = try rules.policy(settings, capture: from != nil) } catch { throw settings.reject("\(error)") }
        // A capture has no history, so no grace period can be applied to it.
        if from != nil { policy.minimumAge = 0 }
        let store = StateStore(directory: settings.stateDirectory(state))
        let journalPath = rules.journalPath(settings, state: state)
        let namespace = from == nil ? settings.namespace(global) : nil
        // Everything that could stop the run is checked before anything is done, privileges first
        // so that a run that cannot act creates no file. A dry run checks the same, creating
        // nothing, and exits as the real run would.
        if from == nil, geteuid() != 0 {
            throw fail("reaping needs root (to delete interfaces, and to read every process's descriptors to prove nobody holds them)")
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
                torn.forEach { Terminal.warning("\($0)") }
            } catch {
                throw fail("\(error)")
            }
        }
        if !dryRun { try repairInterruptedRun(journal: journal, namespace: namespace, directory: store.directory) }
        let snapshot: Snapshot
        do {
            snapshot = try Backends.select(from: from, namespace: namespace, patient: true).snapshot()
        } catch {
            throw fail("\(error)")
        }
        CaptureReport.tell(snapshot, verbose: verbose)
        // A capture's plan holds only what it proves (a feth pair needs no lsof); the live system's
        // holders must all be readable before anything is planned.
        guard snapshot.holders.complete || from != nil else {
            throw fail("cannot tell orphans from devices in use: holders could not be read (\(snapshot.holders.incompleteReason ?? "incomplete scan")). \(snapshot.holders.remedy ?? "Run as root")")
        }
        // One clock for the whole run: the inventory's.
        let now = snapshot.takenAt
        let assessment = Heuristics.assess(snapshot)
        if keepState {
            do { observations = try Self.record(assessment, in: store) } catch { throw fail("\(error)") }
        }
        let plan = ReapPlan.make(assessment, observations: observations, namespaceKey: snapshot.namespaceIdentity, policy: policy, now: now)

        if format == .table, !quiet {
            if from != nil { Terminal.write("Plan for the capture in \(from!) (a capture has no history: no grace period applied; nothing is executed).\n") }
            Terminal.write(Self.describe(plan, now: now, conditional: true, commands: snapshot.platform == .darwin, clock: keepState || from != nil))
        }
        if plan.items.isEmpty || dryRun {
            if format == .json { Terminal.write(try ReapReport(plan: plan, results: nil).json(pretty: Terminal.isTerminal) + [10]) }
            throw ExitCode(0)
        }
        if !yes {
            guard Terminal.inputIsTerminal else {
                Terminal.error("refusing to delete without --yes when not on a terminal; see the plan with `tunwarden reap --dry-run`, then run again with --yes")
                throw ExitCode(ExitCode.validationFailure.rawValue)
            }
            Terminal.progress("Delete \(plan.items.count) interface\(plan.items.count == 1 ? "" : "s") listed above? [y/N] ")
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                Terminal.note("nothing was changed")
                throw ExitCode(0)
            }
        }
        let lock: RunLock
        do {
            lock = try RunLock.acquire(directory: store.directory, command: "reap", purpose: .reaping, patience: Self.lockPatience) { $0.purpose == .reaping }
        } catch {
            throw fail("\(error)")
        }
        let (results, journalProblem) = try execute(plan, journalPath: journalPath, namespace: namespace)
        let deleted = results.count { $0.outcome == .deleted && $0.kind != .utun }
        if keepState, deleted > 0 {
            do {
                try store.database()?.addReaped(deleted, namespace: snapshot.namespaceIdentity)
            } catch {
                Terminal.note("reaped count not saved: \(error)")
            }
        }
        lock.release()
        let items = results.map { ReapItemResult(ifname: $0.ifname, ifindex: $0.ifindex, kind: $0.kind, result: $0.outcome, detail: $0.detail) }
        switch format {
        case .json: Terminal.write(try ReapReport(plan: plan, results: items).json(pretty: Terminal.isTerminal) + [10])
        default: Terminal.write(Self.describe(quiet ? items.filter { $0.result == .failed } : items, summary: !quiet))
        }
        if let journalProblem {
            Terminal.error("the results above are what was done, but the journal lacks this run's result records: \(journalProblem)")
        }
        #if os(Linux)
        if LinuxReaper.interruptingSignal != 0 {
            Terminal.error("interrupted by signal \(LinuxReaper.interruptingSignal): the batch in hand was rolled back and the rest not attempted; the results above are exact"
                + (journalProblem == nil ? " and journaled" : ""))
            throw ExitCode(128 + LinuxReaper.interruptingSignal)
        }
        #endif
        throw ExitCode(journalProblem != nil || items.contains { $0.result == .failed } ? 1 : 0)
    }

    /// Undoes what a reap killed outright (SIGKILL, a power cut) left behind, from its intent
    /// records, before anything is planned: otherwise its private link group and names would be
    /// taken for the devices' own state.
    func repairInterruptedRun(journal: Journal, namespace: String?, directory: String) throws {
        #if os(Linux)
        guard from == nil, geteuid() == 0 else { return }
        let reaper = LinuxReaper(namespaceName: namespace)
        // Nearly always there is nothing to repair, and no lock is taken to find that out.
        guard let last = try? journal.lastRun(), !reaper.unfinishedIntents(last).isEmpty else { return }
        // Only under the reaping lock: a reap acting right now has intents without results too.
        let lock: RunLock
        do {
            lock = try RunLock.acquire(directory: directory, command: "reap", purpose: .reaping, patience: Self.lockPatience) { $0.purpose == .reaping }
        } catch {
            throw fail("\(error)")
        }
        defer { lock.release() }
        do {
            let records = try journal.lastRun()
            for line in try reaper.repairInterrupted(journal: journal, records: records) { Terminal.note(line) }
        } catch {
            throw fail("cannot repair what an interrupted reap left behind: \(error)")
        }
        #endif
    }

    /// How long a reap waits for another run's hold on the state directory: an audit or the
    /// watcher holds it for milliseconds; another reap is never waited for.
    static let lockPatience: TimeInterval = 60

    /// Records the assessment in the state database, with the state directory's lock held
    /// shared (as observers hold it); refuses when another reap is acting.
    static func record(_ assessment: Assessment, in store: StateStore) throws -> Observations {
        let lock = try RunLock.acquire(directory: store.directory, command: "reap", purpose: .observing, patience: lockPatience) { $0.purpose == .reaping }
        defer { lock.release() }
        guard let database = try store.database() else { return Observations() }
        return try database.record(assessment, label: NamespaceLabels.label(assessment.snapshot), alerting: nil).observations
    }

    /// Carries out the plan. Returns every result, with why the journal lacks their records when
    /// it does (the devices were acted on all the same); exits 3 when nothing was changed.
    func execute(_ plan: ReapPlan, journalPath: String, namespace: String?) throws -> (results: [ReapResult], journalProblem: String?) {
        let journal = Journal(path: journalPath)
        let runID = UUID().uuidString.lowercased()
        do {
            #if os(macOS)
            return (try DarwinReaper(privileged: geteuid() == 0).execute(plan, journal: journal, runID: runID), nil)
            #elseif os(Linux)
            let showProgress = !quiet && Terminal.errorIsTerminal && plan.items.count >= 500
            return (try LinuxReaper(namespaceName: namespace).execute(plan, journal: journal, runID: runID) { done, total in
                if showProgress { Terminal.progress("\rReaping: \(done)/\(total)" + (done == total ? "\n" : "")) }
            }, nil)
            #else
            throw fail("reaping this platform's interfaces is not supported yet")
            #endif
        } catch let incomplete as ReapJournalIncomplete {
            return (incomplete.results, incomplete.reason)
        } catch {
            throw fail("\(error)")
        }
    }

    /// Prints the error and gives exit code 3 to throw: the inventory or tunwarden's own files
    /// cannot be trusted.
    func fail(_ message: String) -> ExitCode {
        Terminal.error(message.hasSuffix("nothing was changed") ? message
            : message.hasSuffix(".") ? message + " Nothing was changed." : message + "; nothing was changed")
        return ExitCode(AuditStatus.unknown.exitCode)
    }

    /// The plan for people: one line per target, then what was left out and why. `clock` says
    /// whether orphans' ages are kept (observations); without them no orphan ever comes of age.
    static func describe(_ plan: ReapPlan, now: Date, conditional: Bool, commands: Bool = false, clock: Bool = true) -> String {
        var text = ""
        for item in plan.items {
            text += ReapPlan.describe(item, now: now, conditional: conditional) + "\n"
            if commands { for command in DarwinCommands.reap(item) { text += "    \(command.joined(separator: " "))\n" } }
        }
        let young = plan.excluded.compactMap { exclusion -> (String, Date)? in
            if case let .tooYoung(at) = exclusion.reason { return (exclusion.ifname, at) }
            return nil
        }.sorted { $0.1 < $1.1 }
        var protected = 0
        for exclusion in plan.excluded {
            if case let .protected(pattern) = exclusion.reason {
                text += "Protected \(exclusion.ifname) (matches the protect pattern '\(pattern)').\n"
                protected += 1
            }
        }
        if !young.isEmpty {
            text += "\(young.count) orphaned interface\(young.count == 1 ? " is" : "s are") not reapable yet: seen orphaned for less than the minimum age"
            if !clock {
                text += ", and with --no-state no clock runs, so \(young.count == 1 ? "it" : "they") never will; run without --no-state (observations keep when each was first seen orphaned), or set --min-age 0.\n"
            } else {
                text += ". " + young.prefix(5).enumerated().map { position, entry in
                    "\(entry.0)\(position == 0 ? " becomes reapable" : "") at \(Timestamp.format(entry.1)) (in \(DurationText.format(entry.1.timeIntervalSince(now))))"
                }.joined(separator: ", ")
                text += young.count > 5 ? ", and \(young.count - 5) more later" : ""
                text += "; --min-age changes the grace period.\n"
            }
        }
        if plan.items.isEmpty, protected > 0, young.isEmpty {
            text += "Nothing to reap: every reapable orphan is protected.\n"
        } else         if plan.items.isEmpty {
            text += young.isEmpty ? "Nothing to reap: no orphaned interface is reapable.\n" : "Nothing to reap now.\n"
        } else {
            let deletions = plan.items.count { $0.action == .deleteInterface }
            let clearings = plan.items.count - deletions
            var parts: [String] = []
            if deletions > 0 { parts.append("\(deletions) interface\(deletions == 1 ? "" : "s") to delete") }
            if clearings > 0 { parts.append("\(clearings) to clear of stale routes") }
            text += parts.joined(separator: ", ") + ".\n"
        }
        return text
    }

    /// "Deleted …" lines and, with `summary`, the closing summary.
    static func describe(_ results: [ReapItemResult], summary withSummary: Bool = true) -> String {
        var text = ""
        for result in results {
            switch result.result {
            case .deleted: text += "Deleted \(result.kind.rawValue) \(result.ifname) (ifindex \(result.ifindex))\n"
            case .skipped: text += "Skipped \(result.kind.rawValue) \(result.ifname) (ifindex \(result.ifindex)): \(result.detail ?? "")\n"
            case .failed: text += "Failed to delete \(result.kind.rawValue) \(result.ifname) (ifindex \(result.ifindex)): \(result.detail ?? "")\n"
            }
        }
        guard withSummary else { return text }
        let deleted = results.count { $0.result == .deleted }
        var summary = "Reaped \(deleted) of \(results.count)"
        let skipped = results.filter { $0.result == .skipped }
        if !skipped.isEmpty { summary += "; \(skipped.count) skipped: " + skipped.map { "\($0.ifname) \($0.detail ?? "")" }.joined(separator: ", ") }
        let failed = results.count { $0.result == .failed }
        if failed > 0 { summary += "; \(failed) failed" }
        return text + summary + ".\n"
    }
}

/// What may be reaped and when: shared by `reap` and `watch --reap`.
public struct ReapOptions: ParsableArguments {
    @Option(name: .customLong("min-age"), help: ArgumentHelp(
        "How long an interface must have been seen orphaned before it is removed: 0, 90s, 15m, 2h, 1d (default: 15m).", valueName: "duration"))
    public var minAge: String?

    @Option(name: .long, help: ArgumentHelp("Never touch interfaces whose name matches this shell pattern (repeatable; replaces the file's list).", valueName: "glob"))
    public var protect: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Only remove interfaces of this kind: tun or tap; for a macOS capture also utun or feth (repeatable).", valueName: "kind"))
    public var only: [String] = []

    @Option(name: .long, help: ArgumentHelp("The journal file (default: journal.jsonl in the state directory).", valueName: "path"))
    public var journal: String?

    public init() {}

    public func validate() throws {
        try OptionCheck.duration(minAge, "--min-age", minimum: SettingBounds.shortestMinimumAge, examples: "0, 90s, 15m, 2h or 1d")
        if protect.contains("") {
            throw ValidationError("--protect takes a shell pattern such as 'wg*'; got an empty one, which protects nothing")
        }
        try OptionCheck.path(journal, "--journal")
        for kind in only {
            if let refusal = Self.refusal(onlyKind: kind, capture: nil) { throw ValidationError("--only takes no '\(kind)': \(refusal)") }
        }
    }

    /// Why a reap cannot select `kind`, or nil when it can. With `capture` nil only what no reap
    /// anywhere removes is refused; with it, also what this system's reap cannot find: on Linux a
    /// utun or feth exists only in a macOS capture.
    static func refusal(onlyKind kind: String, capture: Bool?) -> String? {
        guard let known = InterfaceKind(rawValue: kind), ReapPolicy.removableKinds.contains(known) else {
            let reported = InterfaceKind.tunnel(named: kind) == nil ? "it is no interface kind" : "\(kind) interfaces are reported, never reaped"
            return "\(reported); a reap removes tun and tap (and, in a macOS capture, utun and feth)"
        }
        #if os(Linux)
        if capture == false, ReapPolicy.macOSKinds.contains(known) {
            return "\(kind) is a macOS interface, and on Linux a reap removes tun and tap (plan for a macOS capture with `tunwarden reap --from PATH --dry-run`)"
        }
        #endif
        return nil
    }

    /// The reap policy from these options, the configuration file and the defaults; `capture` says
    /// whether it plans for a captured snapshot. A kind this reap cannot remove, from the command
    /// line or the file, is an error naming where it came from: it would select nothing, and the
    /// run would quietly report nothing to reap.
    func policy(_ settings: Settings, capture: Bool) throws -> ReapPolicy {
        let kinds = settings.texts(only, "only")
        for kind in kinds {
            if let refusal = Self.refusal(onlyKind: kind, capture: capture) {
                throw SettingsConflict(description: "\(settings.origin(!only.isEmpty, "only")) takes no '\(kind)': \(refusal)")
            }
        }
        return ReapPolicy(minimumAge: settings.duration(minAge, "min-age", default: 900), protect: settings.texts(protect, "protect"),
                          onlyKinds: kinds.isEmpty ? nil : Set(kinds.compactMap(InterfaceKind.init(rawValue:))))
    }

    /// The journal file: --journal, the file's `journal`, or journal.jsonl in the state directory.
    func journalPath(_ settings: Settings, state: StateOptions) -> String {
        settings.text(journal, "journal") ?? settings.stateDirectory(state) + "/journal.jsonl"
    }
}

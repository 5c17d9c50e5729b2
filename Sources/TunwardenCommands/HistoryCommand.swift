import ArgumentParser
import Foundation
import Storage
import TunwardenConfig
import TunwardenCore

/// `tunwarden history`: the tunnel count over time of every namespace audited, from the
/// observations that audit, reap and the watcher keep.
public struct HistoryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the tunnel count over time: a sparkline with min/max, the current growth rate, and when alerts fired.",
        usage: "tunwarden history [<options>]",
        discussion: """
        The history is built by every audit, reap and watcher that keeps state (an hourly timer builds it best), \
        one per namespace, kept in state.db in the state directory. Without --netns every namespace recorded in \
        this boot is shown, by the `ip netns` name it was audited under where it had one, including namespaces \
        that are gone (those recorded before the last reboot are left out and counted); --netns NAME shows only \
        those of that name, whether it still exists or not.
        """
    )

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var state: StateDirectoryOption

    @Option(name: .long, help: "Output: table (for people; the default) or json (for programs).")
    public var format: ListingFormat?

    @Option(name: .customLong("growth-window"), help: ArgumentHelp("The window the growth rate is measured over: 30m, 1h, 1d; a number needs its unit (default: 1h, or the configuration's growth-window).", valueName: "duration"))
    public var growthWindow: String?

    public init() {}

    public func validate() throws {
        if state.noState { throw ValidationError("history shows the observations that --no-state would leave unread: drop --no-state") }
        try OptionCheck.duration(growthWindow, "--growth-window", minimum: SettingBounds.shortestInterval, examples: "30m, 1h or 1d")
    }

    public func run() throws {
        // History is what audits and the watcher record, so it is read where they write it.
        let settings = try Settings.load(global, for: .audit)
        let name = settings.namespace(global)
        var records: [NamespaceRecord] = []
        if let given = state.stateDirectory, let mistake = StateDirectoryOption.misnamed(given) {
            Terminal.error("--state-dir \(given): \(mistake), so no audit has kept state there; give the --state-dir that audit was given")
            throw ExitCode(ExitCode.validationFailure.rawValue)
        }
        do {
            let store = StateStore(directory: settings.stateDirectory(given: state.stateDirectory))
            if let database = try store.database(create: false) {
                try database.quickCheck()
                records = try database.namespaceRecords()
            }
        } catch let error as StorageError where error.isPermission {
            // Never "No history yet" for a history this user may not read.
            Terminal.error(StateDirectoryOption.refusal(error, command: "history"))
            throw ExitCode(AuditStatus.unknown.exitCode)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(AuditStatus.unknown.exitCode)
        }
        if let name { records = records.filter { $0.label.name == name } }
        let (current, earlier) = Self.byBoot(records, thisBoot: Self.thisBoot())
        if format == .json {
            Terminal.write(HistoryListing(current).json(pretty: Terminal.isTerminal) + [10])
            return
        }
        var text = Self.render(current, netns: name, window: settings.duration(growthWindow, "growth-window", default: 3600), now: Date(),
                               width: Terminal.width)
        if !earlier.isEmpty {
            let count = earlier.count == 1 ? "1 namespace" : "\(earlier.count) namespaces"
            text += "\n(\(count) recorded before the last reboot \(earlier.count == 1 ? "is" : "are") not shown: \(earlier.count == 1 ? "it is" : "they are") gone, "
                + "and the next run that keeps state forgets \(earlier.count == 1 ? "it" : "them").)\n"
        }
        Terminal.write(text)
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`), or nil where there is none to read
    /// (not Linux, no /proc): then no record is taken for another boot's.
    static func thisBoot(path: String = "/proc/sys/kernel/random/boot_id") -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }

    /// The records of namespaces of this boot, and those of Linux namespaces of other boots (or
    /// recorded before identities named their boot), which are gone since the reboot and which
    /// the next run that keeps state forgets. Without a boot id, every record is this boot's.
    static func byBoot(_ records: [NamespaceRecord], thisBoot: String?) -> (current: [NamespaceRecord], earlier: [NamespaceRecord]) {
        guard let thisBoot else { return (records, []) }
        let earlier = { (record: NamespaceRecord) in
            NamespaceIdentity.isLinux(record.identity) && NamespaceIdentity.bootID(of: record.identity) != thisBoot
        }
        return (records.filter { !earlier($0) }, records.filter(earlier))
    }

    /// How a namespace is named to people.
    static func title(_ record: NamespaceRecord) -> String {
        if let name = record.label.name { return "namespace \(name)" }
        if record.label.isHost { return record.identity == "darwin" ? "this Mac" : "this host's namespace" }
        return "namespace \(record.identity) (no name)"
    }

    /// The text `history` prints: each namespace's samples, growth and alerts, fitted to `width`
    /// terminal columns where one is known (a pipe gets lines as long as they come).
    static func render(_ records: [NamespaceRecord], netns: String?, window: TimeInterval, now: Date, width: Int? = nil) -> String {
        let shown = records.filter { !$0.history.counts.isEmpty }
        guard !shown.isEmpty else {
            if let netns { return "No history of namespace \(netns) yet: every audit or reap that keeps state adds a sample (run `tunwarden --netns \(netns) audit` from a timer).\n" }
            return "No history yet: every audit or reap that keeps state adds a sample (run `tunwarden audit` from a timer).\n"
        }
        // Two incarnations of one name are told apart by their identity.
        let titles = shown.map(title)
        return shown.indices.map { index in
            let record = shown[index]
            var title = titles[index]
            if titles.filter({ $0 == title }).count > 1 { title += " (\(record.identity))" }
            return "\(title):\n" + render(record.history, window: window, now: now, width: width.map { $0 - 2 }).split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    static func render(_ history: NamespaceHistory, window: TimeInterval, now: Date, width: Int? = nil) -> String {
        guard let first = history.counts.first, let last = history.counts.last else {
            return "No history yet: every audit or reap that keeps state adds a sample (run `tunwarden audit` from a timer).\n"
        }
        let values = history.counts.map(\.count)
        var text = "Tunnel-style interfaces, \(Timestamp.format(first.time)) to \(Timestamp.format(last.time)) (\(values.count) sample\(values.count == 1 ? "" : "s")):\n"
        text += "  \(Sparkline.render(values, width: width.map { max(8, min(60, $0 - 2)) } ?? 60))\n"
        text += "  last \(last.count), min \(values.min()!), max \(values.max()!)\n"
        let policy = GrowthPolicy(growth: 1, window: window)
        if let base = policy.baseline(history.counts, now: last.time), last.time > base.time {
            let hours = last.time.timeIntervalSince(base.time) / 3600
            let rate = Double(last.count - base.count) / hours
            text += String(format: "  growth: %+d in %@ (%+.1f per hour)\n", last.count - base.count, DurationText.format(last.time.timeIntervalSince(base.time)), rate)
        }
        if history.alerts.isEmpty {
            text += "  no alerts fired\n"
        } else {
            text += "Alerts:\n"
            for alert in history.alerts.suffix(20) { text += "  \(Timestamp.format(alert.time))  \(alert.event)  \(alert.status.rawValue.uppercased())\n" }
        }
        if history.reapedTotal > 0 { text += "Reaped so far: \(history.reapedTotal)\n" }
        return fitted(text, width: width)
    }

    /// `text` with each line wider than `width` wrapped on spaces, its continuation indented two
    /// columns past the line's own indent; unchanged without a width.
    static func fitted(_ text: String, width: Int?) -> String {
        guard let width else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard TextLayout.columns(String(line)) > width else { return String(line) }
            let indent = line.prefix { $0 == " " }.count
            return TextLayout.wrap(String(line.dropFirst(indent)), width: width, prefix: String(repeating: " ", count: indent), indent: indent + 2)
                .joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// `history --format json`: `{"version": 1, "namespaces": [...]}`, each namespace's history
/// with who it is.
struct HistoryListing: JSONRecord {
    struct Entry: JSONRecord {
        var identity: String
        var netns: String?
        var host: Bool
        var lastRun: Date?
        var history: NamespaceHistory

        /// Who the namespace is, then its history's members as `NamespaceHistory` writes them.
        func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("identity", identity)
                json.field("netns", netns)
                json.field("host", host)
                json.field("last_run", lastRun)
                history.writeMembers(to: &json)
            }
        }

        var jsonSizeHint: Int { 256 + history.jsonSizeHint }
    }

    var version = 1
    var namespaces: [Entry]

    init(_ records: [NamespaceRecord]) {
        namespaces = records.map {
            Entry(identity: $0.identity, netns: $0.label.name, host: $0.label.isHost, lastRun: $0.lastRun, history: $0.history)
        }
    }

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("version", version)
            json.field("namespaces", namespaces)
        }
    }

    var jsonSizeHint: Int { namespaces.reduce(64) { $0 + $1.jsonSizeHint } }
}

import ArgumentParser
import Foundation
import Inventory
import Storage
import TunwardenConfig
import TunwardenCore

/// `tunwarden history`: the tunnel count over time, from the observations that audit and reap keep.
public struct HistoryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the tunnel count over time: a sparkline with min/max, the current growth rate, and when alerts fired.",
        discussion: "The history is built by every audit and reap that keeps state (an hourly timer builds it best)."
    )

    @OptionGroup public var global: GlobalOptions
    @OptionGroup public var state: StateDirectoryOption

    @Option(name: .long, help: "Output: table (for people) or json.")
    public var format: ListingFormat = .table

    @Option(name: .customLong("growth-window"), help: ArgumentHelp("The window the growth rate is measured over (default: 1h, or the configuration's growth-window).", valueName: "duration"))
    public var growthWindow: String?

    public init() {}

    public func validate() throws {
        if state.noState { throw ValidationError("history shows the observations that --no-state would leave unread: drop --no-state") }
        try OptionCheck.duration(growthWindow, "--growth-window", minimum: SettingBounds.shortestInterval, examples: "30m, 1h or 1d")
    }

    public func run() throws {
        // History is what audits and the watcher record, so it is read where they write it.
        let settings = try Settings.load(global, for: .audit)
        let key: String
        do {
            #if os(Linux)
            key = try LinuxInventory(namespaceName: settings.namespace(global)).namespaceIdentity()
            #else
            key = "darwin"
            #endif
        } catch {
            Terminal.error(ErrorAdvice.text(error))
            throw ExitCode(AuditStatus.unknown.exitCode)
        }
        let observations: Observations
        do {
            observations = try StateStore(directory: settings.stateDirectory(given: state.stateDirectory)).load()
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(AuditStatus.unknown.exitCode)
        }
        let history = observations.histories[key] ?? NamespaceHistory()
        if format == .json {
            Terminal.write(try JSONWriter.encode(history, pretty: Terminal.isTerminal) + [10])
            return
        }
        Terminal.write(Self.render(history, window: settings.duration(growthWindow, "growth-window", default: 3600), now: Date()))
    }

    static func render(_ history: NamespaceHistory, window: TimeInterval, now: Date) -> String {
        guard let first = history.counts.first, let last = history.counts.last else {
            return "No history yet: every audit or reap that keeps state adds a sample (run `tunwarden audit` from a timer).\n"
        }
        let values = history.counts.map(\.count)
        var text = "Tunnel-style interfaces, \(Timestamp.format(first.time)) to \(Timestamp.format(last.time)) (\(values.count) sample\(values.count == 1 ? "" : "s")):\n"
        text += "  \(Sparkline.render(values))\n"
        text += "  now \(last.count), min \(values.min()!), max \(values.max()!)\n"
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
        return text
    }
}

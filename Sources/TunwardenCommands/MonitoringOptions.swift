import ArgumentParser
import Foundation
import Storage
import TunwardenConfig
import TunwardenCore

/// What a run from a timer (or by hand) does beyond reporting: leak detection from the count
/// history, alerts on transitions, and Prometheus textfile metrics.
public struct MonitoringOptions: ParsableArguments {
    @Option(name: .customLong("alert-exec"), help: ArgumentHelp(
        "Run this shell command when the status changes or a new orphan appears; the alert is JSON on its standard input.",
        discussion: "Also set: TUNWARDEN_EVENT (transition, resolved, new-orphan), TUNWARDEN_STATUS, TUNWARDEN_PREVIOUS_STATUS, TUNWARDEN_SUMMARY, TUNWARDEN_NEW_ORPHANS. The JSON carries at most 100 findings (those about the new orphans first); findings_total then says how many there were. Every alert is also logged on standard error (`tunwarden: alert: …`), with or without this option and even with --quiet. The command's standard output never reaches tunwarden's (the report): it is dropped, or shown on standard error when the command fails; its standard error is passed on. On Linux what it leaves running when it exits or is stopped (after 30 s) is killed.",
        valueName: "command"))
    public var alertExec: String?

    @Option(name: .customLong("alert-webhook"), help: ArgumentHelp(
        "POST the alert as JSON to this http(s) URL (5 s timeout, 3 attempts with backoff).",
        discussion: "An alert a sink did not take, or that a run without that sink decided, is kept in the state database and delivered by later runs that have the sink (1 min, doubling to 1 h); the next alert of the namespace carries what the sink was not told.",
        valueName: "url"))
    public var alertWebhook: String?

    @Option(name: .long, help: ArgumentHelp(
        "Write Prometheus textfile-collector metrics to this file, whose name ends in .prom, after the run (atomically).", valueName: "path.prom"))
    public var textfile: String?

    @Option(name: .long, help: ArgumentHelp("Net new tunnel-style interfaces within --growth-window that make a leak-growth warning (default: 5); once reached, it stays while more than half of them remain.", valueName: "n"))
    public var growth: Int?

    @Option(name: .customLong("growth-window"), help: ArgumentHelp("The window for --growth: 30m, 1h, 1d; a number needs its unit (default: 1h).", valueName: "duration"))
    public var growthWindow: String?

    public init() {}

    public func validate() throws {
        try OptionCheck.number(growth, "--growth", in: SettingBounds.count)
        try OptionCheck.duration(growthWindow, "--growth-window", minimum: SettingBounds.shortestInterval, examples: "30m, 1h or 1d")
        if let alertExec, alertExec.allSatisfy(\.isWhitespace) {
            throw ValidationError("--alert-exec takes a shell command; an empty one would take every alert as delivered and tell no one")
        }
        if let alertWebhook {
            guard Configuration.webhookURL(alertWebhook) != nil else {
                throw ValidationError("--alert-webhook takes an http:// or https:// URL; got '\(alertWebhook)'")
            }
        }
        if let textfile, !textfile.hasSuffix(".prom") {
            throw ValidationError("--textfile must end in .prom (node_exporter's textfile collector reads only those); got '\(textfile)'")
        }
    }

    /// Whether alert sinks were given on the command line.
    var alertingGiven: Bool { alertExec != nil || alertWebhook != nil }

    /// These options with the configuration file's values filled in. With `alerts` false (no
    /// observations to compare against) the file's alert sinks are left out.
    func resolved(_ settings: Settings, alerts: Bool = true) -> Monitoring {
        Monitoring(
            alertExec: alerts ? settings.text(alertExec, "alert-exec") : nil,
            alertWebhook: alerts ? settings.text(alertWebhook, "alert-webhook").flatMap(Configuration.webhookURL) : nil,
            textfile: settings.text(textfile, "textfile"),
            growthPolicy: GrowthPolicy(growth: settings.integer(growth, "growth", default: 5),
                                       window: settings.duration(growthWindow, "growth-window", default: 3600))
        )
    }
}

/// Leak detection, alerting and metrics as they apply to one run (or, in the watcher, until the
/// configuration is reloaded).
struct Monitoring {
    var alertExec: String?
    var alertWebhook: URL?
    var textfile: String?
    var growthPolicy: GrowthPolicy
    /// How webhooks are sent (a test's stand-in, or the system's way).
    var webhookTransport: any WebhookTransport = SystemWebhookTransport()
    /// The watcher's hold-down of improvements as it stands (see `AlertDecision.Hold`); nil for
    /// the one-shot runs, which alert every change at once.
    var hold: AlertDecision.Hold?
    /// Whether a recording claims, as it decides an alert, what this run's sinks are owed (a
    /// one-shot run, which delivers it at once); the watcher's courier claims it when its turn
    /// comes instead, after the delivery under way (see `AlertCourier`).
    var claimsWhenDeciding = true

    var sinks: AlertSinks { AlertSinks(execCommand: alertExec, webhook: alertWebhook, transport: webhookTransport) }
    var alerting: Bool { alertExec != nil || alertWebhook != nil }

    /// Writes the textfile metrics of a judgement, when asked to; a failure is noted, never fatal.
    /// `now` (default: when its snapshot was taken) is the time they say tunwarden last looked,
    /// which a watcher refreshes while nothing changes.
    func writeMetrics(_ assessment: Assessment, observations: Observations?, now: Date? = nil) {
        guard let textfile else { return }
        let snapshot = assessment.snapshot
        let history = observations?.histories[snapshot.namespaceIdentity]
        do {
            try TextfileWriter.write(TextfileMetrics.render(assessment, history: history, now: now ?? snapshot.takenAt), to: textfile)
        } catch {
            Terminal.note("metrics not written: \(error)")
        }
    }
}

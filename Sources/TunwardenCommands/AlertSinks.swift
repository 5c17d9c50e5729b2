import ChildProcesses
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Storage
import TunwardenCore

/// Delivers an alert to the configured sinks. A sink that fails is logged and never stops the
/// run: the audit's own result and exit code stand. Whether each sink took the alert is
/// reported back, so that one that failed can be retried by a later run (see `deliverPending`):
/// an exec took it when it exited 0 within its time, a webhook when it answered 2xx.
struct AlertSinks {
    var execCommand: String?
    var webhook: URL?
    /// Attempts for the webhook, with 0.5 s, 1 s, 2 s … between them.
    var webhookAttempts = 3
    var webhookTimeout: TimeInterval = 5
    var execTimeout: TimeInterval = 30
    /// How a webhook POST is sent: the system's way, or a test's stand-in.
    var transport: any WebhookTransport = SystemWebhookTransport()
    /// What tells a sink that the run was asked to stop: a descriptor made readable then, and
    /// whether a stop was asked. An exec then is stopped at once, and a webhook tries no more, so
    /// that SIGTERM stops a watcher at once even while a sink hangs. (Set by the watcher's
    /// `AlertCourier` for its whole life; an audit leaves it nil.)
    nonisolated(unsafe) static var interrupt: (descriptor: Int32, stopping: () -> Bool)?

    /// The sinks configured.
    var kinds: AlertSinkSet {
        var kinds: AlertSinkSet = []
        if execCommand != nil { kinds.insert(.exec) }
        if webhook != nil { kinds.insert(.webhook) }
        return kinds
    }

    /// The sinks configured, by what they are: an alert decided here is owed to them, not to
    /// any sink of their kind.
    var addresses: SinkAddresses { SinkAddresses(exec: execCommand, webhook: webhook?.absoluteString) }

    /// How one delivery went.
    struct Outcome: Equatable {
        var delivered: AlertSinkSet = []
        var failed: AlertSinkSet = []
        /// What went wrong, in words, when something did.
        var problem: String?
    }

    /// Logs a newly decided alert (unless the caller has: `logged`) and delivers it to every configured sink.
    @discardableResult
    func deliver(_ alert: AlertDecision.Alert, logged: Bool = false) -> Outcome {
        if !logged { log(alert) }
        return deliver(PendingAlert(id: 0, time: alert.time, event: alert.event, status: alert.status, previousStatus: alert.previousStatus,
                                    first: alert.first, summary: alert.summary, newOrphans: alert.newOrphans, body: alert.json(), sinks: kinds, attempts: 0))
    }

    /// Delivers a kept alert to those of its sinks that are configured here.
    func deliver(_ alert: PendingAlert) -> Outcome {
        var outcome = Outcome()
        var problems: [String] = []
        if alert.sinks.contains(.exec), let execCommand {
            if let problem = runExec(execCommand, body: alert.body, alert: alert) {
                outcome.failed.insert(.exec)
                problems.append(problem)
            } else {
                outcome.delivered.insert(.exec)
            }
        }
        if alert.sinks.contains(.webhook), let webhook {
            if let problem = post(webhook, body: alert.body) {
                outcome.failed.insert(.webhook)
                problems.append(problem)
            } else {
                outcome.delivered.insert(.webhook)
            }
        }
        outcome.problem = problems.isEmpty ? nil : problems.joined(separator: "; ")
        return outcome
    }

    /// A newly decided alert on standard error.
    func log(_ alert: AlertDecision.Alert) {
        log(alert.event, alert.status, previous: alert.previousStatus, first: alert.first, newOrphans: alert.newOrphans, summary: alert.summary)
    }

    /// The alert on standard error, with the priority systemd's journal understands.
    func log(_ event: String, _ status: AuditStatus, previous: AuditStatus, first: Bool, newOrphans: [String], summary: String, retry: String? = nil) {
        let priority: Int
        switch status {
        case .critical: priority = 2
        case .warning, .unknown: priority = 4
        case .ok: priority = 5
        }
        Terminal.log("alert: \(retry.map { "\($0): " } ?? "")\(event): \(status.rawValue.uppercased()) (\(first ? "first audit here" : "was " + previous.rawValue.uppercased()))"
            + (newOrphans.isEmpty ? "" : "; new orphans: \(Self.abbreviated(newOrphans, separator: ", "))") + ". \(summary)",
            priority: priority)
    }

    /// The first `limit` names, then how many more: a leak of thousands stays one readable line.
    /// The alert's JSON always lists every name.
    static func abbreviated(_ names: [String], separator: String, limit: Int = 20) -> String {
        guard names.count > limit else { return names.joined(separator: separator) }
        return names.prefix(limit).joined(separator: separator) + "\(separator)… (\(names.count - limit) more)"
    }

    /// Runs the command with /bin/sh, the alert as JSON on standard input and a few summary
    /// variables in the environment. Returns what went wrong (nil: it exited 0 in time). What it
    /// writes on standard error is passed on to tunwarden's (the first 64 KiB); what it writes on
    /// standard output is dropped, its first 4 KiB shown on standard error when it failed.
    func runExec(_ command: String, body: [UInt8], alert: PendingAlert) -> String? {
        var environment = ProcessInfo.processInfo.environment
        environment["TUNWARDEN_EVENT"] = alert.event
        environment["TUNWARDEN_STATUS"] = alert.status.rawValue
        environment["TUNWARDEN_PREVIOUS_STATUS"] = alert.previousStatus.rawValue
        environment["TUNWARDEN_SUMMARY"] = alert.summary
        // One environment string may not exceed 128 KiB (MAX_ARG_STRLEN); the JSON has them all.
        environment["TUNWARDEN_NEW_ORPHANS"] = Self.abbreviated(alert.newOrphans, separator: " ", limit: 1000)
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run("/bin/sh", ["-c", command], environment: environment, input: body, timeout: execTimeout,
                                           outputLimit: Self.execErrorOutputShown + 1, interrupt: Self.interrupt)
        } catch {
            Terminal.note("--alert-exec could not start: \(error)")
            return "--alert-exec could not start: \(error)"
        }
        if outcome.inputRefused { Terminal.note("--alert-exec did not read the alert") }
        var problem: String?
        if outcome.interrupted {
            problem = "--alert-exec was stopped: tunwarden was asked to stop"
        } else if outcome.timedOut {
            problem = "--alert-exec did not finish within \(Int(execTimeout)) s and was stopped"
        } else if let signal = outcome.signal {
            problem = "--alert-exec was ended by signal \(signal)"
        } else if let status = outcome.status, status != 0 {
            problem = "--alert-exec exited \(status)"
        }
        if let problem { Terminal.note(problem) }
        if !outcome.leftRunning.isEmpty {
            Terminal.note("--alert-exec was given up to let tunwarden stop, with processes of its still running (stuck in the kernel?), "
                + "no longer waited for: pid\(outcome.leftRunning.count == 1 ? "" : "s") \(outcome.leftRunning.map(String.init).joined(separator: " "))")
        }
        Terminal.relay(errorOutput: outcome.errorOutput, limit: Self.execErrorOutputShown)
        if problem != nil, !outcome.output.isEmpty {
            Terminal.relay(errorOutput: outcome.output, limit: Self.execOutputShown,
                           heading: "--alert-exec printed on its standard output:")
        }
        return problem
    }

    /// How much of the command's standard output is shown (on standard error) when it failed.
    /// Its standard output never reaches tunwarden's: that is the report, which a script, Nagios
    /// or cron reads (a relay such as `curl` prints the server's answer there on every alert).
    static let execOutputShown = 4096
    /// How much of the command's standard error is passed on to tunwarden's, whether or not it failed.
    static let execErrorOutputShown = 65536

    /// POSTs the alert, retrying a bounded number of times with backoff. Returns what went wrong
    /// (nil: the server answered 2xx). A stop ends the attempt under way (the system's transport)
    /// or the wait before the next, and no more are made: what went wrong then says so.
    func post(_ url: URL, body: [UInt8]) -> String? {
        var delay = 0.5
        var lastProblem = ""
        var made = 0
        for attempt in 1...webhookAttempts {
            if Self.interrupt?.stopping() == true { break }
            made = attempt
            guard let problem = transport.post(url, body: body, timeout: webhookTimeout) else { return nil }
            lastProblem = problem
            if attempt < webhookAttempts { Self.pause(delay) }
            delay *= 2
        }
        let tries = "\(made) attempt\(made == 1 ? "" : "s")"
        let problem = made < webhookAttempts
            ? "--alert-webhook \(url.absoluteString) stopped after \(tries), tunwarden being asked to stop: \(lastProblem)"
            : "--alert-webhook \(url.absoluteString) failed after \(tries): \(lastProblem)"
        Terminal.note(problem)
        return problem
    }

    /// Waits `seconds` between webhook attempts, or less when a stop is asked meanwhile.
    private static func pause(_ seconds: TimeInterval) {
        guard let descriptor = interrupt?.descriptor else {
            usleep(useconds_t(seconds * 1_000_000))
            return
        }
        var stop = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&stop, 1, Int32(seconds * 1000))
    }
}

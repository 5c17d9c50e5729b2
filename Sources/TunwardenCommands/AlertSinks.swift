import ChildProcesses
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TunwardenCore

/// Delivers an alert to the configured sinks. A sink that fails is logged and never stops the
/// run: the audit's own result and exit code stand.
struct AlertSinks {
    var execCommand: String?
    var webhook: URL?
    /// Attempts for the webhook, with 0.5 s, 1 s, 2 s … between them.
    var webhookAttempts = 3
    var webhookTimeout: TimeInterval = 5
    var execTimeout: TimeInterval = 30
    /// How a webhook POST is sent: the system's way, or a test's stand-in.
    var transport: any WebhookTransport = SystemWebhookTransport()

    func deliver(_ alert: AlertDecision.Alert) {
        log(alert)
        guard execCommand != nil || webhook != nil else { return }
        let body: [UInt8]
        do {
            body = try JSONWriter.encode(alert)
        } catch {
            Terminal.note("alert not delivered: cannot encode it: \(error)")
            return
        }
        if let execCommand { runExec(execCommand, body: body, alert: alert) }
        if let webhook { post(webhook, body: body) }
    }

    /// The alert on standard error, with the priority systemd's journal understands.
    func log(_ alert: AlertDecision.Alert) {
        let priority: Int
        switch alert.status {
        case .critical: priority = 2
        case .warning, .unknown: priority = 4
        case .ok: priority = 5
        }
        Terminal.log("alert: \(alert.event): \(alert.status.rawValue.uppercased()) (\(alert.first ? "first audit here" : "was " + alert.previousStatus.rawValue.uppercased()))"
            + (alert.newOrphans.isEmpty ? "" : "; new orphans: \(Self.abbreviated(alert.newOrphans, separator: ", "))") + ". \(alert.summary)",
            priority: priority)
    }

    /// The first `limit` names, then how many more: a leak of thousands stays one readable line.
    /// The alert's JSON always lists every name.
    static func abbreviated(_ names: [String], separator: String, limit: Int = 20) -> String {
        guard names.count > limit else { return names.joined(separator: separator) }
        return names.prefix(limit).joined(separator: separator) + "\(separator)… (\(names.count - limit) more)"
    }

    /// Runs the command with /bin/sh, the alert as JSON on standard input and a few summary
    /// variables in the environment.
    func runExec(_ command: String, body: [UInt8], alert: AlertDecision.Alert) {
        var environment = ProcessInfo.processInfo.environment
        environment["TUNWARDEN_EVENT"] = alert.event
        environment["TUNWARDEN_STATUS"] = alert.status.rawValue
        environment["TUNWARDEN_PREVIOUS_STATUS"] = alert.previousStatus.rawValue
        environment["TUNWARDEN_SUMMARY"] = alert.summary
        // One environment string may not exceed 128 KiB (MAX_ARG_STRLEN); the JSON has them all.
        environment["TUNWARDEN_NEW_ORPHANS"] = Self.abbreviated(alert.newOrphans, separator: " ", limit: 1000)
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run("/bin/sh", ["-c", command], environment: environment, input: body, timeout: execTimeout)
        } catch {
            Terminal.note("--alert-exec could not start: \(error)")
            return
        }
        if outcome.inputRefused { Terminal.note("--alert-exec did not read the alert") }
        if outcome.timedOut {
            Terminal.note("--alert-exec did not finish within \(Int(execTimeout)) s and was stopped")
        } else if let signal = outcome.signal {
            Terminal.note("--alert-exec was ended by signal \(signal)")
        } else if let status = outcome.status, status != 0 {
            Terminal.note("--alert-exec exited \(status)")
        }
        // What it printed goes where it would have gone had it shared tunwarden's streams.
        Terminal.relay(output: outcome.output, errorOutput: outcome.errorOutput)
    }

    /// POSTs the alert, retrying a bounded number of times with backoff.
    func post(_ url: URL, body: [UInt8]) {
        var delay = 0.5
        var lastProblem = ""
        for attempt in 1...webhookAttempts {
            guard let problem = transport.post(url, body: body, timeout: webhookTimeout) else { return }
            lastProblem = problem
            if attempt < webhookAttempts {
                usleep(useconds_t(delay * 1_000_000))
                delay *= 2
            }
        }
        Terminal.note("--alert-webhook \(url.absoluteString) failed after \(webhookAttempts) attempts: \(lastProblem)")
    }
}

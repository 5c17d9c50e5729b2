#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// What each sink is owed when runs sharing a state directory have different sinks, or a
/// delivery failed: every sink hears each change once, whichever run saw it first. As root, in
/// throwaway namespaces.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct AlertOwedTests {
    /// A run without a sink (an admin's `audit`) that sees the change first leaves its alert to
    /// the runs that have one: the next run with the exec delivers the "resolved" it decided.
    @Test func anAlertDecidedByARunWithoutASinkIsDeliveredByTheNextRunWithOne() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let events = state.path + "/events"
        let sink = "echo \"$TUNWARDEN_EVENT $TUNWARDEN_PREVIOUS_STATUS $TUNWARDEN_NEW_ORPHANS\" >> \(events)"
        func audit(_ extra: [String]) throws -> Shell.Result {
            try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--format", "nagios"] + extra)
        }
        func sent() -> [String] { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

        try ns.ip("tuntap", "add", "dev", "owed0", "mode", "tun")
        _ = try audit(["--alert-exec", sink])
        #expect(sent() == ["transition ok owed0"])
        try ns.ip("link", "del", "owed0")
        let look = try audit([])
        #expect(look.stderr.contains("alert: resolved: OK (was WARNING)"), "\(look.stderr)")
        #expect(sent() == ["transition ok owed0"])
        let next = try audit(["--alert-exec", sink])
        #expect(next.stderr.contains("alert: delivering the alert of"), "\(next.stderr)")
        #expect(next.stderr.contains("in namespace \(ns.name): resolved: OK (was WARNING)"), "\(next.stderr)")
        #expect(sent() == ["transition ok owed0", "resolved warning "])
        #expect(try audit(["--alert-exec", sink]).stderr.isEmpty)
        #expect(sent().count == 2)
    }

    /// Runs of two namespaces share the state, each with its own team's command: an alert RED's
    /// command failed to take, due for its retry, is not delivered through BLUE's command (nor
    /// one that a run without sinks decided in RED); RED's next run tells RED's command.
    @Test func anotherNamespacesRunDoesNotDeliverAnAlertThroughItsOwnCommand() throws {
        let red = try TestNamespace(), blue = try TestNamespace(), state = try TemporaryDirectory()
        defer { red.remove(); blue.remove(); state.remove() }
        let down = state.path + "/relay-down", events = state.path + "/events"
        FileManager.default.createFile(atPath: down, contents: nil)
        func sink(_ team: String) -> String {
            "test -e \(down) && [ \(team) = red ] && exit 1; echo \"\(team) $TUNWARDEN_EVENT $TUNWARDEN_NEW_ORPHANS\" >> \(events)"
        }
        func audit(_ ns: TestNamespace, _ extra: [String]) throws -> Shell.Result {
            try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--format", "nagios"] + extra)
        }
        func sent() -> [String] { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

        _ = try audit(blue, ["--alert-exec", sink("blue")])
        try red.ip("tuntap", "add", "dev", "redown0", "mode", "tun")
        #expect(try audit(red, ["--alert-exec", sink("red")]).stderr.contains("--alert-exec exited 1"))
        try StateSQL.execute(state.path, "UPDATE alerts SET next_attempt = 0")
        let other = try audit(blue, ["--alert-exec", sink("blue")])
        #expect(!other.stderr.contains("alert:"), "\(other.stderr)")
        #expect(sent().isEmpty)
        try FileManager.default.removeItem(atPath: down)
        _ = try audit(red, ["--alert-exec", sink("red")])
        #expect(sent() == ["red transition redown0"])

        try red.ip("link", "del", "redown0")
        #expect(try audit(red, []).stderr.contains("alert: resolved"))
        try StateSQL.execute(state.path, "UPDATE alerts SET next_attempt = 0")
        let again = try audit(blue, ["--alert-exec", sink("blue")])
        #expect(!again.stderr.contains("alert:"), "\(again.stderr)")
        _ = try audit(red, ["--alert-exec", sink("red")])
        #expect(sent() == ["red transition redown0", "red resolved "])
    }

    /// An alert whose delivery failed is not dropped when the next one comes: the next one
    /// carries it (the transition, the status the sink was last told, every new orphan).
    @Test func theNextAlertCarriesWhatAFailedDeliveryDidNotSay() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let up = state.path + "/sink-up", events = state.path + "/events", bodies = state.path + "/bodies"
        let sink = "test -e \(up) || exit 1; cat >> \(bodies); echo >> \(bodies); echo \"$TUNWARDEN_EVENT $TUNWARDEN_PREVIOUS_STATUS $TUNWARDEN_NEW_ORPHANS\" >> \(events)"
        func audit() throws -> Shell.Result {
            try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--alert-exec", sink, "--format", "nagios"])
        }
        func sent() -> [String] { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

        try ns.ip("tuntap", "add", "dev", "miss0", "mode", "tun")
        #expect(try audit().stderr.contains("--alert-exec exited 1"))
        FileManager.default.createFile(atPath: up, contents: nil)
        try ns.ip("tuntap", "add", "dev", "miss1", "mode", "tun")
        let next = try audit()
        #expect(next.stderr.contains("alert: new-orphan: WARNING (was WARNING); new orphans: miss1."), "\(next.stderr)")
        #expect(next.stderr.contains("alert: retrying (attempt 2) the undelivered alert of"), "\(next.stderr)")
        #expect(next.stderr.contains("with the 1 undelivered before it: transition: WARNING (first audit here); new orphans: miss0, miss1."), "\(next.stderr)")
        #expect(sent() == ["transition ok miss0 miss1"])
        let body = try #require(try String(contentsOfFile: bodies, encoding: .utf8).split(separator: "\n").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(object["event"] as? String == "transition" && object["previous_status"] as? String == "ok")
        #expect(object["new_orphans"] as? [String] == ["miss0", "miss1"])
        #expect((object["summary"] as? String)?.contains("2 orphaned") == true)
        #expect(try StateSQL.integers(state.path, "SELECT id FROM alerts WHERE pending_exec").isEmpty)
    }

    /// SIGTERM while a webhook POST hangs: the watcher abandons it within about a second, tries
    /// no more, and says it stopped after the one attempt made; the alert stays owed.
    @Test func aStopAbandonsAHangingWebhookPostAndSaysSo() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let posts = state.path + "/posts"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Shell.which("python3") ?? "/usr/bin/python3")
        server.arguments = ["-c", """
            import http.server, sys, time
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    self.rfile.read(int(self.headers.get('Content-Length', 0)))
                    open(sys.argv[1], 'a').write('POST\\n'); time.sleep(8)
                    self.send_response(204); self.end_headers()
                def log_message(self, *args): pass
            server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """, posts]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        var line = Data()
        while !line.contains(10) { line.append(out.fileHandleForReading.readData(ofLength: 1)) }
        let port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)

        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--alert-webhook", "http://127.0.0.1:\(port)/"])
        try ns.ip("tuntap", "add", "dev", "owstop0", "mode", "tun")
        let start = Date()
        while ((try? String(contentsOfFile: posts, encoding: .utf8)) ?? "").isEmpty, Date().timeIntervalSince(start) < 5 { usleep(20_000) }
        let (seconds, status) = watcher.terminate()
        #expect(status == 0)
        #expect(seconds < 2, "stopping took \(seconds) s")
        #expect(try String(contentsOfFile: posts, encoding: .utf8) == "POST\n")
        #expect(watcher.log.contains("stopped after 1 attempt, tunwarden being asked to stop"), "\(watcher.log)")
        #expect(!watcher.log.contains("failed after"), "\(watcher.log)")
        #expect(try StateSQL.integers(state.path, "SELECT id FROM alerts WHERE pending_webhook").count == 1)
    }

    /// A watcher's sink that hangs holds up nothing of the watcher: it says READY=1 at once,
    /// pings systemd's watchdog, and judges and alerts a new orphan while the sink still hangs.
    @Test func aHangingSinkHoldsUpNeitherReadinessNorTheWatchdogNorJudgement() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let notifier = try NotifyListener(in: state.path)
        defer { notifier.stop() }
        let socketPath = notifier.socketPath
        let messages = notifier.messages

        try ns.ip("tuntap", "add", "dev", "owhang0", "mode", "tun")
        let started = Date()
        // Waits until the log says it watches: before, the first alert's 25 s.
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--alert-exec", "sleep 25"],
                                             environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "1000000"])
        #expect(watcher.log.contains("alert: transition: WARNING"), "\(watcher.log)")
        while !messages().contains("READY=1"), Date().timeIntervalSince(started) < 5 { usleep(20_000) }
        #expect(messages().contains("READY=1"))
        // Pinged every half second meanwhile.
        usleep(2_000_000)
        #expect(messages().filter { $0 == "WATCHDOG=1" }.count >= 3, "\(messages())")
        try ns.ip("tuntap", "add", "dev", "owhang1", "mode", "tun")
        try watcher.wait("the new orphan judged while the sink hangs", seconds: 3) { $0.contains("alert: new-orphan: WARNING (was WARNING); new orphans: owhang1") }
        #expect(Date().timeIntervalSince(started) < 15)
        let (seconds, status) = watcher.terminate()
        #expect(status == 0)
        #expect(seconds < 2)
        // The hanging delivery was stopped, and both alerts are kept for the next run.
        #expect(watcher.log.contains("--alert-exec was stopped: tunwarden was asked to stop"), "\(watcher.log)")
        #expect(try StateSQL.integers(state.path, "SELECT id FROM alerts WHERE pending_exec").count == 2)
    }
}
#endif

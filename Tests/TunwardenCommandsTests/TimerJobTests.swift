import Foundation
import Testing
import TestSupport

/// `audit` as a timer job: alerts through exec and webhook sinks on transitions only (across
/// runs, through the state), textfile metrics, and `history`. As root, in throwaway namespaces; the
/// webhook server listens on 127.0.0.1 only.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct TimerJobTests {
    /// A local HTTP server that records each POST body as one line, and answers the first
    /// request with 503 so the sink's retry is exercised.
    final class WebhookServer {
        let process = Process()
        let port: Int
        let log: String

        init(directory: String) throws {
            log = directory + "/webhook.log"
            let script = """
            import http.server, sys
            failed = [False]
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                    if not failed[0]:
                        failed[0] = True
                        self.send_response(503); self.end_headers(); return
                    with open(sys.argv[1], 'ab') as f: f.write(body + b'\\n')
                    self.send_response(204); self.end_headers()
                def log_message(self, *args): pass
            server = http.server.HTTPServer(('127.0.0.1', 0), H)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """
            process.executableURL = URL(fileURLWithPath: Shell.which("python3") ?? "/usr/bin/python3")
            process.arguments = ["-c", script, log]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            var line = Data()
            while !line.contains(10) { line.append(out.fileHandleForReading.readData(ofLength: 1)) }
            port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }

        deinit {
            // SIGKILL: the test runner may ignore SIGTERM, and an ignored signal stays ignored across exec.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        var bodies: [[String: Any]] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    @Test func alertsOncePerTransitionThroughExecAndWebhook() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let server = try WebhookServer(directory: state.path)
        #expect(server.port > 0)
        func audit() throws -> Shell.Result {
            try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path,
                               "--alert-exec", "cat >> \(state.path)/exec.log; echo \"$TUNWARDEN_EVENT $TUNWARDEN_PREVIOUS_STATUS $TUNWARDEN_STATUS\" >> \(state.path)/events",
                               "--alert-webhook", "http://127.0.0.1:\(server.port)/hook",
                               "--textfile", state.path + "/tunwarden.prom", "--format", "nagios"])
        }
        func events() -> [String] {
            ((try? String(contentsOfFile: state.path + "/events", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        #expect(try audit().status == 0)
        #expect(events().isEmpty)

        try ns.ip("tuntap", "add", "dev", "leak0", "mode", "tun")
        let warned = try audit()
        #expect(warned.status == 1)
        #expect(warned.stderr.contains("tunwarden: alert: transition: WARNING (was OK); new orphans: leak0."))
        #expect(events() == ["transition ok warning"])

        // Unchanged: no alert, in this run or the next.
        #expect(try audit().stderr.isEmpty)
        #expect(events() == ["transition ok warning"])

        try ns.ip("tuntap", "add", "dev", "leak1", "mode", "tun")
        _ = try audit()
        #expect(events() == ["transition ok warning", "new-orphan warning warning"])

        try ns.ip("link", "del", "leak0")
        try ns.ip("link", "del", "leak1")
        _ = try audit()
        #expect(events() == ["transition ok warning", "new-orphan warning warning", "resolved warning ok"])

        // The webhook got the same three alerts (the first after one retry), as JSON.
        let bodies = server.bodies
        #expect(bodies.map { $0["event"] as? String } == ["transition", "new-orphan", "resolved"])
        #expect((bodies.first?["new_orphans"] as? [String]) == ["leak0"])
        #expect(bodies.first?["netns"] as? String == ns.name)

        let metrics = try String(contentsOfFile: state.path + "/tunwarden.prom", encoding: .utf8)
        #expect(metrics.contains("tunwarden_status{netns=\"\(ns.name)\"} 0"))
        #expect(!FileManager.default.fileExists(atPath: state.path + "/tunwarden.prom.tmp"))

        let history = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "history", "--state-dir", state.path])
        #expect(history.status == 0)
        #expect(history.stdout.contains("(5 samples)"))
        #expect(history.stdout.contains("last 0, min 0, max 2"))
        #expect(history.stdout.contains("new-orphan  WARNING"))
    }

    @Test func aFailingSinkNeverFailsTheAudit() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "leak2", "mode", "tun")
        // The command exits at once without reading the alert it is given.
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path,
                                        "--alert-exec", "exit 7", "--alert-webhook", "http://127.0.0.1:9/none", "--format", "nagios"])
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("TUNWARDEN WARNING"))
        #expect(result.stderr.contains("--alert-exec exited 7"))
        #expect(result.stderr.contains("--alert-webhook http://127.0.0.1:9/none failed after 3 attempts"))
    }

    /// An alert the sink did not take is kept undelivered and retried by a later run once its
    /// backoff has passed (moved forward here, rather than waited for), then never again.
    @Test func anUndeliveredAlertIsRetriedByALaterRunUntilDelivered() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let up = state.path + "/sink-up", events = state.path + "/events"
        // Fails (exit 1) until the file `sink-up` exists.
        let sink = "test -e \(up) || exit 1; echo \"$TUNWARDEN_EVENT $TUNWARDEN_NEW_ORPHANS\" >> \(events)"
        func audit() throws -> Shell.Result {
            try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--alert-exec", sink, "--format", "nagios"])
        }
        func sent() -> [String] { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        func pending() throws -> [Int64] { try StateSQL.integers(state.path, "SELECT attempts FROM alerts WHERE pending_exec") }

        try ns.ip("tuntap", "add", "dev", "undel0", "mode", "tun")
        let failed = try audit()
        #expect(failed.stderr.contains("--alert-exec exited 1"), "\(failed.stderr)")
        #expect(failed.stderr.contains("the alert is kept undelivered and retried in 1m"), "\(failed.stderr)")
        #expect(try pending() == [1])
        // Not before its backoff.
        FileManager.default.createFile(atPath: up, contents: nil)
        #expect(try audit().stderr.isEmpty)
        #expect(sent().isEmpty)

        try StateSQL.execute(state.path, "UPDATE alerts SET next_attempt = 0")
        let retried = try audit()
        #expect(retried.stderr.contains("alert: retrying (attempt 2) the undelivered alert of"), "\(retried.stderr)")
        #expect(sent() == ["transition undel0"])
        #expect(try pending().isEmpty)
        try StateSQL.execute(state.path, "UPDATE alerts SET next_attempt = 0")
        #expect(try audit().stderr.isEmpty)
        #expect(sent() == ["transition undel0"])
    }

    @Test func leakGrowthFromTheHistory() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        func audit() throws -> Shell.Result {
            try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--growth", "3", "--format", "json"])
        }
        try ns.hold("grow0")
        _ = try audit()
        try ns.hold("grow1")
        try ns.hold("grow2")
        try ns.hold("grow3")
        let result = try audit()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let finding = try #require((object["findings"] as? [[String: Any]])?.first { $0["id"] as? String == "leak-growth" })
        #expect((finding["evidence"] as? String)?.hasPrefix("3 net new tunnel-style interfaces") == true)
        #expect(result.status == 1)
    }

    /// The files of a state directory but its lock and the database's write-ahead log files.
    static func stateFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0 != "lock" && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }.sorted()
    }

    /// A damaged state.json left by an older tunwarden is not imported: it is moved aside, kept,
    /// and observing starts afresh in a new database.
    @Test func aCorruptStateFileIsMovedAsideAndObservingStartsAfresh() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try Data("{ damaged".utf8).write(to: URL(fileURLWithPath: state.path + "/state.json"))
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--format", "nagios"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("was damaged"))
        #expect(result.stderr.contains("started fresh observations"))
        // Beside the state directory's lock: the fresh database (with its write-ahead log, which
        // outlives the run) and the damaged file, kept.
        let files = try Self.stateFiles(state.path)
        #expect(files.count == 2, "\(files)")
        #expect(files.contains("state.db"))
        let kept = try #require(files.first { $0.hasPrefix("state.json.corrupt-") })
        #expect(try String(contentsOfFile: state.path + "/" + kept, encoding: .utf8) == "{ damaged")
    }

    /// A damaged database is moved aside, kept, and a fresh one started; the next run uses it.
    @Test func aDamagedDatabaseIsMovedAsideAndObservingStartsAfresh() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let garbage = Data(String(repeating: "not a database ", count: 300).utf8)
        try garbage.write(to: URL(fileURLWithPath: state.path + "/state.db"))
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--format", "nagios"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("state.db was damaged (is not a valid tunwarden state database"), "\(result.stderr)")
        #expect(result.stderr.contains("started fresh observations"))
        let files = try Self.stateFiles(state.path)
        #expect(files.count == 2 && files.contains("state.db"), "\(files)")
        let kept = try #require(files.first { $0.hasPrefix("state.db.corrupt-") })
        #expect(try Data(contentsOf: URL(fileURLWithPath: state.path + "/" + kept)) == garbage)
        let again = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--state-dir", state.path, "--format", "nagios"])
        #expect(again.status == 0 && again.stderr.isEmpty, "\(again.stderr)")
    }

    @Test func badMonitoringOptionsAreUsageErrors() throws {
        for (arguments, message) in [
            (["audit", "--no-state", "--alert-exec", "true"], "need tunwarden's observations"),
            (["audit", "--alert-webhook", "ftp://x"], "http:// or https://"),
            // An empty command takes every alert as delivered (`sh -c ''` exits 0) and tells no one.
            (["audit", "--alert-exec", ""], "--alert-exec takes a shell command"),
            // (A namespace and state directory of its own, should it be taken and the watcher start.)
            (["--netns", "twtest-none-\(getpid())", "watch", "--state-dir", "/tmp/twtest-none-\(getpid())", "--alert-exec", "  "],
             "--alert-exec takes a shell command"),
            (["audit", "--textfile", "/tmp/x.txt"], "must end in .prom"),
            (["audit", "--growth-window", "soon"], "--growth-window takes a duration"),
        ] {
            let result = try Shell.capture([Shell.tunwardenBinary] + arguments)
            #expect(result.status == 64)
            #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
        }
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Inventory
import Storage
import Testing
import TestSupport
@testable import TunwardenCommands
import TunwardenCore

/// The macOS watcher, run here with stand-in `ifconfig`, `netstat`, `lsof`, `ps` and a `route`
/// whose `-n monitor` prints whatever the test appends to a file, as the routing socket would.
@Suite struct DarwinWatchTests {
    static let ifconfig = """
    lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
    \tinet 127.0.0.1 netmask 0xff000000
    utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
    \tinet6 fe80::1%utun0 prefixlen 64 scopeid 0xf
    """
    static let feth = """

    feth8846: flags=8943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 2800
    \tether 66:65:74:68:22:8e
    \tpeer: feth3846
    feth3846: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> metric 5000 mtu 2800
    \tether b6:a3:48:18:44:6b
    \tpeer: feth8846
    """

    final class Tools {
        let directory: TemporaryDirectory
        var events: String { directory.path + "/events" }

        init() throws {
            directory = try TemporaryDirectory()
            try write("ifconfig.txt", DarwinWatchTests.ifconfig)
            try write("netstat.txt", "Routing tables\nInternet6:\nDestination Gateway Flags Netif Expire\ndefault fe80::%utun0 UGcIg utun0\n")
            try write("lsof.txt", "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nopenvpn 71 root 7u systm 0x1 0t0 [ctl com.apple.net.utun_control id 4 unit 1]\n")
            try write("ps.txt", "PID COMM\n1 /sbin/launchd\n71 openvpn\n")
            try write("events", "")
            for (tool, file) in [("ifconfig", "ifconfig.txt"), ("netstat", "netstat.txt"), ("lsof", "lsof.txt"), ("ps", "ps.txt")] {
                try script(tool, "#!/bin/sh\ncat '\(directory.path)/\(file)'\n")
            }
            try script("route", """
            #!/bin/sh
            echo "$$" >> '\(directory.path)/monitors'
            [ "$1 $2" = "-n monitor" ] || exit 64
            exec tail -n 0 -F '\(events)' 2>/dev/null
            """)
        }

        func write(_ file: String, _ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory.path + "/" + file))
        }

        func script(_ name: String, _ body: String) throws {
            try write(name, body)
            chmod(directory.path + "/" + name, 0o755)
        }

        /// What `route -n monitor` prints for a change, appended as the kernel would send it.
        func routeMessage() throws {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: events))
            handle.seekToEndOfFile()
            handle.write(Data("got message of size 176 on Sun Nov 22 18:00:00 2026\nRTM_IFINFO: iface status change: len 112, if# 21, flags:<UP,BROADCAST,RUNNING>\n".utf8))
            try handle.close()
        }

        var monitorPIDs: [Int32] {
            ((try? String(contentsOfFile: directory.path + "/monitors", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        }
    }

    /// Runs the loop on its own thread until told to stop, collecting each judgement.
    final class Running: @unchecked Sendable {
        let lock = NSLock()
        var judgements: [Assessment] = []
        let control = PipeControl()
        var finished = false

        func wait(seconds: Double = 5, until condition: ([Assessment]) -> Bool) -> Bool {
            let start = Date()
            while Date().timeIntervalSince(start) < seconds {
                if lock.withLock({ condition(judgements) }) { return true }
                usleep(20_000)
            }
            return false
        }
    }

    func start(_ tools: Tools, state: TemporaryDirectory, statsInterval: TimeInterval, alerts: String) -> Running {
        let running = Running()
        let runtime = Watch.Runtime(
            namespace: nil, stateDirectory: state.path, eventBuffer: 0, policy: AuditPolicy(limit: 95, warnAt: nil),
            monitoring: Monitoring(alertExec: "cat >> \(alerts); echo >> \(alerts)", alertWebhook: nil, textfile: state.path + "/m.prom",
                                   growthPolicy: GrowthPolicy()),
            coalesce: 50, statsInterval: statsInterval, reap: false, reapPolicy: ReapPolicy(), journalPath: state.path + "/j.jsonl")
        let inventory = DarwinInventory(tools: DarwinTools(searchPath: [tools.directory.path]), privileged: true)
        let statePath = state.path
        Thread.detachNewThread { [runtime] in
            let source = RouteMonitorSource(inventory: inventory, rereadInterval: runtime.statsInterval)
            let loop = WatchLoop(source: source, store: StateStore(directory: statePath), runtime: runtime, control: running.control)
            loop.judged = { assessment in running.lock.withLock { running.judgements.append(assessment) } }
            loop.run(watching: "the stand-in routing socket")
            running.lock.withLock { running.finished = true }
        }
        return running
    }

    @Test func aRoutingMessageTriggersAJudgementThatAlertsOnANewOrphanedFethPair() throws {
        let tools = try Tools(), state = try TemporaryDirectory()
        defer { tools.directory.remove(); state.remove() }
        let alerts = state.path + "/alerts"
        let running = start(tools, state: state, statsInterval: 3600, alerts: alerts)
        #expect(running.wait { $0.count == 1 })
        #expect(running.lock.withLock { running.judgements.first?.status } == .ok)
        #expect(running.wait { _ in tools.monitorPIDs.count == 1 })

        // ZeroTier crashed: its feth pair stays, and the routing socket reports the change.
        try tools.write("ifconfig.txt", Self.ifconfig + Self.feth)
        try tools.routeMessage()
        #expect(running.wait { $0.last?.findings.contains { $0.id == "orphaned-feth" } == true })
        let start = Date()
        while !(((try? String(contentsOfFile: alerts, encoding: .utf8)) ?? "").contains("feth")), Date().timeIntervalSince(start) < 3 { usleep(20_000) }
        let sent = (try? String(contentsOfFile: alerts, encoding: .utf8)) ?? ""
        #expect(sent.contains("\"new-orphan\"") || sent.contains("\"transition\""), "\(sent)")
        // Within a second: a new orphan does not wait for the five seconds other changes wait.
        #expect(try WatchTests.waitForMetrics(state.path + "/m.prom", seconds: 3) { $0.contains("tunwarden_findings{id=\"orphaned-feth\"") })
        // The same state as audit: first-seen times for the pair.
        let observed = try StateStore(directory: state.path).database()?.observations(namespace: "darwin").namespaces["darwin"] ?? [:]
        #expect(observed.values.contains { $0.ifname == "feth8846" }, "\(observed.keys)")

        running.control.stop()
        #expect(running.wait { _ in running.finished })
        // The monitor is stopped with the loop.
        for pid in tools.monitorPIDs { #expect(kill(pid, 0) != 0, "route -n monitor \(pid) left running") }
    }

    @Test func theSlowRereadCatchesWhatTheRoutingSocketDoesNotReport() throws {
        let tools = try Tools(), state = try TemporaryDirectory()
        defer { tools.directory.remove(); state.remove() }
        let running = start(tools, state: state, statsInterval: 1, alerts: state.path + "/alerts")
        #expect(running.wait { $0.count >= 1 })
        // An interface arrives: no routing message, only the periodic re-read sees it.
        try tools.write("ifconfig.txt", Self.ifconfig + Self.feth)
        #expect(running.wait(seconds: 4) { $0.last?.interfaces.contains { $0.interface.name == "feth8846" } == true })
        running.control.stop()
        _ = running.wait { _ in running.finished }
    }
}

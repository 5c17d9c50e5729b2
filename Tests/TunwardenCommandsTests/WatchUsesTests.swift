#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// What a tap's verdict rests on beyond its holders, followed by `tunwarden watch` on the real
/// kernel in throwaway namespaces: a vxlan sending from its address or a policy route taking it as
/// source (announced by link and route events), and a socket bound to it (announced by none, read
/// again at each traffic sample); and a `watch --reap` whose state cannot be used says that it is
/// not reaping.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct WatchUsesTests {
    /// The state the metrics give the namespace's one tap.
    static func tapState(_ metrics: String) -> String? {
        let text = (try? String(contentsOfFile: metrics, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix("tunwarden_interfaces{kind=\"tap\",") && $0.hasSuffix(" 1") }
            .flatMap { $0.split(separator: "\"").dropFirst(3).first.map(String.init) }
    }

    /// Waits up to `seconds` for the metrics to give the tap `state`.
    static func expectState(_ metrics: String, _ state: String, within seconds: Double, _ watcher: WatchTests.Watcher,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reached = try WatchTests.waitForMetrics(metrics, seconds: seconds) { _ in tapState(metrics) == state }
        #expect(reached, "the watcher has the tap as \(tapState(metrics) ?? "nothing"), not \(state): \(watcher.log)", sourceLocation: sourceLocation)
    }

    /// A vxlan made to send from an orphan tap's address, and a route of table 100 taking it as
    /// source, make the tap suspect within a couple of seconds of their events; each one's
    /// deletion makes it an orphan again.
    @Test func aTunnelOrARouteSendingFromATapsAddressIsFollowed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "wsl0", "mode", "tap")
        try ns.ip("link", "set", "wsl0", "up")
        try ns.ip("addr", "add", "10.49.0.1/32", "dev", "wsl0")
        try ns.ip("link", "add", "wsla", "type", "veth", "peer", "name", "wslb")
        for device in ["wsla", "wslb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "192.0.2.1/24", "dev", "wsla")
        let metrics = state.path + "/w.prom"
        // Traffic samples far apart: only the events can tell the watcher.
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--textfile", metrics, "--stats-interval", "60s"])
        try Self.expectState(metrics, "orphaned", within: 3, watcher)

        try ns.ip("route", "add", "198.51.100.0/24", "via", "192.0.2.2", "dev", "wsla", "src", "10.49.0.1", "table", "100")
        try Self.expectState(metrics, "suspect", within: 2, watcher)
        try ns.ip("route", "del", "198.51.100.0/24", "table", "100")
        try Self.expectState(metrics, "orphaned", within: 2, watcher)

        guard try TunnelSource.vxlan(ns, "wslvx", local: "10.49.0.1") else { return }
        try Self.expectState(metrics, "suspect", within: 2, watcher)
        try ns.ip("link", "del", "wslvx")
        try Self.expectState(metrics, "orphaned", within: 2, watcher)
        #expect(watcher.terminate().status == 0)
    }

    /// A UDP socket bound to an orphan tap (SO_BINDTODEVICE) raises no event: the traffic sample
    /// reads the sockets again, so the tap is suspect within a sample or two, and an orphan again
    /// once the socket is closed.
    @Test func aSocketBoundToAnOrphanTapIsFoundByTheNextSample() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "wus0", "mode", "tap")
        try ns.ip("link", "set", "wus0", "up")
        let metrics = state.path + "/w.prom"
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--textfile", metrics, "--stats-interval", "1s"])
        try Self.expectState(metrics, "orphaned", within: 3, watcher)

        let server = Process()
        server.executableURL = URL(fileURLWithPath: Shell.which("ip") ?? "/usr/sbin/ip")
        server.arguments = ["netns", "exec", ns.name, "python3", "-c", """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"wus0")
            s.bind(("0.0.0.0", 5399))
            sys.stdout.write("ready\\n"); sys.stdout.flush()
            sys.stdin.read()
            """]
        let input = Pipe(), output = Pipe()
        server.standardInput = input
        server.standardOutput = output
        try server.run()
        defer {
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
            server.waitUntilExit()
        }
        #expect(String(decoding: output.fileHandleForReading.readData(ofLength: 6), as: UTF8.self) == "ready\n")
        try Self.expectState(metrics, "suspect", within: 4, watcher)

        try input.fileHandleForWriting.close()
        server.waitUntilExit()
        try Self.expectState(metrics, "orphaned", within: 4, watcher)
        #expect(watcher.terminate().status == 0)
    }

    /// `watch --reap` over a state directory whose database cannot be opened reaps nothing, as
    /// `reap` would not, and says so once at warning level; once the database can be used again,
    /// it says that it reaps again and reaps the orphan.
    @Test func aWatcherThatCannotUseItsStateSaysItIsNotReaping() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory(), journal = try TemporaryDirectory()
        defer { ns.remove(); state.remove(); journal.remove() }
        try ns.ip("tuntap", "add", "dev", "wsr0", "mode", "tap")
        // A directory where the database file would be: it cannot be opened.
        try FileManager.default.createDirectory(atPath: state.path + "/state.db", withIntermediateDirectories: false)
        let watcher = try WatchTests.Watcher(ns, state: state, extra: ["--reap", "--min-age", "0", "--journal", journal.path + "/journal.jsonl"])
        try watcher.wait("the warning") { $0.contains("watch: not reaping: the state in \(state.path) cannot be used") }
        #expect(try ns.ip("link", "show").contains("wsr0"), "\(watcher.log)")
        #expect(watcher.log.components(separatedBy: "not reaping").count == 2, "\(watcher.log)")

        try FileManager.default.removeItem(atPath: state.path + "/state.db")
        // Any change is judged, and recorded.
        try ns.ip("link", "add", "wsra", "type", "veth", "peer", "name", "wsrb")
        try watcher.wait("reaping again", seconds: 10) { $0.contains("watch: reaping again") }
        let start = Date()
        while try ns.ip("link", "show").contains("wsr0"), Date().timeIntervalSince(start) < 5 { usleep(50_000) }
        #expect(try !ns.ip("link", "show").contains("wsr0"), "\(watcher.log)")
        #expect(watcher.terminate().status == 0)
    }
}

/// Kernel tunnels for the watcher's tests.
enum TunnelSource {
    /// Makes a vxlan in `ns` sending from `local`; false (said on standard error) where the kernel
    /// has no vxlan driver.
    static func vxlan(_ ns: TestNamespace, _ name: String, local: String, test: String = #function) throws -> Bool {
        let made = try Shell.capture(["ip", "-n", ns.name, "link", "add", name, "type", "vxlan", "id", "47", "dstport", "4836",
                                      "local", local, "remote", "192.0.2.2"])
        if made.status != 0 { FileHandle.standardError.write(Data("\(test): no vxlan driver here; untested\n".utf8)) }
        return made.status == 0
    }
}
#endif

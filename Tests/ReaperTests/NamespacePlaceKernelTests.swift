#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
import Storage
import TunwardenCore

/// Where a reap run inside a namespace `ip netns` names (`ip netns exec NAME tunwarden reap`)
/// says its recreate commands act, against the real kernel, as root: the plan (dry run), the JSON
/// of the real run and the journal name the namespace alike, and every `ip` command carries
/// `ip -n NAME`, so that replayed from another namespace they act in that one; a name that is not
/// UTF-8 is given to `ip -n` as its exact bytes and said so, never called no name.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct NamespacePlaceKernelTests {
    /// Runs `arguments` (bytes) with python3, which passes bytes that are not UTF-8 unchanged.
    static func runBytes(_ arguments: [[UInt8]]) throws -> Shell.Result {
        let literal = "[" + arguments.map { "bytes([\($0.map(String.init).joined(separator: ","))])" }.joined(separator: ",") + "]"
        return try Shell.capture(["python3", "-c", "import subprocess, sys; r = subprocess.run(\(literal), capture_output=True); "
                                  + "sys.stdout.buffer.write(r.stdout); sys.stderr.buffer.write(r.stderr); sys.exit(r.returncode)"])
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func recreate(_ report: [String: Any]) -> [String] {
        ((report["plan"] as? [[String: Any]])?.first?["recreate"] as? [String]) ?? []
    }

    @Test func theDryRunAndTheJSONNameTheCallersNamespaceAsTheJournalDoes() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "k45ae0", "mode", "tap")
        try ns.ip("link", "set", "k45ae0", "up")
        try ns.ip("addr", "add", "10.45.0.1/24", "dev", "k45ae0")
        let base = ["ip", "netns", "exec", ns.name, Shell.tunwardenBinary, "reap", "--min-age", "0", "--state-dir", state.path]
        let dry = try Shell.capture(base + ["--dry-run", "--format", "json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let planned = try Self.json(dry.stdout)
        #expect(planned["netns"] as? String == ns.name, "\(dry.stdout)")
        let commands = Self.recreate(planned)
        #expect(!commands.isEmpty && commands.allSatisfy { $0.hasPrefix("ip -n \(ns.name) ") || $0.hasPrefix("#") }, "\(commands)")
        let real = try Shell.capture(base + ["--yes", "--format", "json"])
        #expect(real.status == 0, "\(real.stderr)")
        let done = try Self.json(real.stdout)
        #expect(done["netns"] as? String == ns.name, "\(real.stdout)")
        let records = try Journal(path: state.path + "/journal.jsonl").read()
        let intent = try #require(records.first { $0.type == .intent })
        #expect(records.allSatisfy { $0.netns == ns.name })
        #expect(intent.recreate == commands && Self.recreate(done) == commands, "\(intent.recreate ?? []) vs \(commands)")
        try TestNamespace.replayFromElsewhere(commands)
        #expect(try ns.ip("-br", "addr", "show", "dev", "k45ae0").contains("10.45.0.1/24"))
    }

    @Test func aNamespaceNameThatIsNotUTF8IsGivenByItsBytes() throws {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let name: [UInt8] = Array("k45a-e".utf8) + [0xff] + Array("\(getpid())".utf8)
        let shown = InterfaceName.text(name)
        let added = try Self.runBytes([Array("ip".utf8), Array("netns".utf8), Array("add".utf8), name])
        try #require(added.status == 0, "\(added.stderr)")
        defer { _ = try? Self.runBytes([Array("ip".utf8), Array("netns".utf8), Array("del".utf8), name]) }
        let ip: [[UInt8]] = [Array("ip".utf8), Array("-n".utf8), name]
        try #require(try Self.runBytes(ip + ["tuntap", "add", "dev", "k45ae1", "mode", "tap"].map { Array($0.utf8) }).status == 0)

        let base: [[UInt8]] = [Array("ip".utf8), Array("netns".utf8), Array("exec".utf8), name]
            + [Shell.tunwardenBinary, "reap", "--min-age", "0", "--state-dir", state.path].map { Array($0.utf8) }
        let dry = try Self.runBytes(base + ["--dry-run", "--format", "json"].map { Array($0.utf8) })
        #expect(dry.status == 0, "\(dry.stderr)")
        let planned = try Self.json(dry.stdout)
        #expect(planned["netns"] as? String == shown, "\(dry.stdout)")
        let commands = Self.recreate(planned)
        let note = try #require(commands.first)
        #expect(note.hasPrefix("# namespace net:[") && note.contains("is named \(shown) under /run/netns, bytes that are not UTF-8"), "\(commands)")
        #expect(!commands.contains { $0.contains("has no name") }, "\(commands)")
        let word = "\"$(printf '" + "k45a-e\\377\(getpid())" + "')\""
        #expect(commands.dropFirst().first == "ip -n \(word) tuntap add dev k45ae1 mode tap", "\(commands)")

        let real = try Self.runBytes(base + ["--yes", "--format", "json"].map { Array($0.utf8) })
        #expect(real.status == 0, "\(real.stderr)")
        #expect(try Self.json(real.stdout)["netns"] as? String == shown, "\(real.stdout)")
        let records = try Journal(path: state.path + "/journal.jsonl").read()
        #expect(records.count == 2 && records.allSatisfy { $0.netns == shown }, "\(records.map(\.netns))")
        #expect(records.first { $0.type == .intent }?.recreate == commands)
        // From another namespace, the commands make the device in the named one.
        try TestNamespace.replayFromElsewhere(commands)
        let listed = try Self.runBytes(ip + ["-o", "link", "show", "dev", "k45ae1"].map { Array($0.utf8) })
        #expect(listed.status == 0 && listed.stdout.contains("k45ae1"), "\(listed.stderr)")
    }
}
#endif

import Foundation
import Storage
import Testing
import TestSupport
import TunwardenCore

/// Options that were accepted and then did nothing: each now either works or is refused (exit 64)
/// with the reason.
@Suite struct InertOptionTests {
    static let captures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InventoryTests/Fixtures/darwin-shapes").path

    func run(_ arguments: [String], config: String = "/dev/null") throws -> Shell.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["TUNWARDEN_CONFIG"] = config
        return try Shell.capture([Shell.tunwardenBinary] + arguments, environment: environment)
    }

    func record(run: String, netns: String?, _ name: String, _ index: Int, type: JournalRecord.Kind) -> JournalRecord {
        JournalRecord(time: Date(timeIntervalSince1970: 1_800_000_000), run: run, type: type, netns: netns, ifname: name, ifindex: index,
                      prior: type == .intent ? PriorState(NetworkInterface(index: index, name: name, kind: .tun, mtu: 1500, tun: TunDetails(persistent: true)), routes: []) : nil,
                      recreate: type == .intent ? ["ip tuntap add dev \(name) mode tun"] : nil, result: type == .result ? .deleted : nil)
    }

    @Test func journalNetnsShowsOnlyThatNamespacesRuns() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let journal = Journal(path: directory.path + "/journal.jsonl")
        for (run, netns, name) in [("aaaaaaaa1", "blue", "bluetun0"), ("bbbbbbbb2", "red", "redtun0"), ("cccccccc3", nil, "hosttun0")] {
            try journal.append([record(run: run, netns: netns, name, 7, type: .intent), record(run: run, netns: netns, name, 7, type: .result)])
        }
        let all = try run(["journal", "--journal", journal.path])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(["bluetun0", "redtun0", "hosttun0"].allSatisfy(all.stdout.contains), "\(all.stdout)")

        let blue = try run(["--netns", "blue", "journal", "--journal", journal.path])
        #expect(blue.status == 0, "\(blue.stderr)")
        #expect(blue.stdout.contains("namespace blue") && blue.stdout.contains("bluetun0"), "\(blue.stdout)")
        #expect(!blue.stdout.contains("redtun0") && !blue.stdout.contains("hosttun0"), "\(blue.stdout)")

        let json = try run(["journal", "--netns", "red", "--journal", journal.path, "--format", "json"])
        let records = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], "\(json.stdout)")
        #expect(records.count == 2 && records.allSatisfy { $0["netns"] as? String == "red" }, "\(records)")

        // The namespace need not exist: the journal is history.
        let none = try run(["journal", "--netns", "green", "--journal", journal.path])
        #expect(none.status == 0, "\(none.stderr)")
        #expect(none.stdout.contains("no run in namespace green") && none.stdout.contains("its 3 runs, on 3 devices, were in other namespaces"), "\(none.stdout)")
        #expect(!none.stdout.contains("tun0"))

        // One run on one device is two records, and counted as what a person counts.
        let single = Journal(path: directory.path + "/single.jsonl")
        try single.append([record(run: "dddddddd4", netns: "blue", "bluetun1", 8, type: .intent), record(run: "dddddddd4", netns: "blue", "bluetun1", 8, type: .result)])
        let one = try run(["journal", "--netns", "green", "--journal", single.path])
        #expect(one.stdout.contains("its 1 run, on 1 device, was in another namespace"), "\(one.stdout)")
    }

    @Test(arguments: ["journal", "history"])
    func noStateIsRefusedByCommandsThatKeepNoState(command: String) throws {
        let result = try run([command, "--no-state"])
        #expect(result.status == 64, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("drop --no-state"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!(try run([command, "--help"])).stdout.contains("--no-state"), "\(command) --help still lists --no-state")
    }

    @Test(arguments: [
        (["reap", "--only", "veth", "--dry-run"], "veth interfaces are reported, never reaped"),
        (["reap", "--only", "vxlan", "--yes"], "vxlan interfaces are reported, never reaped"),
        (["reap", "--only", "tunnel", "--dry-run"], "it is no interface kind"),
        (["watch", "--reap", "--only", "veth"], "veth interfaces are reported, never reaped"),
    ])
    func reapOnlyRefusesKindsNoReapRemoves(arguments: [String], reason: String) throws {
        let result = try run(arguments)
        #expect(result.status == 64, "\(result.stdout)\(result.stderr)")
        let kind = try #require(arguments.firstIndex(of: "--only").map { arguments[$0 + 1] })
        #expect(result.stderr.contains("--only takes no '\(kind)': \(reason)"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    #if os(Linux)
    @Test(arguments: [["reap", "--only", "utun", "--dry-run"], ["reap", "--only", "feth", "--yes"], ["watch", "--reap", "--only", "utun"]])
    func macOSKindsAreRefusedForTheLiveLinuxSystem(arguments: [String]) throws {
        let result = try run(arguments)
        #expect(result.status == 64, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("is a macOS interface, and on Linux a reap removes tun and tap"), "\(result.stderr)")
    }

    @Test func macOSKindsFromTheConfigurationAreRefusedToo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = directory.path + "/tunwarden.conf"
        try Data("reap:\n  only: [feth]\n".utf8).write(to: URL(fileURLWithPath: config))
        let result = try run(["reap", "--dry-run", "--no-state"], config: config)
        #expect(result.status == 64, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("only in \(config):2 takes no 'feth'"), "\(result.stderr)")
    }
    #endif

    /// For a macOS capture, utun and feth are what --only selects among.
    @Test func macOSKindsSelectInACapture() throws {
        let utuns = try run(["reap", "--from", Self.captures + "/hoard-ifconfig-v-vpn-agent", "--dry-run", "--only", "utun"])
        #expect(utuns.status == 0, "\(utuns.stderr)")
        #expect(utuns.stdout.contains("Would remove 2 link-local routes of idle utun utun4"), "\(utuns.stdout)")
        let feths = try run(["reap", "--from", Self.captures + "/zerotier-feth-orphan-after-crash", "--dry-run", "--only", "feth"])
        #expect(feths.status == 0, "\(feths.stderr)")
        #expect(feths.stdout.contains("Would destroy feth"), "\(feths.stdout)")
        let left = try run(["reap", "--from", Self.captures + "/zerotier-feth-orphan-after-crash", "--dry-run", "--only", "utun"])
        #expect(!left.stdout.contains("Would destroy feth"), "\(left.stdout)")
    }
}

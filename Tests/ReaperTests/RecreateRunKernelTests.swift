#if os(Linux)
import Foundation
import Testing
import TestSupport
import Storage
import TunwardenCore

/// The recreate commands of a run that reaps several devices, against the real kernel: replayed in
/// the journal's order, every one of them must work, and give back routes that need more than one
/// of the devices, or a device that stays.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct RecreateRunKernelTests {
    @Test func aRunsCommandsWorkReplayedInTheJournalsOrder() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "rrun0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "rrun1", "mode", "tap")
        // A live veth pair, never reaped, sharing an IPv6 multipath route with rrun0.
        try ns.ip("link", "add", "rrunv0", "type", "veth", "peer", "name", "rrunv1")
        // (With carrier, the veth would make its own link-local address, whose local route the
        // kernel adds only once duplicate address detection ends, a second or so later: the
        // views before and after would differ by that alone.)
        for device in ["rrunv0", "rrunv1"] { try ns.ip("link", "set", device, "addrgenmode", "none") }
        for device in ["rrun0", "rrun1", "rrunv0", "rrunv1"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "2001:db8:61::1/64", "dev", "rrun0", "nodad")
        try ns.ip("addr", "add", "10.98.0.1/24", "dev", "rrun1")
        try ns.ip("addr", "add", "2001:db8:98::1/64", "dev", "rrun1", "nodad")
        try ns.ip("addr", "add", "2001:db8:62::1/64", "dev", "rrunv0", "nodad")
        // (A route through one whose source is the other's address would keep the other: a
        // device whose address a route takes as source is configured into something, `suspect`.)
        // IPv6 multipath through both reaped devices, and through one of them and the live veth.
        try ns.ip("-6", "route", "add", "2001:db8:83::/48", "nexthop", "via", "2001:db8:61::6", "dev", "rrun0",
                  "nexthop", "via", "2001:db8:98::6", "dev", "rrun1")
        try ns.ip("-6", "route", "add", "2001:db8:81::/48", "nexthop", "via", "2001:db8:61::5", "dev", "rrun0",
                  "nexthop", "via", "2001:db8:62::5", "dev", "rrunv0")
        let run: ([String]) throws -> String = { try Shell.run(["ip", "-n", ns.name] + $0) }
        let devices = ["rrun0", "rrun1", "rrunv0"]
        let before = try devices.map { try RecreateKernelTests.ipView($0, run) }

        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let intents = try RecreateKernelTests.intents(state)
        #expect(intents.map(\.ifname) == ["rrun0", "rrun1"])
        // The live device kept its hop of the shared route.
        #expect(try ns.ip("-6", "route", "show", "2001:db8:81::/48").contains("rrunv0"))

        // In the namespace they were reaped from, to undo the reap, each command must work.
        for intent in intents { try RecreateKernelTests.replay(intent.recreate ?? []) }
        let after = try devices.map { try RecreateKernelTests.ipView($0, run) }
        #expect(after == before, "gone: \(Set(before.joined()).subtracting(after.joined())), new: \(Set(after.joined()).subtracting(before.joined()))")
    }
}
#endif

#if os(Linux)
/// The plan's recreate commands, against the real kernel: `reap --dry-run --format json` shows
/// the same commands the journal then keeps, neighbour entries made by hand included.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct PlannedRecreateKernelTests {
    @Test func theDryRunsRecreateCommandsAreTheJournals() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "prc0", "mode", "tap")
        try ns.ip("link", "set", "prc0", "up")
        try ns.ip("addr", "add", "10.61.0.1/24", "dev", "prc0")
        try ns.ip("neigh", "add", "10.61.0.7", "lladdr", "02:aa:bb:cc:dd:01", "dev", "prc0", "nud", "permanent")
        try ns.ip("neigh", "add", "proxy", "10.61.0.77", "dev", "prc0")
        let dry = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0",
                                     "--dry-run", "--format", "json"])
        #expect(dry.status == 0, "stderr: \(dry.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any]
        let planned = (report?["plan"] as? [[String: Any]])?.first?["recreate"] as? [String] ?? []
        #expect(planned.contains { $0.contains("neigh add 10.61.0.7 lladdr 02:aa:bb:cc:dd:01 nud permanent dev prc0") }, "\(planned)")
        #expect(planned.contains { $0.contains("neigh add proxy 10.61.0.77 dev prc0") }, "\(planned)")

        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let journaled = try RecreateKernelTests.intents(state).first?.recreate ?? []
        #expect(planned == journaled, "planned: \(planned)\njournaled: \(journaled)")
    }
}
#endif

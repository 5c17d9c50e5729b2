#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
import Storage
import TunwardenCore

/// What an iproute2 round trip (review ip45) showed the recreate commands to lose or get wrong,
/// against the real kernel, as root, in throwaway namespaces: `proto kernel` routes an address
/// seems to explain but does not make, the kernel's routes changed or deleted by hand, routes
/// sharing their key with a live device's, IPv6 settings `ip link` cannot give back, and the
/// policy rules' actions. Each test reaps a device, replays the journal's commands in the same
/// namespace (the undo they are written for), every one of which must succeed, and compares what
/// `ip` shows with what it showed before.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct RecreateFidelityKernelTests {
    /// Reaps the orphans of `ns`, returning the plan's JSON text and the journal's commands; each
    /// command then runs with `sh -c` and must succeed (unless `replay` is false).
    @discardableResult
    static func reapAndReplay(_ ns: TestNamespace, _ state: TemporaryDirectory, replay: Bool = true) throws -> (plan: String, commands: [String]) {
        let planned = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--dry-run", "--format", "json", "--state-dir", state.path,
                                         "--min-age", "0"])
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let commands = try RecreateKernelTests.intents(state).flatMap { $0.recreate ?? [] }
        if replay { try RecreateKernelTests.replay(commands) }
        return (planned.stdout, commands)
    }

    /// The device's routes of every table as `ip -j` gives them, each key and nested value (a
    /// route's metrics) in one order.
    static func view(_ ns: TestNamespace, _ device: String) throws -> [String] {
        var lines: [String] = []
        for family in ["-4", "-6"] {
            let routes = try JSONSerialization.jsonObject(with: Data(try ns.ip(family, "-j", "route", "show", "table", "all", "dev", device).utf8))
                as? [[String: Any]] ?? []
            for route in routes {
                let shown = route.filter { $0.key != "flags" && $0.key != "expires" }
                let data = try JSONSerialization.data(withJSONObject: shown, options: [.sortedKeys, .withoutEscapingSlashes])
                lines.append(String(decoding: data, as: UTF8.self))
            }
        }
        return lines.sorted()
    }

    /// The plan's recreate commands and the journal's are the same lines.
    static func expectSame(_ plan: String, _ commands: [String]) {
        for command in commands { #expect(plan.contains(jsonText(command)), "the plan lacks \(command)") }
    }

    static func jsonText(_ line: String) -> String {
        String(decoding: try! JSONEncoder().encode(line), as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    /// Hand-made `proto kernel` routes of a prefix an address has, but that the address cannot
    /// make (it is `noprefixroute`, the route is in another table, or has another metric than
    /// the address's), IPv4 and IPv6, come back; so does what systemd-networkd does (an address
    /// `noprefixroute` and its prefix route added by itself, `proto kernel`), also where the
    /// address's `local` route, which the kernel needs to take its source, was deleted since.
    @Test func kernelRoutesNoAddressMakesComeBack() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "rc5a", "mode", "tap")
        try ns.ip("link", "set", "rc5a", "up")
        try ns.ip("addr", "add", "10.45.21.1/24", "dev", "rc5a", "noprefixroute")
        try ns.ip("route", "add", "10.45.21.0/24", "dev", "rc5a", "proto", "kernel", "scope", "link", "src", "10.45.21.1")
        try ns.ip("addr", "add", "10.45.22.1/24", "dev", "rc5a", "metric", "50")
        try ns.ip("route", "add", "10.45.22.0/24", "dev", "rc5a", "proto", "kernel", "scope", "link", "src", "10.45.22.1")
        try ns.ip("addr", "add", "10.45.23.1/24", "dev", "rc5a", "noprefixroute")
        try ns.ip("route", "add", "10.45.23.0/24", "dev", "rc5a", "table", "100", "proto", "kernel", "scope", "link", "src", "10.45.23.1")
        try ns.ip("addr", "add", "10.45.24.1/24", "dev", "rc5a")
        try ns.ip("route", "add", "10.45.24.0/24", "dev", "rc5a", "table", "101", "proto", "kernel", "scope", "link", "src", "10.45.24.1")
        try ns.ip("addr", "add", "2001:db8:45:21::1/64", "dev", "rc5a", "nodad", "noprefixroute")
        try ns.ip("-6", "route", "add", "2001:db8:45:21::/64", "dev", "rc5a", "proto", "kernel", "metric", "256")
        try ns.ip("addr", "add", "2001:db8:45:22::1/64", "dev", "rc5a", "nodad")
        try ns.ip("-6", "route", "add", "2001:db8:45:22::/64", "dev", "rc5a", "proto", "kernel", "metric", "300")
        // The kernel refuses a source whose `local` route is gone: these were deleted after.
        try ns.ip("route", "del", "local", "10.45.22.1", "dev", "rc5a", "table", "local")
        try ns.ip("-6", "route", "del", "local", "2001:db8:45:21::1", "dev", "rc5a", "table", "local")
        let before = try Self.view(ns, "rc5a")
        let (plan, commands) = try Self.reapAndReplay(ns, state)
        let after = try Self.view(ns, "rc5a")
        #expect(after == before, "gone: \(Set(before).subtracting(after)), new: \(Set(after).subtracting(before))")
        Self.expectSame(plan, commands)
    }

    /// The kernel's prefix routes changed by hand (`mtu`, `advmss`, IPv6 `pref high`, another
    /// source), and its routes deleted by hand (prefix, `local`, `broadcast`, `ff00::/8`), come
    /// back as they were: the commands delete the kernel's where they were not there, before a
    /// route that takes its place and otherwise after the routes (one through a gateway in a
    /// subnet whose prefix route was deleted after it was added comes back too).
    @Test func kernelRoutesChangedOrDeletedByHandStaySo() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "rc5b", "mode", "tap")
        try ns.ip("link", "set", "rc5b", "up")
        try ns.ip("addr", "add", "10.45.12.1/24", "dev", "rc5b")
        try ns.ip("addr", "add", "10.45.13.1/24", "dev", "rc5b")
        try ns.ip("addr", "add", "2001:db8:45:12::1/64", "dev", "rc5b", "nodad")
        try ns.ip("route", "replace", "10.45.12.0/24", "dev", "rc5b", "proto", "kernel", "scope", "link", "src", "10.45.12.1", "mtu", "1300",
                  "advmss", "1000")
        try ns.ip("-6", "route", "replace", "2001:db8:45:12::/64", "dev", "rc5b", "proto", "kernel", "metric", "256", "mtu", "1400", "pref", "high")
        try ns.ip("route", "replace", "10.45.13.0/24", "dev", "rc5b", "proto", "static", "scope", "link", "src", "10.45.13.1")
        try ns.ip("addr", "add", "10.45.11.1/24", "dev", "rc5b")
        try ns.ip("addr", "add", "2001:db8:45:11::1/64", "dev", "rc5b", "nodad")
        // A gateway in a subnet whose prefix route is gone: the route to it was added before.
        try ns.ip("route", "add", "10.46.0.0/16", "via", "10.45.11.9", "dev", "rc5b")
        try ns.ip("route", "del", "10.45.11.0/24", "dev", "rc5b")
        try ns.ip("route", "del", "local", "10.45.11.1", "dev", "rc5b", "table", "local")
        try ns.ip("route", "del", "broadcast", "10.45.11.255", "dev", "rc5b", "table", "local")
        try ns.ip("-6", "route", "del", "2001:db8:45:11::/64", "dev", "rc5b")
        try ns.ip("-6", "route", "del", "local", "2001:db8:45:11::1", "dev", "rc5b", "table", "local")
        try ns.ip("-6", "route", "del", "multicast", "ff00::/8", "dev", "rc5b", "table", "local")
        let before = try Self.view(ns, "rc5b")
        #expect(before.contains { $0.contains("10.45.12.0/24") && $0.contains("1300") }, "\(before)")
        let (plan, commands) = try Self.reapAndReplay(ns, state)
        let after = try Self.view(ns, "rc5b")
        #expect(after == before, "gone: \(Set(before).subtracting(after)), new: \(Set(after).subtracting(before))")
        Self.expectSame(plan, commands)
    }

    /// Routes sharing their key (prefix, type of service, table, metric) with a live device's
    /// route (`ip route append`/`prepend`, IPv4 before and after it, and IPv6) come back beside
    /// it, in their place, while the live device's route is still there.
    @Test func routesBesideALiveDevicesRouteComeBack() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("link", "add", "rc5va", "type", "veth", "peer", "name", "rc5vb")
        try ns.ip("link", "set", "rc5va", "up")
        try ns.ip("link", "set", "rc5vb", "up")
        try ns.ip("addr", "add", "10.0.0.1/24", "dev", "rc5va")
        try ns.ip("addr", "add", "2001:db8::1/64", "dev", "rc5va", "nodad")
        try ns.ip("tuntap", "add", "dev", "rc5c", "mode", "tap")
        try ns.ip("link", "set", "rc5c", "up")
        try ns.ip("addr", "add", "10.45.31.1/24", "dev", "rc5c")
        for _ in 0..<150 where try !ns.ip("link", "show", "rc5va").contains("LOWER_UP") { usleep(20_000) }
        try ns.ip("route", "add", "10.60.0.0/16", "via", "10.0.0.2", "dev", "rc5va")
        try ns.ip("route", "append", "10.60.0.0/16", "via", "10.45.31.9", "dev", "rc5c")
        try ns.ip("route", "add", "10.61.0.0/16", "dev", "rc5c")
        try ns.ip("route", "prepend", "10.61.0.0/16", "via", "10.0.0.2", "dev", "rc5va")
        try ns.ip("route", "add", "10.62.0.0/16", "dev", "rc5c", "table", "7", "metric", "9")
        try ns.ip("route", "append", "10.62.0.0/16", "via", "10.0.0.2", "dev", "rc5va", "table", "7", "metric", "9")
        try ns.ip("-6", "route", "add", "2001:db8:60::/48", "dev", "rc5va", "metric", "5")
        try ns.ip("-6", "route", "append", "2001:db8:60::/48", "dev", "rc5c", "metric", "5")
        func order() throws -> [String] {
            var lines: [String] = []
            for arguments in [["route", "show", "10.60.0.0/16"], ["route", "show", "10.61.0.0/16"], ["route", "show", "table", "7"],
                              ["-6", "route", "show", "2001:db8:60::/48"]] {
                lines += try Shell.run(["ip", "-n", ns.name] + arguments).split(separator: "\n").map(String.init)
            }
            return lines
        }
        let before = try order()
        #expect(before.count == 8, "\(before)")
        let (plan, commands) = try Self.reapAndReplay(ns, state)
        #expect(try order() == before)
        Self.expectSame(plan, commands)
    }

    /// Routes of one key interleaved with a live device's (review ip10, F2): the tap's IPv4
    /// routes listed before every live one come back in front, in their order (prepended, the last
    /// first), later ones after the live ones, each named in a comment line where that changes
    /// the order; `ip route get` goes where it went. An IPv6 route listed first can only come back
    /// after the live one (the kernel cannot prepend): the plan says so, and where traffic goes.
    @Test func interleavedRoutesComeBackInFrontOrAreNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("link", "add", "rc5va", "type", "veth", "peer", "name", "rc5vb")
        for device in ["rc5va", "rc5vb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "10.0.0.1/24", "dev", "rc5va")
        try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "rc5va", "nodad")
        try ns.ip("tuntap", "add", "dev", "rc5i", "mode", "tap")
        try ns.ip("link", "set", "rc5i", "up")
        try ns.ip("addr", "add", "10.45.31.1/24", "dev", "rc5i")
        for _ in 0..<150 where try !ns.ip("link", "show", "rc5va").contains("LOWER_UP") { usleep(20_000) }
        // own, live, own (the review's case); own, own, live, own, live; live, own, live.
        let hops: [(String, [[String]])] = [
            ("198.51.100.0/24", [["dev", "rc5i"], ["via", "10.0.0.2", "dev", "rc5va"], ["via", "10.45.31.9", "dev", "rc5i"]]),
            ("198.51.101.0/24", [["dev", "rc5i"], ["via", "10.45.31.9", "dev", "rc5i"], ["via", "10.0.0.2", "dev", "rc5va"],
                                 ["via", "10.45.31.8", "dev", "rc5i"], ["via", "10.0.0.3", "dev", "rc5va"]]),
            ("198.51.102.0/24", [["via", "10.0.0.2", "dev", "rc5va"], ["dev", "rc5i"], ["via", "10.0.0.3", "dev", "rc5va"]]),
        ]
        for (prefix, list) in hops {
            for hop in list { _ = try Shell.run(["ip", "-n", ns.name, "route", "append", prefix] + hop + ["metric", "5"]) }
        }
        try ns.ip("-6", "route", "add", "2001:db8:60::/48", "dev", "rc5i", "metric", "5")
        try ns.ip("-6", "route", "append", "2001:db8:60::/48", "dev", "rc5va", "metric", "5")
        func listed(_ prefix: String) throws -> [String] {
            try Shell.run(["ip", "-n", ns.name, "route", "show", prefix]).split(separator: "\n").map(String.init)
        }
        let before = try hops.map { try listed($0.0) }
        let went = hops.map { routeDevice(ns, String($0.0.dropLast(4)) + "7") }
        #expect(went == ["rc5i", "rc5i", "rc5va"])
        try #require(routeDevice(ns, "2001:db8:60::7") == "rc5i", "the tap's IPv6 route must take the traffic for this to test anything")
        let (plan, commands) = try Self.reapAndReplay(ns, state)
        #expect(hops.map { routeDevice(ns, String($0.0.dropLast(4)) + "7") } == went)
        let after = try hops.map { try listed($0.0) }
        #expect(after[0] == before[0])
        #expect(Array(after[1].prefix(3)) == Array(before[1].prefix(3)), "\(after[1])")
        #expect(Set(after[1]) == Set(before[1]) && Set(after[2]) == Set(before[2]))
        let notes = commands.filter { $0.hasPrefix("# ") && $0.contains("was listed before") }
        #expect(notes.count == 3, "\(commands)")
        #expect(notes.contains { $0.contains("198.51.101.0/24 via 10.45.31.8 dev rc5i was listed before 198.51.101.0/24 via 10.0.0.3 dev rc5va") }, "\(notes)")
        #expect(notes.contains { $0.contains("198.51.102.0/24 dev rc5i was listed before 198.51.102.0/24 via 10.0.0.3 dev rc5va") }, "\(notes)")
        #expect(notes.contains { $0.contains("(it cannot prepend)") && $0.contains("traffic to 2001:db8:60::/48 that took this route goes through rc5va instead") }, "\(notes)")
        // What the IPv6 note says happens, happens.
        #expect(routeDevice(ns, "2001:db8:60::7") == "rc5va")
        Self.expectSame(plan, commands)
    }

    /// The device `ip route get` in `ns` picks for `destination`.
    func routeDevice(_ ns: TestNamespace, _ destination: String) -> String? {
        guard let words = (try? Shell.run(["ip", "-n", ns.name, "route", "get", destination]))?.split(whereSeparator: \.isWhitespace) else { return nil }
        return words.firstIndex(of: "dev").map { String(words[$0 + 1]) }
    }

    /// `disable_ipv6` comes back (by `sysctl` in the namespace); `addrgenmode stable_secret`,
    /// whose secret cannot be read, is named in a comment line rather than written as a command
    /// the kernel refuses; an IPv6 token comes back.
    @Test func ipv6SettingsComeBackOrAreNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "rc5d", "mode", "tap")
        try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.ipv6.conf.rc5d.stable_secret=2001:db8:1:2:3:4:5:6"])
        try ns.ip("tuntap", "add", "dev", "rc5e", "mode", "tap")
        try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.ipv6.conf.rc5e.disable_ipv6=1"])
        try ns.ip("tuntap", "add", "dev", "rc5f", "mode", "tap")
        try ns.ip("token", "set", "::1:2:3:4/64", "dev", "rc5f")
        try ns.ip("tuntap", "add", "dev", "rc5g", "mode", "tap")
        try ns.ip("token", "set", "::5:6:7:8", "dev", "rc5g")
        try ns.ip("link", "set", "rc5g", "arp", "off")
        #expect(try ns.ip("-d", "link", "show", "rc5d").contains("addrgenmode stable_secret"))
        func tokens() throws -> [String] { try ns.ip("token").split(separator: "\n").map(String.init).sorted() }
        let tokensBefore = try tokens()
        #expect(tokensBefore.contains("token ::1:2:3:4 dev rc5f"), "\(tokensBefore)")
        let (plan, commands) = try Self.reapAndReplay(ns, state)
        let text = commands.joined(separator: "\n")
        #expect(text.contains("# its IPv6 address generation mode stable_secret is not recreated (it comes back eui64)"), "\(text)")
        #expect(!text.contains("addrgenmode stable_secret"), "\(text)")
        #expect(try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-n", "net.ipv6.conf.rc5e.disable_ipv6"]).hasPrefix("1"))
        #expect(try tokens() == tokensBefore)
        #expect(try ns.ip("link", "show", "rc5g").contains("NOARP"))
        Self.expectSame(plan, commands)
    }

    /// The comment lines for policy rules that name a device say each rule's action as `ip rule`
    /// does: `prohibit`, `goto N`, `blackhole`, `unreachable`, `lookup TABLE`.
    @Test func policyRulesAreNamedWithTheirAction() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "rc5h", "mode", "tap")
        try ns.ip("rule", "add", "iif", "rc5h", "prohibit", "priority", "100")
        try ns.ip("rule", "add", "iif", "rc5h", "goto", "200", "priority", "101")
        try ns.ip("rule", "add", "iif", "rc5h", "blackhole", "priority", "300")
        try ns.ip("rule", "add", "oif", "rc5h", "lookup", "main", "priority", "301")
        try ns.ip("-6", "rule", "add", "iif", "rc5h", "unreachable", "priority", "400")
        let (plan, commands) = try Self.reapAndReplay(ns, state)
        let text = commands.joined(separator: "\n")
        for line in ["# policy rule 100 (prohibit) names", "# policy rule 101 (goto 200) names", "# policy rule 300 (blackhole) names",
                     "# policy rule 301 (lookup main) names", "# IPv6 policy rule 400 (unreachable) names"] {
            #expect(text.contains(line), "\(text)")
        }
        #expect(!text.contains("table 0"), "\(text)")
        Self.expectSame(plan, commands)
    }
}
#endif

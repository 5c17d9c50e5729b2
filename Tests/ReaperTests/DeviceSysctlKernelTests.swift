#if os(Linux)
import Foundation
import Testing
import TestSupport
import TunwardenCore

/// A device's own sysctls (`net.ipv4.conf.DEV.*`, `net.ipv6.conf.DEV.*`) against the real kernel,
/// as root, in throwaway namespaces (review finding S1): the settings a routed VM's tap depends on
/// are set, the tap is reaped, and the journal's commands are replayed in a fresh namespace and in
/// the same one; every one of the device's sysctl files must read as before.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct DeviceSysctlKernelTests {
    /// Every file under /proc/sys/net/ipv4/conf/DEV and /proc/sys/net/ipv6/conf/DEV of `ns`, as
    /// `family/key=value` (a file that cannot be read, `stable_secret` unset, reads empty).
    static func sysctls(_ ns: TestNamespace, _ device: String) throws -> [String: String] {
        let script = "for f in /proc/sys/net/ipv4/conf/\(device)/* /proc/sys/net/ipv6/conf/\(device)/*; do "
            + "printf '%s=%s\\n' \"$f\" \"$(cat \"$f\" 2>/dev/null | tr '\\t' ' ')\"; done"
        var found: [String: String] = [:]
        for line in try Shell.run(["ip", "netns", "exec", ns.name, "sh", "-c", script]).split(separator: "\n") {
            // The device's name may hold `=`: the key starts after its directory.
            for family in ["ipv4", "ipv6"] {
                let directory = "/proc/sys/net/\(family)/conf/\(device)/"
                guard line.hasPrefix(directory) else { continue }
                let parts = line.dropFirst(directory.count).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                found["\(family)/\(parts[0])"] = parts.count > 1 ? String(parts[1]) : ""
            }
        }
        return found
    }

    static func set(_ ns: TestNamespace, _ settings: String...) throws {
        try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw"] + settings)
    }

    /// The commands as they would be replayed in `other` instead of `ns`.
    static func moved(_ commands: [String], from ns: TestNamespace, to other: TestNamespace) -> [String] {
        commands.map {
            $0.replacingOccurrences(of: "ip -n \(ns.name) ", with: "ip -n \(other.name) ")
                .replacingOccurrences(of: "ip netns exec \(ns.name) ", with: "ip netns exec \(other.name) ")
        }
    }

    /// proxy_arp, rp_filter, arp_ignore, accept_local, IPv6 forwarding with accept_ra and
    /// autoconf off, the IPv6 mtu and hop_limit, accept_dad off (on an addressed tap that is up),
    /// and ignore_routes_with_linkdown (on a tap that is down: on one with routes it would keep
    /// the reap off, since the fence's carrier would wake them) all come back, in a fresh
    /// namespace and in the same one.
    @Test func ownSysctlsComeBackInAFreshNamespaceAndInTheSameOne() throws {
        let ns = try TestNamespace(), fresh = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); fresh.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "s46a", "mode", "tap")
        try Self.set(ns, "net.ipv4.conf.s46a.proxy_arp=1", "net.ipv4.conf.s46a.rp_filter=2", "net.ipv4.conf.s46a.arp_ignore=1",
                     "net.ipv4.conf.s46a.accept_local=1", "net.ipv6.conf.s46a.forwarding=1", "net.ipv6.conf.s46a.accept_ra=0",
                     "net.ipv6.conf.s46a.autoconf=0", "net.ipv6.conf.s46a.mtu=1400", "net.ipv6.conf.s46a.hop_limit=32",
                     "net.ipv6.conf.s46a.accept_dad=0", "net.ipv6.conf.s46a.router_solicitation_interval=7")
        try ns.ip("link", "set", "s46a", "up")
        try ns.ip("addr", "add", "10.46.1.1/24", "dev", "s46a")
        try ns.ip("addr", "add", "2001:db8:46:1::1/64", "dev", "s46a", "nodad")
        try ns.ip("tuntap", "add", "dev", "s46b", "mode", "tap")
        try Self.set(ns, "net.ipv4.conf.s46b.ignore_routes_with_linkdown=1", "net.ipv6.conf.s46b.ignore_routes_with_linkdown=1")
        let before = try ["s46a", "s46b"].map { try Self.sysctls(ns, $0) }
        #expect(before[0]["ipv6/mtu"] == "1400" && before[0]["ipv4/proxy_arp"] == "1" && before[1]["ipv6/ignore_routes_with_linkdown"] == "1")

        let (plan, commands) = try RecreateFidelityKernelTests.reapAndReplay(ns, state, replay: false)
        let text = commands.joined(separator: "\n")
        for line in ["ip netns exec \(ns.name) sysctl -qw net/ipv4/conf/s46a/proxy_arp=1", "net/ipv6/conf/s46a/mtu=1400",
                     "net/ipv6/conf/s46a/router_solicitation_interval=7", "net/ipv4/conf/s46b/ignore_routes_with_linkdown=1"] {
            #expect(text.contains(line), "\(text)")
        }
        // Only what differs from a new device's: nothing of the defaults (send_redirects=1 and
        // the like), no `#` line saying the defaults could not be read.
        #expect(!text.contains("send_redirects") && !text.contains("could not be read"), "\(text)")
        // Set before the device is up and has addresses.
        let up = commands.firstIndex { $0.hasSuffix("s46a up") }, sysctl = commands.lastIndex { $0.contains("conf/s46a/") }
        #expect(up != nil && sysctl != nil && sysctl! < up!, "\(text)")
        RecreateFidelityKernelTests.expectSame(plan, commands)

        try RecreateKernelTests.replay(Self.moved(commands, from: ns, to: fresh))
        for (position, device) in ["s46a", "s46b"].enumerated() {
            #expect(try Self.sysctls(fresh, device) == before[position], "in a fresh namespace: \(device)")
        }
        try RecreateKernelTests.replay(commands)
        for (position, device) in ["s46a", "s46b"].enumerated() {
            #expect(try Self.sysctls(ns, device) == before[position], "in the same namespace: \(device)")
        }
    }

    /// A device whose name holds `=` (sysctl(8) would part the setting there) gets its settings,
    /// `disable_ipv6` among them, written to their files under /proc/sys in the same namespace,
    /// and they come back.
    @Test func aNameWithAnEqualsSignGetsItsSettingsBackThroughTheirFiles() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let device = "s47=a"
        try ns.ip("tuntap", "add", "dev", device, "mode", "tap")
        try Shell.run(["ip", "netns", "exec", ns.name, "sh", "-c", "echo 2 > '/proc/sys/net/ipv4/conf/\(device)/rp_filter' && "
                       + "echo 1 > '/proc/sys/net/ipv4/conf/\(device)/proxy_arp' && echo 1 > '/proc/sys/net/ipv6/conf/\(device)/disable_ipv6'"])
        let before = try Self.sysctls(ns, device)
        #expect(before["ipv4/rp_filter"] == "2" && before["ipv6/disable_ipv6"] == "1", "\(before)")
        let (plan, commands) = try RecreateFidelityKernelTests.reapAndReplay(ns, state, replay: false)
        let text = commands.joined(separator: "\n")
        #expect(text.contains("ip netns exec \(ns.name) sh -c 'echo 2 > \"$0\"' /proc/sys/net/ipv4/conf/\(device)/rp_filter"), "\(text)")
        #expect(text.contains("'echo 1 > \"$0\"' /proc/sys/net/ipv6/conf/\(device)/disable_ipv6") && !text.contains("sysctl -qw"), "\(text)")
        RecreateFidelityKernelTests.expectSame(plan, commands)
        try RecreateKernelTests.replay(commands)
        #expect(try Self.sysctls(ns, device) == before)
    }

    /// In a namespace whose `default.rp_filter` is 2, a tap that took it gets no line, and one set
    /// back to 0 gets `rp_filter=0`; both come back as they were.
    @Test func theNamespacesDefaultIsWhatIsComparedWith() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try Self.set(ns, "net.ipv4.conf.default.rp_filter=2", "net.ipv6.conf.default.accept_ra=0")
        try ns.ip("tuntap", "add", "dev", "s46c", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "s46d", "mode", "tap")
        try Self.set(ns, "net.ipv4.conf.s46d.rp_filter=0", "net.ipv6.conf.s46d.accept_ra=1")
        let before = try ["s46c", "s46d"].map { try Self.sysctls(ns, $0) }
        #expect(before[0]["ipv4/rp_filter"] == "2" && before[1]["ipv4/rp_filter"] == "0")
        let (plan, commands) = try RecreateFidelityKernelTests.reapAndReplay(ns, state)
        let text = commands.joined(separator: "\n")
        #expect(!text.contains("conf/s46c/"), "\(text)")
        #expect(text.contains("net/ipv4/conf/s46d/rp_filter=0") && text.contains("net/ipv6/conf/s46d/accept_ra=1"), "\(text)")
        RecreateFidelityKernelTests.expectSame(plan, commands)
        for (position, device) in ["s46c", "s46d"].enumerated() {
            #expect(try Self.sysctls(ns, device) == before[position], "\(device)")
        }
    }
}
#endif

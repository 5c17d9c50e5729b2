import Testing
import TunwardenCore

/// The recreate commands' lines for a device's own sysctls (review finding S1): one `sysctl -qw`
/// per setting that differs from what a new device takes in the namespace, through
/// `ip netns exec` in a named one, after `tuntap add` and before `up` and the addresses.
@Suite struct RecreateSysctlsTests {
    /// IPV4_DEVCONF_* − 1 and DEVCONF_* arrays as a 6.18 kernel sends them for a new tap in a
    /// fresh namespace (from `IPv6SettingsCodecTests.tokenAndDisabledLink`, disable_ipv6 off).
    static let newIPv4: [Int32] = [0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10000, 1000, 0, 0, 0, 0, 1]
    static let newIPv6: [Int32] = [0, 64, 1500, 1, 1, 1, 1, -1, 4000, 1000, 0, 604800, 86400, 3, 600, 16, 0, 1, 1, 1, 60000, 0, 0, 0, 0, 0, 0, 1, 0, 0,
                                   10000, 1000, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 3600000, 0, 0, 1, 0, 0, 0, 0, 0, 1024, 0, 65535, -1, 1, 0, 0, 0]

    /// The namespace defaults those arrays come from, as their `default` files show them.
    static var defaults: NamespaceSysctlDefaults {
        let device = DeviceSysctls(ipv4: newIPv4, ipv6: newIPv6)
        var values: [DeviceSysctl.Family: [String: Int64]] = [:]
        for setting in DeviceSysctl.all + [DeviceSysctl.disableIPv6] { values[setting.family, default: [:]][setting.key] = device.value(of: setting) }
        return NamespaceSysctlDefaults(values: values)
    }

    static func tap(ipv4 change4: [Int: Int32] = [:], ipv6 change6: [Int: Int32] = [:]) -> NetworkInterface {
        var device = NetworkInterface(index: 4, name: "s.1", kind: .tap, flags: ["BROADCAST", "MULTICAST", "UP"], mtu: 1500)
        var ipv4 = newIPv4, ipv6 = newIPv6
        for (index, value) in change4 { ipv4[index] = value }
        for (index, value) in change6 { ipv6[index] = value }
        device.deviceSysctls = DeviceSysctls(ipv4: ipv4, ipv6: ipv6)
        device.addresses = [InterfaceAddress(local: IPAddress("10.46.1.1")!, prefixLength: 24, scope: "global")]
        return device
    }

    static func commands(_ device: NetworkInterface, defaults: NamespaceSysctlDefaults? = Self.defaults, namespace: String? = "blue") -> [String] {
        var place = RecreatePlace(namespace: namespace)
        place.sysctlDefaults = defaults
        return RecreateCommands.commands(forRun: [RecreateCommands.RunDevice(device, routes: [])], place: place)[0]
    }

    /// The settings of a routed VM's tap come back, in the kernel's order, after the link's
    /// settings and before `up` and the addresses; the IPv6 interval in seconds, as its file has it.
    @Test func settingsThatDifferComeBackBeforeTheDeviceIsUp() {
        // proxy_arp (3), rp_filter (8), arp_ignore (19); IPv6 forwarding (0), mtu (2), accept_ra (3),
        // autoconf (5), accept_dad (27), ignore_routes_with_linkdown (39), router_solicitation_interval (8).
        let device = Self.tap(ipv4: [2: 1, 7: 2, 18: 1], ipv6: [0: 1, 2: 1400, 3: 0, 5: 0, 27: 0, 39: 1, 8: 7000])
        // (The kernel's routes for the address, which it was not seen to have, are deleted after.)
        #expect(Self.commands(device).filter { !$0.hasPrefix("ip -n blue route del") } == [
            "ip -n blue tuntap add dev s.1 mode tap",
            "ip -n blue link set dev s.1 mtu 1500",
            "ip netns exec blue sysctl -qw net/ipv4/conf/s.1/proxy_arp=1",
            "ip netns exec blue sysctl -qw net/ipv4/conf/s.1/rp_filter=2",
            "ip netns exec blue sysctl -qw net/ipv4/conf/s.1/arp_ignore=1",
            "ip netns exec blue sysctl -qw net/ipv6/conf/s.1/forwarding=1",
            "ip netns exec blue sysctl -qw net/ipv6/conf/s.1/mtu=1400",
            "ip netns exec blue sysctl -qw net/ipv6/conf/s.1/accept_ra=0",
            "ip netns exec blue sysctl -qw net/ipv6/conf/s.1/autoconf=0",
            "ip netns exec blue sysctl -qw net/ipv6/conf/s.1/router_solicitation_interval=7",
            "ip netns exec blue sysctl -qw net/ipv6/conf/s.1/accept_dad=0",
            "ip netns exec blue sysctl -qw net/ipv6/conf/s.1/ignore_routes_with_linkdown=1",
            "ip -n blue link set dev s.1 up",
            "ip -n blue addr add 10.46.1.1/24 dev s.1",
        ])
        #expect(Self.commands(device, namespace: nil).contains("sysctl -qw net/ipv4/conf/s.1/proxy_arp=1"))
    }

    /// A device with what a new one takes gets no line: its values equal the namespace's
    /// defaults, and its IPv6 mtu its link MTU (which a new device's IPv6 mtu follows, whatever
    /// `default.mtu` says). A device whose values equal a changed default gets none either,
    /// and one set back to the built-in value where the default differs gets one.
    @Test func onlyWhatDiffersFromTheNamespacesDefaultIsSet() {
        #expect(!Self.commands(Self.tap()).contains { $0.contains("sysctl") })
        var mtu1400 = Self.tap(ipv6: [2: 1400])
        mtu1400.mtu = 1400
        #expect(!Self.commands(mtu1400).contains { $0.contains("sysctl") })
        var changed = Self.defaults
        changed.values[.ipv4]!["rp_filter"] = 2
        #expect(!Self.commands(Self.tap(ipv4: [7: 2]), defaults: changed).contains { $0.contains("sysctl") })
        #expect(Self.commands(Self.tap(), defaults: changed).contains("ip netns exec blue sysctl -qw net/ipv4/conf/s.1/rp_filter=0"))
    }

    /// A tun starts with IPv6 `use_tempaddr` and `accept_dad` at -1 whatever the default says:
    /// a tun that has them gets no line, one set to 1 gets one; a tap takes the default.
    @Test func aTunsOwnStartingValuesAreNotWritten() {
        var tun = Self.tap(ipv6: [10: -1, 27: -1])
        tun.kind = .tun
        #expect(!Self.commands(tun).contains { $0.contains("sysctl") })
        tun.deviceSysctls = DeviceSysctls(ipv4: Self.newIPv4, ipv6: Self.newIPv6)
        #expect(Self.commands(tun).filter { $0.contains("sysctl") } == [
            "ip netns exec blue sysctl -qw net/ipv6/conf/s.1/use_tempaddr=0", "ip netns exec blue sysctl -qw net/ipv6/conf/s.1/accept_dad=1",
        ])
        #expect(Self.commands(Self.tap(ipv6: [27: -1])).contains("ip netns exec blue sysctl -qw net/ipv6/conf/s.1/accept_dad=-1"))
    }

    /// Left out: read-only `mc_forwarding`, `stable_secret`, `addr_gen_mode` (given back by `ip
    /// link`), `disable_ipv6` (its own line, once), indexes no table names, and settings the
    /// namespace's kernel has no file for.
    @Test func specialAndUnknownEntriesAreLeftOut() {
        var ipv6 = Self.newIPv6 + [5, 6]
        ipv6[25] = 1; ipv6[36] = 9; ipv6[47] = 1; ipv6[26] = 1; ipv6[19] = 0
        var device = Self.tap(ipv4: [1: 1])
        device.deviceSysctls = DeviceSysctls(ipv4: device.deviceSysctls!.ipv4, ipv6: ipv6)
        device.linkSettings.ipv6Disabled = true
        var defaults = Self.defaults
        defaults.values[.ipv6]!["accept_ra_rtr_pref"] = nil
        let lines = Self.commands(device, defaults: defaults).filter { $0.contains("sysctl") }
        #expect(lines == ["ip netns exec blue sysctl -qw net/ipv6/conf/s.1/disable_ipv6=1"])
    }

    /// `disable_ipv6` is written 0 where the namespace's default would disable IPv6 on a device
    /// that had it on.
    @Test func ipv6ComesBackOnWhereTheDefaultWouldTurnItOff() {
        var defaults = Self.defaults
        defaults.values[.ipv6]!["disable_ipv6"] = 1
        #expect(Self.commands(Self.tap(), defaults: defaults).contains("ip netns exec blue sysctl -qw net/ipv6/conf/s.1/disable_ipv6=0"))
    }

    /// An older kernel's shorter array: the settings past its end are not written, the others are.
    @Test func aShortArrayGivesWhatItHas() {
        var device = Self.tap()
        device.deviceSysctls = DeviceSysctls(ipv4: Array(Self.newIPv4.prefix(2)) + [1], ipv6: [])
        #expect(Self.commands(device).filter { $0.contains("sysctl") } == ["ip netns exec blue sysctl -qw net/ipv4/conf/s.1/proxy_arp=1"])
    }

    /// A name with `=` in it, which sysctl(8) would cut there: each setting is written to its
    /// file by `sh` in the same namespace, one line each, a setting the kernel lacks passed over
    /// where the defaults could not be read.
    @Test func aNameWithAnEqualsSignIsWrittenThroughTheFiles() {
        var device = Self.tap(ipv4: [2: 1])
        device.name = "s=1"
        let lines = Self.commands(device)
        #expect(lines.contains("ip netns exec blue sh -c 'echo 1 > \"$0\"' /proc/sys/net/ipv4/conf/s=1/proxy_arp"), "\(lines)")
        #expect(!lines.contains { $0.contains("sysctl") }, "\(lines)")
        let unread = Self.commands(device, defaults: NamespaceSysctlDefaults(unreadable: "EACCES"))
        #expect(unread.contains("ip netns exec blue sh -c 'echo 1 > \"$0\"' /proc/sys/net/ipv4/conf/s=1/proxy_arp 2>/dev/null || :"), "\(unread)")
        #expect(!unread.contains { $0.contains("sysctl -q") }, "\(unread)")
        let own = Self.commands(device, namespace: nil)
        #expect(own.contains("sh -c 'echo 1 > \"$0\"' /proc/sys/net/ipv4/conf/s=1/proxy_arp"), "\(own)")
    }

    /// Where the defaults could not be read, a `#` line says so and why, and every value is set
    /// as it was, one line per family, still before `up`.
    @Test func unreadableDefaultsSetEveryValueAndSaySo() {
        let lines = Self.commands(Self.tap(ipv4: [2: 1]), defaults: NamespaceSysctlDefaults(unreadable: "EACCES"))
        let comment = lines.firstIndex { $0.hasPrefix("# the namespace's net.ipv4.conf.default and net.ipv6.conf.default could not be read (EACCES)") }
        #expect(comment != nil, "\(lines)")
        let ipv4 = lines.first { $0.hasPrefix("ip netns exec blue sysctl -qew net/ipv4/conf/s.1/forwarding=0 ") }
        #expect(ipv4?.contains(" net/ipv4/conf/s.1/proxy_arp=1 ") == true && ipv4?.contains("mc_forwarding") == false, "\(lines)")
        let ipv6 = lines.first { $0.hasPrefix("ip netns exec blue sysctl -qew net/ipv6/conf/s.1/forwarding=0 ") }
        #expect(ipv6?.contains(" net/ipv6/conf/s.1/router_solicitation_interval=4 ") == true && ipv6?.contains("ioam6_id_wide=4294967295") == true, "\(lines)")
        #expect(lines.firstIndex(of: "ip -n blue link set dev s.1 up")! > lines.firstIndex(of: ipv6!)!)
        #expect(Self.commands(Self.tap(), defaults: nil).contains { $0.contains("(they were not read)") })
    }

    /// A device whose sysctls were not reported (another platform, a capture) gets no line.
    @Test func noSysctlsNoLines() {
        var device = Self.tap()
        device.deviceSysctls = nil
        #expect(!Self.commands(device, defaults: nil).contains { $0.contains("sysctl") || $0.hasPrefix("#") })
    }
}

import Testing
import TunwardenCore

/// The recreate commands' lines for what a device has beyond its link dump (review round 7,
/// findings F1–F3): the newest IPv6 setting of the kernel's array, sysctl files the array lacks,
/// neighbour parameters, and multicast addresses added by hand; each given back before the device
/// is up, or named in a `#` line.
@Suite struct RecreateExtraSettingsTests {
    static func commands(_ device: NetworkInterface) -> [String] {
        RecreateSysctlsTests.commands(device)
    }

    /// `force_forwarding` (DEVCONF 59, Linux 6.17) is in the table, and comes back when set.
    @Test func forceForwardingComesBack() {
        let lines = Self.commands(RecreateSysctlsTests.tap(ipv6: [59: 1]))
        #expect(lines.contains("ip netns exec blue sysctl -qw net/ipv6/conf/s.1/force_forwarding=1"), "\(lines)")
        #expect(!Self.commands(RecreateSysctlsTests.tap()).joined().contains("force_forwarding"))
    }

    /// Files the array lacks come back where they differ from `default`, before `up`; one whose
    /// value is not a number is named; one equal to `default` gets nothing.
    @Test func fileSysctlsThatDifferComeBackBeforeUp() {
        var device = RecreateSysctlsTests.tap()
        device.extraSettings = DeviceExtraSettings(fileSysctls: [
            FileSysctl(family: .ipv6, key: "ra_honor_pio_life", value: "1", defaultValue: "0"),
            FileSysctl(family: .ipv6, key: "regen_min_advance", value: "2", defaultValue: "2"),
            FileSysctl(family: .ipv6, key: "some_future_list", value: "a b", defaultValue: ""),
        ])
        let lines = Self.commands(device)
        let set = lines.firstIndex(of: "ip netns exec blue sysctl -qw net/ipv6/conf/s.1/ra_honor_pio_life=1")
        let up = lines.firstIndex(of: "ip -n blue link set dev s.1 up")
        #expect(set != nil && up != nil && set! < up!, "\(lines)")
        #expect(!lines.joined().contains("regen_min_advance"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("# its net.ipv6.conf.s.1.some_future_list is not recreated: it was 'a b'") }, "\(lines)")
    }

    /// Neighbour parameters that differ from the table's default come back in one `ip ntable
    /// change` per table, and those iproute2 has no word for through their sysctl files.
    @Test func neighbourParametersThatDifferComeBack() {
        var device = RecreateSysctlsTests.tap()
        let defaults: [NeighbourParameters.Parameter: UInt64] = [.baseReachableTime: 30000, .unicastProbes: 3, .queueBytes: 212_992,
                                                                  .multicastReprobes: 0, .retransTime: 1000]
        var arp = defaults
        arp[.baseReachableTime] = 90000
        arp[.unicastProbes] = 7
        arp[.queueBytes] = 100_000
        var ndisc = defaults
        ndisc[.retransTime] = 2500
        ndisc[.multicastReprobes] = 2
        device.extraSettings = DeviceExtraSettings(neighbourParameters: [
            NeighbourParameters(table: "arp_cache", family: .ipv4, values: arp, defaults: defaults),
            NeighbourParameters(table: "ndisc_cache", family: .ipv6, values: ndisc, defaults: defaults),
            NeighbourParameters(table: "ndisc_cache", family: .ipv6, values: defaults, defaults: defaults),
        ])
        let lines = Self.commands(device)
        #expect(lines.contains("ip -n blue ntable change name arp_cache dev s.1 base_reachable 90000 ucast_probes 7"), "\(lines)")
        #expect(lines.contains("ip netns exec blue sysctl -qw net/ipv4/neigh/s.1/unres_qlen_bytes=100000"), "\(lines)")
        #expect(lines.contains("ip -n blue ntable change name ndisc_cache dev s.1 retrans 2500"), "\(lines)")
        #expect(lines.contains("ip netns exec blue sysctl -qw net/ipv6/neigh/s.1/mcast_resolicit=2"), "\(lines)")
        #expect(lines.filter { $0.contains("ntable") }.count == 2, "\(lines)")
        let up = lines.firstIndex(of: "ip -n blue link set dev s.1 up")!
        #expect(lines.lastIndex { $0.contains("neigh") }! < up)
    }

    /// Multicast addresses added by hand come back with `ip maddr add`; what could not be read
    /// is named.
    @Test func staticMulticastComesBackAndTheUnreadIsNamed() {
        var device = RecreateSysctlsTests.tap()
        device.extraSettings = DeviceExtraSettings(staticMulticast: ["01:00:5e:01:02:03", "33:33:00:00:12:34"],
                                                   unreadable: ["its neighbour parameters could not be read (EPERM); any set by hand are not recreated"])
        let lines = Self.commands(device)
        #expect(lines.contains("ip -n blue maddr add 01:00:5e:01:02:03 dev s.1") && lines.contains("ip -n blue maddr add 33:33:00:00:12:34 dev s.1"))
        #expect(lines.contains("# its neighbour parameters could not be read (EPERM); any set by hand are not recreated"), "\(lines)")
    }
}

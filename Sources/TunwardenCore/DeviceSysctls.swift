/// A device's own sysctls, `net.ipv4.conf.DEV.*` and `net.ipv6.conf.DEV.*`, as the kernel reports
/// them in its link dump (Linux IFLA_AF_SPEC: IFLA_INET_CONF and IFLA_INET6_CONF), read so that
/// the recreate commands can give back those a new device would not take from its namespace's
/// `default`. Not in the JSON schema.
///
/// A reference, so that the many devices of one dump that have the very same values (devices made
/// alike, in one namespace) share one copy, and a device carries one word for them.
public final class DeviceSysctls: Sendable, Equatable {
    /// IFLA_INET_CONF: one value per IPV4_DEVCONF_* − 1; empty when the device has no IPv4.
    public let ipv4: [Int32]
    /// IFLA_INET6_CONF: one value per DEVCONF_*; empty when the device has no IPv6.
    public let ipv6: [Int32]

    public init(ipv4: [Int32], ipv6: [Int32]) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    public static func == (lhs: DeviceSysctls, rhs: DeviceSysctls) -> Bool {
        lhs === rhs || (lhs.ipv4 == rhs.ipv4 && lhs.ipv6 == rhs.ipv6)
    }

    /// The values of `family`'s array.
    public func values(_ family: DeviceSysctl.Family) -> [Int32] {
        family == .ipv4 ? ipv4 : ipv6
    }

    /// The setting's value as its sysctl file shows it and takes it; nil when the kernel's array
    /// is too short to hold it (an older kernel).
    public func value(of setting: DeviceSysctl) -> Int64? {
        let array = values(setting.family)
        return setting.index < array.count ? setting.sysctlValue(array[setting.index]) : nil
    }
}

/// One per-device sysctl the recreate commands can give back: where its value sits in the
/// kernel's array and what its sysctl file is called (net/ipv4/devinet.c, net/ipv6/addrconf.c).
public struct DeviceSysctl: Sendable, Equatable {
    public enum Family: String, Sendable { case ipv4, ipv6 }

    /// How the array's value reads in the sysctl file.
    public enum Unit: Sendable {
        /// The same integer.
        case plain
        /// A u32 the kernel puts in the s32 array: the file shows it unsigned.
        case unsigned
        /// The array gives milliseconds (`jiffies_to_msecs`) of a setting whose file shows whole
        /// seconds (`proc_dointvec_jiffies`).
        case secondsFromMilliseconds
    }

    public var family: Family
    /// The position in the family's array: IPV4_DEVCONF_* − 1, or DEVCONF_*.
    public var index: Int
    /// The file's name under /proc/sys/net/ipv4/conf/DEV/ or /proc/sys/net/ipv6/conf/DEV/.
    public var key: String
    public var unit: Unit

    /// `net/ipv4/conf` or `net/ipv6/conf`: where the file is, written with slashes so that a
    /// device name with dots in it is read as one.
    public var directory: String { "net/\(family.rawValue)/conf" }

    /// `raw`, from the kernel's array, as the sysctl file shows it.
    public func sysctlValue(_ raw: Int32) -> Int64 {
        switch unit {
        case .plain: Int64(raw)
        case .unsigned: Int64(UInt32(bitPattern: raw))
        case .secondsFromMilliseconds: Int64(raw) / 1000
        }
    }

    /// Every setting the recreate commands give back, IPv4's then IPv6's, each family in the
    /// kernel's order, which is the order they are set in.
    ///
    /// Left out, on purpose:
    /// - `mc_forwarding` (both families): read-only; a multicast routing daemon sets it.
    /// - IPv6 `disable_ipv6`: given back on a line of its own, as before (one way of writing it).
    /// - IPv6 `stable_secret`: the kernel puts no value in the array (it leaves it 0); a `#` line
    ///   names it where it matters.
    /// - IPv6 `addr_gen_mode`: `ip link set … addrgenmode` gives it back (`LinkSettings`).
    /// - Any index past these: a kernel newer than this table may send more values, whose names
    ///   are not known here. Such a setting is given back all the same from its file under
    ///   /proc/sys, which the reaper reads for every setting this table lacks (`FileSysctl`), as it
    ///   does for those the kernel keeps only there (`ra_honor_pio_life`, `regen_min_advance`, …).
    /// A setting in this table that the namespace's kernel has no file for (built without the
    /// feature: `accept_ra_rtr_pref`, `optimistic_dad`, `seg6_require_hmac`, …) is not written
    /// either: it cannot have been set.
    public static let all: [DeviceSysctl] = ipv4 + ipv6

    /// IPV4_DEVCONF_* (include/uapi/linux/ip.h), 1-based, with net/ipv4/devinet.c's names.
    static let ipv4: [DeviceSysctl] = [
        (1, "forwarding"), (3, "proxy_arp"), (4, "accept_redirects"), (5, "secure_redirects"), (6, "send_redirects"),
        (7, "shared_media"), (8, "rp_filter"), (9, "accept_source_route"), (10, "bootp_relay"), (11, "log_martians"), (12, "tag"),
        (13, "arp_filter"), (14, "medium_id"), (15, "disable_xfrm"), (16, "disable_policy"), (17, "force_igmp_version"),
        (18, "arp_announce"), (19, "arp_ignore"), (20, "promote_secondaries"), (21, "arp_accept"), (22, "arp_notify"),
        (23, "accept_local"), (24, "src_valid_mark"), (25, "proxy_arp_pvlan"), (26, "route_localnet"),
        (27, "igmpv2_unsolicited_report_interval"), (28, "igmpv3_unsolicited_report_interval"), (29, "ignore_routes_with_linkdown"),
        (30, "drop_unicast_in_l2_multicast"), (31, "drop_gratuitous_arp"), (32, "bc_forwarding"), (33, "arp_evict_nocarrier"),
    ].map { DeviceSysctl(family: .ipv4, index: $0.0 - 1, key: $0.1, unit: .plain) }

    /// DEVCONF_* (include/uapi/linux/ipv6.h, up to DEVCONF_FORCE_FORWARDING of Linux 6.17), 0-based,
    /// with net/ipv6/addrconf.c's names. The
    /// router solicitation and probe intervals are in milliseconds in the array
    /// (`ipv6_store_devconf`) and in seconds in their files; the MLD report intervals are in
    /// milliseconds in both.
    static let ipv6: [DeviceSysctl] = [
        (0, "forwarding", .plain), (1, "hop_limit", .plain), (2, "mtu", .plain), (3, "accept_ra", .plain), (4, "accept_redirects", .plain),
        (5, "autoconf", .plain), (6, "dad_transmits", .plain), (7, "router_solicitations", .plain),
        (8, "router_solicitation_interval", .secondsFromMilliseconds), (9, "router_solicitation_delay", .secondsFromMilliseconds),
        (10, "use_tempaddr", .plain), (11, "temp_valid_lft", .plain), (12, "temp_prefered_lft", .plain), (13, "regen_max_retry", .plain),
        (14, "max_desync_factor", .plain), (15, "max_addresses", .plain), (16, "force_mld_version", .plain), (17, "accept_ra_defrtr", .plain),
        (18, "accept_ra_pinfo", .plain), (19, "accept_ra_rtr_pref", .plain), (20, "router_probe_interval", .secondsFromMilliseconds),
        (21, "accept_ra_rt_info_max_plen", .plain), (22, "proxy_ndp", .plain), (23, "optimistic_dad", .plain),
        (24, "accept_source_route", .plain), (27, "accept_dad", .plain), (28, "force_tllao", .plain), (29, "ndisc_notify", .plain),
        (30, "mldv1_unsolicited_report_interval", .plain), (31, "mldv2_unsolicited_report_interval", .plain),
        (32, "suppress_frag_ndisc", .plain), (33, "accept_ra_from_local", .plain), (34, "use_optimistic", .plain),
        (35, "accept_ra_mtu", .plain), (37, "use_oif_addrs_only", .plain), (38, "accept_ra_min_hop_limit", .plain),
        (39, "ignore_routes_with_linkdown", .plain), (40, "drop_unicast_in_l2_multicast", .plain), (41, "drop_unsolicited_na", .plain),
        (42, "keep_addr_on_down", .plain), (43, "router_solicitation_max_interval", .secondsFromMilliseconds),
        (44, "seg6_enabled", .plain), (45, "seg6_require_hmac", .plain), (46, "enhanced_dad", .plain), (48, "disable_policy", .plain),
        (49, "accept_ra_rt_info_min_plen", .plain), (50, "ndisc_tclass", .plain), (51, "rpl_seg_enabled", .plain),
        (52, "ra_defrtr_metric", .unsigned), (53, "ioam6_enabled", .plain), (54, "ioam6_id", .unsigned), (55, "ioam6_id_wide", .unsigned),
        (56, "ndisc_evict_nocarrier", .plain), (57, "accept_untracked_na", .plain), (58, "accept_ra_min_lft", .plain),
        (59, "force_forwarding", .plain),
    ].map { (entry: (Int, String, Unit)) in DeviceSysctl(family: .ipv6, index: entry.0, key: entry.1, unit: entry.2) }

    /// DEVCONF_DISABLE_IPV6, which `RecreateCommands.ipv6SettingLines` writes.
    public static let disableIPv6 = DeviceSysctl(family: .ipv6, index: 26, key: "disable_ipv6", unit: .plain)
}

/// What a new device takes in a namespace: its `net.ipv4.conf.default.*` and
/// `net.ipv6.conf.default.*` (read by the Linux reaper, inside the namespace, when it writes
/// recreate commands), or why they could not be read.
public struct NamespaceSysctlDefaults: Sendable, Equatable {
    /// The value of each setting of `DeviceSysctl.all` (and `DeviceSysctl.disableIPv6`) by
    /// family and key, as its `default` file shows it; a key the kernel has no file for is absent.
    public var values: [DeviceSysctl.Family: [String: Int64]]
    /// Why they could not be read; nil when `values` holds them.
    public var unreadable: String?

    public init(values: [DeviceSysctl.Family: [String: Int64]]) {
        self.values = values
        unreadable = nil
    }

    public init(unreadable reason: String) {
        values = [:]
        unreadable = reason
    }

    /// The value of `setting` in `default`; nil where the kernel has no such file.
    public func value(of setting: DeviceSysctl) -> Int64? {
        values[setting.family]?[setting.key]
    }
}

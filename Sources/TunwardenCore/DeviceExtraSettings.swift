/// What a Linux device has that its link dump does not carry, and that deleting it destroys: its
/// own sysctl files that the kernel's arrays lack (`FileSysctl`), its neighbour parameters
/// (`NeighbourParameters`, what `ip ntable show dev DEV` lists) and the link-layer multicast
/// addresses added to it by hand (`ip maddr add`). The reaper reads them only where it writes
/// recreate commands (the JSON plan, the journal), never for an audit, and the recreate commands
/// give them back or name them. Not in the JSON schema.
public struct DeviceExtraSettings: Sendable, Equatable {
    /// Its own settings under /proc/sys/net/ipv4/conf/DEV and /proc/sys/net/ipv6/conf/DEV that
    /// `DeviceSysctl.all` does not hold, read from their files, each beside the namespace's
    /// `default` of the same name.
    public var fileSysctls: [FileSysctl] = []
    /// Its parameters of the ARP and neighbour discovery tables, beside the tables' defaults.
    public var neighbourParameters: [NeighbourParameters] = []
    /// The link-layer multicast addresses added to it by hand (`ip maddr` shows them `static`),
    /// as `ip maddr add` takes them.
    public var staticMulticast: [String] = []
    /// What could not be read, each as the words of a `#` line of the recreate commands.
    public var unreadable: [String] = []

    public init(fileSysctls: [FileSysctl] = [], neighbourParameters: [NeighbourParameters] = [], staticMulticast: [String] = [],
                unreadable: [String] = []) {
        self.fileSysctls = fileSysctls
        self.neighbourParameters = neighbourParameters
        self.staticMulticast = staticMulticast
        self.unreadable = unreadable
    }
}

/// One of a device's own sysctl files that the kernel's arrays do not carry, as its file shows
/// it, beside what a new device takes: the same file under `default`.
public struct FileSysctl: Sendable, Equatable {
    public var family: DeviceSysctl.Family
    /// The file's name under /proc/sys/net/FAMILY/conf/DEV/.
    public var key: String
    /// The device's file, without its line end.
    public var value: String
    /// The `default` file, without its line end; nil when it could not be read.
    public var defaultValue: String?

    public init(family: DeviceSysctl.Family, key: String, value: String, defaultValue: String?) {
        self.family = family
        self.key = key
        self.value = value
        self.defaultValue = defaultValue
    }

    /// The value as a number `sysctl -w` takes back; nil for any other text.
    public var number: Int64? { Int64(value) }
}

/// A device's parameters of one neighbour table (Linux RTM_GETNEIGHTBL: NDTA_PARMS with its
/// NDTPA_IFINDEX), beside the table's own (the parameters without an ifindex), which a new device
/// copies (net/core/neighbour.c, `neigh_parms_alloc`). Times are in milliseconds.
public struct NeighbourParameters: Sendable, Equatable {
    /// One parameter a device's table entry has and a person can set.
    public enum Parameter: String, Sendable, CaseIterable {
        case baseReachableTime, retransTime, gcStaleTime, delayProbeTime, queueBytes, appProbes, unicastProbes, multicastProbes,
             multicastReprobes, anycastDelay, proxyDelay, proxyQueue, lockTime, intervalProbeTime

        /// The word of `ip ntable change` that sets it (in milliseconds for a time); nil for one
        /// iproute2 has no word for, set through its sysctl file instead.
        public var ipWord: String? {
            switch self {
            case .baseReachableTime: "base_reachable"
            case .retransTime: "retrans"
            case .gcStaleTime: "gc_stale"
            case .delayProbeTime: "delay_probe"
            case .appProbes: "app_probes"
            case .unicastProbes: "ucast_probes"
            case .multicastProbes: "mcast_probes"
            case .anycastDelay: "anycast_delay"
            case .proxyDelay: "proxy_delay"
            case .proxyQueue: "proxy_queue"
            case .lockTime: "locktime"
            case .queueBytes, .multicastReprobes, .intervalProbeTime: nil
            }
        }

        /// The sysctl file under /proc/sys/net/FAMILY/neigh/DEV/ that shows it exactly (the
        /// times those of `_ms` files), where `ipWord` is nil.
        public var sysctlKey: String? {
            switch self {
            case .queueBytes: "unres_qlen_bytes"
            case .multicastReprobes: "mcast_resolicit"
            case .intervalProbeTime: "interval_probe_time_ms"
            default: nil
            }
        }
    }

    /// `arp_cache` or `ndisc_cache`: the table's name, as `ip ntable` takes it.
    public var table: String
    public var family: DeviceSysctl.Family
    /// The device's values; a parameter the kernel did not send is absent.
    public var values: [Parameter: UInt64]
    /// The table's default values, which a new device takes; empty when they were not sent.
    public var defaults: [Parameter: UInt64]

    public init(table: String, family: DeviceSysctl.Family, values: [Parameter: UInt64], defaults: [Parameter: UInt64]) {
        self.table = table
        self.family = family
        self.values = values
        self.defaults = defaults
    }

    /// The parameters whose value differs from the default's (or has no default to compare
    /// with), in `Parameter`'s order.
    public var changed: [(parameter: Parameter, value: UInt64)] {
        Parameter.allCases.compactMap { parameter in
            guard let value = values[parameter], value != defaults[parameter] else { return nil }
            return (parameter, value)
        }
    }
}

extension RecreateCommands {
    /// The lines that give back what the reaper read of `interface` beyond its link dump
    /// (`DeviceExtraSettings`) and that must be set before it is up: its own sysctl files that
    /// differ from the namespace's `default` (one `sysctl -qw` each; a file whose value is not a
    /// number is named in a `#` line), and its neighbour parameters that differ from the table's
    /// default (one `ip ntable change` per table, and a `sysctl -qw` for each parameter iproute2
    /// has no word for). What could not be read is named in `#` lines.
    static func extraSettingLines(_ interface: NetworkInterface, ip: String, name: String) -> [String] {
        guard let extra = interface.extraSettings else { return [] }
        var lines: [String] = []
        for setting in extra.fileSysctls where setting.value != setting.defaultValue {
            guard let number = setting.number else {
                lines.append("# its net.\(setting.family.rawValue).conf.\(interface.name).\(setting.key) is not recreated: it was "
                    + "\(ShellWord.quote(Array(setting.value.utf8))), not a number (a new device takes \(setting.defaultValue.map { ShellWord.quote(Array($0.utf8)) } ?? "its default"))")
                continue
            }
            lines.append(sysctlLine(directory: "net/\(setting.family.rawValue)/conf", key: setting.key, value: number, of: interface, ip: ip, name: name))
        }
        for table in extra.neighbourParameters {
            let changed = table.changed
            let words = changed.compactMap { entry in entry.parameter.ipWord.map { "\($0) \(entry.value)" } }
            if !words.isEmpty { lines.append("\(ip) ntable change name \(table.table) dev \(name) \(words.joined(separator: " "))") }
            for entry in changed {
                guard let key = entry.parameter.sysctlKey else { continue }
                lines.append(sysctlLine(directory: "net/\(table.family.rawValue)/neigh", key: key, value: Int64(clamping: entry.value),
                                        of: interface, ip: ip, name: name))
            }
        }
        return lines + extra.unreadable.map { "# " + $0 }
    }

    /// The lines that add again the link-layer multicast addresses added to `interface` by hand.
    static func staticMulticastLines(_ interface: NetworkInterface, ip: String, name: String) -> [String] {
        (interface.extraSettings?.staticMulticast ?? []).map { "\(ip) maddr add \($0) dev \(name)" }
    }
}

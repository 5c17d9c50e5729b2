/// The recreate commands' lines for a device's own sysctls (`DeviceSysctls`).
extension RecreateCommands {
    /// What runs a command where the `ip` commands act: nothing, or `ip netns exec NAME ` when
    /// `ip` is `ip -n NAME`.
    static func runWord(ip: String) -> String {
        ip == "ip" ? "" : "ip netns exec " + ip.dropFirst("ip -n ".count) + " "
    }

    /// `sysctl`, or `ip netns exec NAME sysctl` when `ip` is `ip -n NAME`: it runs in NAME, as
    /// the `ip -n` commands do.
    static func sysctlWord(ip: String) -> String {
        runWord(ip: ip) + "sysctl"
    }

    /// The line that sets the device's `key` under `directory` (`net/ipv4/conf`) to `value`, in
    /// the namespace `ip` names: `sysctl -qw`. sysctl(8) parts a setting from its value at the
    /// first `=`, so for a device whose name holds one (the kernel allows it) the value is written
    /// to the setting's file under /proc/sys by `sh`, in the same namespace; with `passMissing`, a
    /// setting this kernel lacks is passed over quietly, as `sysctl -e` does.
    static func sysctlLine(directory: String, key: String, value: Int64, of interface: NetworkInterface, ip: String, name: String,
                           passMissing: Bool = false) -> String {
        let bytes = InterfaceName.kernelBytes(interface.name)
        guard bytes.contains(UInt8(ascii: "=")) else { return "\(sysctlWord(ip: ip)) -q\(passMissing ? "e" : "")w \(directory)/\(name)/\(key)=\(value)" }
        let path = ShellWord.quote(Array("/proc/sys/\(directory)/".utf8) + bytes + Array("/\(key)".utf8))
        return "\(runWord(ip: ip))sh -c 'echo \(value) > \"$0\"' \(path)" + (passMissing ? " 2>/dev/null || :" : "")
    }

    /// What a new device of `interface`'s kind starts with for `setting` in a namespace with
    /// these defaults; nil where the namespace's kernel has no such setting. The namespace's
    /// `default`, but for what net/ipv6/addrconf.c (`ipv6_add_dev`) sets by itself: the IPv6
    /// `mtu` follows the link's MTU, and a tun (ARPHRD_NONE, made NOARP) starts with
    /// `use_tempaddr` and `accept_dad` at -1.
    static func newDeviceValue(_ setting: DeviceSysctl, of interface: NetworkInterface, defaults: NamespaceSysctlDefaults) -> Int64? {
        guard setting.family == .ipv6 else { return defaults.value(of: setting) }
        switch setting.key {
        case "mtu": return interface.mtu.map(Int64.init)
        case "use_tempaddr", "accept_dad": return defaults.value(of: setting).map { interface.kind == .tun ? -1 : $0 }
        default: return defaults.value(of: setting)
        }
    }

    /// The lines that set again the device's own `net.ipv4.conf.DEV.*` and `net.ipv6.conf.DEV.*`
    /// that a new device would not have: one `sysctl -qw` per setting whose value differs from the
    /// namespace's `default` (`defaults`), which a new device takes, in `DeviceSysctl.all`'s
    /// order (`newDeviceValue` says where the kernel gives a new device another value; the IPv6
    /// `mtu` is set after `link set … mtu`, which resets it). `name` is the
    /// device's name as a shell word; slashes, not dots, part the key, so a name with dots is
    /// read as one. They go before the device is up and has addresses: `accept_dad`, `autoconf`
    /// and `forwarding` decide what adding an address does.
    ///
    /// Where the defaults could not be read (or were not), which values a new device would lack
    /// is unknown: a `#` line says so and why, and the lines that follow set every value as it
    /// was, one `sysctl -qew` per family (`-e`: a key this kernel lacks is passed over). That
    /// gives the device back exactly whatever the namespace's defaults are, where comparing with
    /// the kernel's built-in defaults would miss each setting whose `default` was changed.
    static func deviceSysctlLines(_ interface: NetworkInterface, defaults: NamespaceSysctlDefaults?, ip: String, name: String) -> [String] {
        let sysctl = sysctlWord(ip: ip)
        guard let sysctls = interface.deviceSysctls else { return [] }
        guard let defaults, defaults.unreadable == nil else {
            var lines = ["# the namespace's net.ipv4.conf.default and net.ipv6.conf.default could not be read "
                + "(\(defaults?.unreadable ?? "they were not read")), so which of \(interface.name)'s own settings a new device would lack "
                + "is unknown: all are set as they were"]
            if InterfaceName.kernelBytes(interface.name).contains(UInt8(ascii: "=")) {
                for setting in DeviceSysctl.all {
                    guard let value = sysctls.value(of: setting) else { continue }
                    lines.append(sysctlLine(directory: setting.directory, key: setting.key, value: value, of: interface, ip: ip, name: name, passMissing: true))
                }
                return lines.count > 1 ? lines : []
            }
            for family in [DeviceSysctl.Family.ipv4, .ipv6] {
                let words = DeviceSysctl.all.filter { $0.family == family }.compactMap { setting in
                    sysctls.value(of: setting).map { "\(setting.directory)/\(name)/\(setting.key)=\($0)" }
                }
                if !words.isEmpty { lines.append("\(sysctl) -qew " + words.joined(separator: " ")) }
            }
            return lines.count > 1 ? lines : []
        }
        var lines: [String] = []
        for setting in DeviceSysctl.all {
            guard let value = sysctls.value(of: setting) else { continue }
            guard let newDevice = newDeviceValue(setting, of: interface, defaults: defaults), value != newDevice else { continue }
            lines.append(sysctlLine(directory: setting.directory, key: setting.key, value: value, of: interface, ip: ip, name: name))
        }
        return lines
    }
}

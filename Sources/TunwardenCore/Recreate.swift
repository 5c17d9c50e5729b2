/// The `ip` commands that would make a deleted device again as it was: the journal records them
/// with every removal, so an operator can undo a reap by hand with `sh`.
///
/// They give back what `ip` can set: the tun/tap device with its owner, group and features, its
/// MTU, transmit queue length, link group, MAC address (tap), the `LinkSettings` that differ from
/// a new device's, the flags `ip link set` changes
/// (`arp`, `multicast`, `allmulticast`, `promisc`, `dynamic`, `trailers`) where they differ from
/// a new device's, its alias and alternative names, its `disable_ipv6` (by `sysctl`) and IPv6 token,
/// the bridge or bond it was a port of, whether it was up, its
/// addresses but those the kernel makes again itself (peer, broadcast, label, scope, metric, lifetimes left, and the flags `ip addr add`
/// sets), the neighbour entries made by hand, the deletion of the kernel's routes for the addresses
/// that were not there (see RecreateKernelRoutes.swift) and the routes that do not come back with the
/// addresses (see RecreateRoutes.swift). What they cannot give back (the secret of `addrgenmode
/// stable_secret`, qdiscs, policy rules, …) is named in `#` lines. Names, labels and the alias are written as `ShellWord`s, which give back the
/// kernel's exact bytes.
public enum RecreateCommands {
    /// A neighbour entry a person made on a device (`ip neigh add … nud permanent`, `nud noarp`,
    /// `managed`, `ip neigh add proxy …`): the kernel never makes it again by itself.
    public struct Neighbour: Equatable, Sendable, Decodable, JSONRecord {
        public enum Kind: String, Sendable, Decodable { case permanent, noarp, proxy, managed }
        public var address: IPAddress
        /// The link-layer address, `aa:bb:…` (none for a proxy entry, or a NOARP one given none).
        public var linkLayerAddress: String?
        public var kind: Kind
        /// NTF_ROUTER: the neighbour is an IPv6 router.
        public var router: Bool
        /// NTF_EXT_LEARNED: learned outside the kernel (`extern_learn`).
        public var externLearned: Bool
        /// NDA_PROTOCOL: who made it (`protocol N`), when it was said.
        public var protocolID: UInt8?

        public init(address: IPAddress, linkLayerAddress: String?, kind: Kind, router: Bool = false, externLearned: Bool = false,
                    protocolID: UInt8? = nil) {
            self.address = address
            self.linkLayerAddress = linkLayerAddress
            self.kind = kind
            self.router = router
            self.externLearned = externLearned
            self.protocolID = protocolID
        }

        enum CodingKeys: String, CodingKey {
            case address = "dst", linkLayerAddress = "lladdr", kind = "state", router, externLearned = "extern_learn", protocolID = "protocol"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let text = try container.decode(String.self, forKey: .address)
            guard let address = IPAddress(text) else {
                throw DecodingError.dataCorruptedError(forKey: .address, in: container, debugDescription: "not an IP address: \(text)")
            }
            self.init(address: address, linkLayerAddress: try container.decodeIfPresent(String.self, forKey: .linkLayerAddress),
                      kind: try container.decode(Kind.self, forKey: .kind), router: try container.decodeIfPresent(Bool.self, forKey: .router) ?? false,
                      externLearned: try container.decodeIfPresent(Bool.self, forKey: .externLearned) ?? false,
                      protocolID: try container.decodeIfPresent(UInt8.self, forKey: .protocolID))
        }

        /// `{"dst": …, "lladdr": …, "state": "permanent" | "noarp" | "proxy" | "managed", "router": true,
        /// "extern_learn": true, "protocol": N}`, keys modelled on `ip -j neigh` (`lladdr` and
        /// `protocol` only when it has them, the flags only when set).
        public func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("dst", address.description)
                json.field("lladdr", linkLayerAddress)
                json.field("state", kind.rawValue)
                if router { json.field("router", true) }
                if externLearned { json.field("extern_learn", true) }
                if let protocolID { json.field("protocol", protocolID) }
            }
        }
    }

    /// `commands(for:routes:namespace:unnamedNamespace:)` for a device in the namespace
    /// `ip -n NAME` names, or the one the commands run in when `namespace` is nil.
    public static func commands(for interface: NetworkInterface, routes: [Route], namespace: String?) -> [String] {
        commands(for: interface, routes: routes, namespace: namespace, unnamedNamespace: nil)
    }

    /// The commands for `interface`, its `routes` and its `neighbours` made by hand. `namespace`
    /// is the name `ip -n` is given; `unnamedNamespace`, the identity (`net:[INODE]`) of a
    /// namespace with no such name, puts a first line in front saying where the commands must be
    /// run.
    public static func commands(for interface: NetworkInterface, routes: [Route], namespace: String?, unnamedNamespace: String?,
                                neighbours: [Neighbour] = []) -> [String] {
        commands(forRun: [RunDevice(interface, routes: routes, neighbours: neighbours)], namespace: namespace, unnamedNamespace: unnamedNamespace)[0]
    }

    /// `ip -n NAME`, or `ip` when `namespace` is nil.
    public static func ipWord(_ namespace: String?) -> String {
        namespace.map { "ip -n \(ShellWord.quote(Array($0.utf8)))" } ?? "ip"
    }

    /// The commands that make `interface` again with its link settings, addresses and
    /// `neighbours`, but none of its routes; nil for a kind they cannot make, with the comment
    /// line that says so.
    static func deviceCommands(for interface: NetworkInterface, ip: String, note: String?, neighbours: [Neighbour],
                               sysctlDefaults: NamespaceSysctlDefaults? = nil, kernelMarks: Bool = false) -> (commands: [String], made: Bool) {
        let name = ShellWord.quote(InterfaceName.kernelBytes(interface.name))
        var commands: [String] = []
        if let note { commands.append(note) }
        switch interface.kind {
        case .tun, .tap:
            var create = "\(ip) tuntap add dev \(name) mode \(interface.kind.rawValue)"
            if let tun = interface.tun {
                if let owner = tun.owner { create += " user \(owner)" }
                if let group = tun.group { create += " group \(group)" }
                if tun.packetInfo == true { create += " pi" }
                if tun.vnetHeader == true { create += " vnet_hdr" }
                if tun.multiQueue == true { create += " multi_queue" }
            }
            commands.append(create)
        default:
            return (commands + ["# \(interface.kind.rawValue) \(interface.name): not recreated automatically"], false)
        }
        let link = "\(ip) link set dev \(name)"
        if let mtu = interface.mtu { commands.append("\(link) mtu \(mtu)") }
        if let length = interface.txQueueLength { commands.append("\(link) txqueuelen \(length)") }
        if let group = interface.group, group != 0 { commands.append("\(link) group \(group)") }
        if interface.kind == .tap, let mac = interface.hardwareAddress { commands.append("\(link) address \(mac)") }
        for words in interface.linkSettings.ipWords(tap: interface.kind == .tap) { commands.append("\(link) \(words)") }
        let sizes = interface.linkSettings.unwrittenIPv4Sizes
        if !sizes.isEmpty {
            let (named, back) = (sizes.map { "\($0.word) \($0.value)" }, sizes.map { "\($0.word) \($0.comesBack)" })
            commands.append("# its \(named.joined(separator: " and ")) \(sizes.count == 1 ? "is" : "are") not recreated (it comes back with \(back.joined(separator: " and "))): "
                + "only iproute2 6.3 and later set \(sizes.count == 1 ? "it" : "them"), with `\(link) \(named.joined(separator: " "))`")
        }
        commands += ipv6SettingLines(interface, ip: ip, name: name, defaults: sysctlDefaults)
        commands += deviceSysctlLines(interface, defaults: sysctlDefaults, ip: ip, name: name)
        commands += extraSettingLines(interface, ip: ip, name: name)
        let flagChanges = flagSettings(interface)
        if !flagChanges.isEmpty { commands.append("\(link) \(flagChanges.joined(separator: " "))") }
        if let token = interface.linkSettings.ipv6Token {
            // The kernel takes a token only on a device that does neighbour discovery (not NOARP).
            let noARP = interface.flags.contains("NOARP")
            if noARP { commands.append("\(link) arp on") }
            commands.append("\(ip) token set \(token) dev \(name)")
            if noARP { commands.append("\(link) arp off") }
        }
        if let alias = interface.alias { commands.append("\(link) alias \(ShellWord.quote(InterfaceName.kernelBytes(alias)))") }
        for altName in interface.altNames {
            commands.append("\(ip) link property add dev \(name) altname \(ShellWord.quote(InterfaceName.kernelBytes(altName)))")
        }
        if let master = interface.master, master > 0 {
            if let masterName = interface.masterName {
                commands.append("\(link) master \(ShellWord.quote(InterfaceName.kernelBytes(masterName)))")
            } else {
                commands.append("# it was a port of ifindex \(master), whose name was not seen: \(link) master NAME")
            }
        }
        commands += staticMulticastLines(interface, ip: ip, name: name)
        if let type = interface.linkType {
            commands.append("# its link type \(LinkType.name(type)) is not recreated (it comes back \(LinkType.name(interface.kind == .tap ? LinkType.ether : LinkType.none))): "
                + "a program set it with TUNSETLINK, which no ip command does; the program must set it again, attached, before it is up")
        }
        if interface.isUp { commands.append("\(link) up") }
        // The kernel lists IPv4 addresses oldest first and IPv6 addresses (within a scope) newest
        // first: adding the IPv6 ones in reverse gives back both lists in the same order.
        let addresses = interface.addresses.filter { !madeByKernel($0, of: interface, kernelMarks: kernelMarks) }
        // The kernel keeps `optimistic` only where the device's optimistic_dad is on, a sysctl no
        // `ip` command sets, and a new device takes from `default`.
        if addresses.contains(where: { $0.family == .inet6 && $0.flags.contains("optimistic") }) {
            commands.append("# its optimistic IPv6 addresses are so again only where net.ipv6.conf.\(interface.name).optimistic_dad "
                + "(taken from net.ipv6.conf.default.optimistic_dad) is 1 when they are added")
        }
        for address in addresses.filter({ $0.family == .inet }) + addresses.filter({ $0.family == .inet6 }).reversed() {
            if let line = addressProtocolLine(address) { commands.append(line) }
            commands.append(addCommand(address, ip: ip, name: name, interface: interface))
        }
        commands += neighbours.map { neighbourCommand($0, ip: ip, name: name) }
        commands += interface.unrecreated.map { "# " + $0 }
        return (commands, true)
    }

    /// The `ip neigh add` command that makes `neighbour` again on the device named `name` (a
    /// word for the shell), `ip` being `ip` or `ip -n NAME`.
    public static func neighbourCommand(_ neighbour: Neighbour, ip: String, name: String) -> String {
        var add = "\(ip) neigh add "
        if neighbour.kind == .proxy {
            add += "proxy \(neighbour.address)"
        } else if neighbour.kind == .managed {
            // The kernel keeps it resolved itself (NTF_EXT_MANAGED): it takes no state.
            add += "\(neighbour.address) managed"
        } else {
            add += "\(neighbour.address)"
            if let link = neighbour.linkLayerAddress { add += " lladdr \(link)" }
            add += " nud \(neighbour.kind.rawValue)"
        }
        if neighbour.router { add += " router" }
        if neighbour.externLearned { add += " extern_learn" }
        if let protocolID = neighbour.protocolID { add += " protocol \(protocolID)" }
        return add + " dev \(name)"
    }

    /// The lines for its IPv6 settings that `ip link set` cannot give back: `disable_ipv6`, set
    /// with `sysctl` (through `ip netns exec` when the commands name a namespace) before the
    /// device is up, to 1 where it was set, and to 0 where it was not but the namespace's
    /// `default` (`defaults`) would set it; and a comment line for the address generation mode `stable_secret`, whose
    /// secret no netlink message gives and without which the kernel refuses the mode.
    static func ipv6SettingLines(_ interface: NetworkInterface, ip: String, name: String, defaults: NamespaceSysctlDefaults? = nil) -> [String] {
        var lines: [String] = []
        // Slashes, not dots, part the key, so a name with dots in it is read as one.
        let sysctl = sysctlWord(ip: ip)
        if interface.linkSettings.ipv6AddressGeneration == LinkSettings.stableSecretMode {
            lines.append("# its IPv6 address generation mode stable_secret is not recreated (it comes back eui64): its secret, "
                + "net.ipv6.conf.\(interface.name).stable_secret, cannot be read over netlink; with the secret, "
                + "`\(sysctl) -w net/ipv6/conf/\(name)/stable_secret=SECRET` before it is up sets both again")
        }
        if interface.linkSettings.ipv6Disabled == true {
            lines.append(sysctlLine(directory: "net/ipv6/conf", key: "disable_ipv6", value: 1, of: interface, ip: ip, name: name))
        } else if defaults?.value(of: DeviceSysctl.disableIPv6) == 1, interface.deviceSysctls?.value(of: DeviceSysctl.disableIPv6) == 0 {
            lines.append(sysctlLine(directory: "net/ipv6/conf", key: "disable_ipv6", value: 0, of: interface, ip: ip, name: name))
        }
        return lines
    }

    /// The line that heads the commands of a device whose namespace `ip netns` has no name for.
    public static func unnamedNamespaceNote(_ identity: String) -> String {
        "# namespace \(identity) has no name under /run/netns; run these inside it, e.g. with nsenter --net=/proc/PID/ns/net "
            + "for a process PID in it (lsns -t net lists them)"
    }

    /// The IFF_* flags `ip link set` changes, with its keyword and whether `on` sets the flag.
    static let settableFlags: [(flag: String, keyword: String, onSets: Bool)] = [
        ("NOARP", "arp", false), ("MULTICAST", "multicast", true), ("ALLMULTI", "allmulticast", true),
        ("PROMISC", "promisc", true), ("DYNAMIC", "dynamic", true), ("NOTRAILERS", "trailers", false),
    ]

    /// Which of `settableFlags` a new device of the kind has (drivers/net/tun.c: a tun starts
    /// POINTOPOINT, NOARP and MULTICAST; a tap starts as ether_setup leaves it, BROADCAST and MULTICAST).
    static func initialFlags(_ kind: InterfaceKind) -> Set<String> {
        kind == .tun ? ["NOARP", "MULTICAST"] : ["MULTICAST"]
    }

    /// `arp off promisc on …`: the settable flags whose state differs from a new device's. A
    /// device with no flags at all is one whose flags were not read (the kernel always reports
    /// POINTOPOINT for a tun and BROADCAST for a tap), and nothing is said about them.
    static func flagSettings(_ interface: NetworkInterface) -> [String] {
        guard !interface.flags.isEmpty else { return [] }
        let initial = initialFlags(interface.kind)
        var settings: [String] = []
        for entry in settableFlags {
            let set = interface.flags.contains(entry.flag)
            guard set != initial.contains(entry.flag) else { continue }
            settings.append("\(entry.keyword) \(set == entry.onSets ? "on" : "off")")
        }
        return settings
    }

    /// IFAPROT_KERNEL_LL (IFA_PROTO 3): the kernel's own IPv6 link-local address.
    static let kernelLinkLocalProtocol: UInt8 = 3

    /// Whether the kernel makes `address` again by itself, so that the commands leave it out: a
    /// temporary (privacy) IPv6 address, which it derives from a `mngtmpaddr` one, and the IPv6
    /// link-local address it gives a device. That one is told apart from one added by hand by the
    /// kernel's mark (IFA_PROTO `kernel_ll`, Linux 6.3 and later); where the kernel marks its
    /// addresses (`kernelMarks`, `Snapshot.kernelMarksAddresses`), one without the mark was added
    /// by hand. Where it marks none, by being what the device's address generation mode makes:
    /// the EUI-64 address of its MAC (`eui64`), a stable-privacy one (`stable_secret`, `random`),
    /// nothing (`none`); either of the first two where the mode was not reported.
    static func madeByKernel(_ address: InterfaceAddress, of interface: NetworkInterface, kernelMarks: Bool = false) -> Bool {
        guard address.family == .inet6 else { return false }
        if address.flags.contains("temporary") { return true }
        guard address.isLinkLocal else { return false }
        if let made = address.addressProtocol { return made == kernelLinkLocalProtocol }
        guard !kernelMarks else { return false }
        let stable = address.flags.contains("stable-privacy"), eui64 = address.local == eui64LinkLocal(interface.hardwareAddress)
        switch interface.linkSettings.ipv6AddressGeneration {
        case nil: return stable || eui64
        case 0: return eui64
        case 1: return false
        default: return stable
        }
    }

    /// `fe80::` with the modified EUI-64 interface identifier of a 48-bit MAC (`aa:bb:cc:dd:ee:ff`),
    /// the link-local address the kernel derives from it; nil for any other hardware address.
    static func eui64LinkLocal(_ mac: String?) -> IPAddress? {
        guard let mac else { return nil }
        let octets = mac.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        guard octets.count == 6 else { return nil }
        let identifier = [octets[0] ^ 0x02, octets[1], octets[2], 0xff, 0xfe, octets[3], octets[4], octets[5]]
        return IPAddress(bytes: [0xfe, 0x80, 0, 0, 0, 0, 0, 0] + identifier)
    }

    /// The names iproute2 gives address protocols (IFA_PROTO, `ip addr add … proto NAME`).
    static let addressProtocolNames: [UInt8: String] = [1: "kernel_lo", 2: "kernel_ra", 3: "kernel_ll"]

    /// The comment line for an address's protocol (IFA_PROTO, Linux 6.1), which the commands do
    /// not give back: only iproute2 6.3 and later set it (`proto N`), and an older `ip` refuses
    /// the whole command. Nil for an address without one.
    static func addressProtocolLine(_ address: InterfaceAddress) -> String? {
        guard let made = address.addressProtocol, made != 0 else { return nil }
        let name = addressProtocolNames[made] ?? "\(made)"
        return "# \(address.local)/\(address.prefixLength) had address protocol \(name), which is not recreated (the address below comes back without one): "
            + "only iproute2 6.3 and later set it, with `proto \(name)` at the end of the command"
    }

    /// The address flags `ip addr add` sets, in the order `ip addr` prints them; the others
    /// (`permanent`, `tentative`, `secondary`, …) are the kernel's own bookkeeping.
    static let settableAddressFlags = ["nodad", "optimistic", "home", "mngtmpaddr", "noprefixroute", "autojoin"]

    static func addCommand(_ address: InterfaceAddress, ip: String, name: String, interface: NetworkInterface) -> String {
        var add = "\(ip) addr add \(address.local)"
        if let peer = address.peer { add += " peer \(peer)" }
        add += "/\(address.prefixLength)"
        if let broadcast = address.broadcast { add += " broadcast \(broadcast)" }
        if let label = address.label, label != interface.name { add += " label \(ShellWord.quote(InterfaceName.kernelBytes(label)))" }
        // The kernel gives an IPv6 address the scope of its prefix, whatever it is told.
        if address.family == .inet, address.scope != "global" { add += " scope \(address.scope)" }
        if let metric = address.metric { add += " metric \(metric)" }
        add += " dev \(name)"
        if let valid = address.validLifetime {
            add += " valid_lft \(valid) preferred_lft \(min(address.preferredLifetime ?? valid, valid))"
        } else if let preferred = address.preferredLifetime {
            add += " valid_lft forever preferred_lft \(preferred)"
        }
        for flag in settableAddressFlags where address.flags.contains(flag) { add += " \(flag)" }
        // An IPv6 address that had passed duplicate address detection comes back without it: on
        // a device without carrier DAD never ends, leaving it tentative (a route cannot take it as
        // its source) or, with a finite lifetime, deleting it.
        if address.family == .inet6, !address.flags.contains("tentative"), !address.flags.contains("nodad") { add += " nodad" }
        return add
    }
}

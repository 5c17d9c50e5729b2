import Foundation

/// A process that holds a tunnel interface open (Linux: a /dev/net/tun descriptor attached to it;
/// macOS: a utun control socket).
public struct Holder: JSONRecord, Sendable, Equatable, Hashable {
    public var pid: Int32
    public var comm: String
    public var uid: UInt32?
    /// The descriptor number in the holder.
    public var fd: Int32?
    /// The holder's network namespace, as the kernel names it (`net:[4026531840]`).
    public var netns: String?

    public init(pid: Int32, comm: String, uid: UInt32? = nil, fd: Int32? = nil, netns: String? = nil) {
        self.pid = pid
        self.comm = comm
        self.uid = uid
        self.fd = fd
        self.netns = netns
    }

    /// `openvpn[1234]`.
    public var display: String { "\(comm)[\(pid)]" }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("pid", pid)
            json.field("comm", comm)
            json.field("uid", uid)
            json.field("fd", fd)
            json.field("netns", netns)
        }
    }
}

/// One attachment found by scanning processes: a holder and the interface name its descriptor names.
public struct HolderAttachment: Sendable, Equatable {
    public var holder: Holder
    /// The interface name (`iff:` in Linux fdinfo; `utunN` derived from the unit on macOS).
    public var ifname: String
    /// Whether the holder's namespace is the namespace being inspected. A name is only unique
    /// within a namespace, so an attachment elsewhere proves nothing either way about this one.
    public var inInspectedNamespace: Bool

    public init(holder: Holder, ifname: String, inInspectedNamespace: Bool) {
        self.holder = holder
        self.ifname = ifname
        self.inInspectedNamespace = inInspectedNamespace
    }
}

/// What a scan for holders found, and whether it can be trusted to be complete.
public struct HolderScan: Sendable, Equatable {
    /// True only when every process could be inspected, except `opaquePIDs`: then "no holder"
    /// means nobody, for devices whose queue counts the kernel reports when `opaquePIDs` is not empty.
    public var complete: Bool
    /// Why the scan is incomplete, in words a person can act on.
    public var incompleteReason: String?
    /// What to do for a complete scan, when it is something other than running with privileges
    /// (for example: running in the host's PID namespace).
    public var remedy: String?
    public var attachments: [HolderAttachment]
    public var processesScanned: Int
    /// Processes that stayed closed although the scan held every privilege it needs (root with
    /// CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH): a container or sandbox supervisor more privileged
    /// than anything in it. Their descriptors are unknown, so a device is proven free of holders
    /// only by the kernel's own count of attached queues.
    public var opaquePIDs: [Int32]
    /// Packet sockets bound to each ifindex of the inspected namespace (Linux `/proc/net/packet`:
    /// `tcpdump -i tap0`, a DHCP client): processes that use a device without a tun descriptor.
    public var packetSockets: [Int: Int] = [:]
    /// TCP, UDP and AF_XDP sockets bound to each ifindex (Linux: with SO_BINDTODEVICE, a DHCP or
    /// DNS server serving only a VM's tap, a socket unit with `BindToDevice=`; an AF_XDP program
    /// taking its packets): use without a tun descriptor too.
    public var boundSockets: [Int: Int] = [:]
    /// Packet sockets with a membership (PACKET_ADD_MEMBERSHIP: promiscuous, all-multicast or one
    /// multicast address) on each ifindex they are not bound to (Linux: a sniffer or LLDP daemon
    /// that reads every device and asks this one for more of its traffic): use without a tun
    /// descriptor, which deleting the device takes away.
    public var packetMemberships: [Int: Int] = [:]
    /// The multicast groups sockets joined on each ifindex (Linux: IP_ADD_MEMBERSHIP or
    /// IPV6_JOIN_GROUP with its ifindex, as an mDNS responder or a DHCPv6 and router-advertisement
    /// server does per device), in words (`224.0.0.251`, `ff02::1 (2 memberships, the kernel holds
    /// 1)`): only those beyond the memberships the kernel holds on every device itself.
    public var multicastGroups: [Int: [String]] = [:]
    /// How many sockets bound to no device are bound to each specific local address, by its bytes
    /// (4 for IPv4, IPv4-mapped IPv6 included; 16 for IPv6): a server listening on an address only
    /// one device has (`dnsmasq --bind-interfaces`) serves through that device, and deleting it
    /// deletes the address. Raw and ping sockets count here too (`rawAddressSockets` says which
    /// they are), so whatever asks whether a socket is bound to an address sees them.
    public var addressSockets: [[UInt8]: Int] = [:]
    /// The raw and ICMP ("ping") sockets bound to each ifindex (Linux: SO_BINDTODEVICE or
    /// SO_BINDTOIFINDEX: `ping -I tap0`, keepalived's VRRP socket, systemd-networkd's ICMPv6
    /// socket for one link), each in words with the process holding it where that is known
    /// (`a raw IPv4 socket (protocol 112, VRRP) of keepalived[812]`): use without a tun
    /// descriptor, which deleting the device takes away.
    public var rawSockets: [Int: [String]] = [:]
    /// The raw and ping sockets bound to no device but to a specific local address, by the
    /// address's bytes as `addressSockets` has them, each in words as in `rawSockets`: they are
    /// among the sockets `addressSockets` counts.
    public var rawAddressSockets: [[UInt8]: [String]] = [:]
    /// The sockets that answer on every local address of a family (see `WildcardListeners`).
    public var wildcardListeners: WildcardListeners = [:]
    /// Traffic-control `mirred` actions a filter uses that send packets to each ifindex (Linux:
    /// `tc … action mirred egress redirect dev tap0`): another device's traffic depends on it.
    public var redirects: [Int: Int] = [:]
    /// nftables `fwd` and `dup` statements that send packets to each ifindex (Linux: `fwd to
    /// "tap0"` in a netdev chain of another device): another device's traffic depends on it too.
    public var forwards: [Int: Int] = [:]
    /// The vxlan devices whose forwarding entries send packets out through each ifindex, by name
    /// (Linux: `bridge fdb add … dev vxlan0 dst 192.0.2.1 via tap0`; one of another namespace as
    /// `NAME (namespace LABEL)`): the overlay's traffic depends on it.
    public var vxlanVias: [Int: [String]] = [:]
    /// The kernel tunnels of other namespaces that send from an address of this one, by the
    /// address's bytes, each as `KIND NAME (namespace LABEL)` (Linux: a vxlan made here with
    /// `local` on a device's address, then moved into a container, keeps its socket and its
    /// route lookups here): whatever device has that address is what the tunnel sends from.
    public var foreignTunnelLocals: [[UInt8]: [String]] = [:]
    /// The rules that duplicate packets to a device by its name, by the name's bytes, each in
    /// words (Linux: iptables `-j TEE --oif tap0`, through iptables-nft or iptables-legacy):
    /// another device's traffic depends on whichever device has that name.
    public var forwardsByName: [[UInt8]: [String]] = [:]
    /// The nftables base chains and flowtables hooked on devices (Linux).
    public var nftablesHooks = NftablesHooks()
    /// The nftables rules and sets that match each ifindex (Linux: `iif "vpn0"`, `oif @ifs`).
    public var nftablesIndexUses: [Int: [NftablesIndexUse]] = [:]
    /// The IPsec (xfrm) policies whose selector names each ifindex, each in words (Linux: `ip
    /// xfrm policy add … dev tap0`, `dir fwd src 0.0.0.0/0 dst 10.0.0.0/8 action block`).
    public var xfrmPolicies: [Int: [String]] = [:]
    /// The MPTCP path manager's endpoints that name each ifindex, each in words (Linux: `ip mptcp
    /// endpoint add 10.9.0.1 dev tap0 subflow`, as `10.9.0.1 id 1 subflow`).
    public var mptcpEndpoints: [Int: [String]] = [:]
    /// The traffic-control filters that match each ifindex, each in words (Linux: `tc filter add
    /// dev v0 … u32 match … indev tap0`, as `u32 indev, on v0 egress`; flower and fw `indev`,
    /// route `fromif`, and the meta matches `rt_iif`, `dev` and `sk_bound_if`, as `basic
    /// meta(rt_iif eq 7), on v0 egress`).
    public var tcFilterMatches: [Int: [String]] = [:]
    /// Why the device some nftables statement sends packets to cannot be known (nil: every one
    /// can), as a clause that ends the reason of a tun/tap it may be (`…, which may be this one`):
    /// one picked only as packets come. Then none is proven unused.
    public var forwardsUnknown: String?
    /// The BPF programs traffic control runs on each ifindex through tcx, each in words
    /// (`program 42 (ingress, bpf_link 7)`; Linux: Cilium's per-endpoint programs, `bpftool net
    /// attach tcx_ingress`): set up to process the device's packets, which deleting it detaches.
    public var tcPrograms: [Int: [String]] = [:]
    /// Why the tcx programs attached to the devices could not be asked for (nil: they were):
    /// then any tun/tap may have one, and none is proven unused.
    public var tcProgramsUnknown: String?
    /// Why the kernel's lists of sockets bound to devices could not be read, or a raw or ping
    /// socket's device could not be asked of its holder (nil: they were, and it could): then
    /// which device a socket uses is unknown, and no tun/tap is proven unused.
    public var socketsUnknown: String?
    /// Why the lists of rules that may match a device by its index or send packets to it could
    /// not be read (nil: they were), in words that name each list and the privilege it needs
    /// (the nftables ruleset and IPsec policies answer only CAP_NET_ADMIN): then any tun/tap may
    /// be the one a rule names, and none is proven unused.
    public var rulesUnknown: String?
    /// Why other network namespaces could not be looked in for links stacked on this one's
    /// devices (nil: every one was), in words that name them and what entering them needs
    /// (CAP_SYS_ADMIN, and setns(2) allowed): then a device there may sit on any tun/tap, and
    /// none is proven unused.
    public var stackingUnknown: String?

    public init(complete: Bool, incompleteReason: String? = nil, remedy: String? = nil, attachments: [HolderAttachment],
                processesScanned: Int, opaquePIDs: [Int32] = []) {
        self.complete = complete
        self.incompleteReason = incompleteReason
        self.remedy = remedy
        self.attachments = attachments
        self.processesScanned = processesScanned
        self.opaquePIDs = opaquePIDs
    }

    /// A scan that could not be made at all.
    public static func unavailable(_ reason: String) -> HolderScan {
        HolderScan(complete: false, incompleteReason: reason, attachments: [], processesScanned: 0)
    }
}

/// The kernel's lists of what sockets tie to the devices of one namespace, as the inventory and
/// the reaper's last look read them (see `HolderScan`'s fields of the same names).
public struct SocketLists: Sendable, Equatable {
    public var packet: [Int: Int]
    public var bound: [Int: Int]
    public var packetMemberships: [Int: Int]
    public var multicastGroups: [Int: [String]]
    public var addressSockets: [[UInt8]: Int]
    /// `HolderScan.rawSockets`.
    public var raw: [Int: [String]]
    /// `HolderScan.rawAddressSockets`.
    public var rawAddresses: [[UInt8]: [String]]
    /// `HolderScan.wildcardListeners`.
    public var wildcardListeners: WildcardListeners = [:]

    public init(packet: [Int: Int] = [:], bound: [Int: Int] = [:], packetMemberships: [Int: Int] = [:],
                multicastGroups: [Int: [String]] = [:], addressSockets: [[UInt8]: Int] = [:],
                raw: [Int: [String]] = [:], rawAddresses: [[UInt8]: [String]] = [:], wildcardListeners: WildcardListeners = [:]) {
        (self.packet, self.bound, self.packetMemberships) = (packet, bound, packetMemberships)
        (self.multicastGroups, self.addressSockets) = (multicastGroups, addressSockets)
        (self.raw, self.rawAddresses, self.wildcardListeners) = (raw, rawAddresses, wildcardListeners)
    }
}

extension HolderScan {
    /// Whether a socket list of this scan ties a socket to the device with this index (its own
    /// addresses' sockets aside, which `Heuristics.socketsOnOwnAddresses` finds): only then has
    /// `Heuristics.socketUse` something to say of it from the lists, which judging gathers for a
    /// tun only when this answers yes.
    public func socketsTie(_ index: Int) -> Bool {
        packetSockets[index] != nil || boundSockets[index] != nil || packetMemberships[index] != nil || multicastGroups[index] != nil
            || rawSockets[index] != nil
    }

    /// The socket lists this scan carries.
    public var socketLists: SocketLists {
        get { SocketLists(packet: packetSockets, bound: boundSockets, packetMemberships: packetMemberships,
                          multicastGroups: multicastGroups, addressSockets: addressSockets, raw: rawSockets, rawAddresses: rawAddressSockets,
                          wildcardListeners: wildcardListeners) }
        set {
            (packetSockets, boundSockets, packetMemberships) = (newValue.packet, newValue.bound, newValue.packetMemberships)
            (multicastGroups, addressSockets) = (newValue.multicastGroups, newValue.addressSockets)
            (rawSockets, rawAddressSockets, wildcardListeners) = (newValue.raw, newValue.rawAddresses, newValue.wildcardListeners)
        }
    }
}

/// The nftables base chains and flowtables hooked on devices, by name or by name prefix (the
/// kernel's bytes; `devices = { "tap*" }` on newer kernels), each in words (`chain netdev t c`):
/// a firewall or fast path set up for a device, which deleting it unhooks (older kernels release
/// such a chain, rules and all). The inventory reads them and the reaper's last look asks again;
/// both match a device the same way.
public struct NftablesHooks: Sendable, Equatable {
    public var byName: [[UInt8]: [String]]
    public var byPrefix: [[UInt8]: [String]]

    public init(byName: [[UInt8]: [String]] = [:], byPrefix: [[UInt8]: [String]] = [:]) {
        self.byName = byName
        self.byPrefix = byPrefix
    }

    /// What is hooked on the device named `name` (the kernel's bytes), by name or prefix.
    public func on(_ name: [UInt8]) -> [String] {
        (byName[name] ?? []) + byPrefix.filter { name.starts(with: $0.key) }.flatMap(\.value)
    }

    /// The same for a name as `InterfaceName` text; nothing to look up costs nothing.
    public func on(interface name: String) -> [String] {
        byName.isEmpty && byPrefix.isEmpty ? [] : on(InterfaceName.kernelBytes(name))
    }
}

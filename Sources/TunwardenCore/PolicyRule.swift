import Foundation

/// One policy routing rule of the inspected namespace (Linux `ip rule`): which packets it
/// matches and what it does with them. The dead-route judgement walks these in priority order, as
/// the kernel does for every route lookup, to tell which tables ordinary traffic reaches.
public struct PolicyRule: Sendable, Equatable {
    /// What a rule does with a packet it matches.
    public enum Action: Sendable, Equatable {
        /// Look the destination up in the table; with no usable answer the walk goes on.
        case lookup(RouteTable)
        /// Go on at the rule of this priority (`goto`).
        case goto(UInt32)
        /// Nothing: the walk goes on (`nop`).
        case nop
        /// End the lookup, dropping the packet silently, with "network unreachable" or with
        /// "prohibited" (a kill switch's rules).
        case blackhole, unreachable, prohibit
        /// An action the kernel may add later, judged as one that ends nothing.
        case other(UInt8)
    }

    public var family: AddressFamily
    public var priority: UInt32
    public var action: Action
    /// Whether the rule matches exactly the packets its selectors do not (`not …`).
    public var inverted = false
    /// The sources and destinations matched (`from`, `to`); nil matches every address.
    public var source: IPPrefix?
    public var destination: IPPrefix?
    /// The type of service (IPv4) or traffic class (IPv6) matched; 0 matches every packet.
    public var tos: UInt8 = 0
    /// The firewall mark matched: a packet matches when its mark, masked by `markMask`, equals
    /// `mark`; a mask of 0 matches every packet.
    public var mark: UInt32 = 0
    public var markMask: UInt32 = 0
    /// The device a packet must come in on (`iif`; `lo` for locally generated traffic) or be
    /// sent out through (`oif`, set by a socket bound to a device).
    public var inputInterface: String?
    public var outputInterface: String?
    /// The socket owners matched (`uidrange`); nil matches every one.
    public var uidRange: ClosedRange<UInt32>?
    /// The IP protocol matched (`ipproto`), and the source and destination ports (`sport`, `dport`).
    public var ipProtocol: UInt8?
    public var sourcePorts: ClosedRange<UInt16>?
    public var destinationPorts: ClosedRange<UInt16>?
    /// With a single port, the bits of a packet's port that must equal it (`dport 0x4/0xff`,
    /// Linux 6.16); nil matches the whole port.
    public var sourcePortMask: UInt16?
    public var destinationPortMask: UInt16?
    /// Whether the rule matches only traffic of VRF devices and looks up each one's own table (`l3mdev`).
    public var l3mdev = false
    /// A lookup's answer whose prefix is this long or shorter is refused and the walk goes on
    /// (`suppress_prefixlength 0` refuses a default route).
    public var suppressPrefixLength: Int?
    /// A lookup's answer through a device of this group is refused and the walk goes on.
    public var suppressInterfaceGroup: UInt32?
    /// The tunnel id a packet must carry (`tun_id`), which only packets a collect-metadata
    /// tunnel received carry: ordinary traffic has none, and fails it.
    public var tunnelID: UInt64?
    /// The routing realms the rule gives what it matches (`realms FROM/TO`, the source realm in
    /// the upper 16 bits): a classification, not a selector, so it narrows nothing.
    public var realms: UInt32?
    /// Whether the rule has a selector tunwarden does not name (a DSCP, a flow label, …): it
    /// matches only some traffic.
    public var otherSelectors = false
    /// Whether the rule is a goto whose target rule does not exist: the kernel passes it by.
    public var unresolved = false

    public init(family: AddressFamily, priority: UInt32, action: Action) {
        self.family = family
        self.priority = priority
        self.action = action
    }

    /// Whether the rule has any selector at all: without one it matches every packet (unless inverted).
    public var hasSelectors: Bool {
        selectorPhrases.isEmpty == false
    }

    /// Each selector as the packets it matches, for people: "traffic marked 0x5", "from
    /// 10.0.0.0/8", "coming in on eth0". Empty when the rule has none.
    public var selectorPhrases: [String] {
        var phrases: [String] = []
        if let source, source.length > 0 { phrases.append("from \(source)") }
        if let destination, destination.length > 0 { phrases.append("to \(destination)") }
        if tos != 0 { phrases.append("of tos 0x\(String(tos, radix: 16))") }
        if markMask != 0 {
            phrases.append("marked \(markWords)")
        }
        if let inputInterface { phrases.append(inputInterface == "lo" ? "generated on this host (iif lo)" : "coming in on \(inputInterface)") }
        if let outputInterface { phrases.append("sent out through \(outputInterface) (oif)") }
        if let uidRange { phrases.append("of uids \(uidRange.lowerBound)-\(uidRange.upperBound)") }
        if let ipProtocol { phrases.append("of IP protocol " + (Self.protocolNames[ipProtocol].map { "\($0) (\(ipProtocol))" } ?? "\(ipProtocol)")) }
        if let sourcePorts { phrases.append("from port\(sourcePorts.count == 1 && sourcePortMask == nil ? "" : "s") \(Self.ports(sourcePorts, sourcePortMask))") }
        if let destinationPorts {
            phrases.append("to port\(destinationPorts.count == 1 && destinationPortMask == nil ? "" : "s") \(Self.ports(destinationPorts, destinationPortMask))")
        }
        if l3mdev { phrases.append("of VRF devices (l3mdev)") }
        if let tunnelID { phrases.append("of tunnel id \(tunnelID) (tun_id, set only on what a collect-metadata tunnel received)") }
        if otherSelectors { phrases.append("its other selectors match") }
        return phrases
    }

    /// The mark and its mask as `ip rule` writes them (`%#x`: `0x5`, but `0` for zero), the mask
    /// left out when it is all ones: `0x5`, `0/0xffff`, `0xca6c`.
    private var markWords: String {
        func hex(_ value: UInt32) -> String { value == 0 ? "0" : "0x" + String(value, radix: 16) }
        return hex(mark) + (markMask == UInt32.max ? "" : "/" + hex(markMask))
    }

    /// The names `ip rule` gives IP protocols (iproute2's `inet_proto_n2a`, from
    /// `getprotobynumber`, that is /etc/protocols), as the netbase list every distribution ships
    /// has them; `ip` writes a number it finds no name for as `ipproto-N`. A fixed table, not
    /// the host's file: the core reads no files, and the text is then the same on every host, in
    /// a capture judged elsewhere too; a host with its own names there would see those in `ip rule`.
    static let protocolNames: [UInt8: String] = [
        0: "ip", 1: "icmp", 2: "igmp", 3: "ggp", 4: "ipencap", 5: "st", 6: "tcp", 8: "egp", 9: "igp", 12: "pup", 17: "udp",
        20: "hmp", 22: "xns-idp", 27: "rdp", 29: "iso-tp4", 33: "dccp", 36: "xtp", 37: "ddp", 38: "idpr-cmtp", 41: "ipv6",
        43: "ipv6-route", 44: "ipv6-frag", 45: "idrp", 46: "rsvp", 47: "gre", 50: "esp", 51: "ah", 57: "skip", 58: "ipv6-icmp",
        59: "ipv6-nonxt", 60: "ipv6-opts", 73: "rspf", 81: "vmtp", 88: "eigrp", 89: "ospf", 93: "ax.25", 94: "ipip", 97: "etherip",
        98: "encap", 103: "pim", 108: "ipcomp", 112: "vrrp", 115: "l2tp", 124: "isis", 132: "sctp", 133: "fc", 135: "mobility-header",
        136: "udplite", 137: "mpls-in-ip", 138: "manet", 139: "hip", 140: "shim6", 141: "wesp", 142: "rohc", 143: "ethernet",
    ]

    /// A port range as `ip rule` writes it: `443`, `5000-5001`, and a port under a mask in
    /// hexadecimal (`%#x`, `0` for zero): `0x4/0xff`.
    private static func ports(_ range: ClosedRange<UInt16>, _ mask: UInt16? = nil) -> String {
        func hex(_ value: UInt16) -> String { value == 0 ? "0" : "0x" + String(value, radix: 16) }
        if let mask { return hex(range.lowerBound) + "/" + hex(mask) }
        return range.count == 1 ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)"
    }

    /// The rule as `ip rule` prints it, without its priority: "not fwmark 0xca6c lookup 51820",
    /// "from all lookup main suppress_prefixlength 0".
    public var words: String {
        var words: [String] = []
        if let source, source.length > 0 { words.append("from \(source)") }
        if let destination, destination.length > 0 { words.append("to \(destination)") }
        if tos != 0 { words.append("tos 0x\(String(tos, radix: 16))") }
        // (A mask of 0 with a mark matches every packet, but `ip rule` still shows it.)
        if markMask != 0 || mark != 0 { words.append("fwmark \(markWords)") }
        if let inputInterface { words.append("iif \(inputInterface)") }
        if let outputInterface { words.append("oif \(outputInterface)") }
        if let uidRange { words.append("uidrange \(uidRange.lowerBound)-\(uidRange.upperBound)") }
        if let ipProtocol { words.append("ipproto " + (Self.protocolNames[ipProtocol] ?? "ipproto-\(ipProtocol)")) }
        if let sourcePorts { words.append("sport \(Self.ports(sourcePorts, sourcePortMask))") }
        if let destinationPorts { words.append("dport \(Self.ports(destinationPorts, destinationPortMask))") }
        if let tunnelID { words.append("tun_id \(tunnelID)") }
        // (A rule without selectors reads `from all`, as `ip rule` writes it.)
        if words.isEmpty { words.append("from all") }
        if inverted { words.insert("not", at: 0) }
        if l3mdev { words.append("lookup [l3mdev-table]") }
        switch action {
        case let .lookup(table): if !l3mdev { words.append("lookup \(table)") }
        case let .goto(target): words.append("goto \(target)")
        case .nop: words.append("nop")
        case .blackhole: words.append("blackhole")
        case .unreachable: words.append("unreachable")
        case .prohibit: words.append("prohibit")
        case let .other(number): words.append("action \(number)")
        }
        if let suppressPrefixLength { words.append("suppress_prefixlength \(suppressPrefixLength)") }
        if let suppressInterfaceGroup { words.append("suppress_ifgroup \(suppressInterfaceGroup)") }
        // (`ip rule` writes the realms after the action, the source realm only when not 0.)
        if let realms { words.append("realms " + (realms >> 16 == 0 ? "" : "\(realms >> 16)/") + "\(realms & 0xffff)") }
        return words.joined(separator: " ")
    }

    /// The kernel's own rules of a namespace it made: `0: lookup local`, `32766: lookup main`,
    /// and for IPv4 `32767: lookup default`.
    public static func kernelDefaults(_ family: AddressFamily) -> [PolicyRule] {
        [PolicyRule(family: family, priority: 0, action: .lookup(.local)), PolicyRule(family: family, priority: 32766, action: .lookup(.main))]
            + (family == .inet ? [PolicyRule(family: family, priority: 32767, action: .lookup(.default))] : [])
    }
}

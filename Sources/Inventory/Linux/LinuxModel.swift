#if os(Linux)
import Foundation
import Glibc
import Netlink
import TunwardenCore

/// Turning rtnetlink messages into the model: links, addresses and routes, with iproute2's names
/// for flags and states.
extension LinuxInventory {
    static let afInet: UInt8 = 2
    static let afInet6: UInt8 = 10

    /// The model of one link, without its addresses; nil for a link without a name. `flagNames`
    /// holds the flag names of the links before it in the same dump.
    static func interface(_ link: LinkMessage, flagNames: inout FlagNames) -> NetworkInterface? {
        guard let nameBytes = link.name else { return nil }
        let name = InterfaceName.text(nameBytes)
        let kind = InterfaceKind.linux(infoKind: link.kind, tunType: link.tun?.type, hardwareType: link.hardwareType)
        var tun: TunDetails?
        if let info = link.tun {
            tun = TunDetails(persistent: info.persist, multiQueue: info.multiQueue, packetInfo: info.packetInfo,
                             vnetHeader: info.vnetHeader, owner: info.owner, group: info.group,
                             numQueues: info.numQueues, numDisabledQueues: info.numDisabledQueues)
            tun?.carrierUpCount = link.carrierUpCount
        }
        var interface = NetworkInterface(
            index: Int(link.index), name: name, kind: kind, infoKind: link.kind, flags: flagNames.names(link.flags),
            operstate: link.operstate.map(operstateName), carrier: link.carrier, mtu: link.mtu.map(Int.init),
            // A vxlan names the device it is bound to in its own data, not in IFLA_LINK; either way
            // it is the device underneath, which the kernel deletes it with.
            group: link.group, master: link.master.map(Int.init), link: (link.link ?? link.vxlanLink.map(Int32.init(bitPattern:))).map(Int.init),
            linkNetnsID: link.linkNetnsID, hardwareAddress: link.hardwareAddress.flatMap { addressText($0, type: link.hardwareType) }, tun: tun,
            stats: link.stats.map { TrafficCounters(rxPackets: $0.rxPackets, txPackets: $0.txPackets, rxBytes: $0.rxBytes, txBytes: $0.txBytes) },
            txQueueLength: link.txQueueLength, alias: link.alias.flatMap { $0.isEmpty ? nil : InterfaceName.text($0) }
        )
        interface.linkFromKindData = link.link == nil && link.vxlanLink != nil
        if let program = link.xdpProgramID { interface.xdpProgram = program }
        if !link.altNames.isEmpty { interface.altNames = link.altNames.map(InterfaceName.text) }
        if let local = link.tunnelLocal.flatMap({ IPAddress(bytes: $0) }) { interface.tunnelLocal = local }
        // A tun or tap whose link type a program changed (TUNSETLINK), which no `ip` command sets.
        if (kind == .tun && link.hardwareType != LinkType.none) || (kind == .tap && link.hardwareType != LinkType.ether) {
            interface.linkType = link.hardwareType
        }
        if flagNames.readsSysctls { interface.deviceSysctls = flagNames.sysctls(ipv4: link.ipv4Configuration, ipv6: link.ipv6Configuration) }
        var settings = LinkSettings()
        settings.linkMode = link.linkMode
        settings.ipv6AddressGeneration = link.ipv6AddressGenerationMode
        settings.gsoMaxSize = link.gsoMaxSize
        settings.gsoMaxSegments = link.gsoMaxSegments
        settings.groMaxSize = link.groMaxSize
        settings.gsoIPv4MaxSize = link.gsoIPv4MaxSize
        settings.groIPv4MaxSize = link.groIPv4MaxSize
        settings.broadcast = link.broadcast.flatMap { addressText($0, type: link.hardwareType) }
        settings.ipv6Token = link.ipv6Token.flatMap { $0.allSatisfy { $0 == 0 } ? nil : IPAddress(bytes: $0) }
        settings.ipv6Disabled = link.ipv6Disabled
        // Settings a new device starts with give nothing back; most devices have only those.
        if !settings.isNewDeviceDefault { interface.linkSettings = settings }
        return interface
    }

    /// The model addresses of each interface index, in the kernel's order.
    static func addressesByIndex(_ messages: [AddressMessage]) -> [Int: [InterfaceAddress]] {
        var result: [Int: [InterfaceAddress]] = [:]
        for message in messages {
            if let address = address(message) { result[Int(message.index), default: []].append(address) }
        }
        return result
    }

    static func address(_ message: AddressMessage) -> InterfaceAddress? {
        guard message.family == afInet || message.family == afInet6 else { return nil }
        guard let localBytes = message.local ?? message.address, let local = IPAddress(bytes: localBytes) else { return nil }
        var peer: IPAddress?
        if message.local != nil, let other = message.address, other != localBytes { peer = IPAddress(bytes: other) }
        let lifetime: (UInt32?) -> UInt32? = { $0 == AddressMessage.infiniteLifetime ? nil : $0 }
        var address = InterfaceAddress(local: local, prefixLength: Int(message.prefixLength), peer: peer, scope: RouteScope(kernel: UInt32(message.scope)).name,
                                       broadcast: message.broadcast.flatMap { IPAddress(bytes: $0) }, label: message.label.map(InterfaceName.text),
                                       flags: addressFlagNames(message.flags, family: message.family),
                                       validLifetime: lifetime(message.validLifetime), preferredLifetime: lifetime(message.preferredLifetime),
                                       metric: message.routePriority.flatMap { $0 == 0 ? nil : $0 })
        address.addressProtocol = message.addressProtocol
        return address
    }

    /// IFA_F_PERMANENT: an address without lifetimes.
    static let permanentFlag: UInt32 = 0x80

    /// IFA_F_* flags in iproute2's order and names (ip/ipaddress.c); IFA_F_SECONDARY is
    /// `temporary` on an IPv6 address, and IFA_F_PERMANENT is written as its absence, `dynamic`.
    static let addressFlagTable: [(UInt32, String)] = [
        (0x01, "secondary"), (0x02, "nodad"), (0x04, "optimistic"), (0x08, "dadfailed"), (0x10, "home"), (0x20, "deprecated"),
        (0x40, "tentative"), (0x80, "permanent"), (0x100, "mngtmpaddr"), (0x200, "noprefixroute"), (0x400, "autojoin"),
        (0x800, "stable-privacy"),
    ]

    static func addressFlagNames(_ flags: UInt32, family: UInt8) -> [String] {
        var names: [String] = []
        var known: UInt32 = 0
        for (bit, name) in addressFlagTable {
            known |= bit
            // As ip prints them: IFA_F_PERMANENT turned around, an address without it `dynamic`
            // (it has lifetimes), one with it nothing.
            if bit == permanentFlag {
                if flags & bit == 0 { names.append("dynamic") }
                continue
            }
            guard flags & bit != 0 else { continue }
            names.append(bit == 0x01 && family == afInet6 ? "temporary" : name)
        }
        if flags & ~known != 0 { names.append("0x" + String(flags & ~known, radix: 16)) }
        return names
    }

    /// RTNH_F_ONLINK.
    static let onlinkFlag: UInt32 = 0x4

    /// Whether a route names a nexthop object and nothing else of where it goes, as routes are
    /// dumped while `net.ipv4.nexthop_compat_mode` is 0: only the objects (`nexthopTable`) say.
    static func needsNexthopObject(_ message: RouteMessage) -> Bool {
        message.nexthopID != nil && message.outputInterface == nil && message.gateway == nil && message.nextHops.isEmpty
    }

    /// The next hops of each nexthop object, by id: a device and gateway object's one, a group's
    /// those of its members with the members' weights, a blackhole's none. An id a group names
    /// that is not among `objects` adds nothing.
    static func nexthopTable(_ objects: [NexthopMessage]) -> [UInt32: [NextHop]] {
        var single: [UInt32: NextHop] = [:]
        for object in objects where !object.blackhole && object.members.isEmpty && (object.outputInterface != nil || object.gateway != nil) {
            single[object.id] = NextHop(gateway: object.gateway.flatMap { IPAddress(bytes: $0) }, interfaceIndex: object.outputInterface.map(Int.init),
                                        onlink: false)
        }
        var table = single.mapValues { [$0] }
        // (The kernel takes no group as a member of another.)
        for object in objects where !object.members.isEmpty {
            table[object.id] = object.members.compactMap { member in
                single[member.id].map { hop in
                    var hop = hop
                    hop.weight = member.weight
                    return hop
                }
            }
        }
        return table
    }

    /// The model route of a route message, its next hops not yet named (the engine, or a
    /// `StreamedSnapshot`, names them from the links). A route that names only a nexthop object
    /// takes that object's next hops from `nexthops` (see `nexthopTable`).
    static func route(_ message: RouteMessage, nexthops: [UInt32: [NextHop]] = [:]) -> Route? {
        // Cloned (cache) entries are not configuration.
        if message.flags & RouteMessage.cloned != 0 { return nil }
        let width = message.family == afInet ? 4 : 16
        let destinationBytes = message.destination ?? [UInt8](repeating: 0, count: width)
        guard let address = IPAddress(bytes: destinationBytes),
              let destination = IPPrefix(address: address, length: Int(message.destinationLength)) else { return nil }
        var hops: [NextHop] = []
        if needsNexthopObject(message), let id = message.nexthopID {
            hops = nexthops[id] ?? []
        } else if message.nextHops.isEmpty {
            if message.outputInterface != nil || message.gateway != nil {
                let index = message.outputInterface.map(Int.init)
                var hop = NextHop(gateway: message.gateway.flatMap { IPAddress(bytes: $0) }, interfaceIndex: index,
                                  onlink: message.flags & onlinkFlag != 0)
                hop.skippedByKernel = message.flags & RouteMessage.deadNextHop != 0
                hops.append(hop)
            }
        } else {
            hops = message.nextHops.map { hop in
                var next = NextHop(gateway: hop.gateway.flatMap { IPAddress(bytes: $0) }, interfaceIndex: Int(hop.interfaceIndex),
                                   onlink: UInt32(hop.flags) & onlinkFlag != 0, weight: Int(hop.hops) + 1)
                next.realms = hop.realms
                next.skippedByKernel = UInt32(hop.flags) & RouteMessage.deadNextHop != 0
                next.linkDown = UInt32(hop.flags) & RouteMessage.linkDownNextHop != 0
                next.encapsulation = hop.encapsulation.map(encapsulation)
                return next
            }
        }
        var route = Route(destination: destination, type: RouteType(kernel: UInt32(message.type)), table: RouteTable(kernel: message.table),
                          metric: message.priority, routeProtocol: RouteProtocol(kernel: UInt32(message.protocolID)), scope: RouteScope(kernel: UInt32(message.scope)),
                          nextHops: hops, nexthopObject: message.nexthopID)
        route.preferredSource = message.preferredSource.flatMap { IPAddress(bytes: $0) }
        route.kernelMetrics = message.metrics
        route.congestionControl = message.congestionControl
        route.tos = message.tos
        if message.sourceLength > 0, let bytes = message.source, let address = IPAddress(bytes: bytes) {
            route.source = IPPrefix(address: address, length: Int(message.sourceLength))
        }
        route.realms = message.realms
        route.encapsulation = message.encapsulation.map(encapsulation)
        route.preference = message.preference
        // (An IPv4 route that expires is a cached exception, not configuration.)
        if message.family == afInet6 { route.expiry = message.expiresIn.map { RouteExpiry(seconds: $0) } }
        return route
    }

    /// The model of a lightweight tunnel encapsulation.
    static func encapsulation(_ message: RouteMessage.Encapsulation) -> RouteEncapsulation {
        var encapsulation = RouteEncapsulation(type: message.type)
        encapsulation.id = message.id ?? 0
        encapsulation.destination = message.destination.flatMap { IPAddress(bytes: $0) }
        encapsulation.source = message.source.flatMap { IPAddress(bytes: $0) }
        encapsulation.ttl = message.ttl ?? 0
        encapsulation.tos = message.tos ?? 0
        encapsulation.flags = message.flags ?? 0
        encapsulation.hasOptions = message.hasOptions
        return encapsulation
    }

    /// iproute2's order and names; RUNNING is left out as `ip link` leaves it out.
    static let flagTable: [(UInt32, String)] = [
        (0x8, "LOOPBACK"), (0x2, "BROADCAST"), (0x10, "POINTOPOINT"), (0x1000, "MULTICAST"), (0x80, "NOARP"),
        (0x200, "ALLMULTI"), (0x100, "PROMISC"), (0x400, "MASTER"), (0x800, "SLAVE"), (0x4, "DEBUG"),
        (0x8000, "DYNAMIC"), (0x4000, "AUTOMEDIA"), (0x2000, "PORTSEL"), (0x20, "NOTRAILERS"), (0x1, "UP"),
        (0x10000, "LOWER_UP"), (0x20000, "DORMANT"), (0x40000, "ECHO"),
    ]

    /// The names `ip link` prints for IFF_* flags, in its order: `NO-CARRIER` first for a device
    /// that is up but not running (IFF_RUNNING itself is not printed). (`M-DOWN`, which ip adds
    /// when the device IFLA_LINK names is down, depends on another link: the report adds it.)
    static func flagNames(_ flags: UInt32) -> [String] {
        var names: [String] = []
        names.reserveCapacity(flags.nonzeroBitCount + 1)
        if flags & 0x1 != 0, flags & runningFlag == 0 { names.append("NO-CARRIER") }
        for (bit, name) in flagTable where flags & bit != 0 { names.append(name) }
        return names
    }

    /// IFF_RUNNING.
    static let runningFlag: UInt32 = 0x40

    static let operstateNames = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"]

    static func operstateName(_ value: UInt8) -> String {
        operstateNames[safe: Int(value)] ?? "\(value)"
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A link-layer address as iproute2 writes it for the link type (lib/ll_addr.c,
    /// `ll_addr_n2a`): an IPv4 address for the 4-byte addresses of ARPHRD_TUNNEL, ARPHRD_SIT and
    /// ARPHRD_IPGRE (`0.0.0.0`), an IPv6 address for the 16-byte ones of ARPHRD_TUNNEL6 and
    /// ARPHRD_IP6GRE, and `macText` for every other.
    public static func addressText(_ bytes: [UInt8], type: UInt16) -> String? {
        if (bytes.count == 4 && [768, 776, 778].contains(type)) || (bytes.count == 16 && [769, 823].contains(type)) {
            return IPAddress(bytes: bytes)?.description
        }
        return macText(bytes)
    }

    /// A hardware address as iproute2 writes it: two lowercase hex digits per byte, joined by
    /// colons (`aa:bb:cc:00:11:22`); nil for none. Put together as bytes: a host of ten thousand
    /// veth devices decodes ten thousand of them per audit.
    public static func macText(_ bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty else { return nil }
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 3)
        for byte in bytes {
            if !text.isEmpty { text.append(UInt8(ascii: ":")) }
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0xf)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
#endif

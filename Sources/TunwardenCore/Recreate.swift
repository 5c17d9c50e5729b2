/// The `ip` commands that would make a deleted device again as it was: the journal records them
/// with every removal, so an operator can undo a reap by hand with `sh`.
///
/// They give back what `ip` can set: the tun/tap device with its owner, group and features, its
/// MTU, transmit queue length, link group, MAC address (tap), the flags `ip link set` changes
/// (`arp`, `multicast`, `allmulticast`, `promisc`, `dynamic`, `trailers`) where they differ from
/// a new device's, its alias and alternative names, the bridge or bond it was a port of, whether it was up, its
/// addresses (peer, broadcast, label, scope, metric, lifetimes left, and the flags `ip addr add`
/// sets), the neighbour entries made by hand and the routes that do not come back with the
/// addresses. Names, labels and the alias are written as `ShellWord`s, which give back the
/// kernel's exact bytes.
public enum RecreateCommands {
    /// A neighbour entry a person made on a device (`ip neigh add … nud permanent`, `nud noarp`,
    /// `ip neigh add proxy …`): the kernel never makes it again by itself.
    public struct Neighbour: Equatable, Sendable, Decodable, JSONRecord {
        public enum Kind: String, Sendable, Decodable { case permanent, noarp, proxy }
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

        /// `{"dst": …, "lladdr": …, "state": "permanent" | "noarp" | "proxy", "router": true,
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
        let ip = namespace.map { "ip -n \(ShellWord.quote(Array($0.utf8)))" } ?? "ip"
        let name = ShellWord.quote(InterfaceName.kernelBytes(interface.name))
        var commands: [String] = []
        if let unnamedNamespace { commands.append(unnamedNamespaceNote(unnamedNamespace)) }
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
            return commands + ["# \(interface.kind.rawValue) \(interface.name): not recreated automatically"]
        }
        let link = "\(ip) link set dev \(name)"
        if let mtu = interface.mtu { commands.append("\(link) mtu \(mtu)") }
        if let length = interface.txQueueLength { commands.append("\(link) txqueuelen \(length)") }
        if let group = interface.group, group != 0 { commands.append("\(link) group \(group)") }
        if interface.kind == .tap, let mac = interface.hardwareAddress { commands.append("\(link) address \(mac)") }
        let flagChanges = flagSettings(interface)
        if !flagChanges.isEmpty { commands.append("\(link) \(flagChanges.joined(separator: " "))") }
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
        if interface.isUp { commands.append("\(link) up") }
        // The kernel lists IPv4 addresses oldest first and IPv6 addresses (within a scope) newest
        // first: adding the IPv6 ones in reverse gives back both lists in the same order.
        let addresses = interface.addresses.filter { !($0.isLinkLocal && $0.family == .inet6) }
        for address in addresses.filter({ $0.family == .inet }) + addresses.filter({ $0.family == .inet6 }).reversed() {
            commands.append(addCommand(address, ip: ip, name: name, interface: interface))
        }
        for neighbour in neighbours {
            var add = "\(ip) neigh add "
            if neighbour.kind == .proxy {
                add += "proxy \(neighbour.address)"
            } else {
                add += "\(neighbour.address)"
                if let link = neighbour.linkLayerAddress { add += " lladdr \(link)" }
                add += " nud \(neighbour.kind.rawValue)"
            }
            if neighbour.router { add += " router" }
            if neighbour.externLearned { add += " extern_learn" }
            if let protocolID = neighbour.protocolID { add += " protocol \(protocolID)" }
            commands.append(add + " dev \(name)")
        }
        // Routes the kernel makes by itself (for addresses, link-local, the local table) come back
        // with them. The others go in an order in which each gateway is reachable when its route
        // is added.
        let made = routes.filter { $0.routeProtocol != .kernel && $0.nexthopObject == nil }
        // A second route of the same prefix, sources, type of service, table and metric was appended.
        var keys: Set<String> = []
        for route in orderedByGateway(made, of: interface) {
            let key = "\(route.destination) \(route.source.map(\.description) ?? "") \(route.tos) \(route.table) \(route.metric ?? 0)"
            let verb = keys.insert(key).inserted ? "add" : "append"
            var add = "\(ip) route \(verb) " + (route.type == .unicast ? "" : "\(route.type.name) ") + "\(route.destination)"
            if let source = route.source { add += " from \(source)" }
            let multipath = route.nextHops.count > 1
            if !multipath {
                if let gateway = route.nextHops.first?.gateway { add += " via " + Self.gatewayWords(gateway, of: route) }
                add += " dev \(name)"
                if route.nextHops.first?.onlink == true { add += " onlink" }
            }
            if route.table != .main { add += " table \(route.table)" }
            if let metric = route.metric, metric != 0 { add += " metric \(metric)" }
            if let proto = route.routeProtocol, proto != .boot { add += " proto \(proto)" }
            if let scope = route.scope, scope != .global { add += " scope \(scope)" }
            if route.tos != 0 { add += " tos 0x" + String(route.tos, radix: 16) }
            if let realms = route.realms, realms != 0 {
                add += realms >> 16 == 0 ? " realm \(realms & 0xFFFF)" : " realms \(realms >> 16)/\(realms & 0xFFFF)"
            }
            if let preference = route.preference, let word = Self.preferenceWords[preference] { add += " pref \(word)" }
            // It comes back with the time it had left when it was read: `ip` takes `expires` for IPv6 only.
            if route.family == .inet6, let expiry = route.expiry { add += " expires \(expiry.seconds)" }
            if let source = route.preferredSource { add += " src \(source)" }
            add += metricWords(route).map { " " + $0 }.joined()
            if multipath {
                for hop in route.nextHops {
                    add += " nexthop"
                    if let gateway = hop.gateway { add += " via " + Self.gatewayWords(gateway, of: route) }
                    let device = hop.interfaceIndex == interface.index ? name : hop.interfaceName.map { ShellWord.quote(InterfaceName.kernelBytes($0)) }
                    if let device { add += " dev \(device)" }
                    if let weight = hop.weight, weight != 1 { add += " weight \(weight)" }
                    if hop.onlink { add += " onlink" }
                }
            }
            commands.append(add)
        }
        return commands
    }

    /// A gateway as `ip route add … via` takes it: an IPv6 gateway of an IPv4 route (RTA_VIA) is
    /// `inet6 ADDRESS`, which `ip` needs to be told (it refuses the address alone).
    static func gatewayWords(_ gateway: IPAddress, of route: Route) -> String {
        gateway.family == route.family ? "\(gateway)" : "\(gateway.family.rawValue) \(gateway)"
    }

    /// `ip route`'s words for an IPv6 route's preference (RTA_PREF).
    static let preferenceWords: [UInt8: String] = [0: "medium", 1: "high", 3: "low"]

    /// `routes` in an order `ip route add` accepts them in: a route whose gateway lies in none of
    /// the device's subnets comes after the route that reaches it (`10.50.0.0/16 via 10.99.0.7`
    /// after `10.99.0.0/24`). Routes without a gateway, `onlink` ones, and whatever no order
    /// helps keep their place among themselves.
    static func orderedByGateway(_ routes: [Route], of interface: NetworkInterface) -> [Route] {
        var reachable = interface.addresses.compactMap { IPPrefix(address: $0.local, length: $0.prefixLength) }
            + interface.addresses.compactMap { $0.peer.flatMap { IPPrefix(address: $0, length: $0.family.bits) } }
        func ready(_ route: Route) -> Bool {
            route.nextHops.allSatisfy { hop in
                guard let gateway = hop.gateway, !hop.onlink else { return true }
                let host = IPPrefix(address: gateway, length: gateway.family.bits)!
                return reachable.contains { $0.contains(host) }
            }
        }
        var placed: [Route] = [], waiting = routes
        while true {
            let (next, rest) = (waiting.filter(ready), waiting.filter { !ready($0) })
            guard !next.isEmpty else { break }
            placed += next
            reachable += next.map(\.destination)
            waiting = rest
        }
        return placed + waiting
    }

    /// `ip route`'s word for each RTAX_* metric it can set, and how the kernel's value is written
    /// back: rtt and rttvar are kept in eighths and quarters of a millisecond, rto_min in
    /// milliseconds, `features` as a mask whose one settable bit is ECN.
    static let metricKeywords: [(number: UInt16, keyword: String, text: @Sendable (UInt32) -> String?)] = [
        (2, "mtu", { "\($0)" }), (3, "window", { "\($0)" }), (4, "rtt", { "\($0 / 8)ms" }), (5, "rttvar", { "\($0 / 4)ms" }),
        (6, "ssthresh", { "\($0)" }), (7, "cwnd", { "\($0)" }), (8, "advmss", { "\($0)" }), (9, "reordering", { "\($0)" }),
        (10, "hoplimit", { "\($0)" }), (11, "initcwnd", { "\($0)" }), (12, "features", { $0 & 1 != 0 ? "ecn" : nil }),
        (13, "rto_min", { "\($0)ms" }), (14, "initrwnd", { "\($0)" }), (15, "quickack", { "\($0)" }),
        (17, "fastopen_no_cookie", { "\($0)" }),
    ]

    /// `mtu lock 1300 advmss 1200 congctl bbr`: the route's metrics as `ip route add` takes them.
    static func metricWords(_ route: Route) -> [String] {
        let locked = route.kernelMetrics[1] ?? 0
        var words: [String] = []
        for entry in metricKeywords {
            guard let value = route.kernelMetrics[entry.number], let text = entry.text(value) else { continue }
            // ip sets the lock of rto_min itself, and takes no `lock` word for it.
            let lock = locked & (1 << UInt32(entry.number)) != 0 && entry.keyword != "rto_min"
            words.append(entry.keyword + (lock ? " lock " : " ") + text)
        }
        // RTAX_CC_ALGO (16) is locked in the mask too (`congctl lock cubic`).
        if let algorithm = route.congestionControl {
            words.append("congctl " + (locked & (1 << 16) != 0 ? "lock " : "") + ShellWord.quote(Array(algorithm.utf8)))
        }
        return words
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

    /// The address flags `ip addr add` sets, in the order `ip addr` prints them; the others
    /// (`permanent`, `tentative`, `secondary`, …) are the kernel's own bookkeeping.
    static let settableAddressFlags = ["nodad", "home", "mngtmpaddr", "noprefixroute", "autojoin"]

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

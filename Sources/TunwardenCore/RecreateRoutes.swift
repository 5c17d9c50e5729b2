/// The routes of the recreate commands, and the order the commands of one run's devices go in.
extension RecreateCommands {
    /// One device of a reap run, as `commands(forRun:namespace:unnamedNamespace:)` takes it: the
    /// device, every route through it, the neighbour entries made on it by hand, and the keys
    /// (`routeKey`) its routes share with other devices' routes (`ReapItem.sharedRouteKeys`).
    public struct RunDevice: Sendable {
        public var interface: NetworkInterface
        public var routes: [Route]
        public var neighbours: [Neighbour]
        public var sharedRouteKeys: [String: SharedRouteKey]

        public init(_ interface: NetworkInterface, routes: [Route], neighbours: [Neighbour] = [], sharedRouteKeys: [String: SharedRouteKey] = [:]) {
            self.interface = interface
            self.routes = routes
            self.neighbours = neighbours
            self.sharedRouteKeys = sharedRouteKeys
        }
    }

    /// What tells a route apart from the others of its table, for `ip route add`: its prefix,
    /// source prefix, type of service, table and metric. The kernel refuses (File exists) to add
    /// a route of a key that is taken, but appends or prepends one beside it when told to.
    public static func routeKey(_ route: Route) -> String {
        "\(route.destination) \(route.source.map(\.description) ?? "") \(route.tos) \(route.table) \(route.metric ?? 0)"
    }

    /// The commands of each device of one run, in the run's order, written to work when they are
    /// replayed in that order. The kernel's routes for a device's addresses that were not there
    /// are deleted after its routes, but where a route to add takes one's place, before it. A route whose preferred source (`src`) is an address of a device
    /// later in the run cannot be added before that device has it: it goes among that device's
    /// commands, after its addresses, and a comment line where it would have been says so and
    /// gives the command.
    public static func commands(forRun devices: [RunDevice], namespace: String?, unnamedNamespace: String?) -> [[String]] {
        var place = RecreatePlace(namespace: namespace)
        place.unnamedIdentity = unnamedNamespace
        return commands(forRun: devices, place: place)
    }

    /// The same, for the namespace `place` gives (`ip -n` with its name's exact bytes, and the
    /// comment line it calls for).
    public static func commands(forRun devices: [RunDevice], place: RecreatePlace) -> [[String]] {
        let ip = place.ipWord
        var postponed: [[String]] = Array(repeating: [], count: devices.count)
        var result: [[String]] = []
        for (position, device) in devices.enumerated() {
            var (commands, made) = deviceCommands(for: device.interface, ip: ip, note: place.note, neighbours: device.neighbours,
                                                sysctlDefaults: place.sysctlDefaults, kernelMarks: place.kernelMarksAddresses)
            guard made else {
                result.append(commands)
                continue
            }
            let name = ShellWord.quote(InterfaceName.kernelBytes(device.interface.name))
            let toMake = routesToMake(device.routes, of: device.interface)
            let deletions = kernelRouteDeletions(device.interface, routes: device.routes, adding: toMake, ip: ip, name: name,
                                                 kernelMarks: place.kernelMarksAddresses)
            commands += deletions.first
            // The kernel's routes that come back take their keys: a route of the same key is appended.
            var keys = Set(device.routes.filter { $0.routeProtocol == .kernel && kernelMade($0, of: device.interface) }.map(routeKey))
            var waiting: [(route: Route, owner: Int, placement: Placement?)] = []
            let ordered = orderedForAdding(toMake, of: device.interface, displaced: deletions.displaced)
            for (route, placement) in placed(ordered, listed: device.routes, shared: device.sharedRouteKeys, device: device.interface) {
                if let owner = laterSourceOwner(route, at: position, among: devices) {
                    waiting.append((route, owner, placement))
                } else {
                    commands += routeLines(route, of: device.interface, ip: ip, keys: &keys, placement: placement)
                }
            }
            for (route, owner, placement) in waiting {
                let lines = routeLines(route, of: device.interface, ip: ip, keys: &keys, placement: placement)
                postponed[owner] += lines
                commands.append("# its source \(route.preferredSource!) is an address of \(devices[owner].interface.name), made again further on, "
                    + "so this route is added with that device's commands: \(lines.last!)")
            }
            result.append(commands + postponed[position] + deletions.last)
        }
        return result
    }

    /// The position of the device after `position` in `devices` that has the address `route`
    /// prefers as its source, when the route's own device does not; nil when there is none.
    static func laterSourceOwner(_ route: Route, at position: Int, among devices: [RunDevice]) -> Int? {
        guard let source = route.preferredSource, !devices[position].interface.hasAddress(source.bytes) else { return nil }
        return devices.indices.last { other in
            other > position && [.tun, .tap].contains(devices[other].interface.kind) && devices[other].interface.hasAddress(source.bytes)
        }
    }

    /// The routes among `routes` that the commands add: all but those through a nexthop object
    /// and those the kernel makes again by itself, exactly as they are, with the device's
    /// addresses and link-local prefix (`kernelMade`). A `proto kernel` route no address makes
    /// exactly (or one changed by hand since) is kept, whatever its type and table.
    static func routesToMake(_ routes: [Route], of interface: NetworkInterface) -> [Route] {
        routes.filter { route in
            route.nexthopObject == nil && (route.routeProtocol != .kernel || !kernelMade(route, of: interface))
        }
    }

    /// The lines that add `route` through `interface`: the command, after a comment line for
    /// each part of it the command cannot give back (an encapsulation ip has no words for).
    /// `keys` holds the routes added before it, so that a second route of the same prefix,
    /// sources, type of service, table and metric is appended. A route another device's route
    /// shares the key of is added beside it as `placement` (see `placed`) says, after its comment
    /// lines: with `ip route prepend` (IPv4) or `ip route append`; `ip route add` would fail with
    /// File exists wherever that route still is. An IPv6
    /// multipath route is appended with this device's hops alone: IPv6 merges them into a route
    /// that exists, which another device (live, or reaped in the same run) may still hold.
    static func routeLines(_ route: Route, of interface: NetworkInterface, ip: String, keys: inout Set<String>,
                           placement: Placement? = nil) -> [String] {
        let name = ShellWord.quote(InterfaceName.kernelBytes(interface.name))
        var comments = placement?.notes ?? []
        func note(_ encapsulation: RouteEncapsulation?, _ place: String) {
            if let unwritten = encapsulation?.unwritten {
                comments.append("# \(route.destination)\(place) had \(unwritten), which is not recreated: the route below goes without it")
            }
        }
        let ipv6Multipath = route.family == .inet6 && route.nextHops.count > 1
        let hops = ipv6Multipath ? route.nextHops.filter { $0.interfaceIndex == interface.index } : route.nextHops
        let key = routeKey(route)
        let fresh = keys.insert(key).inserted
        let verb = if placement?.prepend == true && route.family == .inet && !ipv6Multipath { "prepend" }
            else if !fresh || ipv6Multipath || placement != nil { "append" } else { "add" }
        var add = "\(ip) route \(verb) " + (route.type == .unicast ? "" : "\(route.type.name) ") + "\(route.destination)"
        if let source = route.source { add += " from \(source)" }
        let multipath = ipv6Multipath || hops.count > 1
        if !multipath {
            note(route.encapsulation, "")
            if let words = route.encapsulation?.ipWords { add += " " + words }
            if let gateway = hops.first?.gateway { add += " via " + Self.gatewayWords(gateway, of: route) }
            add += " dev \(name)"
            if hops.first?.onlink == true { add += " onlink" }
        }
        if route.table != .main { add += " table \(route.table)" }
        if let metric = route.metric, metric != 0 { add += " metric \(metric)" }
        if let proto = route.routeProtocol, proto != .boot { add += " proto \(proto)" }
        if let scope = route.scope, scope != .global || (route.family == .inet && ipDefaultScope(route, hops: hops) != .global) {
            add += " scope \(scope)"
        }
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
            for hop in hops {
                add += " nexthop"
                note(hop.encapsulation, " (next hop \(hop.gateway.map(\.description) ?? hop.interfaceName ?? "?"))")
                if let words = hop.encapsulation?.ipWords { add += " " + words }
                if let gateway = hop.gateway { add += " via " + Self.gatewayWords(gateway, of: route) }
                let device = hop.interfaceIndex == interface.index ? name : hop.interfaceName.map { ShellWord.quote(InterfaceName.kernelBytes($0)) }
                if let device { add += " dev \(device)" }
                if let weight = hop.weight, weight != 1 { add += " weight \(weight)" }
                if hop.onlink { add += " onlink" }
                // (A hop takes `realms` only, the route `realm` too.)
                if let realms = hop.realms, realms != 0 {
                    add += " realms " + (realms >> 16 == 0 ? "\(realms & 0xFFFF)" : "\(realms >> 16)/\(realms & 0xFFFF)")
                }
            }
        }
        return comments + [add]
    }

    /// The scope `ip route add` gives an IPv4 route it is not told one for (iproute2's
    /// iproute_modify): host for `local` and `nat`, link for `broadcast`, `multicast` and
    /// `anycast` and for a unicast route with no gateway and no multipath hops, global otherwise.
    /// A route of another scope is written with it, global included (what a program adding routes
    /// over netlink with the scope unset makes: the kernel's default, RT_SCOPE_UNIVERSE).
    static func ipDefaultScope(_ route: Route, hops: [NextHop]) -> RouteScope {
        switch route.type {
        case .local, .nat: return .host
        case .broadcast, .multicast, .anycast: return .link
        case .unicast, .unspec:
            return hops.count <= 1 && hops.first?.gateway == nil ? .link : .global
        default: return .global
        }
    }

    /// A gateway as `ip route add … via` takes it: an IPv6 gateway of an IPv4 route (RTA_VIA) is
    /// `inet6 ADDRESS`, which `ip` needs to be told (it refuses the address alone).
    static func gatewayWords(_ gateway: IPAddress, of route: Route) -> String {
        gateway.family == route.family ? "\(gateway)" : "\(gateway.family.rawValue) \(gateway)"
    }

    /// `ip route`'s words for an IPv6 route's preference (RTA_PREF).
    static let preferenceWords: [UInt8: String] = [0: "medium", 1: "high", 3: "low"]

    /// `routes` in an order `ip route add` accepts them in: a route through a gateway comes after
    /// a route that reaches the gateway (`10.50.0.0/16 via 10.99.0.7` after `10.99.0.0/24`), and
    /// an IPv4 route whose preferred source (`src`) is no address of the device after a `local`
    /// route among `routes` that makes it local, in table local or the route's own (the kernel's
    /// `fib_valid_prefsrc` looks for one there, and refuses the route with "Invalid prefsrc
    /// address" before it exists). What
    /// reaches a gateway at first is what stands once the addresses are added and the deletions
    /// before the routes (`kernelRouteDeletions(...).first`) are done: the prefix routes the
    /// kernel makes for the addresses (none for a `noprefixroute` one), but not those of
    /// `displaced`, which those deletions remove; a route that takes the place of one counts once
    /// it is placed. An IPv6 link-local gateway needs no route (the kernel does not look one up).
    /// Routes without a gateway, `onlink` ones, and whatever no order helps keep their place
    /// among themselves.
    static func orderedForAdding(_ routes: [Route], of interface: NetworkInterface, displaced: [IPPrefix] = []) -> [Route] {
        let linkLocal = IPPrefix("fe80::/10")!
        var reachable = interface.addresses.filter { !$0.flags.contains("noprefixroute") }.compactMap { address in
            address.family == .inet ? ipv4Prefix(of: address)
                : IPPrefix(address: address.peer ?? address.local, length: address.peer == nil ? address.prefixLength : 128)
        }.filter { !displaced.contains($0) }
        func ready(_ route: Route, _ waiting: [Route]) -> Bool {
            if route.family == .inet, let source = route.preferredSource, !interface.hasAddress(source.bytes),
               waiting.contains(where: { other in
                   other != route && other.type == .local && other.family == .inet && [.local, route.table].contains(other.table)
                       && other.destination.contains(IPPrefix(address: source, length: 32)!)
               }) {
                return false
            }
            return route.nextHops.allSatisfy { hop in
                guard let gateway = hop.gateway, !hop.onlink else { return true }
                let host = IPPrefix(address: gateway, length: gateway.family.bits)!
                return linkLocal.contains(host) || reachable.contains { $0.contains(host) }
            }
        }
        var placed: [Route] = [], waiting = routes
        while true {
            let (next, rest) = (waiting.filter { ready($0, waiting) }, waiting.filter { !ready($0, waiting) })
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
    }}

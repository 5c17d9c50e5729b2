/// The macOS commands that carry out a reap item, and those that would undo it.
public enum DarwinCommands {
    /// `ifconfig fethN destroy` for a feth; `route -n delete …` for each of a utun's routes.
    public static func reap(_ item: ReapItem) -> [[String]] {
        switch item.action {
        case .deleteInterface: return [["ifconfig", item.interface.name, "destroy"]]
        case .removeRoutes: return item.routes.map { deleteRoute($0, interface: item.interface.name) }
        }
    }

    /// `route -n delete -inet6 default fe80::%utun3`, `route -n delete -inet6 -net fe80::%utun3/64`,
    /// `route -n delete -net 1.0.0.0/8 198.18.0.1`.
    public static func deleteRoute(_ route: Route, interface: String) -> [String] {
        routeCommand("delete", route, interface: interface)
    }

    static func routeCommand(_ verb: String, _ route: Route, interface: String) -> [String] {
        var command = ["route", "-n", verb]
        if route.family == .inet6 { command.append("-inet6") }
        let gateway = route.nextHops.first?.gateway
        let scoped: (IPAddress) -> String = { address in
            let bare = IPAddress(bytes: address.bytes)!.description
            return address.family == .inet6 && address.bytes[0] == 0xfe && address.bytes[1] & 0xc0 == 0x80 ? "\(bare)%\(interface)" : bare
        }
        if route.destination.length == 0 {
            command.append("default")
        } else if route.destination.length == route.destination.family.bits {
            command += ["-host", scoped(route.destination.address)]
        } else {
            command += ["-net", "\(scoped(route.destination.address))/\(route.destination.length)"]
        }
        if let gateway { command.append(scoped(gateway)) } else if route.destination.length == 0 { command += ["-interface", interface] }
        return command
    }

    /// Commands that would undo a reap item by hand.
    public static func recreate(_ item: ReapItem) -> [String] {
        switch item.action {
        case .removeRoutes:
            return item.routes.map { routeCommand("add", $0, interface: item.interface.name).joined(separator: " ") }
        case .deleteInterface:
            let name = item.interface.name
            var commands = ["ifconfig \(name) create"]
            if let peer = item.interface.peerName { commands.append("ifconfig \(name) peer \(peer)") }
            if let mtu = item.interface.mtu { commands.append("ifconfig \(name) mtu \(mtu)") }
            for address in item.interface.addresses where !address.isLinkLocal {
                commands.append(address.family == .inet ? "ifconfig \(name) inet \(address.local)/\(address.prefixLength) alias"
                                                        : "ifconfig \(name) inet6 \(address.local)/\(address.prefixLength) alias")
            }
            if item.interface.isUp { commands.append("ifconfig \(name) up") }
            return commands
        }
    }
}

/// The `ip` commands that would make a deleted device again as it was: the journal records them
/// with every removal, so an operator can undo a reap by hand.
public enum RecreateCommands {
    public static func commands(for interface: NetworkInterface, routes: [Route], namespace: String?) -> [String] {
        let ip = namespace.map { "ip -n \(quote($0))" } ?? "ip"
        let name = quote(interface.name)
        var commands: [String] = []
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
            return ["# \(interface.kind.rawValue) \(interface.name): not recreated automatically"]
        }
        if let mtu = interface.mtu { commands.append("\(ip) link set dev \(name) mtu \(mtu)") }
        if let group = interface.group, group != 0 { commands.append("\(ip) link set dev \(name) group \(group)") }
        if interface.kind == .tap, let mac = interface.hardwareAddress { commands.append("\(ip) link set dev \(name) address \(mac)") }
        if interface.isUp { commands.append("\(ip) link set dev \(name) up") }
        for address in interface.addresses where !(address.isLinkLocal && address.family == .inet6) {
            var add = "\(ip) addr add \(address.local)"
            if let peer = address.peer { add += " peer \(peer)" }
            add += "/\(address.prefixLength) dev \(name)"
            commands.append(add)
        }
        // Routes the kernel makes by itself (for addresses, link-local, the local table) come back with them.
        for route in routes where route.type == "unicast" && route.protocolName != "kernel" && route.nexthopObject == nil {
            var add = "\(ip) route add \(route.destination)"
            if route.nextHops.count == 1, let gateway = route.nextHops[0].gateway { add += " via \(gateway)" }
            add += " dev \(name)"
            if route.table != "main" { add += " table \(route.table)" }
            if let metric = route.metric, metric != 0 { add += " metric \(metric)" }
            if let proto = route.protocolName, proto != "boot" { add += " proto \(proto)" }
            if let scope = route.scope, scope != "global" { add += " scope \(scope)" }
            commands.append(add)
        }
        return commands
    }

    /// Quotes a word for a POSIX shell when it needs it.
    static func quote(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_.:/@%+=".contains($0) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

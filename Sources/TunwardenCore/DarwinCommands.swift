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
            return address.isIPv6LinkLocal ? "\(bare)%\(interface)" : bare
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

/// The macOS commands that carry out a reap item, and those that would undo it.
public enum DarwinCommands {
    /// `ifconfig fethN destroy` for a feth; `route -n delete …` for each of a utun's routes (or a
    /// closed tuntaposx tun's), scoped as the route is.
    public static func reap(_ item: ReapItem) -> [[String]] {
        switch item.action {
        case .deleteInterface: return [destroy(item.interface.name)]
        case .removeRoutes: return item.routes.map { deleteRoute($0, interface: item.interface.name) }
        }
    }

    /// `ifconfig fethN destroy`, which a plan runs for a feth and a finding's text advises for it,
    /// so that the two never name different commands.
    public static func destroy(_ interface: String) -> [String] {
        ["ifconfig", interface, "destroy"]
    }

    /// `command` as a person types it to run it as root, as every command tunwarden advises
    /// (`sudo lsof -nP`, `sudo tunwarden reap --dry-run`) is written: `sudo route -n delete …`.
    public static func asRoot(_ command: String) -> String {
        "sudo " + command
    }

    /// `route -n delete -inet6 default fe80::%utun3 -ifscope utun3`, `route -n delete -inet6 -net
    /// fe80::%utun3/64 -ifscope utun3`, `route -n delete -net 1.0.0.0/8 198.18.0.1`.
    public static func deleteRoute(_ route: Route, interface: String) -> [String] {
        routeCommand("delete", route, interface: interface)
    }

    /// The `route -n delete …` line a finding's text advises for `route`, a route into
    /// `interface`: the very words a plan runs for it (`deleteRoute`), so that what a finding says
    /// to type and what reap would do never name different routes. `present` is false for an
    /// interface that no longer exists (see `routeCommand`).
    public static func deleteText(_ route: Route, interface: String, present: Bool = true) -> String {
        routeCommand("delete", route, interface: interface, present: present).joined(separator: " ")
    }

    /// The `route` command that deletes (`verb` "delete") or adds ("add") exactly `route`, a route
    /// into `interface`. The kernel picks the route a command names by its destination, mask and
    /// scope, never by its gateway: a route netstat flags `I` (scoped to its interface, as macOS
    /// makes every utun's `default fe80::%utunN UGcIg`) is named with `-ifscope IFACE`, the only
    /// word by which `route` marks a request scoped. Without it, `delete -inet6 default
    /// fe80::%utun3` names the machine's unscoped default (en0's, or a running VPN's) and deletes
    /// that one, and `add` makes a general default. A route without the flag is named unscoped,
    /// which is the one route of that destination and mask without a scope. An IPv4 route of a
    /// whole address is named as netstat shows it: a host route (flag H, `10.0.0.1`) with
    /// `-host`, which sends no mask, and a net route of a /32 (no H, `10.0.0.1/32`, as AnyConnect
    /// adds beside its host route to the same address) with `-net 10.0.0.1/32`, which sends the
    /// mask of all ones, so that each command names its own of the two. (`route` cannot name an
    /// IPv6 /128 net route apart from the host route: it sends no mask for a length of 128.) An
    /// added route with no gateway goes to the interface (`-interface IFACE`). The one way
    /// tunwarden writes a `route` command: the plan's, its undo lines and every finding's advice
    /// come from here.
    ///
    /// `present` false (only for deleting: a finding's advice about a tunnel that is gone) names
    /// no word that needs the interface: `route` looks up the name `-interface` gives
    /// (`getifaddrs`) and the one `-ifscope` gives (`if_nametoindex`) and refuses one it cannot
    /// find ("bad address: utun7", "bad interface name"), and a link-local gateway `fe80::1%utun7`
    /// does not parse without its interface. A delete needs none of them: the kernel picks the
    /// route by destination, mask and scope. (A scoped route into a gone interface cannot be
    /// named at all; no finding lists one, since it takes no general traffic.)
    static func routeCommand(_ verb: String, _ route: Route, interface: String, present: Bool = true) -> [String] {
        var command = ["route", "-n", verb]
        if route.family == .inet6 { command.append("-inet6") }
        let gateway = route.nextHops.first?.gateway
        let scoped: (IPAddress) -> String = { address in
            let bare = IPAddress(bytes: address.bytes)!.description
            return address.isIPv6LinkLocal ? "\(bare)%\(interface)" : bare
        }
        if route.destination.length == 0 {
            command.append("default")
        } else if route.destination.length == route.destination.family.bits, route.family == .inet6 || route.bsdFlags.map({ $0.contains("H") }) != false {
            command += ["-host", scoped(route.destination.address)]
        } else {
            command += ["-net", "\(scoped(route.destination.address))/\(route.destination.length)"]
        }
        guard present || verb != "delete" else {
            if let gateway, !gateway.isIPv6LinkLocal { command.append(scoped(gateway)) }
            return command
        }
        if let gateway {
            command.append(scoped(gateway))
        } else if route.destination.length == 0 || verb == "add" {
            command += ["-interface", interface]
        }
        if route.isInterfaceScoped { command += ["-ifscope", interface] }
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

#if os(Linux)
import Glibc
import Inventory
import Netlink
import TunwardenCore

/// What a device has that its recreate commands do not make again, named in them as `#` lines
/// rather than lost without a word: its qdiscs made by hand (`tc`: a root `tbf`, an `ingress`,
/// their classes and filters), the policy rules that name it (`ip rule … iif/oif DEVICE`, each with
/// its action as `ip rule` prints it), the IPv6 address labels bound to it (`ip addrlabel add …
/// dev DEVICE`), and its secondary unicast addresses (`bridge fdb add … self`).
extension LinuxReaper {
    /// The `#` lines' words for each of the Linux devices `items` plans to delete, by ifindex,
    /// for the plan's recreate commands (`execute` reads them again for the journal's).
    public func unrecreated(of items: [ReapItem]) throws -> [Int: [String]] {
        let devices = items.filter { $0.action == .deleteInterface && !$0.onMacOS }
        guard !devices.isEmpty else { return [:] }
        let held = try holdNamespace()
        let client = RtnetlinkClient(transport: try system.rtnetlink.connect(namespaceFD: held?.descriptor))
        return withExtendedLifetime(held) { Self.unrecreated(of: devices.map(\.interface), client: client) }
    }

    /// The `#` lines' words for each of `interfaces`, by ifindex. What cannot be listed is said
    /// so, in a line of its own.
    static func unrecreated(of interfaces: [NetworkInterface], client: RtnetlinkClient) -> [Int: [String]] {
        var lines: [Int: [String]] = [:]
        let indices = Set(interfaces.map { Int32($0.index) })
        do {
            var qdiscs: [Int32: [QdiscMessage]] = [:]
            try client.dumpEach(operation: "RTM_GETQDISC", request: { TrafficBlock.qdiscDumpRequest(sequence: $0) }, restart: { qdiscs = [:] }) { message in
                guard message.header.type == TrafficBlock.newQdisc else { return }
                let qdisc = try QdiscMessage.decode(message.payload)
                // Handle 0: one the kernel attached itself, which a new device gets again.
                if indices.contains(qdisc.index), qdisc.handle != 0 { qdiscs[qdisc.index, default: []].append(qdisc) }
            }
            for interface in interfaces {
                guard let made = qdiscs[Int32(interface.index)], !made.isEmpty else { continue }
                lines[interface.index, default: []].append("its qdiscs \(made.map(\.description).joined(separator: ", ")) are not recreated, nor their classes "
                    + "and filters (`tc qdisc show dev \(ShellWord.quote(InterfaceName.kernelBytes(interface.name)))` listed them; tc makes them again)")
            }
        } catch {
            for interface in interfaces { lines[interface.index, default: []].append("its qdiscs could not be listed (\(error)); any made by hand are not recreated") }
        }
        do {
            for family: UInt8 in [2, 10] {
                var rules: [PolicyRuleMessage] = []
                try client.dumpEach(operation: "RTM_GETRULE", request: { PolicyRuleMessage.dumpRequest(family: family, sequence: $0) }, restart: { rules = [] }) { message in
                    guard message.header.type == PolicyRuleMessage.newRule else { return }
                    let rule = try PolicyRuleMessage.decode(message.payload)
                    if rule.family == family, rule.inputName != nil || rule.outputName != nil { rules.append(rule) }
                }
                for interface in interfaces {
                    let name = InterfaceName.kernelBytes(interface.name)
                    for rule in rules where rule.inputName == name || rule.outputName == name {
                        let selectors = [rule.inputName == name ? "iif" : nil, rule.outputName == name ? "oif" : nil].compactMap { $0 }.joined(separator: ", ")
                        lines[interface.index, default: []].append("\(family == 10 ? "IPv6 " : "")policy rule \(rule.priority.map(String.init) ?? "0") (\(rule.actionWords)) "
                            + "names this device (\(selectors)): the kernel keeps it, detached, and attaches it again to a device made under this name; "
                            + "elsewhere `ip \(family == 10 ? "-6 " : "")rule show` gives it, to add again")
                    }
                }
            }
        } catch {
            for interface in interfaces { lines[interface.index, default: []].append("its policy rules could not be listed (\(error)); any that name it are not recreated") }
        }
        // IPv6 address labels bound to it (`ip addrlabel add … dev DEVICE`), which the kernel keeps
        // on the dead index. A kernel without IPv6 has none.
        do {
            var labels: [Int32: [AddressLabel]] = [:]
            try client.dumpEach(operation: "RTM_GETADDRLABEL", request: { AddressLabel.dumpRequest(sequence: $0) }, restart: { labels = [:] }) { message in
                guard message.header.type == AddressLabel.newLabel else { return }
                let label = try AddressLabel.decode(message.payload)
                if indices.contains(label.ifindex) { labels[label.ifindex, default: []].append(label) }
            }
            for interface in interfaces {
                let name = ShellWord.quote(InterfaceName.kernelBytes(interface.name))
                for label in labels[Int32(interface.index)] ?? [] {
                    let prefix = IPAddress(bytes: label.prefix).map { "\($0)/\(label.prefixLength)" } ?? "(no prefix)"
                    lines[interface.index, default: []].append("its IPv6 address label \(label.label) for \(prefix) is not recreated: the kernel keeps it "
                        + "on this device's index, which no device has once it is deleted; `ip addrlabel add prefix \(prefix) dev \(name) label \(label.label)`, in its namespace, adds it again")
                }
            }
        } catch NetlinkError.kernel(_, let code, _) where code == EAFNOSUPPORT || code == EOPNOTSUPP {
            // No IPv6: no labels.
        } catch {
            for interface in interfaces { lines[interface.index, default: []].append("its IPv6 address labels could not be listed (\(error)); any bound to it are not recreated") }
        }
        // Secondary unicast addresses (`bridge fdb add ADDRESS dev DEVICE self permanent`): the
        // device's own forwarding entries with a unicast address are all made by hand. One dump
        // of every device's entries: asked device by device, each answer walks every device.
        do {
            var added: [Int32: [String]] = [:]
            try client.dumpEach(operation: "RTM_GETNEIGH (fdb)", request: { NeighbourMessage.forwardingDumpRequest(sequence: $0) },
                                restart: { added = [:] }) { message in
                guard message.header.type == NetlinkType.newNeighbour, let entry = try? NeighbourMessage.decode(message.payload),
                      entry.family == NeighbourMessage.bridgeFamily, indices.contains(entry.index), entry.flags & Self.selfEntry != 0,
                      let link = entry.linkLayerAddress, link.count == 6, link[0] & 1 == 0, let text = LinuxInventory.macText(link) else { return }
                added[entry.index, default: []].append(text)
            }
            for interface in interfaces {
                guard let addresses = added[Int32(interface.index)], !addresses.isEmpty else { continue }
                let name = ShellWord.quote(InterfaceName.kernelBytes(interface.name))
                lines[interface.index, default: []].append("its secondary unicast \(addresses.count == 1 ? "address" : "addresses") \(addresses.joined(separator: ", ")) "
                    + "(`bridge fdb add ADDRESS dev \(name) self permanent`) \(addresses.count == 1 ? "is" : "are") not recreated")
            }
        } catch {
            for interface in interfaces {
                lines[interface.index, default: []].append("its forwarding entries could not be listed (\(error)); secondary unicast addresses made by hand are not recreated")
            }
        }
        return lines
    }

    /// NTF_SELF: a forwarding entry of the device itself (its unicast and multicast address lists).
    static let selfEntry: UInt8 = 0x02
}
#endif

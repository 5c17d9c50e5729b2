#if os(Linux)
import Foundation
import Glibc
import Netlink
import TunwardenCore

/// The namespace's policy routing rules (`ip rule`, `ip -6 rule`), read beside the routes for the
/// dead-route judgement, which walks them as the kernel does.
extension LinuxInventory {
    /// Both families' rules in the kernel's order, or why they could not be read. A kernel
    /// without IPv6 refuses the AF_INET6 dump (EAFNOSUPPORT): it has no IPv6 rules.
    static func policyRules(client: RtnetlinkClient) -> Result<[PolicyRule], InventoryError> {
        var rules: [PolicyRule] = []
        for family in [afInet, afInet6] {
            do {
                rules += try client.dump(operation: "RTM_GETRULE", request: { PolicyRuleMessage.dumpRequest(family: family, sequence: $0) }) { message -> PolicyRule? in
                    guard message.header.type == PolicyRuleMessage.newRule else { return nil }
                    let decoded = try PolicyRuleMessage.decode(message.payload)
                    return decoded.family == family ? policyRule(decoded) : nil
                }
            } catch NetlinkError.kernel(_, let errno, _) where family == afInet6 && errno == EAFNOSUPPORT {
                continue
            } catch {
                return .failure(InventoryError("cannot read the policy rules: \(error)"))
            }
        }
        return .success(rules)
    }

    /// The core's view of one rule message; nil for a family other than IPv4 and IPv6.
    static func policyRule(_ message: PolicyRuleMessage) -> PolicyRule? {
        guard message.family == afInet || message.family == afInet6 else { return nil }
        let family: AddressFamily = message.family == afInet ? .inet : .inet6
        let action: PolicyRule.Action = switch message.action {
        case 1: .lookup(RouteTable(kernel: message.table))
        case 2: .goto(message.gotoTarget ?? 0)
        case 3: .nop
        case 6: .blackhole
        case 7: .unreachable
        case 8: .prohibit
        default: .other(message.action)
        }
        var rule = PolicyRule(family: family, priority: message.priority ?? 0, action: action)
        rule.inverted = message.inverted
        rule.unresolved = message.flags & PolicyRuleMessage.unresolvedFlag != 0 || (message.action == 2 && message.gotoTarget == nil)
        func prefix(_ bytes: [UInt8]?, _ length: UInt8) -> IPPrefix? {
            guard length > 0, let bytes, let address = IPAddress(bytes: bytes) else { return nil }
            return IPPrefix(address: address, length: Int(length))
        }
        rule.source = prefix(message.source, message.sourceLength)
        rule.destination = prefix(message.destination, message.destinationLength)
        // A length without an address (which the kernel never sends) still narrows the rule.
        if (message.sourceLength > 0 && rule.source == nil) || (message.destinationLength > 0 && rule.destination == nil) { rule.otherSelectors = true }
        rule.tos = message.tos
        // A mark alone is matched whole (the kernel sends the mask with it).
        rule.mark = message.mark ?? 0
        rule.markMask = message.markMask ?? (rule.mark != 0 ? UInt32.max : 0)
        rule.inputInterface = message.inputName.map(InterfaceName.text)
        rule.outputInterface = message.outputName.map(InterfaceName.text)
        if let range = message.uidRange, !(range.first == 0 && range.last == UInt32.max) {
            if range.first <= range.last { rule.uidRange = range.first...range.last } else { rule.otherSelectors = true }
        }
        rule.ipProtocol = message.ipProtocol.flatMap { $0 == 0 ? nil : $0 }
        rule.sourcePorts = message.sourcePorts.flatMap { $0 == 0...UInt16.max ? nil : $0 }
        rule.destinationPorts = message.destinationPorts.flatMap { $0 == 0...UInt16.max ? nil : $0 }
        // A mask of the whole port (what Linux 6.16 sends with every single port) is the port
        // itself; one beside a range (which the kernel refuses to make) is a selector not named.
        func mask(_ mask: UInt16?, _ ports: ClosedRange<UInt16>?) -> UInt16? {
            guard let mask, mask != UInt16.max else { return nil }
            if ports?.count != 1 { rule.otherSelectors = true }
            return ports?.count == 1 ? mask : nil
        }
        rule.sourcePortMask = mask(message.sourcePortMask, rule.sourcePorts)
        rule.destinationPortMask = mask(message.destinationPortMask, rule.destinationPorts)
        rule.l3mdev = message.l3mdev
        rule.suppressPrefixLength = message.suppressPrefixLength.map { Int($0) }
        rule.suppressInterfaceGroup = message.suppressInterfaceGroup
        rule.tunnelID = message.tunnelID.flatMap { $0 == 0 ? nil : $0 }
        rule.realms = message.realms.flatMap { $0 == 0 ? nil : $0 }
        if !message.otherSelectors.isEmpty { rule.otherSelectors = true }
        return rule
    }
}
#endif

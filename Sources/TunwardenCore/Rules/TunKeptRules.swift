import Foundation

extension FindingRules {
    /// The findings about tun and tap devices that are unheld by design, and kept.
    static let tunKept: [FindingRule] = [
        FindingRule(id: FindingID.provisionedTun, severity: "info", reap: nil, scope: .interface,
                    summary: "a persistent tun/tap nobody holds has an owner or group set (`ip tuntap add … user U group G`, tunctl -u, systemd-networkd's [Tap] User=): provisioned for an unprivileged user, such as a non-root QEMU, who can attach to it but not make it again, so it is never reaped"),
    ]
}

/// nftables rules and sets that name a device by its index (see `NftablesRule.IndexMatch`),
/// in the words the audit and the reaper's last look use.
public struct NftablesIndexUse: Sendable, Equatable {
    /// `inet fw/input` for a rule (its table and chain), `inet fw` for a set no rule matches
    /// devices against (its table).
    public var place: String
    /// `iif` or `oif`, for a rule; nil for a set alone.
    public var key: String?
    /// The set the index is in (`set ifs`, `an anonymous set`); nil for a rule's own compare.
    public var set: String?

    public init(place: String, key: String? = nil, set: String? = nil) {
        (self.place, self.key, self.set) = (place, key, set)
    }

    /// The words that name it, as the subject of a clause (`now`: since the plan).
    func words(now: Bool) -> String {
        let now = now ? "now " : ""
        guard let key else { return "nftables \(set ?? "a set") of table \(place) \(now)holds its index (type iface_index)" }
        return "an nftables rule in \(place) \(now)matches it by index (\(key)\(set.map { ", in \($0)" } ?? ""))"
    }
}

/// The sockets bound to no device and to no specific address that answer on every local
/// address of a family: TCP listeners and unconnected UDP sockets on 0.0.0.0 or `::` (an IPv6
/// one without IPV6_V6ONLY counts for IPv4 too), by family (4, 6), each in words (`TCP port 80
/// on 0.0.0.0`), sorted and without repeats. Deleting a device takes its addresses away from
/// them.
public typealias WildcardListeners = [Int: [String]]

/// Judging a tun or tap that nobody holds and that is kept for what it was set up as: one
/// provisioned for a user, one whose host address wildcard listeners serve, one the firewall
/// matches by index.
extension Heuristics {
    /// Why nftables rules or sets that match a device by its index tie it to the firewall, in
    /// words (nil when none do); the reaper's last look says it the same way.
    public static func nftablesIndexReason(_ uses: [NftablesIndexUse], now: Bool = false) -> String? {
        guard let first = uses.first else { return nil }
        let named = uses.count > 1 ? "\(first.words(now: now)), and \(uses.count - 1) more rule\(uses.count == 2 ? "" : "s") or set\(uses.count == 2 ? "" : "s")" : first.words(now: now)
        let those = uses.count > 1 ? "them" : first.key == nil ? "that set" : "that rule"
        return "\(named); deleting it leaves \(those) matching nothing, and a device made again gets a new index"
    }

    /// Why IPsec (xfrm) policies whose selector names a device by its index tie it to them, in
    /// words (nil when none do); the reaper's last look says it the same way. The kernel keeps
    /// such a policy when the device goes (it flushes only those offloaded to it).
    public static func xfrmPolicyReason(_ policies: [String], now: Bool = false) -> String? {
        guard let first = policies.first else { return nil }
        let more = policies.count > 1 ? ", and \(policies.count - 1) more" : ""
        return "an IPsec (xfrm) policy \(now ? "now " : "")selects it by index (\(first))\(more); deleting it leaves "
            + "\(policies.count > 1 ? "them" : "that policy") selecting nothing, and a device made again gets a new index"
    }

    /// Why traffic-control filters that match a device (as the packets' input device, their
    /// device or their socket's) tie it to them, in words (nil when none do); the reaper's last
    /// look says it the same way. The kernel keeps the filter, and the index in it, when the
    /// device goes.
    public static func tcFilterIndexReason(_ filters: [String], now: Bool = false) -> String? {
        guard let first = filters.first else { return nil }
        let more = filters.count > 1 ? ", and \(filters.count - 1) more" : ""
        return "a tc filter \(now ? "now " : "")matches it (\(first))\(more); deleting it leaves "
            + "\(filters.count > 1 ? "them" : "that filter") matching a device that is gone, and a device made again gets a new index"
    }

    /// Why MPTCP path-manager endpoints that name a device by its index tie it to them, in words
    /// (nil when none do); the reaper's last look says it the same way. The kernel keeps such an
    /// endpoint when the device goes, and binds the subflows it makes from it to that index.
    public static func mptcpEndpointReason(_ endpoints: [String], now: Bool = false) -> String? {
        guard let first = endpoints.first else { return nil }
        let more = endpoints.count > 1 ? ", and \(endpoints.count - 1) more" : ""
        return "an MPTCP endpoint \(now ? "now " : "")names it by index (\(first))\(more); deleting it leaves "
            + "\(endpoints.count > 1 ? "them" : "that endpoint") on an index no device has, and a device made again gets a new index"
    }

    /// Why a device whose owner or group is set is kept, in words (nil when neither is): it was
    /// provisioned for that user or group, who may attach to it without CAP_NET_ADMIN but needs
    /// that privilege to make it again (TUNSETIFF), so it is unheld whenever their program (a
    /// virtual machine) is not running, by design.
    static func provisionedReason(_ tun: TunDetails) -> String? {
        let whom = [tun.owner.map { "uid \($0)" }, tun.group.map { "gid \($0)" }].compactMap { $0 }
        guard !whom.isEmpty else { return nil }
        return "it is provisioned for \(whom.joined(separator: " / ")) (`ip tuntap add … \(tun.owner.map { "user \($0)" } ?? "")\(tun.owner != nil && tun.group != nil ? " " : "")\(tun.group.map { "group \($0)" } ?? "")`), "
            + "who can attach to it without privileges but cannot make it again once it is deleted (TUNSETIFF needs CAP_NET_ADMIN); "
            + "it is unheld whenever their program (a non-root QEMU) is not running, by design"
    }

    /// The addresses of `interface` that are host addresses served by wildcard listeners: of
    /// global scope, unicast, a whole /32 or /128, without a peer, while no route leaves through the
    /// device other than those the kernel made itself (as for a service or anycast address
    /// held on a device of its own, where the dummy module is missing), and some socket of
    /// `listeners` answers on every local address of that family.
    static func servedHostAddresses(of interface: NetworkInterface, routes: [Route], listeners: WildcardListeners) -> [(InterfaceAddress, [String])] {
        guard !listeners.isEmpty else { return [] }
        let served = interface.addresses.compactMap { address -> (InterfaceAddress, [String])? in
            // A multicast address (`239.1.2.3/32 autojoin`) is a group joined, no local address.
            let multicast = address.family == .inet ? address.local.bytes[0] & 0xf0 == 0xe0 : address.local.bytes[0] == 0xff
            guard address.scope == "global", !multicast, address.peer == nil || address.peer == address.local, address.prefixLength == address.family.bits,
                  let sockets = listeners[address.family == .inet ? 4 : 6], !sockets.isEmpty else { return nil }
            return (address, sockets)
        }
        guard !served.isEmpty, routes.allSatisfy({ $0.routeProtocol == .kernel }) else { return [] }
        return served
    }

    /// Why wildcard listeners answering on a device's host address tie it to a service, in
    /// words (nil when none do, see `servedHostAddresses`).
    static func servedAddressReason(_ interface: NetworkInterface, routes: [Route], listeners: WildcardListeners) -> String? {
        guard let (address, sockets) = servedHostAddresses(of: interface, routes: routes, listeners: listeners).first,
              let named = firstAndMore(sockets) else { return nil }
        return "its address \(address.display) is a local address that wildcard listeners answer on (\(named)); deleting it takes that address away"
    }

    /// The verdict of a tun or tap that is unheld by design: provisioned for a user (see
    /// `provisionedReason`), raising `provisioned-tun`; nil for any other.
    static func judgeProvisioned(_ interface: NetworkInterface, kind: String, findings: inout [Finding]) -> (InterfaceState, String)? {
        guard let tun = interface.tun, let reason = provisionedReason(tun) else { return nil }
        findings.append(Finding(
            id: FindingID.provisionedTun, severity: .info, ifname: interface.name, reapable: false,
            evidence: "\(kind) \(interface.name) (ifindex \(interface.index)) has no carrier and no holder, but \(reason). Not reaped: "
                + "`ip tuntap del dev \(ShellWord.quote(InterfaceName.kernelBytes(interface.name))) mode \(kind)` deletes it once that user no longer needs it."
        ))
        return (.suspect, reason)
    }
}

import Foundation

/// An address assigned to an interface.
public struct InterfaceAddress: Decodable, JSONRecord, Sendable, Equatable {
    public var local: IPAddress
    public var prefixLength: Int
    /// The peer of a point-to-point address (`inet A --> B`, or Linux IFA_ADDRESS ≠ IFA_LOCAL).
    public var peer: IPAddress?
    /// "global", "site", "link", "host" or a number.
    public var scope: String
    /// The IPv4 broadcast address, when one was set (`brd`).
    public var broadcast: IPAddress?
    /// The IPv4 label as `InterfaceName` text; the device's own name unless someone set another.
    public var label: String?
    /// IFA_F_* flags by iproute2's names (`nodad`, `noprefixroute`, `home`, `mngtmpaddr`,
    /// `autojoin`, `secondary`, `permanent`, …), in the order `ip addr` prints them.
    public var flags: [String]
    /// Seconds the address stays valid and preferred, counted from when it was read; nil for forever.
    public var validLifetime: UInt32?
    public var preferredLifetime: UInt32?
    /// The metric of the prefix route the kernel makes for the address; nil for the default (0).
    public var metric: UInt32?
    /// Who made it (Linux IFA_PROTO: 3 the kernel's own IPv6 link-local address); nil where the
    /// kernel did not say. Kept for the recreate commands, not part of the JSON schema.
    public var addressProtocol: UInt8?

    public init(local: IPAddress, prefixLength: Int, peer: IPAddress? = nil, scope: String, broadcast: IPAddress? = nil,
                label: String? = nil, flags: [String] = [], validLifetime: UInt32? = nil, preferredLifetime: UInt32? = nil,
                metric: UInt32? = nil) {
        self.local = local
        self.prefixLength = prefixLength
        self.peer = peer
        self.scope = scope
        self.broadcast = broadcast
        self.label = label
        self.flags = flags
        self.validLifetime = validLifetime
        self.preferredLifetime = preferredLifetime
        self.metric = metric
    }

    public var family: AddressFamily { local.family }

    /// Whether the address is IPv6 link-local (fe80::/10), which every utun and many tun devices get on their own.
    public var isLinkLocal: Bool { local.isIPv6LinkLocal }

    /// `10.8.0.18/32` or `10.8.0.18 peer 10.8.0.17/32`, as `ip addr` prints it.
    public var display: String {
        if let peer { return "\(local) peer \(peer)/\(prefixLength)" }
        return "\(local)/\(prefixLength)"
    }

    enum CodingKeys: String, CodingKey {
        case family, local, prefixLength = "prefixlen", peer = "address", broadcast, scope, label, flags, metric
        case validLifetime = "valid_life_time", preferredLifetime = "preferred_life_time"
    }

    /// Reads every key written since the first version; the later ones are optional, so journals
    /// written before them stay readable.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        local = try c.decode(IPAddress.self, forKey: .local)
        prefixLength = try c.decode(Int.self, forKey: .prefixLength)
        peer = try c.decodeIfPresent(IPAddress.self, forKey: .peer)
        scope = try c.decode(String.self, forKey: .scope)
        broadcast = try c.decodeIfPresent(IPAddress.self, forKey: .broadcast)
        label = try c.decodeIfPresent(String.self, forKey: .label)
        flags = try c.decodeIfPresent([String].self, forKey: .flags) ?? []
        metric = try c.decodeIfPresent(UInt32.self, forKey: .metric)
        validLifetime = try c.decodeIfPresent(UInt32.self, forKey: .validLifetime)
        preferredLifetime = try c.decodeIfPresent(UInt32.self, forKey: .preferredLifetime)
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("family", family.rawValue)
            json.field("local", local.description)
            json.field("prefixlen", prefixLength)
            json.field("address", peer?.description)
            json.field("broadcast", broadcast?.description)
            json.field("scope", scope)
            json.field("label", label)
            if !flags.isEmpty { json.field("flags", flags) }
            json.field("metric", metric)
            json.field("valid_life_time", validLifetime)
            json.field("preferred_life_time", preferredLifetime)
        }
    }
}

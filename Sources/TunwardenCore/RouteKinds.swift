import Foundation

/// A kernel value with a well-known name (`unicast`, `main`, `kernel`, `link`) or only a number.
/// Each is written in JSON as iproute2 writes it (`name`): the name where there is one, else the
/// number.
public protocol KernelName: Hashable, Sendable, Decodable, CustomStringConvertible {
    /// The values with names, with the kernel's number for each.
    static var named: [(value: Self, number: UInt32, name: String)] { get }
    /// A value known only by its number.
    static func number(_ number: UInt32) -> Self
    /// The number of a value made by `number(_:)`, nil for a named one.
    var otherNumber: UInt32? { get }
    /// The named values by their numbers below 256 (`lookupTable(_:)` of `named`): a route dump
    /// of a router's whole table names hundreds of thousands of them.
    static var byNumber: [Self?] { get }
}

extension KernelName {
    /// The value the kernel means by `number`.
    public init(kernel number: UInt32) {
        if number < 256 {
            self = Self.byNumber[Int(number)] ?? Self.number(number)
        } else {
            self = Self.named.first { $0.number == number }?.value ?? Self.number(number)
        }
    }

    /// The values of `named` at their numbers, for those below 256; nil at the others.
    static func lookupTable(_ named: [(value: Self, number: UInt32, name: String)]) -> [Self?] {
        var table = [Self?](repeating: nil, count: 256)
        for entry in named where entry.number < 256 { table[Int(entry.number)] = entry.value }
        return table
    }

    /// The value with this name, or the number written out; nil for anything else.
    public init?(name: String) {
        if let named = Self.named.first(where: { $0.name == name }) { self = named.value }
        else if let number = UInt32(name) { self.init(kernel: number) }
        else { return nil }
    }

    public var name: String { otherNumber.map(String.init) ?? Self.named.first { $0.value == self }?.name ?? "?" }
    public var description: String { name }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(name: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' names no \(Self.self)"))
        }
        self = value
    }
}

/// A route's type (rtm_type): what the kernel does with a packet the route matches.
public enum RouteType: KernelName {
    case unspec, unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit, `throw`, nat, xresolve
    case other(UInt32)

    public static let named: [(value: RouteType, number: UInt32, name: String)] = [
        (.unspec, 0, "unspec"), (.unicast, 1, "unicast"), (.local, 2, "local"), (.broadcast, 3, "broadcast"), (.anycast, 4, "anycast"),
        (.multicast, 5, "multicast"), (.blackhole, 6, "blackhole"), (.unreachable, 7, "unreachable"), (.prohibit, 8, "prohibit"),
        (.throw, 9, "throw"), (.nat, 10, "nat"), (.xresolve, 11, "xresolve"),
    ]
    public static let byNumber = lookupTable(named)
    public static func number(_ number: UInt32) -> RouteType { .other(number) }
    public var otherNumber: UInt32? { if case let .other(number) = self { number } else { nil } }
}

/// The routing table a route is in (RTA_TABLE).
public enum RouteTable: KernelName {
    case main, local, `default`
    case other(UInt32)

    public static let named: [(value: RouteTable, number: UInt32, name: String)] = [(.default, 253, "default"), (.main, 254, "main"), (.local, 255, "local")]
    public static let byNumber = lookupTable(named)
    public static func number(_ number: UInt32) -> RouteTable { .other(number) }
    public var otherNumber: UInt32? { if case let .other(number) = self { number } else { nil } }
}

/// Who installed a route (rtm_protocol): the kernel, a DHCP client, a person with `ip route add`, ….
public enum RouteProtocol: KernelName {
    case unspec, redirect, kernel, boot, `static`, gated, ra, mrt, zebra, bird, dnrouted, xorp, ntk, dhcp, keepalived, babel, openr
    case bgp, isis, ospf, rip, eigrp
    case other(UInt32)

    /// iproute2's names (its rt_protos table, as `ip route` prints them): `ra` is the kernel's own
    /// for routes learned from IPv6 router advertisements.
    public static let named: [(value: RouteProtocol, number: UInt32, name: String)] = [
        (.unspec, 0, "unspec"), (.redirect, 1, "redirect"), (.kernel, 2, "kernel"), (.boot, 3, "boot"), (.static, 4, "static"),
        (.gated, 8, "gated"), (.ra, 9, "ra"), (.mrt, 10, "mrt"), (.zebra, 11, "zebra"), (.bird, 12, "bird"), (.dnrouted, 13, "dnrouted"),
        (.xorp, 14, "xorp"), (.ntk, 15, "ntk"), (.dhcp, 16, "dhcp"), (.keepalived, 18, "keepalived"), (.babel, 42, "babel"),
        (.openr, 99, "openr"), (.bgp, 186, "bgp"), (.isis, 187, "isis"), (.ospf, 188, "ospf"), (.rip, 189, "rip"), (.eigrp, 192, "eigrp"),
    ]
    public static let byNumber = lookupTable(named)
    public static func number(_ number: UInt32) -> RouteProtocol { .other(number) }
    public var otherNumber: UInt32? { if case let .other(number) = self { number } else { nil } }
}

/// How far a route's destination is (rtm_scope): anywhere, this site, this link, this host.
public enum RouteScope: KernelName {
    case global, site, link, host, nowhere
    case other(UInt32)

    public static let named: [(value: RouteScope, number: UInt32, name: String)] = [
        (.global, 0, "global"), (.site, 200, "site"), (.link, 253, "link"), (.host, 254, "host"), (.nowhere, 255, "nowhere"),
    ]
    public static let byNumber = lookupTable(named)
    public static func number(_ number: UInt32) -> RouteScope { .other(number) }
    public var otherNumber: UInt32? { if case let .other(number) = self { number } else { nil } }
}

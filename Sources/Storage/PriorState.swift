import Foundation
import TunwardenCore

/// A device's full state before it was removed, as the journal keeps it.
///
/// Keys added after the first version (`txqlen`, `ifalias`, `master`, `master_ifname`, `neigh`,
/// and the address keys beyond family, local, prefixlen, address and scope) are optional, so
/// journals written before them stay readable.
public struct PriorState: Decodable, JSONRecord, Sendable, Equatable {
    public var kind: InterfaceKind
    public var infoKind: String?
    public var flags: [String]
    public var mtu: Int?
    public var group: UInt32?
    public var txQueueLength: UInt32?
    /// IFLA_IFALIAS as `InterfaceName` text.
    public var alias: String?
    /// The ifindex of the bridge or bond the device was a port of, and that master's name as
    /// `InterfaceName` text.
    public var master: Int?
    public var masterName: String?
    public var address: String?
    public var tun: TunDetails?
    public var addresses: [InterfaceAddress]
    public var routes: [Route]
    /// Its neighbour entries made by hand (nil: none, or a journal written before they were kept).
    public var neighbours: [RecreateCommands.Neighbour]?

    public init(_ interface: NetworkInterface, routes: [Route], neighbours: [RecreateCommands.Neighbour] = []) {
        kind = interface.kind
        infoKind = interface.infoKind
        flags = interface.flags
        mtu = interface.mtu
        group = interface.group
        txQueueLength = interface.txQueueLength
        alias = interface.alias
        master = interface.master
        masterName = interface.masterName
        address = interface.hardwareAddress
        tun = interface.tun
        addresses = interface.addresses
        self.routes = routes
        self.neighbours = neighbours.isEmpty ? nil : neighbours
    }

    enum CodingKeys: String, CodingKey {
        case kind, infoKind = "info_kind", flags, mtu, group, txQueueLength = "txqlen", alias = "ifalias", master
        case masterName = "master_ifname", address, tun, addresses = "addr_info", routes, neighbours = "neigh"
    }

    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("kind", kind.rawValue)
            json.field("info_kind", infoKind)
            json.field("flags", flags)
            json.field("mtu", mtu)
            json.field("group", group)
            json.field("txqlen", txQueueLength)
            json.field("ifalias", alias)
            json.field("master", master)
            json.field("master_ifname", masterName)
            json.field("address", address)
            json.field("tun", tun)
            json.field("addr_info", addresses)
            json.field("routes", routes)
            if let neighbours { json.field("neigh", neighbours) }
        }
    }
}

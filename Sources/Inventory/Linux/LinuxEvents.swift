#if os(Linux)
import Foundation
import Netlink
import TunwardenCore

/// Turns the rtnetlink notifications a watcher receives into the judging engine's fact changes,
/// with the same model the inventory's dumps give: a link event becomes the interface a link
/// dump would list, a route event the route a route dump would list.
///
/// Only what a dump of the inventory's own would take is taken: links of family AF_UNSPEC (a
/// bridge sends AF_BRIDGE link messages about its ports, and an AF_BRIDGE deletion means a port
/// left its bridge, not that a device went), IPv4 and IPv6 addresses and routes, and no cloned
/// (cache) routes. A message that cannot be decoded throws: the caller cannot know what it
/// missed, and takes a fresh inventory.
public struct LinuxEventDecoder {
    private var flagNames = FlagNames()
    /// Whether routes of the namespace use nexthop objects: then a change to an object may
    /// change where they go, which only a fresh inventory tells.
    public var objectsInUse = false
    /// The namespace's vxlans whose forwarding entries send through its devices, as last read:
    /// one moved to another namespace takes them there, where no notification here tells of them
    /// and only a fresh inventory (which looks in the other namespaces) sees them.
    public var vxlansSending = Set<Int32>()
    /// The namespace's tun and tap devices, by ifindex, as last seen: a link stacked on one that
    /// leaves for another namespace (a macvlan, macvtap, ipvlan, vlan or macsec on it, a vxlan
    /// bound to it) still sits on it, and goes with it, where no notification here tells of it.
    public var tunTaps = Set<Int32>()

    public init() {}

    /// A notification whose meaning only a fresh inventory can give: a route that names a
    /// nexthop object and nothing else of where it goes (`nexthop_compat_mode` 0), a change
    /// to a nexthop object while routes use them, or a policy rule added or deleted.
    public struct NeedsFreshLook: Error, CustomStringConvertible {
        public var description: String
    }

    /// The device of this namespace `link` is stacked on, for a link of a kind the kernel deletes
    /// with its lower device (`ForeignStacking.stackingKinds`): its IFLA_LINK when that names a
    /// device of the same namespace, or a vxlan's IFLA_VXLAN_LINK. Nil for any other link.
    static func stackedLower(_ link: LinkMessage) -> Int32? {
        guard let kind = link.kind, ForeignStacking.stackingKinds.contains(kind), link.linkNetnsID == nil else { return nil }
        if kind == "vxlan" { return link.vxlanLink.flatMap { $0 == 0 ? nil : Int32(exactly: $0) } }
        guard let lower = link.link, lower != 0, lower != link.index else { return nil }
        return lower
    }

    /// The changes one received datagram announces, in the order the kernel sent them.
    public mutating func changes(in datagram: [UInt8]) throws -> [FactChange] {
        var changes: [FactChange] = []
        var cursor = NetlinkMessage.Cursor(datagram[...])
        while let message = try cursor.next() {
            if let change = try change(for: message) { changes.append(change) }
        }
        return changes
    }

    /// The change one notification announces, or nil for one the inventory would not take.
    public mutating func change(for message: NetlinkMessage) throws -> FactChange? {
        switch message.header.type {
        case NetlinkType.newLink, NetlinkType.delLink:
            let link = try LinkMessage.decode(message.payload)
            guard link.family == 0 else { return nil }
            // A device going down or losing its carrier takes the nexthop objects through it, and
            // the routes that use them, with no notification of theirs.
            if objectsInUse, message.header.type == NetlinkType.delLink || link.flags & (LinkMessage.up | LinkMessage.lowerUp) != LinkMessage.up | LinkMessage.lowerUp {
                throw NeedsFreshLook(description: "a device went down, lost its carrier or went away while routes use nexthop objects, which the kernel then drops unannounced")
            }
            if message.header.type == NetlinkType.delLink {
                if link.newNetnsID != nil, vxlansSending.contains(link.index) {
                    throw NeedsFreshLook(description: "vxlan \(link.name.map(InterfaceName.text) ?? "ifindex \(link.index)") moved to another namespace, taking forwarding entries that send through devices here")
                }
                if link.newNetnsID != nil, let lower = Self.stackedLower(link), tunTaps.contains(lower) {
                    throw NeedsFreshLook(description: "\(link.kind ?? "link") \(link.name.map(InterfaceName.text) ?? "ifindex \(link.index)") moved to another namespace, where it still sits on ifindex \(lower) here")
                }
                tunTaps.remove(link.index)
                return .linkRemoved(index: Int(link.index))
            }
            if link.kind == "tun" { tunTaps.insert(link.index) } else { tunTaps.remove(link.index) }
            return LinuxInventory.interface(link, flagNames: &flagNames).map { .link($0) }
        case NetlinkType.newAddress, NetlinkType.delAddress:
            let decoded = try AddressMessage.decode(message.payload)
            guard decoded.family == LinuxInventory.afInet || decoded.family == LinuxInventory.afInet6,
                  let address = LinuxInventory.address(decoded) else { return nil }
            return message.header.type == NetlinkType.delAddress
                ? .addressRemoved(index: Int(decoded.index), address) : .addressAdded(index: Int(decoded.index), address)
        case NetlinkType.newRoute, NetlinkType.delRoute:
            let decoded = try RouteMessage.decode(message.payload)
            guard decoded.family == LinuxInventory.afInet || decoded.family == LinuxInventory.afInet6 else { return nil }
            if LinuxInventory.needsNexthopObject(decoded), let id = decoded.nexthopID {
                throw NeedsFreshLook(description: "a route names nexthop object \(id) and nothing else of where it goes (nexthop_compat_mode 0)")
            }
            guard let route = LinuxInventory.route(decoded) else { return nil }
            if message.header.type == NetlinkType.delRoute { return .routeRemoved(route) }
            return message.header.flags & NetlinkFlags.replace != 0 ? .routeReplaced(route) : .routeAdded(route)
        case PolicyRuleMessage.newRule, PolicyRuleMessage.deleteRule:
            // The dead-route judgement walks the rules whole; they change seldom.
            throw NeedsFreshLook(description: "the policy rules changed")
        case NexthopMessage.newNexthop, NexthopMessage.deleteNexthop:
            guard objectsInUse else { return nil }
            throw NeedsFreshLook(description: "a nexthop object that routes may use changed")
        default:
            return nil
        }
    }
}

/// What a Linux watcher reads the kernel through: one full snapshot at start (and after lost
/// events), rtnetlink notifications as fact changes in between, and the looks the kernel
/// announces nothing for (a holder scan, the links of orphan candidates, what the namespaces of
/// new veth peers hold); neighbour notifications say when vxlan forwarding entries are to be
/// read again (see `ForwardingEvents`).
///
/// The event sockets subscribe before the first snapshot is taken, so nothing that happens
/// while it is taken is missed: events from before it only repeat what it shows, and applying
/// them in order ends in the same facts.
public final class LinuxWatchSource {
    public let inventory: LinuxInventory
    /// The socket notifications arrive on.
    public let events: NetlinkSocket
    /// The socket neighbour notifications arrive on (see `LinuxInventory.forwardingEventSocket`).
    public let neighbours: NetlinkSocket
    /// Whether the kernel drops the ARP and NDP notifications before they reach `neighbours`.
    public let neighboursFiltered: Bool
    /// The buffer neighbour notifications are received into, kept from one to the next.
    var neighbourDatagram: [UInt8] = []
    /// Which neighbour notifications call for reading the forwarding entries again.
    var forwarding = ForwardingEvents()
    /// The devices vxlans of other namespaces send through, as the last snapshot found them (the
    /// kernel announces their entries' changes in their own namespaces, not here): every holder
    /// change handed out keeps them.
    var foreignVias: VxlanForwarding.Vias = [:]
    /// The tunnels of other namespaces that send from this one's addresses, as the last snapshot
    /// found them, kept the same way.
    var foreignTunnelLocals: [[UInt8]: [String]] = [:]
    /// Why other namespaces could not all be looked in, as the last look at them found (see
    /// `HolderScan.stackingUnknown`), kept the same way.
    var foreignUnknown: String?
    /// The last holder scan handed out (the snapshot's or a look's), with its namespace names: a
    /// change to vxlan forwarding entries alone is handed out as this scan with the new vias.
    var lastScan: (scan: HolderScan, names: [String: String])?
    var decoder = LinuxEventDecoder()
    private var datagram: [UInt8] = []
    /// The namespace's inode, which tells the holder scan which holders are here.
    private let namespaceInode: UInt64
    /// The peer namespace ids known from the last look at them.
    private var knownPeerIDs = Set<Int32>()
    /// The socket requests and looks go through, kept from one to the next: a socket in a named
    /// namespace is made by a thread that enters it, which cost more than a burst's requests.
    /// Dropped after any failure, so that the next request starts on a fresh one.
    private var requestClient: RtnetlinkClient?
    /// What uses devices without a tun descriptor (sockets, redirects, forwards), as the last
    /// holder look could read it (see `holderLook`); its holders are not kept.
    var lastUses = HolderScan(complete: true, attachments: [], processesScanned: 0)

    public init(inventory: LinuxInventory, receiveBuffer: Int32) throws {
        self.inventory = inventory
        events = try inventory.eventSocket(receiveBuffer: receiveBuffer)
        (neighbours, neighboursFiltered) = try inventory.forwardingEventSocket()
        let namespace = try inventory.openNamespace()
        if let fd = namespace.fd { close(fd) }
        namespaceInode = namespace.inode
    }

    /// A full, consistent snapshot of the namespace.
    public func snapshot() throws -> Snapshot {
        let snapshot = try inventory.snapshot()
        knownPeerIDs = Set(snapshot.peerNamespaces.keys)
        decoder.objectsInUse = snapshot.routes.contains { $0.nexthopObject != nil }
        (lastScan, foreignVias) = ((snapshot.holders, snapshot.namespaceNames), snapshot.foreignVias)
        decoder.tunTaps = Set(snapshot.interfaces.filter { $0.kind == .tun || $0.kind == .tap }.map { Int32($0.index) })
        foreignTunnelLocals = snapshot.holders.foreignTunnelLocals
        foreignUnknown = snapshot.holders.stackingUnknown
        // Which entries send through a device, which the snapshot does not say (its vias are by
        // device): a change announced after the snapshot is read again anyway.
        if let read = try? readForwarding() { noteSending(read) } else { dropClient() }
        return snapshot
    }

    /// What reading the event socket found.
    public enum News {
        /// Changes to apply, in the kernel's order (possibly none).
        case changes([FactChange])
        /// Events were lost or could not be read: only a fresh snapshot tells what is true now.
        case lost(String)
    }

    /// Reads every notification waiting on the event socket, without blocking.
    public func drain() -> News {
        var changes: [FactChange] = []
        while events.waitReadable(milliseconds: 0) {
            do {
                try events.receive(into: &datagram)
                changes += try decoder.changes(in: datagram)
            } catch NetlinkError.system(_, let code) where code == ENOBUFS {
                // The rest of what is queued is as stale as what was dropped.
                while events.waitReadable(milliseconds: 0), (try? events.receive(into: &datagram)) != nil {}
                return .lost("events were lost (ENOBUFS)")
            } catch let fresh as LinuxEventDecoder.NeedsFreshLook {
                return .lost(fresh.description)
            } catch {
                return .lost("an event could not be read (\(error))")
            }
        }
        return .changes(changes)
    }

    /// Whether these changes name a veth peer in a namespace the last look did not see, whose
    /// process count only `peerChanges` can tell.
    public func needsPeerLook(_ changes: [FactChange]) -> Bool {
        changes.contains { change in
            if case let .link(interface) = change, let nsid = interface.linkNetnsID { return !knownPeerIDs.contains(nsid) }
            return false
        }
    }

    /// A fresh holder scan, as a change; with `lookingElsewhere`, the other namespaces are looked
    /// at again too, for their vxlans' forwarding entries through this one's devices and the
    /// addresses here they send from (a vxlan moved or made into a container since the snapshot).
    public func holderChange(lookingElsewhere: Bool = false) -> FactChange {
        holderLook(lookingElsewhere: lookingElsewhere).change
    }

    private func holderLook(lookingElsewhere: Bool = false) -> (change: FactChange, census: HolderScanner.NamespaceCensus, scan: HolderScan) {
        var (scan, census) = HolderScanner(procRoot: inventory.procRoot).scan(inspectedNamespace: namespaceInode)
        // What was known stays when the list cannot be read this time.
        scan.takeUses(of: lastUses)
        if let namespace = try? inventory.openNamespace() {
            SocketUse.read(into: &scan, namespaceFD: namespace.fd, procRoot: inventory.procRoot)
            let tunTaps = decoder.tunTaps.map(Int.init).sorted()
            switch TcPrograms.attached(to: tunTaps, namespaceFD: namespace.fd) {
            case let .success(programs): (scan.tcPrograms, scan.tcProgramsUnknown) = (programs, nil)
            // As in a snapshot (see `LinuxInventory.takeSnapshot`).
            case let .failure(problem):
                scan.tcProgramsUnknown = ProcessCapabilities.unreadBecause([(problem.description, [ProcessCapabilities.sysAdmin, ProcessCapabilities.netAdmin])])
            }
            lastUses.takeUses(of: scan)
            if lookingElsewhere {
                let foreign = ForeignStacking.look(inspectedFD: namespace.fd, procRoot: inventory.procRoot,
                                                   namespaceDirectory: inventory.namespaceDirectory, confirmingAbsence: false,
                                                   held: census.heldNamespaces)
                (foreignVias, foreignTunnelLocals) = (foreign.vias, foreign.tunnelLocals)
                foreignUnknown = LinuxInventory.stackingUnknown(foreign)
            }
            if let fd = namespace.fd { close(fd) }
        } else {
            // The counts kept are from an earlier look: which device a socket uses now is unknown.
            scan.socketsUnknown = "the namespace cannot be entered to list its sockets"
        }
        // Other namespaces' vxlans are read again only when asked (see `foreignVias`).
        scan.vxlanVias.merge(foreignVias, uniquingKeysWith: +)
        scan.foreignTunnelLocals = foreignTunnelLocals
        scan.stackingUnknown = foreignUnknown
        let names = inventory.namespaceNames(for: scan)
        lastScan = (scan, names)
        return (.holders(scan, namespaceNames: names), census, scan)
    }

    /// A fresh holder scan and what it tells of the namespaces veth peers live in.
    public func peerChanges() throws -> [FactChange] {
        let (change, census, scan) = holderLook()
        let peers = inventory.peerNamespaces(client: try client(), census: census, inspected: namespaceInode,
                                             censusComplete: scan.complete)
        knownPeerIDs = Set(peers.keys)
        return [change, .peerNamespaces(peers)]
    }

    /// The links with these indices as the kernel shows them now: `.link` for each that is
    /// there, `.linkRemoved` for each that is gone. A few are asked for one by one; more are
    /// read in one dump, of `kind` alone when every one asked for is of that kind (`tun` lists
    /// tun and tap devices), else of every link.
    public func links(_ indices: [Int], allOfKind kind: String? = nil) throws -> [FactChange] {
        var found: [Int: NetworkInterface] = [:]
        let wanted = Set(indices)
        var flagNames = FlagNames()
        try read(indices, ofKind: kind) { message in
            let link = try LinkMessage.decode(message.payload)
            guard wanted.contains(Int(link.index)), let interface = LinuxInventory.interface(link, flagNames: &flagNames) else { return }
            found[interface.index] = interface
        }
        return indices.map { index in found[index].map { .link($0) } ?? .linkRemoved(index: index) }
    }

    /// The same for the links `known` lists (in index order), leaving out those the kernel shows
    /// as `known` has them in what attaching and detaching change (name, flags, carrier,
    /// persistence, queue counts). Only those fields are read of each message
    /// (`LinkMessage.decodeAttachment`): a look at thousands of orphans that finds them as they
    /// were builds no model of any.
    public func changes(from known: [NetworkInterface], ofKind kind: String) throws -> [FactChange] {
        var found: [Int: NetworkInterface] = [:]
        var unchanged = [Bool](repeating: false, count: known.count)
        var flagNames = FlagNames()
        try read(known.map(\.index), ofKind: kind) { message in
            let attachment = try LinkMessage.decodeAttachment(message.payload)
            guard let position = Self.position(of: Int(attachment.index), in: known) else { return }
            if Self.unchanged(attachment, as: known[position], flagNames: &flagNames) {
                unchanged[position] = true
            } else if let interface = LinuxInventory.interface(try LinkMessage.decode(message.payload), flagNames: &flagNames) {
                found[interface.index] = interface
            }
        }
        return known.indices.compactMap { position in
            let index = known[position].index
            return unchanged[position] ? nil : found[index].map { .link($0) } ?? .linkRemoved(index: index)
        }
    }

    /// The same as `changes(from:ofKind:)`, from links already read (a dump of every link, as a
    /// traffic sample takes): `known` in any order, compared in the same fields.
    public static func changes(from known: [NetworkInterface], in links: [NetworkInterface]) -> [FactChange] {
        let fresh = Dictionary(links.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        var reported = Set<Int>()
        return known.compactMap { known in
            guard reported.insert(known.index).inserted else { return nil }
            guard let link = fresh[known.index] else { return .linkRemoved(index: known.index) }
            let same = sameAttachment(name: link.name == known.name, flags: link.flags, carrier: link.carrier, carrierUps: link.tun?.carrierUpCount,
                                      persist: link.tun?.persistent, numQueues: link.tun?.numQueues, numDisabledQueues: link.tun?.numDisabledQueues,
                                      xdpProgram: link.xdpProgram, as: known)
            return same ? nil : .link(link)
        }
    }

    /// Hands `take` the kernel's RTM_NEWLINK messages for these links: asked for one by one (a
    /// link gone is skipped), or for more than `singleLookLimit`, one dump of `kind` alone (or of
    /// every link), whose other links `take` leaves out.
    private func read(_ indices: [Int], ofKind kind: String?, _ take: (NetlinkMessage) throws -> Void) throws {
        let client = try self.client()
        // A conversation cut short may leave the kernel's answers on the socket.
        var finished = false
        defer { if !finished { requestClient = nil } }
        let newLinks = { (message: NetlinkMessage) throws in
            if message.header.type == NetlinkType.newLink { try take(message) }
        }
        if indices.count <= Self.singleLookLimit {
            for index in indices {
                do {
                    try client.request(operation: "RTM_GETLINK") { LinkMessage.getRequest(index: Int32(index), sequence: $0) }.forEach(newLinks)
                } catch NetlinkError.kernel(_, let code, _) where code == ENODEV {
                    continue
                }
            }
        } else {
            let request: (UInt32) -> [UInt8] = { sequence in
                kind.map { LinkMessage.dumpRequest(kind: $0, sequence: sequence) } ?? LinkMessage.dumpRequest(sequence: sequence)
            }
            try client.dumpOnce(operation: "RTM_GETLINK (\(kind ?? "all"))", request: request, newLinks)
        }
        finished = true
    }

    /// The kept request socket's client, made in the namespace when there is none.
    func client() throws -> RtnetlinkClient {
        if let requestClient { return requestClient }
        let made = RtnetlinkClient(transport: try inventory.socketInNamespace().socket)
        requestClient = made
        return made
    }

    /// The namespace's own vxlans' forwarding entries, over the kept request socket, removals
    /// watched from a socket of the namespace's own (see `VxlanForwarding.entries`).
    func readForwarding() throws -> VxlanForwarding.Entries {
        let namespace = try inventory.openNamespace()
        defer { if let fd = namespace.fd { close(fd) } }
        return try VxlanForwarding.entries(client: try client(), namespaceFD: namespace.fd)
    }

    /// Drops the kept request socket after a conversation cut short: the next request starts on a fresh one.
    func dropClient() { requestClient = nil }

    /// Where the interface with this index is in `known` (in index order), by binary search.
    static func position(of index: Int, in known: [NetworkInterface]) -> Int? {
        let position = Heuristics.firstPosition(notBelow: index, count: known.count) { known[$0].index }
        return position < known.count && known[position].index == index ? position : nil
    }

    /// Whether a link's message shows the device as `known` has it in name, flags, carrier,
    /// persistence and queue counts.
    static func unchanged(_ link: LinkMessage.Attachment, as known: NetworkInterface, flagNames: inout FlagNames) -> Bool {
        guard let name = link.name else { return false }
        return sameAttachment(name: InterfaceName.isText(known.name, of: name), flags: flagNames.names(link.flags), carrier: link.carrier,
                              carrierUps: link.persist == nil ? nil : link.carrierUpCount, persist: link.persist, numQueues: link.numQueues, numDisabledQueues: link.numDisabledQueues,
                              xdpProgram: link.xdpProgramID, as: known)
    }

    /// Whether a link's name (`name`: the same as `known`'s), flags, carrier, a tun's count of
    /// carrier-ons (`carrierUps`: an attach and a detach between two looks leave only that, also on
    /// a device that is down), persistence, queue counts and XDP program are `known`'s: what
    /// attaching and detaching change (a program attached through a bpf_link raises no event), the one list of them for a look that reads
    /// them off the kernel's messages and one that has the links read already.
    static func sameAttachment(name: Bool, flags: [String], carrier: Bool?, carrierUps: UInt32?, persist: Bool?, numQueues: UInt32?, numDisabledQueues: UInt32?,
                               xdpProgram: UInt32?, as known: NetworkInterface) -> Bool {
        name && flags == known.flags && carrier == known.carrier && carrierUps == known.tun?.carrierUpCount && persist == known.tun?.persistent
            && numQueues == known.tun?.numQueues && numDisabledQueues == known.tun?.numDisabledQueues && xdpProgram == known.xdpProgram
    }

    /// Up to this many links are asked for one by one; more are read in one dump.
    static let singleLookLimit = 64
}
#endif

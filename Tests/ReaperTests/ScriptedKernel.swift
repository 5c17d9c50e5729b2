#if os(Linux)
import Foundation
import Glibc
import Inventory
@testable import Netlink
@testable import Reaper
import Testing
import TunwardenCore

/// A stand-in for the parts of the Linux kernel the reaper talks to, kept in memory: a table of
/// links answering rtnetlink requests and dumps with real message bytes, /dev/net/tun's exclusive
/// attach, the reap signals, and an inventory read from the same table. Tests change the table
/// and script refusals and interrupted dumps at the reaper's step hooks, so that every safety
/// branch can be reached without root, and every request the reaper sent can be checked.
final class ScriptedKernel: @unchecked Sendable {
    /// One link as the kernel holds it.
    struct Link {
        var index: Int32
        var name: [UInt8]
        var altNames: [[UInt8]] = []
        var group: UInt32 = 0
        var up = false
        /// IFLA_INFO_KIND: "tun" for tun and tap, or another driver's kind.
        var kind = "tun"
        /// IFLA_TUN_TYPE: 1 tun, 2 tap.
        var tunType: UInt8 = 1
        var persist = true
        var multiQueue = false
        /// Queues attached by processes other than the reaper (carrier is on while there are any).
        var queues: UInt32 = 0
        var disabledQueues: UInt32 = 0
        var master: UInt32?
        /// IFLA_LINK: the device this one is stacked on.
        var lower: Int32?

        init(_ index: Int32, _ name: String, tap: Bool = false, multiQueue: Bool = false, up: Bool = false) {
            self.index = index
            self.name = Array(name.utf8)
            tunType = tap ? 2 : 1
            self.multiQueue = multiQueue
            self.up = up
        }
    }

    /// A request the reaper sent, decoded.
    struct Request: CustomStringConvertible {
        var type: UInt16
        var flags: UInt16
        var index: Int32
        var ifFlags: UInt32
        var change: UInt32
        var group: UInt32?
        var name: [UInt8]?
        var altName: [UInt8]?
        /// IFLA_ALT_IFNAME outside a property list: a request for the device that answers to it.
        var lookupName: [UInt8]?
        var kindFilter: String?
        var isDump: Bool { flags & NetlinkFlags.dump == NetlinkFlags.dump }

        var description: String {
            var text = NetlinkType.name(type) + (isDump ? " dump" : "") + " ifindex \(index)"
            if let group { text += " group \(group)" }
            if let name { text += " name \(String(decoding: name, as: UTF8.self))" }
            if let altName { text += " altname \(String(decoding: altName, as: UTF8.self))" }
            if change != 0 { text += ifFlags & 1 == 1 ? " up" : " down" }
            if let kindFilter { text += " kind \(kindFilter)" }
            return text
        }
    }

    private(set) var links: [Int32: Link] = [:]
    /// Every request, in the order sent.
    private(set) var requests: [Request] = []
    /// Answers a request (not a dump) with this errno instead of carrying it out, when it gives one.
    var refuse: (Request) -> Int32? = { _ in nil }
    /// Carries out a request (not a dump) but loses its answer, when it says so: the reaper's
    /// receive fails as with ENOBUFS.
    var loseAnswer: (Request) -> Bool = { _ in false }
    /// Neither carries out a request (not a dump) nor answers it, when it says so.
    var drop: (Request) -> Bool = { _ in false }
    /// Marks a dump interrupted (NLM_F_DUMP_INTR), when it says so.
    var interruptDump: (Request) -> Bool = { _ in false }
    /// The link kinds whose driver is registered, when not every kind is: a dump filtered by any
    /// other kind is answered with every link, as the kernel does.
    var registeredKinds: Set<String>?
    /// What other namespaces stack on this one's devices, as the reaper's last look finds it.
    var foreignStacking = ForeignStacking.Found()
    /// The packet sockets bound to each ifindex, as the reaper's last look lists them.
    var packetSockets: [Int: Int] = [:]
    /// The sockets bound to each ifindex with SO_BINDTODEVICE, as the last look lists them.
    var boundSockets: [Int: Int] = [:]
    /// The packet sockets with a membership on each ifindex, and the multicast groups sockets
    /// joined on each, as the last look lists them.
    var packetMemberships: [Int: Int] = [:]
    var multicastGroups: [Int: [String]] = [:]
    /// Why the lists cannot be read at the last look, when they cannot.
    var socketsUnreadable: String?
    /// What nftables rules send packets to, as the last look lists it; nil: the rules cannot be read.
    var forwards: NftablesForwards.Found? = NftablesForwards.Found()
    /// The IPsec policies whose selector names each ifindex, as the last look lists them.
    var xfrmPolicies: [Int: [String]] = [:]
    /// The tc filters that match each ifindex as input device, as the last look lists them.
    var tcFilters = TrafficFilters.Found()
    /// The fence group the reaper watches notifications of, and what they say of devices other
    /// than the targets in it: those that joined it (by ifindex, their names; scripted) and those
    /// deleted in it (by a group deletion, as the kernel's notifications tell).
    var watchedGroup: UInt32?
    var groupJoiners: [Int32: String] = [:]
    var groupDeleted: [Int32: GroupStrangers.Device] = [:]
    /// The MPTCP endpoints that name each ifindex, as the last look lists them; nil: they cannot be read.
    var mptcpEndpoints: [Int: [String]]? = [:]
    /// The tcx programs attached to each ifindex, as the last look asks for them.
    var tcPrograms: [Int: [String]] = [:]
    /// The signal the reap signals report as caught (0: none).
    var caughtSignal: Int32 = 0
    /// When set, the inventory fails with this instead of reading the table.
    var inventoryFailure: InventoryError?
    /// Devices that left for another namespace, with that namespace's id, as link notifications
    /// would tell the reaper; `departuresLost` stands for notifications lost.
    var movedAway: [Int32: Int32] = [:]
    var departuresLost = false
    /// The identity of the namespace the table stands for (see `NamespaceIdentity`); a test
    /// changes it to stand for the namespace made again, or another one.
    var namespaceIdentity = "netns-cookie:1@boot:scripted"
    /// Descriptors of /dev/net/tun the reaper holds, and the link each is attached to (nil: not
    /// attached, or attached to a device TUNSETIFF made because no device had the name).
    private(set) var openDescriptors: [Int32: Int32?] = [:]
    private var nextDescriptor: Int32 = 10_000
    private var nextIndex: Int32 = 100

    init(_ links: [Link]) {
        for link in links { self.links[link.index] = link }
    }

    func link(named name: String) -> Link? { links.values.first { $0.name == Array(name.utf8) } }
    func link(_ index: Int32) -> Link? { links[index] }
    func change(_ index: Int32, _ body: (inout Link) -> Void) { if var link = links[index] { body(&link); links[index] = link } }
    func remove(_ index: Int32) { links[index] = nil }
    func add(_ link: Link) { links[link.index] = link }

    /// The requests that delete links, of either form.
    var deletions: [Request] { requests.filter { $0.type == NetlinkType.delLink } }

    /// A reaper acting on this kernel, with everything it takes from the system scripted.
    func reaper() -> LinuxReaper {
        var reaper = LinuxReaper(namespaceName: nil)
        reaper.namespaceDirectory = "/nonexistent-netns-directory"
        reaper.system = LinuxReaper.System(rtnetlink: Connector(kernel: self), tun: Tun(kernel: self), signals: Signals(kernel: self),
                                           inventory: { _, _, _ in Inventory(kernel: self) }, isPrivileged: { true },
                                           foreignStacking: { _, _ in self.foreignStacking }, socketUse: { _ in self.socketsUnreadable.map { .failure(SocketUse.Unreadable(description: $0)) } ?? .success(SocketLists(packet: self.packetSockets, bound: self.boundSockets, packetMemberships: self.packetMemberships, multicastGroups: self.multicastGroups)) },
                                           forwards: { _ in self.forwards.map { .success($0) } ?? .failure(SocketUse.Unreadable(description: "scripted: no nftables list")) },
                                           xfrmPolicies: { _ in .success(self.xfrmPolicies) },
                                           tcFilters: { _ in .success(self.tcFilters) },
                                           mptcpEndpoints: { _ in self.mptcpEndpoints.map { .success($0) } ?? .failure(SocketUse.Unreadable(description: "scripted: no MPTCP endpoints")) },
                                           tcPrograms: { _, _ in .success(self.tcPrograms) },
                                           departures: { _ in Departures(kernel: self) })
        return reaper
    }

    /// The interfaces as a complete inventory would report them: a device with a queue attached has
    /// carrier, and the holder scan is complete (a queue without a visible holder keeps a device
    /// from being orphaned all the same).
    func snapshot() throws -> Snapshot {
        if let inventoryFailure { throw inventoryFailure }
        let interfaces = links.values.sorted { $0.index < $1.index }.map { link in
            NetworkInterface(index: Int(link.index), name: InterfaceName.text(link.name),
                             kind: link.kind == "tun" ? (link.tunType == 2 ? .tap : .tun) : .other, infoKind: link.kind,
                             flags: link.up ? ["UP"] : [], operstate: link.queues > 0 ? "UP" : "DOWN", carrier: link.queues > 0,
                             group: link.group, master: link.master.map(Int.init), link: link.lower.map(Int.init),
                             tun: link.kind == "tun" ? TunDetails(persistent: link.persist, multiQueue: link.multiQueue, packetInfo: false, vnetHeader: false,
                                                                  numQueues: link.multiQueue ? link.queues : nil,
                                                                  numDisabledQueues: link.multiQueue ? link.disabledQueues : nil) : nil)
        }
        return Snapshot(platform: .linux, namespaceIdentity: namespaceIdentity, takenAt: Date(), interfaces: interfaces, routes: [],
                        holders: HolderScan(complete: true, attachments: [], processesScanned: 1))
    }

    /// The plan a reap with no grace period makes for the table as it is now.
    func plan() throws -> ReapPlan {
        let snapshot = try snapshot()
        return ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                             policy: ReapPolicy(minimumAge: 0), now: snapshot.takenAt)
    }

    // MARK: rtnetlink

    /// Carries out one datagram's request and returns the datagrams that answer it.
    fileprivate func answer(_ datagram: [UInt8]) throws -> [[UInt8]] {
        let message = try #require(try NetlinkMessage.split(datagram[...]).first)
        // This kernel has no addresses, routes, neighbour entries or tables, tc actions, qdiscs, policy rules or address labels: what the
        // reaper reads before taking a multi-queue device down, or to write recreate commands, is empty.
        if [NetlinkType.getAddress, NetlinkType.getRoute, NetlinkType.getNeighbour, TrafficAction.getAction, TrafficBlock.getQdisc,
            PolicyRuleMessage.getRule, NeighbourTableMessage.getTable, AddressLabel.getLabel]
            .contains(message.header.type) {
            return [NetlinkMessage.encode(type: NetlinkType.done, flags: NetlinkFlags.multi, sequence: message.header.sequence, payload: [0, 0, 0, 0])]
        }
        // Nor namespace ids: no other namespace is known by one.
        if message.header.type == NetlinkType.getNSID { return [ack(message, errno: ENOENT)] }
        let request = decode(message)
        requests.append(request)
        let sequence = message.header.sequence
        if request.type == NetlinkType.getLink && request.isDump {
            let interrupted = interruptDump(request)
            let flags = NetlinkFlags.multi | (interrupted ? NetlinkFlags.dumpInterrupted : 0)
            var bytes: [UInt8] = []
            let filter = request.kindFilter.flatMap { kind in registeredKinds.map { $0.contains(kind) } ?? true ? kind : nil }
            for link in links.values.sorted(by: { $0.index < $1.index }) where filter == nil || link.kind == filter {
                bytes += NetlinkMessage.encode(type: NetlinkType.newLink, flags: flags, sequence: sequence, payload: Self.encode(link))
            }
            bytes += NetlinkMessage.encode(type: NetlinkType.done, flags: flags, sequence: sequence, payload: [0, 0, 0, 0])
            return [bytes]
        }
        if let code = refuse(request) { return [ack(message, errno: code)] }
        if drop(request) { return [] }
        var replies: [[UInt8]] = []
        let code = carryOut(request, replies: &replies, sequence: sequence)
        return loseAnswer(request) ? [] : replies + [ack(message, errno: code)]
    }

    private func carryOut(_ request: Request, replies: inout [[UInt8]], sequence: UInt32) -> Int32 {
        if request.type == NetlinkType.delLink, request.index == 0, let group = request.group {
            let members = links.values.filter { $0.group == group }
            for member in members {
                // Its notification, as the watch of the group reads it.
                if watchedGroup == group {
                    groupDeleted[member.index] = GroupStrangers.Device(name: String(decoding: member.name, as: UTF8.self), kind: member.tunType == 2 ? .tap : .tun)
                }
                delete(member.index)
            }
            return 0
        }
        // As the kernel does (`rtnl_dev_get`): without an ifindex, the device that answers to the
        // name given, as its name or an alternative name.
        var request = request
        if request.index == 0, request.type == NetlinkType.newLink || request.type == NetlinkType.delLink, let name = request.name ?? request.lookupName {
            guard let found = links.values.first(where: { $0.name == name || $0.altNames.contains(name) }) else { return ENODEV }
            // (IFLA_IFNAME, found as an alternative name, then renames it, as the kernel does.)
            request.index = found.index
        }
        guard var link = links[request.index] else { return ENODEV }
        switch request.type {
        case NetlinkType.getLink:
            replies.append(NetlinkMessage.encode(type: NetlinkType.newLink, flags: 0, sequence: sequence, payload: Self.encode(link)))
        case NetlinkType.delLink:
            delete(link.index)
            return 0
        case LinkMessage.newLinkProp, LinkMessage.delLinkProp:
            guard let altName = request.altName else { return EINVAL }
            if request.type == LinkMessage.newLinkProp {
                guard !links.values.contains(where: { $0.name == altName || $0.altNames.contains(altName) }) else { return EEXIST }
                link.altNames.append(altName)
            } else {
                guard let position = link.altNames.firstIndex(of: altName) else { return ENOENT }
                link.altNames.remove(at: position)
            }
        case NetlinkType.newLink:
            if let name = request.name, name != link.name {
                // A device that is up cannot be renamed; a name is one device's only.
                guard !link.up else { return EBUSY }
                guard !links.values.contains(where: { $0.name == name || $0.altNames.contains(name) }) else { return EEXIST }
                link.name = name
            }
            if let group = request.group { link.group = group }
            if request.change & 1 == 1 { link.up = request.ifFlags & 1 == 1 }
        default:
            return EOPNOTSUPP
        }
        links[link.index] = link
        return 0
    }

    /// Deletes a link and, as the kernel does, whatever is stacked on it.
    private func delete(_ index: Int32) {
        links[index] = nil
        for upper in links.values where upper.lower == index { delete(upper.index) }
    }

    private func decode(_ message: NetlinkMessage) -> Request {
        let payload = message.payload, base = payload.startIndex
        var request = Request(type: message.header.type, flags: message.header.flags, index: payload.readNative(Int32.self, at: base + 4),
                              ifFlags: payload.readNative(UInt32.self, at: base + 8), change: payload.readNative(UInt32.self, at: base + 12))
        var attributes = AttributeDecoder(payload[(base + LinkMessage.headerSize)...])
        while attributes.next() {
            switch attributes.type {
            case LinkMessage.Attribute.group: request.group = attributes.uint32()
            case LinkMessage.Attribute.ifname: request.name = attributes.bytesUpToNUL()
            case LinkMessage.Attribute.altIfname: request.lookupName = attributes.bytesUpToNUL()
            case LinkMessage.Attribute.propList:
                attributes.nested { list in
                    while list.next() { if list.type == LinkMessage.Attribute.altIfname { request.altName = list.bytesUpToNUL() } }
                }
            case LinkMessage.Attribute.linkinfo:
                attributes.nested { info in
                    while info.next() { if info.type == LinkMessage.LinkInfoAttribute.kind { request.kindFilter = info.string() } }
                }
            default: break
            }
        }
        return request
    }

    /// An NLMSG_ERROR answering `request`: an acknowledgement for 0, a refusal otherwise.
    private func ack(_ request: NetlinkMessage, errno code: Int32) -> [UInt8] {
        var payload: [UInt8] = []
        payload.appendNative(-code)
        payload.appendNative(UInt32(NetlinkHeader.size))
        payload.appendNative(request.header.type)
        payload.appendNative(request.header.flags)
        payload.appendNative(request.header.sequence)
        payload.appendNative(UInt32(0))
        return NetlinkMessage.encode(type: NetlinkType.error, flags: 0, sequence: request.header.sequence, payload: payload)
    }

    /// An RTM_NEWLINK payload describing `link`, with the attributes the reaper reads.
    static func encode(_ link: Link) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: LinkMessage.headerSize)
        withUnsafeBytes(of: UInt16(link.tunType == 2 ? 1 : 65534)) { header.replaceSubrange(2..<4, with: $0) }
        withUnsafeBytes(of: link.index) { header.replaceSubrange(4..<8, with: $0) }
        withUnsafeBytes(of: UInt32(link.up ? 1 : 0)) { header.replaceSubrange(8..<12, with: $0) }
        var attributes = AttributeEncoder(prefix: header)
        attributes.append(type: LinkMessage.Attribute.ifname, payload: link.name + [0])
        attributes.append(type: LinkMessage.Attribute.group, uint32: link.group)
        if !link.altNames.isEmpty {
            attributes.appendNested(type: LinkMessage.Attribute.propList) { list in
                for name in link.altNames { list.append(type: LinkMessage.Attribute.altIfname, payload: name + [0]) }
            }
        }
        if let master = link.master { attributes.append(type: LinkMessage.Attribute.master, uint32: master) }
        if let lower = link.lower { attributes.append(type: LinkMessage.Attribute.link, int32: lower) }
        attributes.append(type: LinkMessage.Attribute.carrier, uint8: link.queues > 0 ? 1 : 0)
        attributes.appendNested(type: LinkMessage.Attribute.linkinfo) { info in
            info.append(type: LinkMessage.LinkInfoAttribute.kind, string: link.kind)
            guard link.kind == "tun" else { return }
            info.appendNested(type: LinkMessage.LinkInfoAttribute.data) { data in
                data.append(type: LinkMessage.TunAttribute.type, uint8: link.tunType)
                data.append(type: LinkMessage.TunAttribute.pi, uint8: 0)
                data.append(type: LinkMessage.TunAttribute.vnetHeader, uint8: 0)
                data.append(type: LinkMessage.TunAttribute.persist, uint8: link.persist ? 1 : 0)
                data.append(type: LinkMessage.TunAttribute.multiQueue, uint8: link.multiQueue ? 1 : 0)
                if link.multiQueue {
                    data.append(type: LinkMessage.TunAttribute.numQueues, uint32: link.queues)
                    data.append(type: LinkMessage.TunAttribute.numDisabledQueues, uint32: link.disabledQueues)
                }
            }
        }
        return attributes.bytes
    }

    // MARK: /dev/net/tun

    fileprivate func openTun(count: Int) -> [Int32] {
        (0..<count).map { _ in
            nextDescriptor += 1
            openDescriptors[nextDescriptor] = .some(nil)
            return nextDescriptor
        }
    }

    /// TUNSETIFF: finds the device by name or alternative name; EBUSY when a queue is attached
    /// to a single-queue device, EINVAL when the type differs; with no such device, makes a new,
    /// non-persistent one.
    fileprivate func attach(_ descriptor: Int32, name: [UInt8], tap: Bool) -> Int32 {
        guard openDescriptors[descriptor] != nil else { return EBADF }
        guard let link = links.values.first(where: { $0.name == name || $0.altNames.contains(name) }) else {
            nextIndex += 1
            var made = Link(nextIndex, "", tap: tap)
            made.name = name
            made.persist = false
            made.queues = 1
            links[made.index] = made
            openDescriptors[descriptor] = made.index
            return 0
        }
        guard link.kind == "tun", link.tunType == (tap ? 2 : 1) else { return EINVAL }
        let ours = openDescriptors.values.contains { $0 == link.index }
        guard link.multiQueue || (link.queues == 0 && !ours) else { return EBUSY }
        openDescriptors[descriptor] = link.index
        return 0
    }

    fileprivate func attached(_ descriptor: Int32) -> (name: [UInt8], flags: UInt16)? {
        guard let attached = openDescriptors[descriptor], let index = attached, let link = links[index] else { return nil }
        return (link.name, (link.tunType == 2 ? LinuxReaper.iffTap : LinuxReaper.iffTun) | LinuxReaper.iffNoPI | (link.persist ? LinuxReaper.iffPersist : 0))
    }

    /// Detached once its device left the table, unless it moved (which a scripted descriptor
    /// cannot follow: unknown).
    fileprivate func home(of descriptor: Int32) -> TunHome {
        guard let attached = openDescriptors[descriptor], let index = attached else { return .detached }
        if let link = links[index] { return .attached(name: link.name, namespaceFD: nil) }
        return movedAway[index] == nil ? .detached : .unknown(ENOSYS)
    }

    fileprivate func closeTun(_ descriptor: Int32) {
        guard let attached = openDescriptors.removeValue(forKey: descriptor) else {
            Issue.record("descriptor \(descriptor) closed twice, or never opened")
            return
        }
        // A device TUNSETIFF made goes away with its last queue.
        if let index = attached, links[index]?.persist == false { links[index] = nil }
    }

    // MARK: the conformances the reaper takes

    private final class Connection: NetlinkTransport {
        let kernel: ScriptedKernel
        var pending: [[UInt8]] = []
        init(kernel: ScriptedKernel) { self.kernel = kernel }
        func send(_ datagram: [UInt8]) throws { pending += try kernel.answer(datagram) }
        func receive() throws -> [UInt8] {
            guard !pending.isEmpty else { throw NetlinkError.system(call: "recv(scripted)", errno: EAGAIN) }
            return pending.removeFirst()
        }
    }

    private struct Connector: RtnetlinkConnector {
        let kernel: ScriptedKernel
        func connect(namespaceFD: Int32?) throws -> any NetlinkTransport { Connection(kernel: kernel) }
    }

    private struct Tun: TunDevice {
        let kernel: ScriptedKernel
        func open(count: Int, namespaceFD: Int32?) throws -> [Int32] { kernel.openTun(count: count) }
        func attach(_ descriptor: Int32, name: [UInt8], to interface: NetworkInterface) -> Int32 {
            kernel.attach(descriptor, name: name, tap: interface.kind == .tap)
        }
        func attached(_ descriptor: Int32) -> (name: [UInt8], flags: UInt16)? { kernel.attached(descriptor) }
        func home(of descriptor: Int32) -> TunHome { kernel.home(of: descriptor) }
        func close(_ descriptor: Int32) { kernel.closeTun(descriptor) }
    }

    private struct Signals: ReapSignals {
        let kernel: ScriptedKernel
        func install() { kernel.caughtSignal = 0 }
        func caught() -> Int32 { kernel.caughtSignal }
        func restore() {}
    }

    private final class Departures: LinkDepartures {
        let kernel: ScriptedKernel
        init(kernel: ScriptedKernel) { self.kernel = kernel }
        /// A device no longer in the table left it by a move when `movedAway` says so, else by deletion.
        func departed(among indices: Set<Int32>) -> [Int32: LinkDeparture]? {
            guard !kernel.departuresLost else { return nil }
            var found: [Int32: LinkDeparture] = [:]
            for index in indices where kernel.link(index) == nil {
                found[index] = kernel.movedAway[index].map { .moved(namespaceID: $0, index: nil) } ?? .deleted
            }
            return found
        }
        func watchGroup(_ group: UInt32) { kernel.watchedGroup = group }
        func deleting() {}
        func strangers(besides targets: Set<Int32>) -> GroupStrangers? {
            guard !kernel.departuresLost, kernel.watchedGroup != nil else { return nil }
            return GroupStrangers(present: kernel.groupJoiners.filter { !targets.contains($0.key) }, deleted: kernel.groupDeleted.filter { !targets.contains($0.key) })
        }
    }

    private struct Inventory: InventoryBackend {
        let kernel: ScriptedKernel
        func snapshot() throws -> Snapshot { try kernel.snapshot() }
        func namespaceIdentityAhead() -> String? { kernel.namespaceIdentity }
    }
}
#endif

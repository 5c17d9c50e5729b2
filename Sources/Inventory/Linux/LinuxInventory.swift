#if os(Linux)
import Foundation
import Glibc
import Netlink
import TunwardenCore

/// The Linux inventory: links, addresses and routes over rtnetlink (directly on the socket), and
/// holders from /proc, for the caller's network namespace or a named one.
///
/// A named namespace is inspected through a netlink socket created inside it; the process itself
/// never changes namespace. Every dump is retried while the kernel marks it interrupted and fails
/// rather than return an inconsistent view.
public struct LinuxInventory: InventoryBackend {
    /// The name under `namespaceDirectory` of the namespace to inspect, or nil for the caller's own.
    public var namespaceName: String?
    public var namespaceDirectory = "/run/netns"
    public var procRoot = "/proc"
    /// The file holding this boot's id, which is part of a namespace's identity.
    var bootIDPath = "/proc/sys/kernel/random/boot_id"
    /// Asks which device a raw or ping socket a process holds is bound to (see `RawSockets`).
    var readSocketDevice: RawSockets.DeviceReader = RawSockets.readDevice

    /// The namespace held open, when this inventory inspects one it holds: every look goes
    /// through its descriptor, and fails as a deleted namespace's would (`namespaceGone`) once its
    /// name names another namespace or nothing (see `HeldNamespace`).
    public private(set) var held: HeldNamespace?

    public init(namespaceName: String? = nil) {
        self.namespaceName = namespaceName
    }

    /// An inventory of the namespace `held` holds, whatever its name comes to name.
    public init(holding held: HeldNamespace) {
        namespaceName = held.name
        namespaceDirectory = held.directory
        self.held = held
    }

    /// How many whole snapshots to try, a little further apart each time, while the kernel keeps
    /// interrupting its dumps (links coming and going). An audit reports such a storm after one
    /// snapshot's retries (1, the default); the reaper waits longer for a quiet moment.
    public var snapshotAttempts = 1

    /// Whether the interfaces carry their own sysctls (`NetworkInterface.deviceSysctls`), which
    /// only the recreate commands use: a reap's plan and the reaper's look ask for them; an audit
    /// does not (at ten thousand links, giving each its sysctls made an audit about 5 ms slower).
    public var readsDeviceSysctls = false

    public func snapshot() throws -> Snapshot {
        try withAttempts { try takeSnapshot(judging: false) }.snapshot
    }

    /// Takes a snapshot into `engine`, judging links while the kernel is still dumping the rest
    /// (see `StreamedSnapshot`); returns the namespace's identity.
    public func load(into engine: JudgingEngine) throws -> String {
        let streamed = try withAttempts { try takeSnapshot(judging: true) }
        engine.load(streamed)
        return streamed.snapshot.namespaceIdentity
    }

    /// `take`, tried again a little later each time while the kernel keeps interrupting its dumps,
    /// up to `snapshotAttempts` times.
    private func withAttempts<Result>(_ take: () throws -> Result) throws -> Result {
        var attempt = 1
        while true {
            do {
                return try take()
            } catch let error as InventoryError where error.interrupted && attempt < snapshotAttempts {
                usleep(useconds_t(10_000 * attempt))
                attempt += 1
            }
        }
    }

    /// One attempt at a snapshot: links on one socket, addresses and routes on another, holders
    /// on a thread of their own, all at once. Once addresses, routes and holders are in, links
    /// go into a `StreamedSnapshot` as they are decoded (judged there as they arrive when
    /// `judging`), while the kernel fills the next datagrams.
    private func takeSnapshot(judging: Bool) throws -> StreamedSnapshot {
        let takenAt = Date(), bootClock = BootClock.now()
        let bootID = try self.bootID()
        let namespace = try openNamespace()
        defer { if let fd = namespace.fd { close(fd) } }
        let group = DispatchGroup()
        let side = SideResults()
        let procRoot = self.procRoot
        // Two sockets in the namespace: the link dump (by far the largest) runs on one, receiving
        // ahead of its decoder, while addresses and routes are dumped on the other. They are made
        // before any other thread starts: the thread that makes them wakes this one as it ends,
        // and a thread already running here would hold this one off its core for a whole time
        // slice (about 3 ms) in one start of three.
        let linkClient: RtnetlinkClient
        let sideSocket: SideSocket
        do {
            let (linkSocket, otherSocket) = try NetlinkSocket.pair(namespaceFD: namespace.fd)
            linkClient = RtnetlinkClient(transport: ReadAheadTransport(wrapping: linkSocket))
            sideSocket = SideSocket(otherSocket)
        } catch {
            throw failure("cannot open a netlink socket", error)
        }
        let identity = NamespaceIdentity.linux(cookie: sideSocket.socket.namespaceCookie(), inode: namespace.inode, bootID: bootID)
        // The holder scan runs on its own thread: reading a tun descriptor's fdinfo takes the
        // RTNL lock, which the link dump holds while the kernel fills each datagram, but not while
        // it first sizes every device (under RCU). Scanned during the fills, 100 held devices cost
        // 15 ms of waiting, with the lock's waiter spinning on the core the decoder needs.
        group.enter()
        let namespaceDirectory = self.namespaceDirectory
        let readSocketDevice = self.readSocketDevice
        Thread.detachNewThread {
            var (scan, census) = HolderScanner(procRoot: procRoot).scan(inspectedNamespace: namespace.inode)
            // (The namespace's own vxlans' entries are read once the link dump has listed them.)
            SocketUse.read(into: &scan, namespaceFD: namespace.fd, procRoot: procRoot, vxlanEntries: false, readDevice: readSocketDevice)
            // Devices other namespaces stack on this one's go with them: look in each namespace
            // a process runs in or keeps open (those the scan just found), and in those `ip netns`
            // names. Their vxlans may also send through this one's devices.
            let foreign = ForeignStacking.look(inspectedFD: namespace.fd, procRoot: procRoot, namespaceDirectory: namespaceDirectory,
                                               confirmingAbsence: false, held: census.heldNamespaces)
            scan.vxlanVias.merge(foreign.vias, uniquingKeysWith: +)
            scan.foreignTunnelLocals = foreign.tunnelLocals
            scan.stackingUnknown = Self.stackingUnknown(foreign)
            side.holders = (scan, census)
            side.foreign = foreign
            group.leave()
        }
        let client = sideSocket.client
        // Addresses and routes are dumped on the other socket while the link dump runs.
        DispatchQueue.global().async(group: group) {
            let client = sideSocket.client
            side.dumps = Result {
                // One dump per family: a dump of both at once holds the RTNL lock, and with it
                // the link dump, while it walks every device (or route) of each. Each keeps only
                // its own family: a kernel without IPv6 answers an AF_INET6 dump with the
                // AF_UNSPEC one, every family's entries.
                var addresses: [AddressMessage] = []
                var routes: [RouteMessage] = []
                for family in [Self.afInet, Self.afInet6] {
                    addresses += try client.dump(operation: "RTM_GETADDR", request: { AddressMessage.dumpRequest(family: family, sequence: $0) }) { message in
                        guard message.header.type == NetlinkType.newAddress else { return nil }
                        let address = try AddressMessage.decode(message.payload)
                        return address.family == family ? address : nil
                    }
                    routes += try client.dump(operation: "RTM_GETROUTE", request: { RouteMessage.dumpRequest(family: family, sequence: $0) }) { message -> RouteMessage? in
                        guard message.header.type == NetlinkType.newRoute else { return nil }
                        let route = try RouteMessage.decode(message.payload)
                        return route.family == family ? route : nil
                    }
                }
                // The rules are few: one small dump each family, which may fail alone (said in
                // findings). Lookups to multipath routes are made as the rules bring packets to
                // their tables.
                let rules = Self.policyRules(client: client)
                let flows = Self.multipathFlows(routes, namespaceFD: namespace.fd, procRoot: procRoot, client: client, rules: try? rules.get())
                return (Self.addressesByIndex(addresses), routes, try Self.nexthops(for: routes, client: client), flows, rules)
            }
        }
        // Links wait here until addresses, routes and holders are in, then go to the stream as
        // they are decoded.
        var stream: StreamedSnapshot?
        var addresses: [Int: [InterfaceAddress]] = [:]
        var waiting: [NetworkInterface] = []
        waiting.reserveCapacity(NetworkInterface.listReservation)
        // Whether a link names a peer in another namespace (whose processes are then counted).
        var peerElsewhere = false
        func startStream(_ sideResult: SideResult) {
            addresses = sideResult.addresses
            // Next hops are named by the stream, from the links.
            let routes = sideResult.routes.enumerated().compactMap { position, message in
                Self.route(message, nexthops: sideResult.nexthops).map { route in
                    var route = route
                    for (index, seen) in (sideResult.flows[position] ?? []).enumerated() where index < route.nextHops.count {
                        route.nextHops[index].takesFlows = seen
                    }
                    return route
                }
            }
            var frame = Snapshot(platform: .linux, namespace: namespaceName, namespaceIdentity: identity, takenAt: takenAt, interfaces: [],
                                 routes: routes, holders: sideResult.holders)
            frame.bootClock = bootClock
            switch sideResult.rules {
            case let .success(rules): frame.policyRules = rules
            case let .failure(error): frame.policyRulesProblem = error.message
            }
            frame.namespaceNames = namespaceNames(for: sideResult.holders)
            frame.foreignUppers = sideResult.foreign.uppers
            frame.foreignVias = sideResult.foreign.vias
            stream = StreamedSnapshot(frame, judging: judging)
            for interface in waiting { take(interface) }
            waiting = []
        }
        /// Adds a link to the stream with its addresses, or keeps it until the stream starts.
        func take(_ link: NetworkInterface) {
            guard let stream else { return waiting.append(link) }
            var interface = link
            if let found = addresses[interface.index] { interface.addresses = found }
            stream.add(interface)
        }
        var flagNames = FlagNames()
        flagNames.readsSysctls = readsDeviceSysctls
        // The namespace's own vxlans (no other link namespace), whose forwarding entries are
        // read after the dump: asking for them beside it would cost another walk of every device.
        var vxlans: [LinkMessage] = []
        // The tun/tap devices, whose tcx programs are asked for after the dump.
        var tunIndices: [Int] = []
        let linkResult = Result {
            try linkClient.dumpEach(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }, restart: {
                waiting.removeAll(keepingCapacity: true)
                stream?.restart()
                peerElsewhere = false
                vxlans = []
                tunIndices = []
            }) { message in
                guard message.header.type == NetlinkType.newLink, let interface = Self.interface(try LinkMessage.decode(message.payload), flagNames: &flagNames) else { return }
                if interface.linkNetnsID != nil { peerElsewhere = true }
                if interface.tun != nil { tunIndices.append(interface.index) }
                if interface.infoKind == "vxlan", interface.linkNetnsID == nil {
                    var vxlan = LinkMessage()
                    (vxlan.index, vxlan.name, vxlan.kind) = (Int32(interface.index), InterfaceName.kernelBytes(interface.name), "vxlan")
                    vxlans.append(vxlan)
                }
                if stream == nil, group.wait(timeout: .now()) == .success, case let .success(sideResult) = side.result() {
                    startStream(sideResult)
                }
                take(interface)
            }
        }
        group.wait()
        let sideResult: SideResult
        do {
            try linkResult.get()
            sideResult = try side.result().get()
        } catch {
            var failure = InventoryError("cannot read the kernel's interfaces and routes: \(error)")
            if case NetlinkError.dumpInterrupted = error { failure.interrupted = true }
            throw failure
        }
        if stream == nil { startStream(sideResult) }
        guard let stream else { preconditionFailure("the stream was not started") }
        // Entries that cannot be read are left unsaid, as redirects are: the reaper's last look
        // reads them again and deletes nothing without them.
        if !vxlans.isEmpty, let vias = try? VxlanForwarding.vias(of: vxlans, client: client, namespaceFD: namespace.fd) {
            stream.addVxlanVias(vias)
        }
        // The kernel answers only CAP_SYS_ADMIN and CAP_NET_ADMIN: without an answer any tun/tap
        // may have one, as the reaper's last look, which deletes nothing then, holds too.
        switch TcPrograms.attached(to: tunIndices, namespaceFD: namespace.fd) {
        case let .success(programs):
            stream.addTcPrograms(Result<[Int: [String]], SocketUse.Unreadable>.success(programs), asked: tunIndices)
        case let .failure(problem):
            let why = ProcessCapabilities.unreadBecause([(problem.description, [ProcessCapabilities.sysAdmin, ProcessCapabilities.netAdmin])])
            stream.addTcPrograms(Result<[Int: [String]], SocketUse.Unreadable>.failure(SocketUse.Unreadable(description: why ?? problem.description)),
                                 asked: tunIndices)
        }
        var peers: [Int32: PeerNamespace] = [:]
        if peerElsewhere {
            peers = peerNamespaces(client: client, census: sideResult.census, inspected: namespace.inode, censusComplete: sideResult.holders.complete)
        }
        stream.finish(peerNamespaces: peers)
        return stream
    }

    /// The next hops of the nexthop objects `routes` name and nothing else of where they go
    /// (`needsNexthopObject`), dumped over `client` only when some route does; none otherwise.
    /// Throws when the objects cannot be had: those routes' devices would be unknown.
    static func nexthops(for routes: [RouteMessage], client: RtnetlinkClient) throws -> [UInt32: [NextHop]] {
        guard routes.contains(where: needsNexthopObject) else { return [:] }
        let objects = try client.dump(operation: "RTM_GETNEXTHOP", request: { NexthopMessage.dumpRequest(sequence: $0) }) { message -> NexthopMessage? in
            message.header.type == NexthopMessage.newNexthop ? try NexthopMessage.decode(message.payload) : nil
        }
        return nexthopTable(objects)
    }

    /// What route lookups say of the multipath hops in `routes` that the listing cannot settle
    /// (see `MultipathProbe`), by route position; none when no route has such a hop. The hash
    /// policy is read in the namespace (`namespaceFD`; nil: this thread's own).
    static func multipathFlows(_ routes: [RouteMessage], namespaceFD: Int32?, procRoot: String, client: RtnetlinkClient, rules: [PolicyRule]? = nil) -> [Int: [HopFlows?]] {
        guard routes.contains(where: MultipathProbe.needsAsking) else { return [:] }
        let hashes = (try? NamespaceThread.run(in: namespaceFD) { MultipathProbe.hashesDestination(procRoot: procRoot) }) ?? [:]
        return MultipathProbe.flows(of: routes, hashesDestination: { hashes[$0] ?? false }, client: client, rules: rules)
    }

    /// The links alone (no addresses, routes or holders): what a traffic sample needs, at a
    /// fraction of a snapshot's cost.
    public func links() throws -> [NetworkInterface] {
        let namespace = try openNamespace()
        defer { if let fd = namespace.fd { close(fd) } }
        do {
            let client = RtnetlinkClient(transport: ReadAheadTransport(wrapping: try NetlinkSocket(namespaceFD: namespace.fd)))
            var flagNames = FlagNames()
            return try client.dump(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }) { message -> NetworkInterface? in
                message.header.type == NetlinkType.newLink ? Self.interface(try LinkMessage.decode(message.payload), flagNames: &flagNames) : nil
            }
        } catch {
            throw failure("cannot read the kernel's interfaces", error)
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// The flag names of the links of one dump. Thousands of links share a few flag sets, so the
/// names of each set are put together once, and every interface with those flags shares that
/// one array (copy on write) instead of allocating its own.
///
/// It does the same for the links' own sysctls (`DeviceSysctls`): devices made alike in one
/// namespace have the same values, so a link whose arrays are byte for byte the previous
/// link's shares its `DeviceSysctls`, at the cost of comparing a few hundred bytes; only a link
/// whose values differ copies them.
struct FlagNames {
    private var known: [UInt32: [String]] = [:]
    /// Whether links are given their own sysctls at all (`LinuxInventory.readsDeviceSysctls`).
    var readsSysctls = false
    private var lastSysctlBytes: (ipv4: ArraySlice<UInt8>, ipv6: ArraySlice<UInt8>) = ([], [])
    private var lastSysctls: DeviceSysctls?

    /// The `DeviceSysctls` of a link with these IFLA_INET_CONF and IFLA_INET6_CONF arrays; nil
    /// when it has neither.
    mutating func sysctls(ipv4: ArraySlice<UInt8>?, ipv6: ArraySlice<UInt8>?) -> DeviceSysctls? {
        guard ipv4 != nil || ipv6 != nil else { return nil }
        let ipv4 = ipv4 ?? [], ipv6 = ipv6 ?? []
        if let lastSysctls, Self.same(ipv4, lastSysctlBytes.ipv4), Self.same(ipv6, lastSysctlBytes.ipv6) { return lastSysctls }
        // The previous link's bytes are kept as their own copy: a slice would keep its whole
        // message, and the buffer it came in, alive.
        lastSysctlBytes = (ArraySlice(Array(ipv4)), ArraySlice(Array(ipv6)))
        let made = DeviceSysctls(ipv4: LinkMessage.configurationValues(ipv4), ipv6: LinkMessage.configurationValues(ipv6))
        lastSysctls = made
        return made
    }

    /// Whether two byte runs are equal, compared as memory (memcmp): ten thousand links' few
    /// hundred bytes each, byte by byte, were milliseconds of the decoder's time.
    private static func same(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
    }

    mutating func names(_ flags: UInt32) -> [String] {
        if let names = known[flags] { return names }
        let names = LinuxInventory.flagNames(flags)
        known[flags] = names
        return names
    }
}

/// What the work beside the link dump found: addresses, routes and holders.
private struct SideResult {
    var addresses: [Int: [InterfaceAddress]]
    var routes: [RouteMessage]
    /// The next hops of the nexthop objects routes name alone (see `LinuxInventory.nexthops`).
    var nexthops: [UInt32: [NextHop]]
    /// What route lookups say of multipath hops the listing cannot settle, by route position.
    var flows: [Int: [HopFlows?]]
    /// The policy rules of both families, or why they could not be read.
    var rules: Result<[PolicyRule], InventoryError>
    var holders: HolderScan
    var census: HolderScanner.NamespaceCensus
    var foreign: ForeignStacking.Found
}

/// The second socket and its client, used by the address and route dumps alone until their
/// group is waited for.
private final class SideSocket: @unchecked Sendable {
    let socket: NetlinkSocket
    let client: RtnetlinkClient
    init(_ socket: NetlinkSocket) {
        self.socket = socket
        client = RtnetlinkClient(transport: socket)
    }
}

/// The results of the work the inventory runs beside the link dump, handed back after the
/// DispatchGroup wait (which orders the writes before the reads).
private final class SideResults: @unchecked Sendable {
    var holders: (HolderScan, HolderScanner.NamespaceCensus)?
    var foreign = ForeignStacking.Found()
    var dumps: Result<(addresses: [Int: [InterfaceAddress]], routes: [RouteMessage], nexthops: [UInt32: [NextHop]], flows: [Int: [HopFlows?]],
                       rules: Result<[PolicyRule], InventoryError>), any Error> =
        .failure(InventoryError("the address and route dumps did not run"))

    /// Both results together; call only after the group was waited for.
    func result() -> Result<SideResult, any Error> {
        dumps.map { dumps in
            let (holders, census) = holders ?? (.unavailable("the holder scan did not run"), HolderScanner.NamespaceCensus())
            return SideResult(addresses: dumps.addresses, routes: dumps.routes, nexthops: dumps.nexthops, flows: dumps.flows, rules: dumps.rules, holders: holders, census: census,
                              foreign: foreign)
        }
    }
}

extension LinuxInventory {
    /// Why a look at other namespaces leaves every unheld tun/tap unknown, for
    /// `HolderScan.stackingUnknown`: the namespaces it could not read and why; nil when it read
    /// every one.
    static func stackingUnknown(_ found: ForeignStacking.Found) -> String? {
        found.unreadText().map { "other network namespaces could not be looked in for devices stacked on this one's: \($0)" }
    }
}
#endif

#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// TCP, UDP and UDP-Lite sockets bound to one device of a namespace (with SO_BINDTODEVICE, or
/// through a link-local address's scope): a DHCP or DNS server that serves only a virtual
/// machine's tap, a systemd socket unit with `BindToDevice=`; and AF_XDP sockets bound to it. Such a process uses the device without a tun descriptor, so the holder scan
/// cannot see it, and deleting the device leaves its socket bound to an ifindex that no longer
/// exists (a device made again gets another). The same lists give each socket's local address:
/// one bound to no device but to an address only one device has (`dnsmasq --bind-interfaces`)
/// serves through that device, and `addressSockets` counts them by address.
///
/// The kernel lists a namespace's sockets through NETLINK_SOCK_DIAG (what `ss` reads), each with
/// the ifindex it is bound to. A netlink socket answers for the namespace it was made in, so one
/// is made there. Sockets no process holds (inode 0: TIME_WAIT and FIN_WAIT2 leftovers, orphaned
/// connections) are left out. Raw and ICMP ("ping") sockets are not listed this way on every
/// kernel: `RawSockets` finds them. Not looked for: a UDP socket given a device but never bound
/// to a port, which the kernel lists nowhere (it receives nothing).
public enum BoundSockets {
    static let inet: UInt8 = 2, inet6: UInt8 = 10
    static let tcp: UInt8 = 6, udp: UInt8 = 17, udpLite: UInt8 = 136

    /// How many TCP, UDP and AF_XDP sockets are bound to each ifindex in the namespace behind
    /// `namespaceFD` (nil: this process's own), and how many TCP and UDP sockets bound to no
    /// device are bound to each specific local address (see `HolderScan.addressSockets`);
    /// `Unreadable` when the lists could not be had (no way into the namespace, a kernel without
    /// socket diagnostics for TCP or UDP over IPv4): then nothing is known.
    public static func boundCounts(namespaceFD: Int32?, procRoot: String = "/proc")
        -> Result<(devices: [Int: Int], addresses: [[UInt8]: Int], wildcard: WildcardListeners), SocketUse.Unreadable> {
        let client: RtnetlinkClient
        do {
            client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD, netlinkProtocol: NetlinkSocket.socketDiagnostics))
        } catch {
            return .failure(SocketUse.Unreadable(description: "cannot open a socket-diagnostics socket in the namespace: \(error)"))
        }
        var counts: [Int: Int] = [:]
        var addresses: [[UInt8]: Int] = [:]
        var wildcard: [Int: Set<String>] = [:]
        let notTimeWait = ~(UInt32(1) << UInt32(SocketDiagnostics.timeWait))
        for family in [inet, inet6] {
            for transport in [tcp, udp, udpLite] {
                var found: [Int: Int] = [:]
                var foundAddresses: [[UInt8]: Int] = [:]
                var foundWildcard: [Int: Set<String>] = [:]
                do {
                    try client.dumpEach(operation: "SOCK_DIAG_BY_FAMILY (\(transport == tcp ? "TCP" : transport == udp ? "UDP" : "UDP-Lite") over IPv\(family == inet ? 4 : 6))",
                                        request: { SocketDiagnostics.dumpRequest(family: family, transport: transport, states: notTimeWait, sequence: $0) },
                                        restart: { (found, foundAddresses, foundWildcard) = ([:], [:], [:]) }) { message in
                        guard message.header.type == SocketDiagnostics.byFamily else { return }
                        let socket = try SocketDiagnostics.decode(message.payload)
                        // Inode 0: no process holds it (a FIN_WAIT2 or TIME_WAIT leftover, an orphaned socket).
                        guard socket.inode != 0, socket.state != SocketDiagnostics.timeWait else { return }
                        if socket.boundInterface != 0 {
                            found[Int(socket.boundInterface), default: 0] += 1
                        } else if let address = specificAddress(socket.localAddress) {
                            foundAddresses[address, default: 0] += 1
                        } else if let families = answersEveryAddress(socket, tcp: transport == tcp) {
                            let words = "\(transport == tcp ? "TCP" : transport == udp ? "UDP" : "UDP-Lite") port \(socket.localPort) on \(family == inet ? "0.0.0.0" : "::")"
                            for version in families { foundWildcard[version, default: []].insert(words) }
                        }
                    }
                } catch NetlinkError.kernel(_, let code, _) where (family == inet6 || transport == udpLite) && [ENOENT, EAFNOSUPPORT, EOPNOTSUPP].contains(code) {
                    // A kernel without IPv6 has no IPv6 sockets, one without UDP-Lite no UDP-Lite ones.
                    continue
                } catch {
                    return .failure(SocketUse.Unreadable(description: "the kernel's list of sockets could not be read: \(error)"))
                }
                counts.merge(found, uniquingKeysWith: +)
                addresses.merge(foundAddresses, uniquingKeysWith: +)
                wildcard.merge(foundWildcard) { $0.union($1) }
            }
        }
        switch xdpCounts(client: client, namespaceFD: namespaceFD, procRoot: procRoot) {
        case let .success(found): counts.merge(found, uniquingKeysWith: +)
        case let .failure(problem): return .failure(problem)
        }
        return .success((counts, addresses, wildcard.mapValues { $0.sorted() }))
    }

    /// The families (4, 6) whose every local address a socket bound to no device and to the
    /// wildcard address answers on: a TCP listener, or a UDP socket with a port and no peer; an
    /// IPv6 one for IPv4 too unless it is IPV6_V6ONLY (unsaid: IPv6 alone). Nil for any other.
    static func answersEveryAddress(_ socket: SocketDiagnostics.Socket, tcp: Bool) -> [Int]? {
        let listening = tcp ? socket.state == 10 : socket.state == 7 && socket.remotePort == 0     // TCP_LISTEN; TCP_CLOSE: unconnected
        guard listening, socket.localPort != 0, socket.localAddress.allSatisfy({ $0 == 0 }) else { return nil }
        if socket.family == inet { return [4] }
        return socket.v6Only == false ? [4, 6] : [6]
    }

    /// The address a socket is bound to as a device would carry it: 4 bytes for IPv4 and for
    /// IPv4-mapped IPv6 (`::ffff:10.9.0.1`, an IPv6 socket that takes IPv4), 16 for other IPv6;
    /// nil for none (the wildcard, all zero).
    static func specificAddress(_ local: [UInt8]) -> [UInt8]? {
        guard local.contains(where: { $0 != 0 }) else { return nil }
        if local.count == 16, local.prefix(10).allSatisfy({ $0 == 0 }), local[10] == 0xff, local[11] == 0xff {
            let mapped = Array(local.suffix(4))
            return mapped.contains(where: { $0 != 0 }) ? mapped : nil
        }
        return local
    }

    /// How many AF_XDP sockets are bound to each ifindex: a program that takes a device's packets
    /// straight from its driver (an XDP data plane, a traffic generator) uses it without a tun
    /// descriptor. Where the kernel cannot list them by device (AF_XDP socket diagnostics,
    /// `xsk_diag`, not built), the namespace's count of AF_XDP sockets (`/proc/net/protocols`)
    /// decides: none, nothing is bound; some, which device they use is unknown.
    static func xdpCounts(client: RtnetlinkClient, namespaceFD: Int32?, procRoot: String) -> Result<[Int: Int], SocketUse.Unreadable> {
        var found: [Int: Int] = [:]
        do {
            try client.dumpEach(operation: "SOCK_DIAG_BY_FAMILY (AF_XDP)", request: { SocketDiagnostics.xdpDumpRequest(sequence: $0) },
                                restart: { found = [:] }) { message in
                guard message.header.type == SocketDiagnostics.byFamily else { return }
                let index = try SocketDiagnostics.decodeXDP(message.payload)
                if index != 0 { found[Int(index), default: 0] += 1 }
            }
            return .success(found)
        } catch NetlinkError.kernel(_, let code, _) where [ENOENT, EAFNOSUPPORT, EOPNOTSUPP].contains(code) {
            switch NamespaceProcFile.read("protocols", namespaceFD: namespaceFD, procRoot: procRoot) {
            case let .success(text):
                let sockets = text.flatMap { xdpSocketsInUse(String(decoding: $0, as: UTF8.self)) } ?? 0
                guard sockets > 0 else { return .success([:]) }
                return .failure(SocketUse.Unreadable(description: "\(sockets) AF_XDP socket\(sockets == 1 ? " is" : "s are") open in the namespace, and this kernel cannot say which device each is bound to (no AF_XDP socket diagnostics: CONFIG_XDP_SOCKETS_DIAG, module xsk_diag)"))
            case let .failure(problem):
                return .failure(problem)
            }
        } catch {
            return .failure(SocketUse.Unreadable(description: "the kernel's list of AF_XDP sockets could not be read: \(error)"))
        }
    }

    /// The `sockets` column of the `XDP` line of `/proc/net/protocols`; nil when there is no
    /// such line (a kernel without AF_XDP).
    static func xdpSocketsInUse(_ text: String) -> Int? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count > 2, fields[0] == "XDP" { return Int(fields[2]) }
        }
        return nil
    }
}

/// The sockets that tie processes to devices without a tun descriptor: packet sockets
/// (`PacketSockets`), sockets bound with SO_BINDTODEVICE or to a device's address
/// (`BoundSockets`, and `RawSockets` for raw and ping sockets), and multicast memberships
/// (`MulticastMemberships`).
public enum SocketUse {
    /// Why a list could not be read.
    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Reads into `scan` the kernel's lists of what uses a device without a tun descriptor in the
    /// namespace behind `namespaceFD` (nil: this process's own): the sockets (`lists`),
    /// traffic-control redirects and filters that match a device by index, nftables forwards,
    /// IPsec policies that select a device by index, MPTCP endpoints that name one,
    /// legacy iptables TEE targets and the devices
    /// vxlan forwarding entries send through (unless `vxlanEntries` is false: the inventory reads
    /// those of the vxlans its own link dump lists). Each on its own: one that cannot be read takes
    /// nothing from the others and leaves `scan`'s counts for it as they were; for the
    /// socket lists, why goes into `socketsUnknown`, for the rule lists (nftables, xfrm, MPTCP
    /// endpoints, legacy iptables) into `rulesUnknown` (redirects and tc filters that cannot be
    /// read are left unsaid: they answer without privileges, and the reaper's last look reads
    /// them again and deletes nothing without them).
    public static func read(into scan: inout HolderScan, namespaceFD: Int32?, procRoot: String, vxlanEntries: Bool = true,
                            readDevice: @escaping RawSockets.DeviceReader = RawSockets.readDevice) {
        switch lists(namespaceFD: namespaceFD, procRoot: procRoot, readDevice: readDevice) {
        case let .success(lists): scan.socketLists = lists
        case let .failure(problem): scan.socketsUnknown = problem.description
        }
        // The lists of rules that name devices by index: one that cannot be read (nftables and
        // xfrm answer only CAP_NET_ADMIN) leaves every unheld tun/tap unknown, as the reaper's
        // last look deletes nothing without it (see `rulesUnknown`).
        var unreadRules: [(String, needs: [ProcessCapabilities.Capability])] = []
        switch NftablesForwards.found(namespaceFD: namespaceFD) {
        case let .success(found):
            (scan.forwards, scan.forwardsUnknown) = (found.counts, found.unresolved.map { "\($0), which may be this one" })
            (scan.nftablesHooks, scan.forwardsByName, scan.nftablesIndexUses) = (found.hooks, found.byName, found.indexUses)
        case let .failure(problem):
            unreadRules.append((problem.description, [ProcessCapabilities.netAdmin]))
        }
        switch XfrmPolicies.found(namespaceFD: namespaceFD) {
        case let .success(policies): scan.xfrmPolicies = policies
        case let .failure(problem): unreadRules.append((problem.description, [ProcessCapabilities.netAdmin]))
        }
        switch MptcpEndpoints.found(namespaceFD: namespaceFD) {
        case let .success(endpoints): scan.mptcpEndpoints = endpoints
        case let .failure(problem): unreadRules.append((problem.description, []))
        }
        // tc filters answer without privileges; ones that cannot be read are left unsaid as redirects are.
        if case let .success(filters) = TrafficFilters.found(namespaceFD: namespaceFD) {
            scan.tcFilterMatches = filters.matches
            // One whose device could not be told (renamed or deleted as it was read) may match any:
            // the reaper's last look deletes nothing then, and the audit says so.
            if let name = filters.unresolved.first {
                scan.forwardsUnknown = scan.forwardsUnknown
                    ?? "a tc filter matches the packets' input device \(name) by index, and which device that is could not be told as it was read, which may be this one"
            } else if let range = filters.ranges.first {
                scan.forwardsUnknown = scan.forwardsUnknown ?? "a tc filter compares the packets' devices with a range of indexes or names (\(range)), which may take in this one"
            }
        }
        // Legacy x_tables answer only CAP_NET_ADMIN too, on a raw socket (CAP_NET_RAW).
        switch XtablesForwards.found(namespaceFD: namespaceFD, procRoot: procRoot) {
        case let .success(legacy):
            scan.forwardsByName.merge(legacy.byName, uniquingKeysWith: +)
            if let unresolved = legacy.unresolved { scan.forwardsUnknown = scan.forwardsUnknown ?? "\(unresolved), which may be this one" }
        case let .failure(problem):
            unreadRules.append((problem.description, [ProcessCapabilities.netAdmin, ProcessCapabilities.netRaw]))
        }
        scan.rulesUnknown = ProcessCapabilities.unreadBecause(unreadRules)
        // Read without privileges; one that cannot be read is left unsaid as redirects are.
        if vxlanEntries, case let .success(vias) = VxlanForwarding.found(namespaceFD: namespaceFD) { scan.vxlanVias = vias }
        if case let .success(found) = TrafficRedirects.found(namespaceFD: namespaceFD) {
            scan.redirects = found.counts
            if let unresolved = found.unresolved { scan.forwardsUnknown = scan.forwardsUnknown ?? "\(unresolved), which may be this one" }
        }
    }

    /// The socket lists of the namespace behind `namespaceFD` (nil: this process's own): packet
    /// sockets and their memberships (`PacketSockets`), sockets bound to a device or an address
    /// (`BoundSockets`; raw and ping ones through `RawSockets`, asking `readDevice` for the
    /// device of those the kernel lists without it, and counted in `addressSockets` too),
    /// multicast groups joined on each device (`MulticastMemberships`), each by ifindex or
    /// address; `Unreadable` when any list could not be had.
    public static func lists(namespaceFD: Int32?, procRoot: String = "/proc",
                             readDevice: @escaping RawSockets.DeviceReader = RawSockets.readDevice) -> Result<SocketLists, Unreadable> {
        var lists = SocketLists()
        switch PacketSockets.counts(namespaceFD: namespaceFD, procRoot: procRoot) {
        case let .success(found): (lists.packet, lists.packetMemberships) = (found.bound, found.memberships)
        case let .failure(problem): return .failure(problem)
        }
        switch BoundSockets.boundCounts(namespaceFD: namespaceFD, procRoot: procRoot) {
        case let .success(found): (lists.bound, lists.addressSockets, lists.wildcardListeners) = (found.devices, found.addresses, found.wildcard)
        case let .failure(problem): return .failure(problem)
        }
        switch RawSockets.uses(namespaceFD: namespaceFD, procRoot: procRoot, readDevice: readDevice) {
        case let .success(found):
            (lists.raw, lists.rawAddresses) = (found.devices, found.addresses)
            for (address, sockets) in found.addresses { lists.addressSockets[address, default: 0] += sockets.count }
        case let .failure(problem): return .failure(problem)
        }
        switch MulticastMemberships.socketGroups(namespaceFD: namespaceFD, procRoot: procRoot) {
        case let .success(groups): lists.multicastGroups = groups
        case let .failure(problem): return .failure(problem)
        }
        return .success(lists)
    }
}
extension HolderScan {
    /// Takes `other`'s lists of what uses devices without a tun descriptor (sockets, redirects,
    /// forwards by index and by name, nftables hooks, nftables, xfrm and tc filter matches by index, vxlan
    /// forwarding entries, tcx programs), leaving its own
    /// holders as they are.
    public mutating func takeUses(of other: HolderScan) {
        (socketLists, redirects, vxlanVias) = (other.socketLists, other.redirects, other.vxlanVias)
        (forwards, forwardsUnknown, nftablesHooks, forwardsByName) = (other.forwards, other.forwardsUnknown, other.nftablesHooks, other.forwardsByName)
        (nftablesIndexUses, xfrmPolicies, tcFilterMatches) = (other.nftablesIndexUses, other.xfrmPolicies, other.tcFilterMatches)
        mptcpEndpoints = other.mptcpEndpoints
        (tcPrograms, tcProgramsUnknown) = (other.tcPrograms, other.tcProgramsUnknown)
        rulesUnknown = other.rulesUnknown
    }
}
#endif

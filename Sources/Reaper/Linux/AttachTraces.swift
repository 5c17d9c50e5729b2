#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// What tunwarden's own attach leaves on a single-queue device it gives back. Attaching turns the
/// device's carrier on, and on a device that is up the kernel then configures IPv6 as on any link
/// that comes up (net/ipv6/addrconf.c): a link-local address, with its fe80::/64 route and its
/// solicited-node membership, and the ff00::/8 multicast route. Neither goes when the carrier
/// goes off again. A device given back is rid of those that are new since just before the attach,
/// so that it is left as it was; the kernel's membership of ff02::1 and ff01::1, which a
/// multicast listing counts as the kernel's own, is the one trace that stays.
///
/// The carrier coming on changes what the device had too. IPv6 takes the link as ready, and runs
/// duplicate address detection on the addresses that were `tentative` (DAD never ran without
/// carrier): it goes on when the carrier is off again and makes them usable, with their `local`
/// routes; only taking the device down undoes that, which drops its IPv6 addresses and routes, so
/// it is said, not undone. The fence's alternative name, and the carrier going off, flush the
/// neighbour entries that are not permanent, managed ones made by hand among them: those are named.
struct AttachTraces: Sendable {
    /// The device's IPv6 addresses (their bytes) just before the attach.
    var addresses: Set<[UInt8]> = []
    /// Those of them that were tentative, with their prefix length.
    var tentative: [(bytes: [UInt8], prefixLength: UInt8)] = []
    /// Whether IPv6 took the link as ready just before (IF_READY; nil when not seen).
    var ready: Bool?
    /// The keys (`DownedState.key`) of the IPv6 routes that left through it alone just before.
    var routes: Set<[UInt8]> = []
    /// Its neighbour entries made by hand just before.
    var neighbours: [NeighbourMessage] = []
    /// Whether it is a device without ARP (whose NOARP entries are the kernel's).
    var withoutARP = false

    /// IFA_F_TENTATIVE and IFA_F_DADFAILED.
    static let tentativeFlag: UInt32 = 0x40, dadFailedFlag: UInt32 = 0x08
    /// IFF_NOARP.
    static let noARPFlag: UInt32 = 0x80

    /// The traces-before of each of `indices`, from one dump of IPv6 addresses, one of IPv6
    /// routes and those of neighbour entries, and a look at each device.
    static func read(for indices: Set<Int32>, client: RtnetlinkClient) throws -> [Int32: AttachTraces] {
        let inet6 = [DownedState.inet6]
        let addresses = try DownedState.addresses(of: indices, families: inet6, client: client)
        let routes = try DownedState.routes(through: indices, families: inet6, client: client)
        var links: [Int32: LinkMessage] = [:]
        for index in indices { links[index] = link(index, client: client) }
        let withoutARP = Set(indices.filter { (links[$0]?.flags ?? 0) & noARPFlag != 0 })
        let neighbours = try DownedState.neighbours(of: indices, withoutARP: withoutARP, client: client)
        var found: [Int32: AttachTraces] = [:]
        for index in indices {
            var traces = AttachTraces()
            for payload in addresses[index] ?? [] {
                guard let address = try? AddressMessage.decode(payload[...]), let bytes = address.local ?? address.address else { continue }
                traces.addresses.insert(bytes)
                if address.flags & tentativeFlag != 0, address.flags & dadFailedFlag == 0 { traces.tentative.append((bytes, address.prefixLength)) }
            }
            traces.ready = links[index]?.ipv6Flags.map { $0 & LinkMessage.ipv6Ready != 0 }
            traces.routes = Set((routes[index]?.alone ?? []).map(DownedState.key))
            traces.neighbours = neighbours[index] ?? []
            traces.withoutARP = withoutARP.contains(index)
            found[index] = traces
        }
        return found
    }

    /// Device `index` as the kernel shows it now; nil when it cannot be looked at.
    static func link(_ index: Int32, client: RtnetlinkClient) -> LinkMessage? {
        guard let replies = try? client.request(operation: "RTM_GETLINK", { LinkMessage.getRequest(index: index, sequence: $0) }),
              let reply = replies.first(where: { $0.header.type == NetlinkType.newLink }) else { return nil }
        return try? LinkMessage.decode(reply.payload)
    }

    /// Removes from device `index` (named `name`) the IPv6 link-local addresses the kernel made
    /// and the link-local and multicast routes it added that the device did not have before.
    /// Returns what was removed and, in words with the command that would finish, what was left,
    /// each a clause of its own (a tentative address duplicate address detection made
    /// usable, among others):
    /// a link-local address a kernel older than 6.3 made cannot be told from one made by hand
    /// (IFA_PROTO says), so it is named, not removed.
    func undo(index: Int32, name: [UInt8], namespace: String?, client: RtnetlinkClient) -> (removed: [String], left: [String]) {
        var removed: [String] = [], left: [String] = []
        let device = ShellWord.quote(name)
        do {
            for payload in try DownedState.addresses(of: [index], families: [DownedState.inet6], client: client)[index] ?? [] {
                guard let address = try? AddressMessage.decode(payload[...]), let bytes = address.local ?? address.address,
                      !addresses.contains(bytes), bytes.count == 16, bytes[0] == 0xfe, bytes[1] & 0xc0 == 0x80 else { continue }
                let text = "\(IPAddress(bytes: bytes).map { "\($0)" } ?? "an IPv6 link-local address")/\(address.prefixLength)"
                guard address.addressProtocol == AddressMessage.kernelLinkLocal else {
                    left.append("the IPv6 link-local address \(text), which came while tunwarden was attached (this kernel does not say whether it made it: `ip address del \(text) dev \(device)` removes it)")
                    continue
                }
                if let problem = Self.send(client, "RTM_DELADDR", { try Replay.deleteAddressRequest(fromDumped: payload[...], sequence: $0) }) {
                    left.append("the IPv6 link-local address \(text) its carrier coming on made (\(problem): `ip address del \(text) dev \(device)`)")
                } else {
                    removed.append("the IPv6 link-local address \(text)")
                }
            }
            // Read after the addresses are gone: a link-local address takes its own routes with it.
            for payload in try DownedState.routes(through: [index], families: [DownedState.inet6], client: client)[index]?.alone ?? [] {
                guard let route = try? RouteMessage.decode(payload[...]), route.protocolID == Self.kernelProtocol,
                      DownedState.kernelOwnsLinkLocal(route), !routes.contains(DownedState.key(payload)) else { continue }
                let text = "the route \(route.destination.flatMap { IPAddress(bytes: $0) }.map { "\($0)" } ?? "?")/\(route.destinationLength)"
                    + (route.table == Self.localTable ? " (table local)" : "")
                if let problem = Self.send(client, "RTM_DELROUTE", { try Replay.deleteRouteRequest(fromDumped: payload[...], sequence: $0) }) {
                    left.append("\(text) its carrier coming on made (\(problem))")
                } else {
                    removed.append(text)
                }
            }
        } catch {
            left.append("whether its carrier coming on while tunwarden was attached left it an IPv6 link-local address or route could not be seen (\(error))")
        }
        left += changedDuplicateDetection(index: index, client: client)
        return (removed, left.map { "it keeps \($0)" } + flushedNeighbours(device: device, namespace: namespace))
    }

    /// RTPROT_KERNEL: a route the kernel added itself.
    static let kernelProtocol: UInt8 = 2
    /// RT_TABLE_LOCAL.
    static let localTable: UInt32 = 255

    /// Sends one request; nil when the kernel took it (or the thing was already gone), else what
    /// went wrong.
    private static func send(_ client: RtnetlinkClient, _ operation: String, _ build: (UInt32) throws -> [UInt8]) -> String? {
        let probe: [UInt8]
        do { probe = try build(0) } catch { return "\(error)" }
        do {
            _ = try client.request(operation: operation) { sequence in (try? build(sequence)) ?? probe }
            return nil
        } catch NetlinkError.kernel(_, let code, _) where code == EADDRNOTAVAIL || code == ESRCH || code == ENOENT {
            return nil
        } catch {
            return "\(error)"
        }
    }
}
#endif

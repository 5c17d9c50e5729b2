#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// What tunwarden's own attach leaves on a single-queue device it gives back. Attaching turns the
/// device's carrier on, and on a device that is up and has had no carrier since it was set up, the
/// kernel then configures IPv6 as on any link that comes up (net/ipv6/addrconf.c): a link-local
/// address, with its fe80::/64 route and solicited-node membership, and the ff00::/8 multicast
/// route. They stay when the carrier goes off again, and they are left: the kernel marks the
/// device configured then (IF_READY), which only taking it down clears, so a device rid of them
/// would give its next holder no link-local address at all. A device given back says what it
/// gained instead of claiming to be as it was.
///
/// The carrier coming on changes what the device had too. IPv6 takes the link as ready, and runs
/// duplicate address detection on the addresses that were `tentative` (DAD never ran without
/// carrier): it goes on when the carrier is off again and makes them usable, with their `local`
/// routes; only taking the device down undoes that, which drops its IPv6 addresses and routes, so
/// it is said, not undone. The fence's alternative name, and the carrier going off, flush the
/// neighbour entries that are not permanent, managed ones made by hand among them: those are named.
struct AttachTraces: Sendable {
    /// The device's IPv6 addresses (their bytes) just before the fence.
    var addresses: Set<[UInt8]> = []
    /// Those of them that were tentative, with their prefix length.
    var tentative: [(bytes: [UInt8], prefixLength: UInt8)] = []
    /// Whether IPv6 took the link as ready just before (IF_READY; nil when not seen).
    var ready: Bool?
    /// Its neighbour entries made by hand just before.
    var neighbours: [NeighbourMessage] = []
    /// Whether it is a device without ARP (whose NOARP entries are the kernel's).
    var withoutARP = false

    /// IFA_F_TENTATIVE and IFA_F_DADFAILED.
    static let tentativeFlag: UInt32 = 0x40, dadFailedFlag: UInt32 = 0x08
    /// IFF_NOARP.
    static let noARPFlag: UInt32 = 0x80

    /// The traces-before of each of `indices`, from one dump of IPv6 addresses and those of
    /// neighbour entries, and a look at each device.
    static func read(for indices: Set<Int32>, client: RtnetlinkClient) throws -> [Int32: AttachTraces] {
        let addresses = try DownedState.addresses(of: indices, families: [DownedState.inet6], client: client)
        var links: [Int32: LinkMessage] = [:]
        for index in indices { links[index] = (try? LinuxReaper.link(at: index, client: client)) ?? nil }
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
            traces.neighbours = neighbours[index] ?? []
            traces.withoutARP = withoutARP.contains(index)
            found[index] = traces
        }
        return found
    }

    /// Device `index`'s IPv6 addresses now, what `gained(now:)` and `changedDuplicateDetection`
    /// compare with; nil when they cannot be listed.
    static func addressesNow(index: Int32, client: RtnetlinkClient) -> [AddressMessage]? {
        guard let now = try? DownedState.addresses(of: [index], families: [DownedState.inet6], client: client) else { return nil }
        return (now[index] ?? []).compactMap { try? AddressMessage.decode($0[...]) }
    }

    /// The IPv6 link-local addresses among `now` that the device did not have before, in words
    /// (`fe80::…/64`).
    func gained(now: [AddressMessage]) -> [String] {
        now.compactMap { address in
            guard let bytes = address.local ?? address.address,
                  !addresses.contains(bytes), bytes.count == 16, bytes[0] == 0xfe, bytes[1] & 0xc0 == 0x80 else { return nil }
            return "\(IPAddress(bytes: bytes).map { "\($0)" } ?? "?")/\(address.prefixLength)"
        }
    }
}
#endif

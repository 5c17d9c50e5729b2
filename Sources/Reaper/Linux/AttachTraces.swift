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
struct AttachTraces: Sendable {
    /// The device's IPv6 addresses (their bytes) just before the attach.
    var addresses: Set<[UInt8]> = []

    /// The traces-before of each of `indices`, from one dump of IPv6 addresses.
    static func read(for indices: Set<Int32>, client: RtnetlinkClient) throws -> [Int32: AttachTraces] {
        let addresses = try DownedState.addresses(of: indices, families: [DownedState.inet6], client: client)
        var found: [Int32: AttachTraces] = [:]
        for index in indices {
            var traces = AttachTraces()
            for payload in addresses[index] ?? [] {
                if let address = try? AddressMessage.decode(payload[...]), let bytes = address.local ?? address.address { traces.addresses.insert(bytes) }
            }
            found[index] = traces
        }
        return found
    }

    /// The IPv6 link-local addresses device `index` has now and did not have before, in words
    /// (`fe80::…/64`); nil when they cannot be listed.
    func gained(index: Int32, client: RtnetlinkClient) -> [String]? {
        guard let now = try? DownedState.addresses(of: [index], families: [DownedState.inet6], client: client) else { return nil }
        return (now[index] ?? []).compactMap { payload in
            guard let address = try? AddressMessage.decode(payload[...]), let bytes = address.local ?? address.address,
                  !addresses.contains(bytes), bytes.count == 16, bytes[0] == 0xfe, bytes[1] & 0xc0 == 0x80 else { return nil }
            return "\(IPAddress(bytes: bytes).map { "\($0)" } ?? "?")/\(address.prefixLength)"
        }
    }
}
#endif

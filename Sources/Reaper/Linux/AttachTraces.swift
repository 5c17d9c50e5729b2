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
struct AttachTraces: Sendable {
    /// The device's IPv6 addresses (their bytes) just before the attach.
    var addresses: Set<[UInt8]> = []
    /// The keys (`DownedState.key`) of the IPv6 routes that left through it alone just before.
    var routes: Set<[UInt8]> = []

    /// The traces-before of each of `indices`, from one dump of IPv6 addresses and one of IPv6
    /// routes.
    static func read(for indices: Set<Int32>, client: RtnetlinkClient) throws -> [Int32: AttachTraces] {
        let inet6 = [DownedState.inet6]
        let addresses = try DownedState.addresses(of: indices, families: inet6, client: client)
        let routes = try DownedState.routes(through: indices, families: inet6, client: client)
        var found: [Int32: AttachTraces] = [:]
        for index in indices {
            var traces = AttachTraces()
            for payload in addresses[index] ?? [] {
                if let address = try? AddressMessage.decode(payload[...]), let bytes = address.local ?? address.address { traces.addresses.insert(bytes) }
            }
            traces.routes = Set((routes[index]?.alone ?? []).map(DownedState.key))
            found[index] = traces
        }
        return found
    }

    /// Removes from device `index` (named `name`) the IPv6 link-local addresses the kernel made
    /// and the link-local and multicast routes it added that the device did not have before.
    /// Returns what was removed and, in words with the command that would finish, what was left:
    /// a link-local address a kernel older than 6.3 made cannot be told from one made by hand
    /// (IFA_PROTO says), so it is named, not removed.
    func undo(index: Int32, name: [UInt8], client: RtnetlinkClient) -> (removed: [String], left: [String]) {
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
        return (removed, left)
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

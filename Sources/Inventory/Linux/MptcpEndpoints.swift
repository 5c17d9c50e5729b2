#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// The MPTCP path manager's endpoints that name a device by its index (`ip mptcp endpoint add
/// 10.9.0.1 dev tap0 subflow`, see `MptcpEndpoint`): deleting the device leaves such an endpoint
/// naming an index no device has, so a device made again under the name no longer carries the
/// MPTCP path it was set up for.
public enum MptcpEndpoints {
    /// The endpoints of the namespace that name each ifindex, each in the words `ip mptcp
    /// endpoint` uses (`10.9.0.1 id 1 subflow`), over `client` (a NETLINK_GENERIC client in the
    /// namespace): one question for the family's number and one dump, whatever the number of
    /// devices. A kernel without the family (ENOENT) has none. Throws when the list cannot be had.
    public static func found(client: RtnetlinkClient) throws -> [Int: [String]] {
        let family: UInt16
        do {
            let replies = try client.request(operation: "CTRL_CMD_GETFAMILY (mptcp_pm)") { GenericNetlink.familyRequest(name: MptcpEndpoint.familyName, sequence: $0) }
            guard let reply = replies.first(where: { $0.header.type == GenericNetlink.controller }) else {
                throw NetlinkError.unexpectedReply(operation: "CTRL_CMD_GETFAMILY (mptcp_pm)", detail: "no answer but the acknowledgement")
            }
            family = try GenericNetlink.decodeFamilyID(reply.payload)
        } catch NetlinkError.kernel(_, let code, _) where code == ENOENT {
            return [:]
        }
        var found: [Int: [String]] = [:]
        try client.dumpEach(operation: "MPTCP_PM_CMD_GET_ADDR", request: { MptcpEndpoint.dumpRequest(family: family, sequence: $0) }, restart: { found = [:] }) { message in
            guard message.header.type == family, let endpoint = try MptcpEndpoint.decode(message.payload), endpoint.ifindex > 0 else { return }
            found[Int(endpoint.ifindex), default: []].append(words(endpoint))
        }
        return found
    }

    /// The same for the namespace behind `namespaceFD` (nil: this process's own), on a socket of
    /// its own; `Unreadable` when the endpoints cannot be had. A kernel built without MPTCP (no
    /// `sysctl`, /proc/sys/net/mptcp) has none, and nothing is asked: asking the controller for a
    /// family it does not know makes the kernel look for a module.
    public static func found(namespaceFD: Int32?, sysctl: String = "/proc/sys/net/mptcp") -> Result<[Int: [String]], SocketUse.Unreadable> {
        if access(sysctl, F_OK) != 0 { return .success([:]) }
        do {
            guard let socket = try NetlinkSocket.ifSupported(namespaceFD: namespaceFD, netlinkProtocol: GenericNetlink.netlinkProtocol) else { return .success([:]) }
            return .success(try found(client: RtnetlinkClient(transport: socket)))
        } catch {
            return .failure(SocketUse.Unreadable(description: "the kernel's list of MPTCP endpoints could not be read: \(error)"))
        }
    }

    /// An endpoint as `ip mptcp endpoint` shows it, without the device it names.
    static func words(_ endpoint: MptcpEndpoint) -> String {
        var words = IPAddress(bytes: endpoint.address).map { "\($0)" } ?? "(no address)"
        if endpoint.port != 0 { words += " port \(endpoint.port)" }
        words += " id \(endpoint.id)"
        for flag in endpoint.flagWords { words += " \(flag)" }
        return words
    }
}
#endif

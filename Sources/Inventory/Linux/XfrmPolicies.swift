#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// The IPsec (xfrm) policies whose selector names a device by its index (`ip xfrm policy add …
/// dev tap0`, see `XfrmPolicy`): deleting the device leaves such a policy selecting an index no
/// device has, so a device made again under the name is no longer covered by it.
public enum XfrmPolicies {
    /// The policies of the namespace whose selector names each ifindex, each in the words `ip
    /// xfrm policy` uses (`dir fwd src 0.0.0.0/0 dst 10.0.0.0/8 action block`), over `client` (a
    /// NETLINK_XFRM client in the namespace): one dump, whatever the number of devices. A kernel
    /// that refuses the dump as unsupported has none. Throws when the list cannot be had.
    public static func found(client: RtnetlinkClient) throws -> [Int: [String]] {
        var found: [Int: [String]] = [:]
        do {
            try client.dumpEach(operation: "XFRM_MSG_GETPOLICY", request: { XfrmPolicy.dumpRequest(sequence: $0) }, restart: { found = [:] }) { message in
                guard message.header.type == XfrmPolicy.newPolicy else { return }
                let policy = try XfrmPolicy.decode(message.payload)
                guard policy.ifindex > 0 else { return }
                found[Int(policy.ifindex), default: []].append(words(policy))
            }
        } catch NetlinkError.kernel(_, let code, _) where [EOPNOTSUPP, EPROTONOSUPPORT].contains(code) {
            return [:]
        }
        return found
    }

    /// The same for the namespace behind `namespaceFD` (nil: this process's own), on a socket of
    /// its own; `Unreadable` when the policies cannot be had (the kernel answers only
    /// CAP_NET_ADMIN). A kernel without xfrm (no NETLINK_XFRM) has none; where both of the
    /// modules policies are set through (xfrm_user for netlink, af_key for PF_KEY) are modules
    /// not loaded, none can exist, and none is asked for: asking would make the kernel load one.
    public static func found(namespaceFD: Int32?, modules: String = "/proc/modules") -> Result<[Int: [String]], SocketUse.Unreadable> {
        if !KernelModules.mayBeActive(["xfrm_user", "af_key"], modules: modules) { return .success([:]) }
        do {
            guard let socket = try NetlinkSocket.ifSupported(namespaceFD: namespaceFD, netlinkProtocol: XfrmPolicy.netlinkProtocol) else { return .success([:]) }
            return .success(try found(client: RtnetlinkClient(transport: socket)))
        } catch {
            return .failure(SocketUse.Unreadable(description: "the kernel's list of IPsec (xfrm) policies could not be read: \(error)"))
        }
    }

    /// A policy as `ip xfrm policy` shows it, without the device it names.
    static func words(_ policy: XfrmPolicy) -> String {
        let length = [2: 4, 10: 16][policy.family]
        let address = { (bytes: [UInt8], prefix: UInt8) -> String in
            guard let length, let address = IPAddress(bytes: Array(bytes.prefix(length))) else { return "any" }
            return "\(address)/\(prefix)"
        }
        var words = "dir \(policy.directionName) src \(address(policy.source, policy.sourcePrefix)) dst \(address(policy.destination, policy.destinationPrefix))"
        if policy.proto != 0 { words += " proto \(policy.proto)" }
        words += policy.action == 1 ? " action block" : policy.action == 0 ? " action allow" : " action \(policy.action)"
        return words
    }
}
#endif

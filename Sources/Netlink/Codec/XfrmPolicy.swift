/// IPsec (xfrm) policies (include/uapi/linux/xfrm.h, over NETLINK_XFRM), read for the device a
/// policy's selector names: `ip xfrm policy add … dev tap0` stores tap0's ifindex in
/// `struct xfrm_selector`'s `ifindex`, and the kernel matches it against a flow's output device.
/// Deleting the device leaves the policy in place (the kernel flushes only policies offloaded to
/// it), selecting an index no device has; a device made again under the same name gets another,
/// and a `block` policy meant for it then applies to nothing.
public struct XfrmPolicy: Equatable, Sendable {
    /// NETLINK_XFRM, the netlink protocol xfrm speaks.
    public static let netlinkProtocol: Int32 = 6
    /// XFRM_MSG_NEWPOLICY, as a dump lists each policy, and XFRM_MSG_GETPOLICY, which asks.
    public static let newPolicy: UInt16 = 0x13, getPolicy: UInt16 = 0x15
    /// The bytes of `struct xfrm_userpolicy_info` read, through `share`: `sel` (56 bytes), `lft`
    /// (64), `curlft` (32), `priority`, `index`, `dir`, `action`, `flags`, `share`. A 64-bit kernel
    /// pads it to 168.
    static let infoSize = 164

    /// The selector's address family (AF_INET 2, AF_INET6 10; 0 when the policy names none).
    public var family: UInt16
    /// The selector's destination and source, 16 bytes each as the kernel keeps them (an IPv4
    /// address in the first 4), with their prefix lengths.
    public var destination: [UInt8], destinationPrefix: UInt8
    public var source: [UInt8], sourcePrefix: UInt8
    /// The selector's IP protocol (0: any).
    public var proto: UInt8
    /// The selector's device (0: any), in host order as the kernel compares it.
    public var ifindex: Int32
    /// XFRM_POLICY_IN 0, OUT 1, FWD 2; a policy set on a socket adds XFRM_POLICY_MAX (3).
    public var direction: UInt8
    /// XFRM_POLICY_ALLOW 0, XFRM_POLICY_BLOCK 1.
    public var action: UInt8
    public var priority: UInt32

    public init(family: UInt16, destination: [UInt8], destinationPrefix: UInt8, source: [UInt8], sourcePrefix: UInt8, proto: UInt8,
                ifindex: Int32, direction: UInt8, action: UInt8, priority: UInt32) {
        (self.family, self.destination, self.destinationPrefix, self.source, self.sourcePrefix) = (family, destination, destinationPrefix, source, sourcePrefix)
        (self.proto, self.ifindex, self.direction, self.action, self.priority) = (proto, ifindex, direction, action, priority)
    }

    /// A dump request for every policy of the namespace (`ip xfrm policy list`).
    public static func dumpRequest(sequence: UInt32) -> [UInt8] {
        NetlinkMessage.encode(type: getPolicy, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: [])
    }

    /// The policy one XFRM_MSG_NEWPOLICY message describes. Throws for a payload shorter than
    /// the fields read of `struct xfrm_userpolicy_info`; the attributes after it are not read.
    public static func decode(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> XfrmPolicy {
        guard payload.count >= infoSize else { throw .truncated(what: "xfrm_userpolicy_info", need: infoSize, have: payload.count) }
        let at = { (offset: Int) in payload.startIndex + offset }
        return XfrmPolicy(family: payload.readNative(UInt16.self, at: at(40)),
                          destination: Array(payload[at(0)..<at(16)]), destinationPrefix: payload[at(42)],
                          source: Array(payload[at(16)..<at(32)]), sourcePrefix: payload[at(43)],
                          proto: payload[at(44)], ifindex: payload.readNative(Int32.self, at: at(48)),
                          direction: payload[at(160)], action: payload[at(161)], priority: payload.readNative(UInt32.self, at: at(152)))
    }

    /// How `ip xfrm policy` names the direction: `in`, `out`, `fwd`, or `socket in` and so on
    /// for a policy set on a socket.
    public var directionName: String {
        let names = ["in", "out", "fwd"]
        switch direction {
        case 0...2: return names[Int(direction)]
        case 3...5: return "socket " + names[Int(direction) - 3]
        default: return "\(direction)"
        }
    }
}

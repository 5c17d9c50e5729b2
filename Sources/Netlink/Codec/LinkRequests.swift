/// The RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK and link property requests tunwarden sends.
extension LinkMessage {
    /// An RTM_NEWLINK request that moves interface `index` into `group` (IFLA_GROUP), as
    /// `ip link set dev NAME group N` does.
    public static func setGroupRequest(index: Int32, group: UInt32, sequence: UInt32) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: headerSize)
        Swift.withUnsafeBytes(of: index) { header.replaceSubrange(4..<8, with: $0) }
        var attributes = AttributeEncoder(prefix: header)
        attributes.append(type: Attribute.group, uint32: group)
        return NetlinkMessage.encode(type: NetlinkType.newLink, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }

    /// An RTM_NEWLINK request that puts the interface that answers to `name` into `group`, found
    /// by the kernel by that name, not by an ifindex: a primary name (IFLA_IFNAME, which, being
    /// its name already, renames nothing) or, with `alternative`, an alternative name
    /// (IFLA_ALT_IFNAME, Linux 5.5+; given as IFLA_IFNAME it would rename the device). No device
    /// answers to a private name but the one given it, whatever took the ifindex of a device
    /// deleted meanwhile: ENODEV then.
    public static func setGroupRequest(name: [UInt8], alternative: Bool, group: UInt32, sequence: UInt32) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [UInt8](repeating: 0, count: headerSize))
        attributes.append(type: alternative ? Attribute.altIfname : Attribute.ifname, payload: name + [0])
        attributes.append(type: Attribute.group, uint32: group)
        return NetlinkMessage.encode(type: NetlinkType.newLink, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }

    /// An RTM_NEWLINK request that renames interface `index` to `name` (exact bytes, at most 15), as
    /// `ip link set dev OLD name NEW` does but keyed by index. The kernel refuses (EBUSY) while the
    /// device is up.
    public static func renameRequest(index: Int32, name: [UInt8], sequence: UInt32) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: headerSize)
        Swift.withUnsafeBytes(of: index) { header.replaceSubrange(4..<8, with: $0) }
        var attributes = AttributeEncoder(prefix: header)
        attributes.append(type: Attribute.ifname, payload: name + [0])
        return NetlinkMessage.encode(type: NetlinkType.newLink, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }

    /// An RTM_NEWLINK request that sets interface `index` up or down (IFF_UP in ifi_flags, with
    /// ifi_change naming only IFF_UP), as `ip link set dev NAME up|down` does.
    public static func setUpRequest(index: Int32, up: Bool, sequence: UInt32) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: headerSize)
        Swift.withUnsafeBytes(of: index) { header.replaceSubrange(4..<8, with: $0) }
        Swift.withUnsafeBytes(of: up ? flagUp : 0) { header.replaceSubrange(8..<12, with: $0) }
        Swift.withUnsafeBytes(of: flagUp) { header.replaceSubrange(12..<16, with: $0) }
        return NetlinkMessage.encode(type: NetlinkType.newLink, flags: NetlinkFlags.request, sequence: sequence, payload: header)
    }

    /// An RTM_NEWLINKPROP (`add`) or RTM_DELLINKPROP request for one alternative name of interface
    /// `index`, as `ip link property add|del dev NAME altname ALT` does but keyed by index.
    public static func altNameRequest(index: Int32, altName: [UInt8], add: Bool, sequence: UInt32) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: headerSize)
        Swift.withUnsafeBytes(of: index) { header.replaceSubrange(4..<8, with: $0) }
        var attributes = AttributeEncoder(prefix: header)
        attributes.appendNested(type: Attribute.propList) { $0.append(type: Attribute.altIfname, payload: altName + [0]) }
        return NetlinkMessage.encode(type: add ? newLinkProp : delLinkProp, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }

    /// An RTM_GETLINK request for the one interface `index`: not a dump, so the kernel answers
    /// from one consistent moment however fast links come and go.
    public static func getRequest(index: Int32, sequence: UInt32) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: headerSize)
        Swift.withUnsafeBytes(of: index) { header.replaceSubrange(4..<8, with: $0) }
        var attributes = AttributeEncoder(prefix: header)
        attributes.append(type: Attribute.extMask, uint32: skipStats)
        return NetlinkMessage.encode(type: NetlinkType.getLink, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }

    /// An RTM_GETLINK request for the one interface whose name is `name` (IFLA_IFNAME, the exact
    /// bytes): ENODEV when no device has it.
    public static func getRequest(name: [UInt8], sequence: UInt32) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [UInt8](repeating: 0, count: headerSize))
        attributes.append(type: Attribute.extMask, uint32: skipStats)
        attributes.append(type: Attribute.ifname, payload: name + [0])
        return NetlinkMessage.encode(type: NetlinkType.getLink, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }

    /// An RTM_DELLINK request for the interface that answers to `name`, found by the kernel by that
    /// name (IFLA_IFNAME, or with `alternative` IFLA_ALT_IFNAME, Linux 5.5+, which also finds an
    /// alternative name), not by an ifindex: ENODEV when no device answers to it.
    public static func deleteRequest(name: [UInt8], alternative: Bool, sequence: UInt32) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [UInt8](repeating: 0, count: headerSize))
        attributes.append(type: alternative ? Attribute.altIfname : Attribute.ifname, payload: name + [0])
        return NetlinkMessage.encode(type: NetlinkType.delLink, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }

    /// An RTM_DELLINK request for the one interface `index`.
    public static func deleteRequest(index: Int32, sequence: UInt32) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: headerSize)
        Swift.withUnsafeBytes(of: index) { header.replaceSubrange(4..<8, with: $0) }
        return NetlinkMessage.encode(type: NetlinkType.delLink, flags: NetlinkFlags.request, sequence: sequence, payload: header)
    }

    /// An RTM_GETLINK dump request for the interfaces of one kind (IFLA_LINKINFO/IFLA_INFO_KIND),
    /// which the kernel filters itself when that kind's driver is loaded; when it is not, no link
    /// of that kind can exist and the kernel answers with every link, so a caller must check
    /// the kind of each answer.
    public static func dumpRequest(kind: String, sequence: UInt32) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [UInt8](repeating: 0, count: headerSize))
        attributes.append(type: Attribute.extMask, uint32: skipStats)
        attributes.appendNested(type: Attribute.linkinfo) { $0.append(type: LinkInfoAttribute.kind, string: kind) }
        return NetlinkMessage.encode(type: NetlinkType.getLink, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: attributes.bytes)
    }

    /// An RTM_DELLINK request for every interface in `group`: one request, and the kernel
    /// unregisters them together, paying its RCU grace period once rather than once per device.
    public static func deleteGroupRequest(group: UInt32, sequence: UInt32) -> [UInt8] {
        var attributes = AttributeEncoder(prefix: [UInt8](repeating: 0, count: headerSize))
        attributes.append(type: Attribute.group, uint32: group)
        return NetlinkMessage.encode(type: NetlinkType.delLink, flags: NetlinkFlags.request, sequence: sequence, payload: attributes.bytes)
    }

    /// RTEXT_FILTER_SKIP_STATS. Despite its name the kernel still sends IFLA_STATS64 (the captured
    /// fixture shows it); what it leaves out are the per-link IPv6 and ICMPv6 statistics in
    /// IFLA_AF_SPEC, about a quarter of a tun device's message.
    public static let skipStats: UInt32 = 1 << 3

    /// An RTM_GETLINK dump request for every interface of every family, without the per-link
    /// IPv6 statistics unless `withStats` is set.
    public static func dumpRequest(sequence: UInt32, withStats: Bool = false) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: headerSize)
        var attributes = AttributeEncoder(prefix: payload)
        attributes.append(type: Attribute.extMask, uint32: withStats ? 0 : skipStats)
        payload = attributes.bytes
        return NetlinkMessage.encode(type: NetlinkType.getLink, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: payload)
    }
}

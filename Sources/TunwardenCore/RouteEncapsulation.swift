/// A route's (or a multipath hop's) lightweight tunnel encapsulation: the metadata a
/// collect-metadata tunnel device sends the packet with (`encap ip id 42 dst 10.0.0.9 ttl 7`).
/// Kept for the recreate commands, not part of the JSON schema.
public struct RouteEncapsulation: Sendable, Equatable {
    /// LWTUNNEL_ENCAP_* (include/uapi/linux/lwtunnel.h): 1 mpls, 2 ip, 3 ila, 4 ip6, 5 seg6, 6 bpf,
    /// 7 seg6local, 8 rpl, 9 ioam6, 10 xfrm. Only `ip` and `ip6` have their fields read.
    public var type: UInt16
    /// The tunnel id (VNI or key); 0 for none.
    public var id: UInt64 = 0
    /// The outer destination and source addresses, when set.
    public var destination: IPAddress?
    public var source: IPAddress?
    /// The outer TTL (`ip6`: hop limit) and type of service (`ip6`: traffic class); 0 for inherited.
    public var ttl: UInt8 = 0
    public var tos: UInt8 = 0
    /// TUNNEL_* flags (0x1 csum, 0x4 key, 0x8 seq).
    public var flags: UInt16 = 0
    /// Whether it carried geneve, vxlan or erspan options, which the recreate commands do not give back.
    public var hasOptions = false

    public init(type: UInt16) {
        self.type = type
    }

    /// `ip route`'s name of each LWTUNNEL_ENCAP_* type.
    static let typeNames: [UInt16: String] = [1: "mpls", 2: "ip", 3: "ila", 4: "ip6", 5: "seg6", 6: "bpf", 7: "seg6local", 8: "rpl",
                                              9: "ioam6", 10: "xfrm"]

    /// `mpls`, or `type 42` for a type ip has no name for.
    public var typeName: String { Self.typeNames[type] ?? "type \(type)" }

    /// The words `ip route add` takes for it (`encap ip id 42 dst 10.0.0.9 ttl 7 tos 0x10 key
    /// csum`), or nil for a type ip cannot be given back from what was read (all but `ip` and `ip6`).
    /// `tos` and `tc` are written in hex, the only base ip reads them in.
    public var ipWords: String? {
        guard type == 2 || type == 4 else { return nil }
        var words = "encap \(typeName)"
        if id != 0 { words += " id \(id)" }
        if let destination { words += " dst \(destination)" }
        if let source, !source.bytes.allSatisfy({ $0 == 0 }) { words += " src \(source)" }
        if ttl != 0 { words += (type == 2 ? " ttl " : " hoplimit ") + "\(ttl)" }
        if tos != 0 { words += (type == 2 ? " tos 0x" : " tc 0x") + String(tos, radix: 16) }
        for (bit, word) in [(UInt16(0x4), "key"), (0x1, "csum"), (0x8, "seq")] where flags & bit != 0 { words += " \(word)" }
        return words
    }

    /// What of it the recreate commands cannot write, for the comment line that says so; nil
    /// when they write all of it.
    public var unwritten: String? {
        guard ipWords != nil else { return "its encap \(typeName) (\(type))" }
        return hasOptions ? "the options of its encap \(typeName) (geneve_opts, vxlan_opts or erspan_opts)" : nil
    }
}

/// Linux link types (ARPHRD_*, include/uapi/linux/if_arp.h) as the recreate commands name them:
/// a tun is made ARPHRD_NONE and a tap ARPHRD_ETHER, and only a program attached to one can change
/// that (TUNSETLINK); no `ip` command can.
public enum LinkType {
    public static let ether: UInt16 = 1, none: UInt16 = 65534

    /// The type's name as `ip -d link` prints it (`link/gre`, iproute2's lib/ll_types.c), with its
    /// number; the number alone for one not listed here.
    public static func name(_ type: UInt16) -> String {
        let names: [UInt16: String] = [1: "ether", 512: "ppp", 768: "ipip", 769: "tunnel6", 772: "loopback", 776: "sit", 778: "gre",
                                       823: "ip6gre", 65534: "none", 65535: "void"]
        return names[type].map { "\($0) (ARPHRD \(type))" } ?? "ARPHRD \(type)"
    }
}

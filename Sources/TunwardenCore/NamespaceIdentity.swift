import Foundation

/// How tunwarden names a Linux network namespace in its observations: one incarnation of the
/// namespace, in one boot of the machine.
///
/// A namespace's inode number does not do: the kernel hands a freed inode number to the next
/// namespace it makes, so a namespace deleted and made again (under the same name, with devices of
/// the same names and indices) would inherit the old one's observations, grace periods included.
/// The kernel's namespace cookie (SO_NETNS_COOKIE) is never given to two namespaces in one boot;
/// the boot id (`/proc/sys/kernel/random/boot_id`) tells boots apart, since cookies start over.
///
/// - `netns-cookie:COOKIE@boot:BOOT-ID` where the kernel gives cookies (Linux 5.14 and later);
/// - `net:[INODE]@boot:BOOT-ID` where it does not. Then a namespace made again within one boot
///   can still take an old one's inode, and with it its observations: the weakness the cookie
///   removes.
///
/// Identities written before boot ids were part of them (`net:[INODE]` alone) match no current
/// identity, so observations made under them are never used again.
public enum NamespaceIdentity {
    /// The identity of a Linux network namespace, by its cookie when there is one, else its inode.
    public static func linux(cookie: UInt64?, inode: UInt64, bootID: String) -> String {
        let namespace = cookie.map { "netns-cookie:\($0)" } ?? "net:[\(inode)]"
        return namespace + bootSeparator + bootID
    }

    /// The boot a Linux identity belongs to; nil for one written before identities named their boot.
    public static func bootID(of identity: String) -> String? {
        guard let separator = identity.range(of: bootSeparator, options: .backwards) else { return nil }
        return String(identity[separator.upperBound...])
    }

    /// Whether an identity names a Linux network namespace, whatever its form (not a macOS
    /// system or a capture).
    public static func isLinux(_ identity: String) -> Bool {
        identity.hasPrefix("netns-cookie:") || identity.hasPrefix("net:[")
    }

    static let bootSeparator = "@boot:"
}

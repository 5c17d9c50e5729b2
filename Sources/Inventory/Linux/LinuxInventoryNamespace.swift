#if os(Linux)
import Foundation
import Glibc
import Netlink
import TunwardenCore

/// Reaching the inspected namespace: opening it (or the one held), a netlink socket inside it,
/// its identity in this boot, a socket subscribed to its changes for a watcher, the errors that
/// name it, and the names of the other namespaces holders were found in.
extension LinuxInventory {
    /// Opens the named namespace (fd and inode), or identifies the caller's own (inode only).
    /// A namespace held is reached through its descriptor, as long as its name still names it.
    func openNamespace() throws -> (fd: Int32?, inode: UInt64) {
        if let held {
            if let lost = held.nameLost() {
                var gone = InventoryError(lost)
                gone.namespaceGone = true
                throw gone
            }
            return (try held.duplicate(), held.inode)
        }
        guard let name = namespaceName else {
            guard case let .ok(own) = Sys.statPath("\(procRoot)/thread-self/ns/net") else {
                throw InventoryError("cannot identify this process's network namespace (\(procRoot)/thread-self/ns/net is unreadable); is /proc mounted?")
            }
            return (nil, own.inode)
        }
        let opened = try HeldNamespace(name: name, directory: namespaceDirectory)
        return (try opened.duplicate(), opened.inode)
    }

    /// The error for `what` failing in the inspected namespace, which it names. Entering another
    /// network namespace needs CAP_SYS_ADMIN, which root has: a refused setns says so, and is
    /// marked `needsRoot` for the command to say how to run it as root.
    func failure(_ what: String, _ error: any Error) -> InventoryError {
        guard let name = namespaceName.map(HeldNamespace.text) else { return InventoryError("\(what): \(error)") }
        guard case NetlinkError.enterNamespace(EPERM) = error else { return InventoryError("\(what) in namespace \(name): \(error)") }
        var refused = InventoryError("cannot enter network namespace '\(name)': that needs root (or CAP_SYS_ADMIN), which this process lacks (setns: EPERM)")
        refused.needsRoot = true
        return refused
    }

    /// The identity of the namespace this inventory inspects (see `NamespaceIdentity`), as
    /// snapshots record it, without taking a snapshot.
    public func namespaceIdentity() throws -> String {
        let bootID = try self.bootID()
        let (socket, inode) = try socketInNamespace()
        return NamespaceIdentity.linux(cookie: socket.namespaceCookie(), inode: inode, bootID: bootID)
    }

    public func namespaceIdentityAhead() -> String? {
        try? namespaceIdentity()
    }

    /// A netlink socket in the inspected namespace, and that namespace's inode; the namespace's
    /// descriptor is closed once the socket is made (the socket keeps the namespace).
    func socketInNamespace() throws -> (socket: NetlinkSocket, inode: UInt64) {
        let namespace = try openNamespace()
        defer { if let fd = namespace.fd { close(fd) } }
        do {
            return (try NetlinkSocket(namespaceFD: namespace.fd), namespace.inode)
        } catch {
            throw failure("cannot open a netlink socket", error)
        }
    }

    /// This boot's id: observations from another boot describe namespaces that are gone.
    func bootID() throws -> String {
        guard case let .ok(bytes) = Sys.readSmallFile(bootIDPath, limit: 256) else {
            throw InventoryError("cannot read this boot's id (\(bootIDPath)), which tells tunwarden's observations of one boot from another's; is /proc mounted?")
        }
        let id = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " \n")
        guard !id.isEmpty, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != 0x5c && $0 != 0x22 }) else {
            throw InventoryError("\(bootIDPath) holds no boot id")
        }
        return id
    }

    /// A socket in the inspected namespace subscribed to link, address, route, policy rule and nexthop object
    /// changes, for a watcher: every change there arrives on it as a message.
    public func eventSocket(receiveBuffer: Int32? = nil) throws -> NetlinkSocket {
        let socket = try socketInNamespace().socket
        if let receiveBuffer { socket.setReceiveBuffer(bytes: receiveBuffer) }
        try socket.subscribe([NetlinkSocket.Group.link, NetlinkSocket.Group.ipv4Address, NetlinkSocket.Group.ipv6Address,
                              NetlinkSocket.Group.ipv4Route, NetlinkSocket.Group.ipv6Route, NetlinkSocket.Group.ipv4Rule, NetlinkSocket.Group.ipv6Rule])
        // Nexthop objects exist from Linux 5.3; a kernel without them has none to change.
        try? socket.subscribe([NetlinkSocket.Group.nexthop])
        return socket
    }

    /// The names, as `ip netns` gives them, of the namespaces a holder scan found holders in
    /// beyond the inspected one (by identity, see `NamespaceNames.byIdentity`); none, without
    /// reading the directory, when every holder is in the inspected namespace.
    func namespaceNames(for scan: HolderScan) -> [String: String] {
        scan.attachments.contains { !$0.inInspectedNamespace } ? NamespaceNames.byIdentity(directory: namespaceDirectory) : [:]
    }

    /// Namespace names are file names under /run/netns, as `ip netns` makes them.
    public static func validateNamespaceName(_ name: String) throws {
        if !NamespaceName.isValid(name) {
            throw InventoryError("'\(HeldNamespace.text(name))' is not a network namespace name: names are plain file names under /run/netns, as `ip netns list` prints them")
        }
    }
}
#endif

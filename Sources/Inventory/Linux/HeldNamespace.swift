#if os(Linux)
import Glibc
import TunwardenCore

/// A named network namespace held open by a descriptor, so that every look and every act that
/// goes through it reaches that one namespace, whatever its name comes to name.
///
/// `ip netns del NAME` then `ip netns add NAME` (a service restarting) makes another namespace
/// under the same name, and whatever opens the name again reaches the new one: facts gathered in
/// one would be mixed with the other's, and a plan made in one carried out in the other. Held,
/// the namespace stays the one opened (the descriptor also keeps it alive), and `nameLost()`
/// tells when its name names another namespace, or nothing.
public final class HeldNamespace: @unchecked Sendable {
    /// Its name under `directory`, as `ip netns list` prints it.
    public let name: String
    public let directory: String
    /// The open namespace file; closed when this is released.
    public let descriptor: Int32
    /// The device and inode of the namespace file: one namespace, for as long as it is held.
    public let device: UInt64
    public let inode: UInt64

    /// Opens the namespace `name` names under `directory`. Throws the `InventoryError` an
    /// inventory of it would: a name that is no namespace name, no such namespace
    /// (`namespaceGone`), or one that cannot be opened.
    public init(name: String, directory: String = "/run/netns") throws {
        try LinuxInventory.validateNamespaceName(name)
        let path = "\(directory)/\(name)"
        switch Sys.openFile(path) {
        case let .ok(fd):
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                close(fd)
                throw InventoryError("cannot stat \(Self.text(path))")
            }
            descriptor = fd
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        case let .failed(code) where code == ENOENT:
            var gone = InventoryError("no network namespace named '\(Self.text(name))' (\(Self.text(path)) does not exist); `ip netns list` shows the names there are")
            gone.namespaceGone = true
            throw gone
        case let .failed(code):
            throw InventoryError("cannot open network namespace '\(Self.text(name))' at \(Self.text(path)): \(Sys.describe(code))")
        }
        self.name = name
        self.directory = directory
    }

    deinit { close(descriptor) }

    /// A new descriptor of the namespace held, for a caller that closes what it is given.
    func duplicate() throws -> Int32 {
        let fd = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard fd >= 0 else { throw InventoryError("cannot keep network namespace '\(Self.text(name))' open: \(Sys.describe(errno))") }
        return fd
    }

    /// Why the name no longer names the namespace held, or nil while it does (or cannot be
    /// looked at, which says nothing either way): it was deleted (`ip netns del`), or deleted and
    /// given to another namespace since.
    public func nameLost() -> String? {
        let path = "\(directory)/\(name)"
        switch Sys.fileIdentity(path) {
        case let .ok(now) where now.device == device && now.inode == inode:
            return nil
        case .ok:
            return "'\(Self.text(name))' names another network namespace now: the one it named was deleted and the name given to a new one (\(Self.text(path)))"
        case let .failed(code) where code == ENOENT:
            return "no network namespace named '\(Self.text(name))' any more (\(Self.text(path)) does not exist): it was deleted"
        case .failed:
            return nil
        }
    }

    /// `text` as people see it: each byte that is not printable UTF-8 (a newline, any control
    /// character) written `\xHH`, never raw, as `InterfaceName` writes names.
    static func text(_ text: String) -> String {
        InterfaceName.text(Array(text.utf8))
    }
}
#endif

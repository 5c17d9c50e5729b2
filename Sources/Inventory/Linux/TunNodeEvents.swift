#if os(Linux)
import Glibc

/// Opens and closes of the tun character device, through inotify.
///
/// A process attaching to a tun or tap device that is down, or letting go of one, raises no
/// rtnetlink event; but it opens the tun character device first, and closing its descriptor is
/// what lets go. inotify reports both (IN_OPEN, IN_CLOSE_*) on the device node's inode, for every
/// process on the machine whatever its namespaces, though not which process or device: the
/// watcher answers with a look at the devices that could have changed. A container whose /dev has
/// a node of its own (a tmpfs with the node made by mknod, as `--device /dev/net/tun` makes it) is
/// another inode: the node each known holder opened is watched as well (`watchNodes`), so that
/// the next process to open it there is heard too. A node nobody has held yet is not: the
/// watcher's periodic look covers it.
public final class TunNodeEvents {
    /// Readable when a watched node was opened or closed.
    public let descriptor: Int32
    /// The holders whose nodes are watched (or were tried), so that each is watched once.
    private var watchedFor: Set<Int32> = []
    private var buffer = [UInt8](repeating: 0, count: 4096)

    static let mask = UInt32(IN_OPEN) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_CLOSE_NOWRITE)

    /// Watches `path`, the tun device's usual node; throws when inotify is unavailable or the
    /// node cannot be watched (there is no /dev/net/tun here).
    public init(path: String = "/dev/net/tun") throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw Failure(call: "inotify_init1", errno: errno) }
        if inotify_add_watch(descriptor, path, Self.mask) < 0 {
            let code = errno
            Glibc.close(descriptor)
            throw Failure(call: "inotify_add_watch(\(path))", errno: code)
        }
    }

    /// Why node events are unavailable.
    public struct Failure: Error, CustomStringConvertible {
        public var call: String
        public var errno: Int32
        public var description: String { "\(call): \(String(cString: strerror(errno)))" }
    }

    /// Watches the node each of `holders` opened, named by one of its tun descriptors (pid to
    /// descriptor number), unless already watched for that process. Watching a node twice is one
    /// watch (inotify keys watches by inode), and a holder that has gone is passed over.
    public func watchNodes(of holders: [Int32: Int32]) {
        watchedFor.formIntersection(holders.keys)
        for (pid, fd) in holders where !watchedFor.contains(pid) {
            watchedFor.insert(pid)
            _ = inotify_add_watch(descriptor, "/proc/\(pid)/fd/\(fd)", Self.mask)
        }
    }

    /// What the queued events told.
    public struct Activity: Equatable {
        /// A node was opened, or events were lost (IN_Q_OVERFLOW): an attach may follow.
        public var opened = false
        /// A node's descriptor was closed for the last time: what it held is let go of at once.
        public var closed = false
    }

    /// Reads every queued event without blocking. Nothing opened or closed when only the end of
    /// a watch came (a container's node gone with its mount).
    public func drain() -> Activity {
        var activity = Activity()
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return activity }
            // struct inotify_event: wd (4 bytes), mask (4), cookie (4), len (4), then len bytes of name.
            var offset = 0
            while offset + 16 <= count {
                let mask = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
                let length = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) }
                if mask & (UInt32(IN_OPEN) | UInt32(IN_Q_OVERFLOW)) != 0 { activity.opened = true }
                if mask & (UInt32(IN_CLOSE_WRITE) | UInt32(IN_CLOSE_NOWRITE)) != 0 { activity.closed = true }
                offset += 16 + Int(length)
            }
        }
    }

    public func close() { Glibc.close(descriptor) }
}
#endif

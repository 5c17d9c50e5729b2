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
    /// The node watched before any holder names one, and its watch (-1 while it cannot be watched).
    private let path: String
    private var pathWatch: Int32 = -1
    /// The holders whose nodes are watched (or were tried), so that each is watched once.
    private var watchedFor: Set<Int32> = []
    private var failureNoted = false
    private var buffer = [UInt8](repeating: 0, count: 4096)

    static let mask = UInt32(IN_OPEN) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_CLOSE_NOWRITE)
    /// The tun device's number, misc major 10 and TUN_MINOR 200, as the kernel encodes a device
    /// number whose major is below 4096 and minor below 256 (include/linux/kdev_t.h,
    /// new_encode_dev): the major above the minor's 8 bits.
    static let tunDevice: dev_t = 10 << 8 | 200

    /// Watches `path`, the tun device's usual node; throws when inotify is unavailable. A node
    /// that cannot be watched (no /dev/net/tun in this mount namespace) is told by `takeProblem`,
    /// and the nodes of holders are watched all the same.
    public init(path: String = "/dev/net/tun") throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw Failure(call: "inotify_init1", errno: errno) }
        self.path = path
        if !watchPathAgain() { problem = Failure(call: "inotify_add_watch(\(path))", errno: errno).description }
    }

    /// A watch that could not be added since the last call, once per kind: `path`'s, or the first
    /// holder's node that could not be (the watch limit reached, say).
    public func takeProblem() -> String? {
        defer { problem = nil }
        return problem
    }
    private var problem: String?

    /// Why node events are unavailable.
    public struct Failure: Error, CustomStringConvertible {
        public var call: String
        public var errno: Int32
        public var description: String { "\(call): \(Sys.describe(errno))" }
    }

    /// Watches the node each of `holders` opened, named by one of its tun descriptors (pid to
    /// descriptor number), unless already watched for that process. The descriptor is opened
    /// (O_PATH) and checked to be the tun device before its node is watched, through that very
    /// descriptor: a number the holder has since closed and reused for another file is passed
    /// over. Watching a node twice is one watch (inotify keys watches by inode), and a holder that
    /// has gone is passed over.
    public func watchNodes(of holders: [Int32: Int32], procRoot: String = "/proc") {
        watchedFor.formIntersection(holders.keys)
        for (pid, fd) in holders where !watchedFor.contains(pid) {
            watchedFor.insert(pid)
            guard case let .ok(opened) = Sys.openPathOnly("\(procRoot)/\(pid)/fd/\(fd)") else { continue }
            defer { Glibc.close(opened) }
            guard case .ok(Self.tunDevice?) = Sys.characterDevice(opened) else { continue }
            if inotify_add_watch(descriptor, "/proc/self/fd/\(opened)", Self.mask) < 0, !failureNoted {
                failureNoted = true
                problem = Failure(call: "inotify_add_watch(the tun node of pid \(pid))", errno: errno).description
            }
        }
    }

    /// What the queued events told.
    public struct Activity: Equatable {
        /// A node was opened, events were lost (IN_Q_OVERFLOW), or `path` was watched again after
        /// its watch ended: an attach may follow, or may have gone unheard.
        public var opened = false
        /// A node's descriptor was closed for the last time: what it held is let go of.
        public var closed = false
    }

    /// Reads the queued events without blocking, at most 64 buffers' worth per call (a process
    /// opening and closing the node in a loop does not keep the caller here; what is left makes
    /// the descriptor readable again). Nothing opened or closed when only the end of a holder's
    /// node's watch came (a container's node gone with its mount). The end of `path`'s watch (the
    /// node deleted and made again) is followed by watching it again, and counts as an open.
    public func drain() -> Activity {
        var activity = Activity()
        var pathEnded = false
        for _ in 0..<64 {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            // struct inotify_event: wd (4 bytes), mask (4), cookie (4), len (4), then len bytes of name.
            var offset = 0
            while offset + 16 <= count {
                let watch = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int32.self) }
                let mask = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
                let length = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) }
                if mask & (UInt32(IN_OPEN) | UInt32(IN_Q_OVERFLOW)) != 0 { activity.opened = true }
                if mask & (UInt32(IN_CLOSE_WRITE) | UInt32(IN_CLOSE_NOWRITE)) != 0 { activity.closed = true }
                if mask & UInt32(IN_IGNORED) != 0, watch == pathWatch { pathEnded = true }
                offset += 16 + Int(length)
            }
        }
        if pathEnded {
            // What happened before it is watched again may have gone unheard: taken as an open.
            activity.opened = true
            pathWatch = -1
            if !watchPathAgain() { problem = Failure(call: "inotify_add_watch(\(path)) again", errno: errno).description }
        }
        return activity
    }

    /// Watches `path` if it is not watched: at start, when its watch ended, and at each look (it
    /// was missing, or made again and not yet there when `drain` tried). True when it is watched
    /// anew, and what happened before may have gone unheard.
    public func watchPathAgain() -> Bool {
        guard pathWatch < 0 else { return false }
        pathWatch = inotify_add_watch(descriptor, path, Self.mask)
        return pathWatch >= 0
    }

    public func close() { Glibc.close(descriptor) }
}
#endif

#if os(Linux)
import Foundation
import Glibc

/// The machine's boot clock, which the grace period before a reap counts on.
///
/// CLOCK_BOOTTIME counts the seconds since boot, suspended time included, and nothing steps it:
/// not NTP's first sync, not `date -s`, not a virtual machine resumed from a snapshot, all of
/// which move the wall clock by hours. Its readings compare only within one boot, which is why
/// observations keep them under a namespace identity that names its boot (`NamespaceIdentity`).
///
/// A time namespace (`unshare --time --boottime N`, a container CRIU restored) shows its
/// processes the boot clock moved by an offset of its own: the reading is taken back to the
/// host's by that offset, so that a run in one namespace and a run in another compare.
public enum BootClock {
    /// The host's boot clock now, in seconds; nil in the unlikely case the kernel refuses to read
    /// it, or its time namespace's offset cannot be read (then ages count on the wall clock, as on
    /// a platform without one).
    public static func now(offsetsPath: String = "/proc/self/timens_offsets") -> TimeInterval? {
        var time = timespec()
        guard clock_gettime(CLOCK_BOOTTIME, &time) == 0, let offset = offset(at: offsetsPath) else { return nil }
        return TimeInterval(time.tv_sec) + TimeInterval(time.tv_nsec) / 1e9 - offset
    }

    /// The boot clock's offset, in seconds, in the time namespace `/proc/self/timens_offsets`
    /// describes (`boottime SECONDS NANOSECONDS`); 0 where the file does not exist (a kernel
    /// without time namespaces), nil where it cannot be read or understood.
    static func offset(at path: String) -> TimeInterval? {
        switch Sys.readSmallFile(path) {
        case let .ok(bytes): return offset(in: String(decoding: bytes, as: UTF8.self))
        case .failed(ENOENT): return 0
        case .failed: return nil
        }
    }

    /// The `boottime` line's offset in the text of a `timens_offsets` file; nil without one.
    static func offset(in text: String) -> TimeInterval? {
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 3, fields[0] == "boottime" || fields[0] == "7" else { continue }
            guard let seconds = Int64(fields[1]), let nanoseconds = Int64(fields[2]) else { return nil }
            return TimeInterval(seconds) + TimeInterval(nanoseconds) / 1e9
        }
        return nil
    }
}
#endif

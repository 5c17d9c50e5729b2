#if os(Linux)
import Foundation
import Glibc

/// The machine's boot clock, which the grace period before a reap counts on.
///
/// CLOCK_BOOTTIME counts the seconds since boot, suspended time included, and nothing steps it:
/// not NTP's first sync, not `date -s`, not a virtual machine resumed from a snapshot, all of
/// which move the wall clock by hours. Its readings compare only within one boot, which is why
/// observations keep them under a namespace identity that names its boot (`NamespaceIdentity`).
public enum BootClock {
    /// The boot clock now, in seconds; nil in the unlikely case the kernel refuses to read it
    /// (then ages count on the wall clock, as on a platform without one).
    public static func now() -> TimeInterval? {
        var time = timespec()
        guard clock_gettime(CLOCK_BOOTTIME, &time) == 0 else { return nil }
        return TimeInterval(time.tv_sec) + TimeInterval(time.tv_nsec) / 1e9
    }
}
#endif

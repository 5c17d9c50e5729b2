#if os(Linux)
import Glibc

extension ForeignStacking.Found {
    /// The namespaces that could not be looked at, the first three by name, and why where setns(2)
    /// refused them, with the remedy (`tw-a, tw-b, net:[4026531833] could not be read: entering
    /// them needs CAP_SYS_ADMIN, which this process lacks (…)`); nil when every one was read.
    public func unreadText(status path: String = "/proc/self/status") -> String? {
        guard !unread.isEmpty else { return nil }
        let named = unread.prefix(3).joined(separator: ", ") + (unread.count > 3 ? ", and \(unread.count - 3) more" : "")
        var text = "\(named) could not be read"
        if enterErrno == EPERM {
            if ProcessCapabilities.missing([ProcessCapabilities.sysAdmin], status: path).isEmpty {
                text += ": setns(2) refused to enter them although this process has CAP_SYS_ADMIN, so a seccomp filter forbids it, "
                    + "as systemd's RestrictNamespaces=yes does (RestrictNamespaces=net, which the packaged units set, allows it)"
            } else {
                text += ": entering them needs CAP_SYS_ADMIN, which this process lacks (run it as root, or give its unit "
                    + "CAP_SYS_ADMIN and RestrictNamespaces=net, as the packaged units have)"
            }
        } else if let enterErrno {
            text += ": setns: \(Sys.describe(enterErrno))"
        }
        return text
    }
}
#endif

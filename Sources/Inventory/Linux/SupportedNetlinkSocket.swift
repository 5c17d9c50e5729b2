#if os(Linux)
import Glibc
import Netlink

extension NetlinkSocket {
    /// A socket of `netlinkProtocol` in the namespace behind `namespaceFD` (nil: this process's
    /// own), or nil where the kernel was built without that protocol (EPROTONOSUPPORT): what it
    /// would list cannot exist there.
    static func ifSupported(namespaceFD: Int32?, netlinkProtocol: Int32) throws -> NetlinkSocket? {
        do {
            return try NetlinkSocket(namespaceFD: namespaceFD, netlinkProtocol: netlinkProtocol)
        } catch NetlinkError.system(_, let code) where code == EPROTONOSUPPORT {
            return nil
        }
    }
}
#endif

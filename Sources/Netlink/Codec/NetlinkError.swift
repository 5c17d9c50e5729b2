/// Everything that can go wrong while encoding, decoding or exchanging netlink messages.
///
/// Malformed input always ends up here as a value; the codec never traps on bytes it was given.
public enum NetlinkError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A structure needed `need` bytes but only `have` were left.
    case truncated(what: String, need: Int, have: Int)
    /// Bytes that cannot be what they claim to be.
    case malformed(String)
    /// The kernel refused a request: the operation, its errno and, when sent, the extended-ack text.
    case kernel(operation: String, errno: Int32, message: String?)
    /// A dump came back with NLM_F_DUMP_INTR on every attempt: the kernel's view changed while it was
    /// being read, so the result may be inconsistent and must not be acted on.
    case dumpInterrupted(operation: String, attempts: Int)
    /// A reply that does not belong to the request in flight.
    case unexpectedReply(operation: String, detail: String)
    /// A system call failed.
    case system(call: String, errno: Int32)
    /// A request was sent but its answer could not be read (the receive failed, or what came back
    /// could not be made out): the kernel may or may not have carried it out, so whoever sent it
    /// must look at what it was to change before saying either.
    case unanswered(operation: String, detail: String)
    /// A thread could not enter the network namespace it was to work in (setns); EPERM means the
    /// process lacks CAP_SYS_ADMIN there.
    case enterNamespace(errno: Int32)

    public var description: String {
        switch self {
        case let .truncated(what, need, have):
            return "truncated \(what): needs \(need) bytes, \(have) left"
        case let .malformed(detail):
            return "malformed netlink data: \(detail)"
        case let .kernel(operation, errno, message):
            var text = "\(operation) failed: \(ErrnoName.describe(errno))"
            if let message, !message.isEmpty { text += ": \(message)" }
            return text
        case let .dumpInterrupted(operation, attempts):
            return "\(operation) dump was interrupted by concurrent changes \(attempts) times in a row (NLM_F_DUMP_INTR); the view is inconsistent and nothing was acted on"
        case let .unexpectedReply(operation, detail):
            return "\(operation): unexpected reply: \(detail)"
        case let .system(call, errno):
            return "\(call) failed: \(ErrnoName.describe(errno))"
        case let .unanswered(operation, detail):
            return "\(operation) was sent, but its answer was lost (\(detail)); whether the kernel carried it out is not known"
        case let .enterNamespace(errno):
            return "setns(CLONE_NEWNET) failed: \(ErrnoName.describe(errno))"
        }
    }
}

/// Readable names for the errno values netlink work meets, without depending on a C library.
public enum ErrnoName {
    static let names: [Int32: (String, String)] = [
        1: ("EPERM", "Operation not permitted"),
        2: ("ENOENT", "No such file or directory"),
        3: ("ESRCH", "No such process"),
        4: ("EINTR", "Interrupted system call"),
        9: ("EBADF", "Bad file descriptor"),
        11: ("EAGAIN", "Resource temporarily unavailable"),
        12: ("ENOMEM", "Cannot allocate memory"),
        13: ("EACCES", "Permission denied"),
        16: ("EBUSY", "Device or resource busy"),
        17: ("EEXIST", "File exists"),
        19: ("ENODEV", "No such device"),
        22: ("EINVAL", "Invalid argument"),
        24: ("EMFILE", "Too many open files"),
        75: ("EOVERFLOW", "Value too large for defined data type"),
        93: ("EPROTONOSUPPORT", "Protocol not supported"),
        95: ("EOPNOTSUPP", "Operation not supported"),
        97: ("EAFNOSUPPORT", "Address family not supported by protocol"),
        105: ("ENOBUFS", "No buffer space available"),
    ]

    /// "Device or resource busy (EBUSY)" for known values, "errno 123" otherwise.
    public static func describe(_ errno: Int32) -> String {
        if let (symbol, text) = names[errno] { return "\(text) (\(symbol))" }
        return "errno \(errno)"
    }
}

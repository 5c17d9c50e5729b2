import Foundation

/// The network namespace a reap's recreate commands make its devices again in, as the plan, the
/// JSON and the journal all write it: the name `ip -n` is given (`--netns`, or the name `ip netns`
/// knows the caller's namespace by), as its exact bytes; or, for a caller's namespace with no such
/// name (other than the one process 1 runs in), its identity, which a first comment line names.
public struct RecreatePlace: Sendable, Equatable {
    /// The bytes of the name under /run/netns; nil when the commands name no namespace.
    public var name: [UInt8]?
    /// `net:[INODE]` of a namespace with no name, whose commands must be run inside it.
    public var unnamedIdentity: String?
    /// `net:[INODE]` of a named namespace, said beside a name that is not UTF-8.
    public var identity: String?
    /// What a new device takes there (its `net.ipv4.conf.default.*` and `net.ipv6.conf.default.*`),
    /// read where the commands are written, for the lines that set a device's own sysctls that
    /// differ; nil when they were not read (the commands then set all of them, and say why).
    public var sysctlDefaults: NamespaceSysctlDefaults?
    /// Whether the kernel there marks the link-local addresses it makes (`Snapshot.kernelMarksAddresses`):
    /// then the commands add every link-local address without the mark, as one added by hand.
    public var kernelMarksAddresses = false

    public init(name: [UInt8]? = nil, unnamedIdentity: String? = nil, identity: String? = nil) {
        self.name = name
        self.unnamedIdentity = unnamedIdentity
        self.identity = identity
    }

    /// The place `--netns NAME` names (nil: the commands name none).
    public init(namespace: String?) {
        self.init(name: namespace.map { Array($0.utf8) })
    }

    /// The name as records and JSON give it (`netns`): as it is when it is UTF-8, else with each
    /// byte that is not printable UTF-8 written `\xHH` (`InterfaceName.text`).
    public var netns: String? {
        name.map { String(validating: $0, as: UTF8.self) ?? InterfaceName.text($0) }
    }

    /// `ip -n NAME` with the name's exact bytes as one shell word (`"$(printf 'ns\377')"` for
    /// bytes that are not UTF-8), or `ip`.
    public var ipWord: String {
        name.map { "ip -n \(ShellWord.quote($0))" } ?? "ip"
    }

    /// The comment line that heads each device's commands, or nil: where a namespace with no name
    /// is, or that a name that is not UTF-8 is given by its bytes.
    public var note: String? {
        if let unnamedIdentity { return RecreateCommands.unnamedNamespaceNote(unnamedIdentity) }
        guard let name, String(validating: name, as: UTF8.self) == nil else { return nil }
        return "# namespace \(identity.map { "\($0) " } ?? "")is named \(InterfaceName.text(name)) under /run/netns, bytes that are not UTF-8 "
            + "(shown with \\xHH): `ip -n` is given them exactly, through printf, so these run from any namespace"
    }
}

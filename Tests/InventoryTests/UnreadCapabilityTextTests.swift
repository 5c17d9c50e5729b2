#if os(Linux)
import Foundation
import Glibc
import Testing
@testable import Inventory
import TestSupport

/// What an audit and a reap say when the kernel kept something from them for want of a
/// capability: the capability by name, and the unit setting that gives it, read from the
/// process's own effective set (`CapEff` in /proc/self/status, given here as files).
@Suite struct UnreadCapabilityTextTests {
    /// A status file whose effective set is `mask`.
    static func status(_ mask: UInt64, in directory: TemporaryDirectory) throws -> String {
        let path = directory.path + "/status-\(String(mask, radix: 16))"
        try Data("Name:\ttunwarden\nCapInh:\t0000000000000000\nCapEff:\t\(String(format: "%016llx", mask))\n".utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func aRefusedSetnsNamesTheCapabilityOrTheFilter() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ptraceOnly = try Self.status(1 << 19 | 1 << 2, in: directory), withAdmin = try Self.status(1 << 21 | 1 << 19 | 1 << 2, in: directory)
        var found = ForeignStacking.Found(unread: ["tw-a", "tw-b", "net:[4026531833]", "tw-c"])
        #expect(found.unreadText(status: ptraceOnly) == "tw-a, tw-b, net:[4026531833], and 1 more could not be read")
        found.enterErrno = EPERM
        #expect(found.unreadText(status: ptraceOnly) == "tw-a, tw-b, net:[4026531833], and 1 more could not be read: entering them needs CAP_SYS_ADMIN, "
                + "which this process lacks (run it as root, or give its unit CAP_SYS_ADMIN and RestrictNamespaces=net, as the packaged units have)")
        #expect(found.unreadText(status: withAdmin)?.hasSuffix(": setns(2) refused to enter them although this process has CAP_SYS_ADMIN, so a seccomp filter "
                + "forbids it, as systemd's RestrictNamespaces=yes does (RestrictNamespaces=net, which the packaged units set, allows it)") == true)
        #expect(ForeignStacking.Found().unreadText(status: ptraceOnly) == nil)
    }

    @Test func unreadRulesNameOnlyTheCapabilitiesMissing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let none = try Self.status(0, in: directory), netAdmin = try Self.status(1 << 12, in: directory)
        let nftables = ("the kernel's list of nftables rules could not be read: EPERM", needs: [ProcessCapabilities.netAdmin])
        let legacy = ("the kernel's IPv4 mangle table could not be read: socket: EPERM", needs: [ProcessCapabilities.netAdmin, ProcessCapabilities.netRaw])
        #expect(ProcessCapabilities.unreadBecause([], status: none) == nil)
        #expect(ProcessCapabilities.unreadBecause([nftables], status: none)
                == "the kernel's list of nftables rules could not be read: EPERM; reading it needs CAP_NET_ADMIN, which this process lacks")
        #expect(ProcessCapabilities.unreadBecause([nftables, legacy], status: netAdmin)
                == "the kernel's list of nftables rules could not be read: EPERM; the kernel's IPv4 mangle table could not be read: socket: EPERM; "
                    + "reading these needs CAP_NET_RAW, which this process lacks")
        #expect(ProcessCapabilities.unreadBecause([nftables], status: netAdmin) == "the kernel's list of nftables rules could not be read: EPERM")
    }
}
#endif

#if os(Linux)
import Foundation
import Glibc
import Inventory
import Netlink
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// The repair of a fenced target moved to a namespace it cannot enter (faults 54, F4), against
/// the real kernel, as root, in throwaway namespaces: it says which namespace it could not look
/// in, and leaves the intent open, so that a later repair that can enter it finds the device and
/// gives it back there.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct RepairUnenterableKernelTests {
    /// The real kernel's rtnetlink, except that entering the namespace with inode `refused` is
    /// refused, as setns is without CAP_SYS_ADMIN.
    struct Refusing: RtnetlinkConnector {
        var refused: UInt64
        func connect(namespaceFD: Int32?) throws -> any NetlinkTransport {
            var status = stat()
            if let namespaceFD, fstat(namespaceFD, &status) == 0, UInt64(status.st_ino) == refused {
                throw NetlinkError.enterNamespace(errno: EPERM)
            }
            return try KernelRtnetlink().connect(namespaceFD: namespaceFD)
        }
    }

    /// Old code: "none of the N other namespaces tunwarden can see holds a device bearing its
    /// private name", failed, the intent answered; the next repair said nothing, and the tap
    /// stayed fenced for good.
    @Test func aNamespaceThatCannotBeEnteredIsNamedAndTheIntentKeptOpen() throws {
        let ns = try TestNamespace(), other = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); other.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "k4mv", "mode", "tap")
        let journal = Journal(path: state.path + "/journal.jsonl")
        let group: UInt32 = 0x1234_f544
        let index = try journalKilledIntent(ns, journal, "k4mv", fenceName: "tw000000000f544", group: group)
        try ns.ip("link", "property", "add", "dev", "k4mv", "altname", "tw000000000f544")
        try ns.ip("link", "set", "k4mv", "group", "\(group)")
        try ns.ip("link", "set", "dev", "k4mv", "netns", other.name)
        var status = stat()
        try #require(stat("/run/netns/\(other.name)", &status) == 0)

        var refused = LinuxReaper(namespaceName: ns.name)
        refused.system.rtnetlink = Refusing(refused: UInt64(status.st_ino))
        let first = try #require(try refused.repairInterrupted(journal: journal).first { $0.ifindex == index })
        #expect(first.result == .failed && first.detail.contains("1 could not be looked in (") && first.detail.contains(other.name), "\(first)")
        #expect(first.detail.contains("the next reap in this namespace that can enter them looks again"), "\(first)")
        #expect(!first.detail.contains("none of the") || first.detail.contains("tunwarden could look in"), "\(first)")
        #expect(first.detail.hasPrefix("run killed-k4mv journaled no result for it (it was killed, or could not write its results)"), "\(first)")
        #expect(try journal.read().last { $0.type == .result }?.leftFenced == true)
        #expect(try journal.read().last { $0.type == .result }?.leftOpen == .whereabouts)

        // Still refused, the next repair says that a result left the intent open and why, not
        // that the run was killed (session 38, leftover 2; old code: "journaled no result for it
        // (it was killed, or could not write its results)" again).
        let again = try #require(try refused.repairInterrupted(journal: journal).first { $0.ifindex == index })
        #expect(again.result == .failed && again.detail.contains("1 could not be looked in ("), "\(again)")
        #expect(again.detail.hasPrefix("a result left run killed-k4mv's intent open (it, or a repair of it since, found the device gone from its namespace "
                                       + "and could not tell where it went (or could not look in every namespace it may be in)); the device is gone from this namespace"), "\(again)")
        #expect(!again.detail.contains("journaled no result") && !again.detail.contains("it was killed"), "\(again)")

        // With the right to enter it, the next repair finds the tap there and gives it back.
        let second = try #require(try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal).first { $0.ifname == "k4mv" })
        #expect(second.result == .skipped && second.detail.contains("it moved to network namespace '\(other.name)'"), "\(second)")
        #expect(second.detail.hasPrefix("run killed-k4mv left it fenced, and a result left its intent open: it, or a repair of it since, found the device gone"), "\(second)")
        let there = try other.ip("-d", "link", "show", "k4mv")
        #expect(!there.contains("tw000000000f544") && there.contains("group default"), "\(there)")
    }
}
#endif

#if os(Linux)
import Foundation
import Testing
@testable import Reaper
@testable import TunwardenCore

/// The name a deleted target left under, read from its own removal notice (review 56, F3): a
/// single-queue target renamed by something else after the batch's last look is deleted all the
/// same (by its private alternative name), and its result names the name the kernel deleted it
/// under; its planned name and its private one are no rename.
@Suite struct RemovalNameTests {
    static let fence: [UInt8] = Array("tw0123456789abc".utf8)

    static func target(multiQueue: Bool = false) -> LinuxReaper.Target {
        let tap = NetworkInterface(index: 2, name: "tap0", kind: .tap, infoKind: "tun",
                                   tun: TunDetails(persistent: true, multiQueue: multiQueue, packetInfo: false, vnetHeader: false))
        var target = LinuxReaper.Target(item: ReapItem(action: .deleteInterface, interface: tap, evidence: "", routes: []), fenceName: fence)
        target.altNameAdded = !multiQueue
        target.renamed = multiQueue
        return target
    }

    static func removal(_ names: [String], index: Int32 = 2) -> LinkRemoval {
        LinkRemoval(index: index, departure: .deleted, names: names.map { Array($0.utf8) }, infoKind: "tun", tunType: 2)
    }

    @Test func aRenameAfterTheLastLookIsTheNameLeftUnder() {
        let target = Self.target()
        #expect(target.nameLeftUnder(among: [Self.removal(["keep0", "tw0123456789abc"])]) == Array("keep0".utf8))
        // Told by the private name even where it left from another ifindex.
        #expect(target.nameLeftUnder(among: [Self.removal(["keep0", "tw0123456789abc"], index: 9)]) == Array("keep0".utf8))
    }

    @Test func itsOwnOrItsPrivateNameIsNoRename() {
        #expect(Self.target().nameLeftUnder(among: [Self.removal(["tap0", "tw0123456789abc"])]) == nil)
        #expect(Self.target(multiQueue: true).nameLeftUnder(among: [Self.removal(["tw0123456789abc"])]) == nil)
        // Another device's removal (no private name, another kind) names nothing of the target's.
        let veth = LinkRemoval(index: 2, departure: .deleted, names: [Array("veth9".utf8)], infoKind: "veth")
        #expect(Self.target().nameLeftUnder(among: [veth]) == nil)
        #expect(Self.target().nameLeftUnder(among: []) == nil)
    }
}
#endif

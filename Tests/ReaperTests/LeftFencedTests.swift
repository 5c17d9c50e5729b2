#if os(Linux)
import Foundation
import Glibc
import Inventory
import Netlink
@testable import Reaper
import Storage
import Testing
import TestSupport
import TunwardenCore

/// What a reap, or the repair of one, does when it cannot take its whole fence off a device, or
/// cannot journal what it gave back, against a scripted kernel, without root (round "faults 52"):
/// it says what failed, never that it was done, and the intent stays open, so that the next reap
/// gives the device back.
@Suite struct LeftFencedTests {
    typealias Link = ScriptedKernel.Link

    /// The intent a killed run journaled for the device at `index` (as the kernel has it now),
    /// naming `fenceName` and `group` as its fence.
    func killedIntent(_ kernel: ScriptedKernel, _ index: Int32, fenceName: String, group: UInt32) throws -> JournalRecord {
        let device = try #require(try kernel.snapshot().interfaces.first { $0.index == Int(index) })
        return JournalRecord(time: Date(), run: "killed", type: .intent, netns: nil, ifname: device.name, ifindex: device.index,
                             prior: PriorState(device, routes: []), fenceGroup: group, fenceName: fenceName,
                             namespaceIdentity: kernel.namespaceIdentity)
    }

    /// F2: the repair of a killed reap whose removal of the private alternative name is refused
    /// said "private alternative name removed" (skipped), and the name stayed for good. Now the
    /// result is failed, names the cause and the command, leaves the intent open, and the next
    /// repair removes the name and answers the intent.
    @Test func aPrivateAlternativeNameTheRepairCouldNotRemoveIsSaidSoAndRemovedNextTime() throws {
        let kernel = ScriptedKernel([Link(2, "lf0")])
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let group: UInt32 = 0x1234_fa02
        try journal.append([try killedIntent(kernel, 2, fenceName: "tw00000000fa002", group: group)])
        kernel.change(2) { $0.altNames = [Array("tw00000000fa002".utf8)]; $0.group = group }
        kernel.refuse = { $0.type == LinkMessage.delLinkProp ? ENOMEM : nil }

        let first = try #require(try kernel.reaper().repairInterrupted(journal: journal).first)
        #expect(first.result == .failed, "\(first)")
        #expect(!first.detail.contains("private alternative name removed"), "\(first)")
        #expect(first.detail.contains("its private alternative name tw00000000fa002 could not be removed")
                && first.detail.contains("`ip link property del dev lf0 altname tw00000000fa002`")
                && first.detail.contains("the next reap tries again"), "\(first)")
        #expect(kernel.link(2)?.altNames == [Array("tw00000000fa002".utf8)] && kernel.link(2)?.group == 0)
        let result = try #require(try journal.read().last)
        #expect(result.type == .result && result.result == .failed && result.leftFenced == true, "\(result)")
        #expect(try journal.openIntents().records.map(\.ifindex) == [2])

        kernel.refuse = { _ in nil }
        let second = try #require(try kernel.reaper().repairInterrupted(journal: journal).first)
        #expect(second.result == .skipped && second.detail.contains("private alternative name removed"), "\(second)")
        #expect(kernel.link(2)?.altNames.isEmpty == true)
        #expect(try journal.openIntents().records.isEmpty)
        #expect(try kernel.reaper().repairInterrupted(journal: journal).isEmpty)
    }

    /// F1: a repair that gave devices back and then could not journal that (the journal turned
    /// into a directory while it worked, as a full disk refuses the write) threw the journal's
    /// error alone, so the command said "Nothing was changed". Now every repair comes back with
    /// the reason the journal lacks them.
    @Test func repairsTheJournalCannotTakeComeBackWithTheReason() throws {
        let kernel = ScriptedKernel([Link(2, "lf1"), Link(3, "lf1b", tap: true)])
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let group: UInt32 = 0x1234_fa01
        try journal.append([try killedIntent(kernel, 2, fenceName: "tw00000000fa001", group: group),
                            try killedIntent(kernel, 3, fenceName: "tw00000000fa011", group: group)])
        kernel.change(2) { $0.altNames = [Array("tw00000000fa001".utf8)]; $0.group = group }
        kernel.change(3) { $0.altNames = [Array("tw00000000fa011".utf8)]; $0.group = group }
        var broken = false
        kernel.refuse = { _ in
            if !broken {
                broken = true
                try? FileManager.default.removeItem(atPath: journal.path)
                try? FileManager.default.createDirectory(atPath: journal.path, withIntermediateDirectories: false)
            }
            return nil
        }
        let incomplete = #expect(throws: RepairJournalIncomplete.self) { try kernel.reaper().repairInterrupted(journal: journal) }
        #expect(incomplete?.repairs.map(\.ifname) == ["lf1", "lf1b"])
        #expect(incomplete?.repairs.allSatisfy { $0.result == .skipped && $0.detail.contains("group 0 restored, private alternative name removed") } == true,
                "\(incomplete?.repairs ?? [])")
        #expect(incomplete?.reason.contains("cannot be opened for appending") == true, "\(incomplete?.reason ?? "")")
        #expect(kernel.link(2)?.altNames.isEmpty == true && kernel.link(3)?.group == 0)
    }

    /// F5: a reap that could not delete a target and then could not take its fence off either
    /// (netlink refusing) left it fenced, and its failed result answered the intent, so no later
    /// reap gave it back. Now the result leaves the intent open (in the checkpoint too), and the
    /// next repair gives the device back whole.
    @Test func aFenceAFailedReapCouldNotTakeOffIsGivenBackByTheNextRepair() throws {
        let kernel = ScriptedKernel([Link(2, "lf5", up: true)])
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let plan = try kernel.plan()
        kernel.refuse = { [LinkMessage.delLinkProp, NetlinkType.delLink].contains($0.type) ? ENOMEM : $0.type == NetlinkType.newLink && $0.group == 0 ? ENOMEM : nil }
        let results = try kernel.reaper().execute(plan, journal: journal, runID: "failing")
        let result = try #require(results.first)
        #expect(result.outcome == .failed && result.leftFenced, "\(result)")
        #expect(result.detail?.contains("its link group could not be set back to 0 (") == true
                && result.detail?.contains("`ip link set dev lf5 group 0`") == true
                && result.detail?.contains("`ip link property del dev lf5 altname tw") == true, "\(result)")
        let fenced = try #require(kernel.link(2))
        #expect(fenced.group != 0 && fenced.altNames.count == 1)
        #expect(try journal.read().last?.leftFenced == true)
        #expect(try journal.openIntents().records.map(\.run) == ["failing"])

        kernel.refuse = { _ in nil }
        let repair = try #require(try kernel.reaper().repairInterrupted(journal: journal).first)
        #expect(repair.result == .skipped && repair.detail.contains("run failing left it fenced")
                && repair.detail.contains("group 0 restored, private alternative name removed"), "\(repair)")
        let back = try #require(kernel.link(2))
        #expect(back.group == 0 && back.altNames.isEmpty && back.up && back.name == Array("lf5".utf8))
        #expect(try journal.openIntents().records.isEmpty)
    }

    /// Session 38, leftover 1: a deletion whose answer is lost, after which nothing can look at
    /// the devices either, may have left them in place, fenced. Each result says so and where, and
    /// leaves the intent open with why; the next repair gives each back and says why its intent
    /// was open. Old code: "whether it is gone could not be checked", failed, the intent answered,
    /// and the devices stayed fenced for good.
    @Test func aDeletionThatCouldNotBeCheckedLeavesTheIntentOpenForTheRepair() throws {
        let kernel = ScriptedKernel([Link(2, "lu0"), Link(3, "lumq", multiQueue: true, up: true)])
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let plan = try kernel.plan()
        kernel.drop = { $0.type == NetlinkType.delLink }
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            guard step == "deleted" else { return }
            // Every dump interrupted, every look at one device unanswered.
            kernel.interruptDump = { $0.type == NetlinkType.getLink }
            kernel.loseAnswer = { $0.type == NetlinkType.getLink }
        }
        let results = try reaper.execute(plan, journal: journal, runID: "unchecked")
        #expect(results.count == 2 && results.allSatisfy { $0.outcome == .failed && $0.leftFenced && $0.leftOpen == .unchecked }, "\(results)")
        for result in results {
            #expect(result.detail?.contains("answer was lost") == true
                    && result.detail?.contains("whether it is gone could not be checked, so it may still be there: if it is, it may still be fenced (") == true
                    && result.detail?.contains("the reap's private link group") == true
                    && result.detail?.contains("at ifindex \(result.ifindex) in this process's network namespace") == true
                    && result.detail?.contains("its intent stays open, so that the next reap in this namespace gives it back") == true, "\(result)")
        }
        #expect(results.first { $0.ifname == "lumq" }?.detail?.contains(", down)") == true, "\(results)")
        #expect(try journal.read().filter { $0.type == .result }.allSatisfy { $0.leftFenced == true && $0.leftOpen == .unchecked })
        #expect(try journal.openIntents().records.map(\.ifindex) == [2, 3])

        kernel.drop = { _ in false }
        kernel.loseAnswer = { _ in false }
        kernel.interruptDump = { _ in false }
        let repairs = try kernel.reaper().repairInterrupted(journal: journal)
        #expect(repairs.count == 2, "\(repairs)")
        for repair in repairs {
            #expect(repair.result == .skipped && repair.detail.hasPrefix("run unchecked left it fenced, and a result left its intent open: "
                                                                          + "its deletion's answer did not prove the device went (the answer was lost, or it was a group deletion's), and whether the device was still there could not be checked; "), "\(repair)")
        }
        for (index, name, up) in [(Int32(2), "lu0", false), (3, "lumq", true)] {
            let back = try #require(kernel.link(index))
            #expect(back.name == Array(name.utf8) && back.group == 0 && back.altNames.isEmpty && back.up == up, "\(name)")
        }
        #expect(try journal.openIntents().records.isEmpty)
    }

    /// Session 38 review: a group deletion the kernel answered, after which nothing can look at
    /// the devices, does not prove each went (one taken out of the group just before it stays,
    /// fenced). Each result says so, failed, and leaves its intent open; the next repair, finding
    /// the devices gone, says the run most likely deleted them, without failing.
    /// Old code: "RTM_DELLINK succeeded; the check afterwards could not be made", deleted, and
    /// the intents answered.
    @Test func aGroupDeletionThatCouldNotBeCheckedLeavesTheIntentOpen() throws {
        let kernel = ScriptedKernel([Link(2, "lg0"), Link(3, "lgmq", multiQueue: true, up: true)])
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            guard step == "deleted" else { return }
            kernel.interruptDump = { $0.type == NetlinkType.getLink }
            kernel.loseAnswer = { $0.type == NetlinkType.getLink }
        }
        let results = try reaper.execute(plan, journal: journal, runID: "grouped")
        #expect(results.count == 2 && results.allSatisfy { $0.outcome == .failed && $0.leftFenced && $0.leftOpen == .unchecked }, "\(results)")
        for result in results {
            #expect(result.detail?.hasPrefix("RTM_DELLINK (group ") == true
                    && result.detail?.contains("whether it is gone could not be checked, so it may still be there (taken out of the group just before the deletion): if it is, it may still be fenced (") == true
                    && result.detail?.contains("its intent stays open") == true, "\(result)")
        }
        #expect(try journal.openIntents().records.map(\.ifindex) == [2, 3])

        kernel.loseAnswer = { _ in false }
        kernel.interruptDump = { _ in false }
        let repairs = try kernel.reaper().repairInterrupted(journal: journal)
        #expect(repairs.count == 2 && repairs.allSatisfy { $0.result != .failed }, "\(repairs)")
        for repair in repairs {
            #expect(repair.detail.contains("most likely deleted by run grouped") && !repair.detail.contains("killed"), "\(repair)")
        }
        #expect(try journal.openIntents().records.isEmpty)
    }
}
#endif

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

/// The reaper's safety branches against a scripted kernel, without root: a stranger in the private
/// link group, a refused RTM_DELLINK, interrupted dumps, devices renamed or replaced, a device that
/// became attached, and a signal during the act phase. Each test checks what a person relies on:
/// nothing but verified targets deleted, everything else put back as it was, and results and
/// journal records that say what really happened.
@Suite struct ReaperBranchTests {
    typealias Link = ScriptedKernel.Link

    /// Runs `reaper` on `plan` with a journal of its own; returns the results and the journal's records.
    func reap(_ reaper: LinuxReaper, _ plan: ReapPlan, run: String = "scripted") throws -> (results: [ReapResult], journal: [JournalRecord]) {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let results = try reaper.execute(plan, journal: journal, runID: run)
        return (results, try journal.read())
    }

    /// A device the reaper did not delete is back as it was planned: its name, its group, no
    /// alternative name of tunwarden's, and up if it was up.
    func expectRestored(_ kernel: ScriptedKernel, _ index: Int32, name: String, group: UInt32 = 0, up: Bool = false,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        guard let link = kernel.link(index) else {
            Issue.record("\(name) (ifindex \(index)) was deleted", sourceLocation: sourceLocation)
            return
        }
        #expect(link.name == Array(name.utf8), "name", sourceLocation: sourceLocation)
        #expect(link.group == group, "\(name): group \(link.group), expected \(group)", sourceLocation: sourceLocation)
        #expect(link.altNames.isEmpty, "\(name) keeps an alternative name", sourceLocation: sourceLocation)
        #expect(link.up == up, "\(name): up \(link.up), expected \(up)", sourceLocation: sourceLocation)
    }

    @Test func aStrangerInThePrivateGroupAtTheLastLookStopsTheDeleteAndIsLeftAlone() throws {
        let kernel = ScriptedKernel([Link(2, "st0"), Link(3, "st1", tap: true), Link(4, "stmq", multiQueue: true, up: true)])
        var keep = Link(5, "keep0")
        keep.queues = 1  // held, so never planned
        kernel.add(keep)
        let plan = try kernel.plan()
        #expect(Set(plan.items.map(\.ifname)) == ["st0", "st1", "stmq"])
        var reaper = kernel.reaper()
        // Between grouping and the last look, something puts keep0 into the reaper's private group.
        reaper.stepHook = { step in
            guard step == "grouped", let group = kernel.link(2)?.group else { return }
            kernel.change(5) { $0.group = group }
        }
        let (results, journal) = try reap(reaper, plan)
        #expect(kernel.deletions.isEmpty, "nothing may be deleted while the group holds a stranger: \(kernel.deletions)")
        #expect(results.count == 3)
        for result in results {
            #expect(result.outcome == .failed, "\(result)")
            #expect(result.detail?.contains("also holds keep0, which is not a target; nothing deleted") == true, "\(result)")
        }
        // The stranger is still there, and the reaper sent nothing about it.
        #expect(kernel.link(5)?.name == Array("keep0".utf8))
        #expect(!kernel.requests.contains { $0.index == 5 }, "\(kernel.requests)")
        expectRestored(kernel, 2, name: "st0")
        expectRestored(kernel, 3, name: "st1")
        expectRestored(kernel, 4, name: "stmq", up: true)
        #expect(kernel.openDescriptors.isEmpty, "every /dev/net/tun descriptor is closed")
        #expect(journal.filter { $0.type == .result }.map(\.result) == [.failed, .failed, .failed])
    }

    /// A device another namespace stacks on a target by the last look (a macvlan made on it and
    /// moved into a container's namespace) keeps that target: it is skipped and restored, the
    /// others are deleted. A namespace that cannot be looked at leaves nothing deleted.
    @Test func aDeviceStackedFromAnotherNamespaceAtTheLastLookKeepsItsLower() throws {
        let kernel = ScriptedKernel([Link(2, "fs0", tap: true), Link(3, "fs1", tap: true)])
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            kernel.foreignStacking = ForeignStacking.Found(uppers: [2: ["mv0 (namespace ctr)"]])
        }
        let (results, _) = try reap(reaper, plan)
        #expect(results.first { $0.ifname == "fs0" }?.outcome == .skipped)
        #expect(results.first { $0.ifname == "fs0" }?.detail?.contains("mv0 (namespace ctr) now sits on it") == true, "\(results)")
        #expect(results.first { $0.ifname == "fs1" }?.outcome == .deleted, "\(results)")
        #expect(kernel.link(2) != nil && kernel.link(3) == nil)
        expectRestored(kernel, 2, name: "fs0")

        // A packet socket bound to a target by the last look (tcpdump started) keeps it too.
        let sniffed = ScriptedKernel([Link(2, "fp0", tap: true), Link(3, "fp1", tap: true)])
        var sniffing = sniffed.reaper()
        sniffing.stepHook = { step in if step == "grouped" { sniffed.packetSockets = [3: 1] } }
        let (watched, _) = try reap(sniffing, try sniffed.plan())
        #expect(watched.first { $0.ifname == "fp1" }?.detail?.contains("1 packet socket is now bound to it") == true, "\(watched)")
        #expect(watched.first { $0.ifname == "fp0" }?.outcome == .deleted)
        #expect(sniffed.link(3) != nil && sniffed.link(2) == nil)
        expectRestored(sniffed, 3, name: "fp1")

        // So does a socket bound to it with SO_BINDTODEVICE (a DHCP server for the VM started).
        let served = ScriptedKernel([Link(2, "fd0", tap: true), Link(3, "fd1", tap: true)])
        var serving = served.reaper()
        serving.stepHook = { step in if step == "grouped" { served.boundSockets = [3: 2] } }
        let (bound, _) = try reap(serving, try served.plan())
        #expect(bound.first { $0.ifname == "fd1" }?.outcome == .skipped)
        #expect(bound.first { $0.ifname == "fd1" }?.detail?.contains("2 sockets are now bound to it (SO_BINDTODEVICE") == true, "\(bound)")
        #expect(served.link(3) != nil && served.link(2) == nil)
        expectRestored(served, 3, name: "fd1")

        // So do a multicast group joined on it and a packet socket's membership on it since the
        // plan (an mDNS responder or a sniffer started).
        let joined = ScriptedKernel([Link(2, "fm0", tap: true), Link(3, "fm1", tap: true), Link(4, "fm2", tap: true)])
        var joining = joined.reaper()
        joining.stepHook = { step in if step == "grouped" { (joined.multicastGroups, joined.packetMemberships) = ([3: ["224.0.0.251"]], [4: 1]) } }
        let (members, _) = try reap(joining, try joined.plan())
        #expect(members.first { $0.ifname == "fm1" }?.detail?.contains("a socket now holds multicast group 224.0.0.251 on it") == true, "\(members)")
        #expect(members.first { $0.ifname == "fm2" }?.detail?.contains("1 packet socket now has a membership on it") == true, "\(members)")
        #expect(joined.link(3) != nil && joined.link(4) != nil && joined.link(2) == nil)
        expectRestored(joined, 3, name: "fm1")

        // With the packet socket list unreadable at the last look, nothing is deleted.
        let blind = ScriptedKernel([Link(2, "fb0", tap: true)])
        blind.socketsUnreadable = "scripted"
        let (unseen, _) = try reap(blind.reaper(), try blind.plan())
        #expect(blind.deletions.isEmpty)
        #expect(unseen.first?.detail?.contains("cannot tell whether a socket is bound to it (scripted)") == true, "\(unseen)")
        expectRestored(blind, 2, name: "fb0")

        // So does an nftables rule sending packets to it; with the rules unreadable, or one
        // whose device is known only as packets come, nothing is deleted.
        let forwarded = ScriptedKernel([Link(2, "fn0", tap: true), Link(3, "fn1", tap: true)])
        var forwarding = forwarded.reaper()
        forwarding.stepHook = { step in if step == "grouped" { forwarded.forwards = NftablesForwards.Found(counts: [2: 1]) } }
        let (kept, _) = try reap(forwarding, try forwarded.plan())
        #expect(kept.first { $0.ifname == "fn0" }?.outcome == .skipped)
        #expect(kept.first { $0.ifname == "fn0" }?.detail?.contains("an nftables rule now sends packets to it (fwd or dup)") == true, "\(kept)")
        #expect(forwarded.link(2) != nil && forwarded.link(3) == nil)
        expectRestored(forwarded, 2, name: "fn0")
        // An iptables TEE target duplicating packets to it by name, added since the plan, keeps it too.
        let teed = ScriptedKernel([Link(2, "ft0", tap: true), Link(3, "ft1", tap: true)])
        var teeing = teed.reaper()
        teeing.stepHook = { step in
            if step == "grouped" { teed.forwards = NftablesForwards.Found(byName: [Array("ft1".utf8): ["an iptables-legacy rule (table ip mangle)"]]) }
        }
        let (tee, _) = try reap(teeing, try teed.plan())
        #expect(tee.first { $0.ifname == "ft1" }?.outcome == .skipped)
        #expect(tee.first { $0.ifname == "ft1" }?.detail?.contains("an iptables-legacy rule (table ip mangle) now duplicates another device's packets to it by its name") == true,
                "\(tee)")
        #expect(teed.link(3) != nil && teed.link(2) == nil)
        expectRestored(teed, 3, name: "ft1")
        for forwards in [nil, NftablesForwards.Found(unresolved: "an nftables rule (table netdev t, chain c) sends packets to a device it picks as packets come (from its meta expression)")] {
            let unsure = ScriptedKernel([Link(2, "fx0", tap: true)])
            unsure.forwards = forwards
            let (refused, _) = try reap(unsure.reaper(), try unsure.plan())
            #expect(unsure.deletions.isEmpty)
            #expect(refused.first?.outcome == .failed, "\(refused)")
            #expect(refused.first?.detail?.contains(forwards == nil ? "cannot tell whether an nftables or iptables rule sends packets to it (scripted: no nftables list)"
                                                                    : "(from its meta expression), which may be any of them; nothing deleted") == true, "\(refused)")
            expectRestored(unsure, 2, name: "fx0")
        }

        let unread = ScriptedKernel([Link(2, "fu0", tap: true)])
        unread.foreignStacking = ForeignStacking.Found(unread: ["net:[4026532999]"])
        let (refused, _) = try reap(unread.reaper(), try unread.plan())
        #expect(unread.deletions.isEmpty)
        #expect(refused.first?.outcome == .failed && refused.first?.detail?.contains("net:[4026532999] could not be read") == true, "\(refused)")
        expectRestored(unread, 2, name: "fu0")

        // setns refused: the refusal names CAP_SYS_ADMIN (lacking, or held and filtered, as
        // systemd's RestrictNamespaces=yes does) and the unit setting that lets it through.
        let filtered = ScriptedKernel([Link(2, "fs0", tap: true)])
        filtered.foreignStacking = ForeignStacking.Found(unread: ["net:[4026532998]"])
        filtered.foreignStacking.enterErrno = EPERM
        let (blocked, _) = try reap(filtered.reaper(), try filtered.plan())
        #expect(filtered.deletions.isEmpty)
        let detail = blocked.first?.detail ?? ""
        #expect(detail.contains("other network namespaces: net:[4026532998] could not be read: ") && detail.contains("CAP_SYS_ADMIN")
                && detail.contains("RestrictNamespaces=net") && detail.hasSuffix("; nothing deleted"), "\(blocked)")
        expectRestored(filtered, 2, name: "fs0")
    }

    @Test func aRefusedDeleteRestoresGroupNameAndUpStateAndJournalsExactlyThat() throws {
        let kernel = ScriptedKernel([Link(2, "rb0"), Link(3, "rbmq", multiQueue: true, up: true), Link(4, "rbtap", tap: true)])
        kernel.change(4) { $0.group = 7 }
        kernel.refuse = { $0.type == NetlinkType.delLink ? EPERM : nil }
        let plan = try kernel.plan()
        #expect(plan.items.count == 3)
        let (results, journal) = try reap(kernel.reaper(), plan, run: "refused")
        let deletes = kernel.deletions
        #expect(deletes.count == 1 && deletes.first?.index == 0, "one RTM_DELLINK for the group: \(deletes)")
        let group = try #require(deletes.first?.group)
        for result in results {
            #expect(result.outcome == .failed, "\(result)")
            #expect(result.detail?.contains("RTM_DELLINK (group \(group))") == true, "\(result)")
            #expect(result.detail?.contains(String(cString: strerror(EPERM))) == true, "the kernel's refusal is named: \(result)")
        }
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["rbmq"]?.detail?.contains("taken down to be fenced, then given its name back and set up again") == true, "\(byName["rbmq"]?.detail ?? "")")
        expectRestored(kernel, 2, name: "rb0")
        expectRestored(kernel, 3, name: "rbmq", up: true)
        expectRestored(kernel, 4, name: "rbtap", group: 7)
        #expect(kernel.openDescriptors.isEmpty)

        // The journal: an intent naming the fence that was really used, then the result as reported.
        let intents = journal.filter { $0.type == .intent }
        #expect(intents.map(\.ifname) == ["rb0", "rbmq", "rbtap"])
        for intent in intents {
            #expect(intent.fenceGroup == group)
            let fence = try #require(intent.fenceName)
            let fenced = kernel.requests.contains { $0.index == Int32(intent.ifindex) && ($0.altName == Array(fence.utf8) || $0.name == Array(fence.utf8)) }
            #expect(fenced, "\(intent.ifname) was fenced under the name its intent gives (\(fence))")
        }
        let recorded = journal.filter { $0.type == .result }
        #expect(recorded.map(\.ifname) == results.map(\.ifname))
        #expect(recorded.map(\.result) == results.map(\.outcome))
        #expect(recorded.map(\.detail) == results.map(\.detail))
    }

    @Test func anInterruptedDumpAtTheLastLookMeansOneDeletePerVerifiedDevice() throws {
        let kernel = ScriptedKernel([Link(2, "in0"), Link(3, "in1", tap: true), Link(4, "inmq", multiQueue: true)])
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        // From the last look on, links churn: every dump of all links comes back interrupted.
        reaper.stepHook = { step in
            if step == "grouped" { kernel.interruptDump = { $0.kindFilter == nil } }
        }
        let (results, _) = try reap(reaper, plan)
        #expect(results.allSatisfy { $0.outcome == .deleted }, "\(results)")
        let deletes = kernel.deletions
        #expect(!deletes.contains { $0.group != nil }, "no group delete on a view that was not whole: \(deletes)")
        // Each by its private name, which no other device answers to, not by an ifindex.
        #expect(deletes.count == 3 && deletes.allSatisfy { $0.index == 0 && ($0.name ?? $0.lookupName)?.starts(with: Array("tw".utf8)) == true }, "\(deletes)")
        // Each target was looked at by itself, and the kinds that stack on a device were dumped.
        #expect(Set(kernel.requests.filter { $0.type == NetlinkType.getLink && !$0.isDump }.map(\.index)).isSuperset(of: [2, 3, 4]))
        #expect(kernel.requests.contains { $0.kindFilter == "macvlan" })
        #expect(kernel.link(2) == nil && kernel.link(3) == nil && kernel.link(4) == nil)
    }

    /// A target that left for another namespace after the last look is gone from this one as if
    /// deleted: the link notifications tell it apart, whether the group went in one deletion or
    /// the targets one by one, and when they were lost the result says it could not be told.
    @Test(arguments: [false, true])
    func aTargetMovedAwayIsNotReportedDeleted(oneByOne: Bool) throws {
        let kernel = ScriptedKernel([Link(2, "mv0"), Link(3, "mv1", tap: true), Link(4, "mvmq", multiQueue: true)])
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            if step == "grouped", oneByOne { kernel.interruptDump = { $0.kindFilter == nil } }
            if step == "verified" {
                kernel.remove(3)
                kernel.movedAway[3] = 7
            }
        }
        let (results, journal) = try reap(reaper, plan)
        let moved = try #require(results.first { $0.ifindex == 3 })
        #expect(moved.outcome == .failed && moved.detail?.contains("moved to another network namespace (netns id 7") == true, "\(moved)")
        #expect(results.filter { $0.ifindex != 3 }.allSatisfy { $0.outcome == .deleted && $0.detail == nil }, "\(results)")
        #expect(journal.first { $0.type == .result && $0.ifindex == 3 }?.result == .failed)

        let lost = ScriptedKernel([Link(2, "ls0"), Link(3, "ls1")])
        var unsure = lost.reaper()
        unsure.stepHook = { step in
            if step == "verified" {
                lost.remove(3)
                lost.departuresLost = true
            }
        }
        let (told, _) = try reap(unsure, try lost.plan())
        #expect(told.allSatisfy { $0.outcome == .deleted }, "\(told)")
        #expect(told.allSatisfy { $0.detail?.contains("could not be told (the link notifications were lost)") == true }, "\(told)")
    }

    /// A request whose answer is lost may have been carried out. A deletion so lost is checked
    /// device by device: what is gone is deleted, what is still there is given back, failed.
    @Test func aDeletionWhoseAnswerIsLostIsJudgedByWhatIsLeft() throws {
        let done = ScriptedKernel([Link(2, "la0"), Link(3, "la1", tap: true), Link(4, "lamq", multiQueue: true, up: true)])
        done.loseAnswer = { $0.type == NetlinkType.delLink }
        let (deleted, journal) = try reap(done.reaper(), try done.plan())
        #expect(deleted.count == 3 && deleted.allSatisfy { $0.outcome == .deleted }, "\(deleted)")
        #expect(journal.filter { $0.type == .result }.map(\.result) == [.deleted, .deleted, .deleted])

        let notDone = ScriptedKernel([Link(2, "lb0"), Link(3, "lbmq", multiQueue: true, up: true)])
        notDone.drop = { $0.type == NetlinkType.delLink }
        let (kept, _) = try reap(notDone.reaper(), try notDone.plan())
        #expect(kept.allSatisfy { $0.outcome == .failed && $0.detail?.contains("answer was lost") == true && $0.detail?.contains("it is still there") == true }, "\(kept)")
        expectRestored(notDone, 2, name: "lb0")
        expectRestored(notDone, 3, name: "lbmq", up: true)
    }

    /// A fencing step whose answer is lost is looked up on the device: made, the reap goes on;
    /// when the device cannot be looked at either, it counts as made, so that giving the device
    /// back undoes it. Nothing is left with a private name, group or alternative name.
    @Test func aFencingStepWhoseAnswerIsLostIsUndoneOrGoneOn() throws {
        let lookedUp = ScriptedKernel([Link(2, "lc0"), Link(3, "lcmq", multiQueue: true, up: true)])
        lookedUp.loseAnswer = { $0.type == NetlinkType.newLink || $0.type == LinkMessage.newLinkProp }
        let (results, _) = try reap(lookedUp.reaper(), try lookedUp.plan())
        #expect(results.allSatisfy { $0.outcome == .deleted }, "\(results)")

        for step in ["down", "rename", "group", "altname"] {
            let blind = ScriptedKernel([Link(2, "ld0"), Link(3, "ldmq", multiQueue: true, up: true)])
            var lost = false
            blind.loseAnswer = { request in
                // The step's own answer, then the look that would tell: the reaper cannot know.
                if lost { return request.type == NetlinkType.getLink && !request.isDump }
                let hit = switch step {
                case "down": request.type == NetlinkType.newLink && request.change & 1 == 1 && request.ifFlags & 1 == 0
                case "rename": request.type == NetlinkType.newLink && request.name?.starts(with: Array("tw".utf8)) == true
                case "group": request.type == NetlinkType.newLink && (request.group ?? 0) >= 1 << 24
                default: request.type == LinkMessage.newLinkProp
                }
                if hit { lost = true }
                return hit
            }
            let reaper = blind.reaper()
            let (given, _) = try reap(reaper, try blind.plan())
            #expect(given.contains { $0.outcome == .failed && $0.detail?.contains("answer was lost") == true }, "\(step): \(given)")
            for result in given where result.outcome != .deleted {
                let name = result.ifname
                expectRestored(blind, Int32(result.ifindex), name: name, up: name == "ldmq")
            }
        }
    }

    /// Giving back a multi-queue target whose rename back is carried out but answered by nothing,
    /// not even the look that would tell: the result says that whether it has its name back could
    /// not be told, never that it was refused.
    @Test func aRenameBackWhoseAnswerIsLostIsReportedAsUnknown() throws {
        let kernel = ScriptedKernel([Link(3, "rbmq", multiQueue: true)])
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        var giving = false
        reaper.stepHook = { step in
            if step == "grouped" {
                kernel.packetSockets = [3: 1]
                giving = true
            }
        }
        kernel.loseAnswer = { request in
            giving && ((request.type == NetlinkType.newLink && request.name == Array("rbmq".utf8))
                       || (request.type == NetlinkType.getLink && !request.isDump))
        }
        let (results, _) = try reap(reaper, plan)
        let result = try #require(results.first)
        #expect(result.outcome == .failed, "\(result)")
        #expect(result.detail?.contains("whether it was given its name back from tw") == true && result.detail?.contains("could not be told") == true, "\(result)")
        #expect(result.detail?.contains("could not be given its name back") == false, "\(result)")
        #expect(kernel.link(3)?.name == Array("rbmq".utf8), "the kernel did rename it back")
    }

    @Test func dumpsInterruptedEverywhereAtTheLastLookDeleteNothing() throws {
        let kernel = ScriptedKernel([Link(2, "ie0"), Link(3, "iemq", multiQueue: true, up: true)])
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            if step == "grouped" { kernel.interruptDump = { _ in true } }
        }
        let (results, journal) = try reap(reaper, plan)
        #expect(kernel.deletions.isEmpty, "\(kernel.deletions)")
        #expect(results.allSatisfy { $0.outcome == .failed && $0.detail?.contains("cannot re-verify before deleting") == true }, "\(results)")
        expectRestored(kernel, 2, name: "ie0")
        expectRestored(kernel, 3, name: "iemq", up: true)
        #expect(journal.filter { $0.type == .result }.allSatisfy { $0.result == .failed })
    }

    @Test func anInventoryThatKeepsBeingInterruptedChangesNothing() throws {
        let kernel = ScriptedKernel([Link(2, "ri0")])
        let plan = try kernel.plan()
        var interrupted = InventoryError("cannot read the kernel's interfaces and routes: RTM_GETLINK dump interrupted")
        interrupted.interrupted = true
        kernel.inventoryFailure = interrupted
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let journal = Journal(path: state.path + "/journal.jsonl")
        #expect(throws: ReapRefusal.self) { try kernel.reaper().execute(plan, journal: journal, runID: "refused") }
        #expect(kernel.requests.isEmpty, "nothing was sent to the kernel: \(kernel.requests)")
        #expect(try journal.read().isEmpty, "nothing was journaled: nothing was about to happen")
        expectRestored(kernel, 2, name: "ri0")
    }

    @Test func devicesRenamedOrReplacedSinceThePlanAreLeftAlone() throws {
        let kernel = ScriptedKernel([Link(2, "rn0"), Link(3, "rp0"), Link(4, "ok0")])
        let plan = try kernel.plan()
        #expect(plan.items.count == 3)
        // After the plan: rn0 is renamed; rp0 is deleted and a new rp0 made (another ifindex).
        kernel.change(2) { $0.name = Array("rn0x".utf8) }
        kernel.remove(3)
        kernel.add(Link(9, "rp0"))
        let (results, _) = try reap(kernel.reaper(), plan)
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["rn0"]?.outcome == .skipped && byName["rn0"]?.detail == "renamed since the plan was made (now rn0x)", "\(results)")
        #expect(byName["rp0"]?.outcome == .skipped && byName["rp0"]?.detail == "gone since the plan was made", "\(results)")
        #expect(byName["ok0"]?.outcome == .deleted, "\(results)")
        #expect(kernel.link(2)?.name == Array("rn0x".utf8) && kernel.link(9)?.name == Array("rp0".utf8))
        #expect(!kernel.requests.contains { [2, 3, 9].contains($0.index) }, "nothing sent for them: \(kernel.requests)")
    }

    /// A single-queue device renamed after re-verification (its fence attaches by a private
    /// alternative name, whatever the name) is skipped at its fence, not deleted under a name the
    /// report and journal do not give.
    @Test func aDeviceRenamedAfterReverificationIsSkippedAndGivenBack() throws {
        for step in ["reverified"] {
            let kernel = ScriptedKernel([Link(3, "rr0"), Link(4, "rr1", tap: true)])
            let plan = try kernel.plan()
            var reaper = kernel.reaper()
            reaper.stepHook = { if $0 == step { kernel.change(3) { $0.name = Array("keep-rr0".utf8) } } }
            let (results, journal) = try reap(reaper, plan)
            let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
            #expect(byName["rr0"]?.outcome == .skipped && byName["rr0"]?.detail?.contains("renamed since the plan was made (now keep-rr0)") == true,
                    "\(step): \(results)")
            #expect(byName["rr1"]?.outcome == .deleted, "\(step): \(results)")
            let skipped: [JournalRecord.Outcome?] = journal.filter { $0.type == .result && $0.ifname == "rr0" }.map(\.result)
            #expect(skipped == [.skipped], "\(step): \(journal)")
            expectRestored(kernel, 3, name: "keep-rr0")
        }
    }

    /// A last look that took too long to reach the deletion (the reaper stopped, a stalled
    /// machine) is taken again; when every look does, nothing is deleted and every device is
    /// given back.
    @Test func aStaleLastLookIsTakenAgainAndNeverActedOn() throws {
        let kernel = ScriptedKernel([Link(3, "sl0"), Link(4, "sl1", tap: true)])
        var reaper = kernel.reaper()
        reaper.lastLookLimit = .milliseconds(100)
        var looks = 0
        reaper.stepHook = { step in
            guard step == "verified" else { return }
            looks += 1
            // Stopped once, between the look and the deletion; meanwhile sl1 became a port.
            if looks == 1 {
                kernel.change(4) { $0.master = 9 }
                usleep(150_000)
            }
        }
        let (results, _) = try reap(reaper, try kernel.plan())
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(looks == 2)
        #expect(byName["sl0"]?.outcome == .deleted, "\(results)")
        #expect(byName["sl1"]?.outcome == .skipped && byName["sl1"]?.detail?.contains("it became a port of ifindex 9") == true, "\(results)")

        // Looks stalled longer each time: none is acted on.
        let stalled = ScriptedKernel([Link(3, "st0")])
        var stalling = stalled.reaper()
        stalling.lastLookLimit = .milliseconds(50)
        var stalls = [80_000, 200_000, 500_000]
        stalling.stepHook = { if $0 == "verified", !stalls.isEmpty { usleep(useconds_t(stalls.removeFirst())) } }
        let (refused, _) = try reap(stalling, try stalled.plan())
        #expect(stalled.deletions.isEmpty)
        #expect(refused.first?.outcome == .failed && refused.first?.detail?.contains("what a look saw may no longer hold; nothing deleted") == true, "\(refused)")
        expectRestored(stalled, 3, name: "st0")

        // A host whose every honest look takes longer than the limit still reaps: the second
        // look, no slower than the first by half, is acted on.
        let slow = ScriptedKernel([Link(3, "sw0")])
        var patient = slow.reaper()
        patient.lastLookLimit = .milliseconds(20)
        var slowLooks = 0
        patient.stepHook = { if $0 == "verified" { slowLooks += 1; usleep(60_000) } }
        let (done, _) = try reap(patient, try slow.plan())
        #expect(done.first?.outcome == .deleted && slowLooks == 2, "\(done)")
    }

    /// Deleting one by one (links churned too fast for a whole look), a pause between two
    /// deletions longer than a look may take leaves the rest undeleted and given back.
    @Test func aPauseBetweenDeletionsOneByOneLeavesTheRest() throws {
        let kernel = ScriptedKernel([Link(3, "pd0"), Link(4, "pd1"), Link(5, "pd2")])
        var reaper = kernel.reaper()
        reaper.lookTargetByTarget = true
        reaper.lastLookLimit = .milliseconds(50)
        var deletes = 0
        kernel.refuse = { request in
            if request.type == NetlinkType.delLink { deletes += 1; if deletes == 1 { usleep(120_000) } }
            return nil
        }
        let (results, _) = try reap(reaper, try kernel.plan())
        #expect(results.filter { $0.outcome == .deleted }.count == 1, "\(results)")
        let rest = results.filter { $0.outcome == .skipped }
        #expect(rest.count == 2 && rest.allSatisfy { $0.detail?.contains("passed between two deletions") == true }, "\(results)")
        for target in rest { expectRestored(kernel, Int32(target.ifindex), name: target.ifname) }
    }

    @Test func aDeviceReplacedAfterReverificationIsNotTheOneFenced() throws {
        let kernel = ScriptedKernel([Link(3, "rq0"), Link(4, "rq1")])
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        // Between the re-verification and fencing, rq0 is deleted and a new rq0 made.
        reaper.stepHook = { step in
            guard step == "reverified" else { return }
            kernel.remove(3)
            kernel.add(Link(9, "rq0"))
        }
        let (results, _) = try reap(reaper, plan)
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["rq0"]?.outcome == .skipped && byName["rq0"]?.detail == "gone since the plan was made", "\(results)")
        #expect(byName["rq1"]?.outcome == .deleted, "\(results)")
        expectRestored(kernel, 9, name: "rq0")
        #expect(!kernel.requests.contains { $0.index == 9 }, "the new device is never touched: \(kernel.requests)")
    }

    @Test func aDeviceAttachedBeforeFencingAnswersEBUSYAndIsPutBack() throws {
        let kernel = ScriptedKernel([Link(2, "bz0"), Link(3, "bz1", tap: true)])
        kernel.change(3) { $0.group = 5 }
        let plan = try kernel.plan()
        #expect(plan.items.count == 2)
        var reaper = kernel.reaper()
        // A process attaches a queue to bz1 after the re-verification.
        reaper.stepHook = { step in
            if step == "reverified" { kernel.change(3) { $0.queues = 1 } }
        }
        let (results, journal) = try reap(reaper, plan)
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["bz1"]?.outcome == .skipped, "\(results)")
        #expect(byName["bz1"]?.detail == "a queue is attached to it (TUNSETIFF: device busy): attached since the plan was made, or held where no scan sees it", "\(results)")
        #expect(byName["bz0"]?.outcome == .deleted, "\(results)")
        expectRestored(kernel, 3, name: "bz1", group: 5)
        #expect(kernel.link(2) == nil)
        #expect(kernel.openDescriptors.isEmpty)
        let recorded = journal.filter { $0.type == .result && $0.ifname == "bz1" }
        #expect(recorded.map(\.result) == [.skipped] && recorded.first?.detail == byName["bz1"]?.detail)
    }

    @Test func aMultiQueueDeviceAttachedBeforeItIsTakenDownIsNeverTouched() throws {
        let kernel = ScriptedKernel([Link(3, "mq1", multiQueue: true, up: true), Link(4, "mq2", multiQueue: true, up: true)])
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            if step == "reverified" { kernel.change(3) { $0.queues = 2; $0.disabledQueues = 1 } }
        }
        let (results, _) = try reap(reaper, plan)
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["mq1"]?.outcome == .skipped)
        #expect(byName["mq1"]?.detail == "became attached since the plan was made (a process holds a queue: 2 attached, 1 disabled)")
        #expect(byName["mq2"]?.outcome == .deleted)
        // Not one request changed mq1: it was only looked at.
        #expect(kernel.requests.filter { $0.index == 3 }.allSatisfy { $0.type == NetlinkType.getLink }, "\(kernel.requests.filter { $0.index == 3 })")
        expectRestored(kernel, 3, name: "mq1", up: true)
    }

    @Test func aDeviceThatCannotBeGivenBackWholeIsReportedFailed() throws {
        let kernel = ScriptedKernel([Link(3, "mq1", multiQueue: true, up: true)])
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        // Fenced, then attached by its private name; and the kernel will not set it up again.
        reaper.stepHook = { step in
            guard step == "fenced" else { return }
            kernel.change(3) { $0.queues = 1 }
            kernel.refuse = { $0.type == NetlinkType.newLink && $0.change & 1 == 1 && $0.ifFlags & 1 == 1 ? EPERM : nil }
        }
        let (results, journal) = try reap(reaper, plan)
        #expect(results.map(\.outcome) == [.failed], "\(results)")
        #expect(results.first?.detail?.contains("a process holds a queue (1 attached, 0 disabled); it could not be set up again") == true, "\(results)")
        #expect(journal.filter { $0.type == .result }.map(\.result) == [.failed])
        #expect(kernel.link(3)?.name == Array("mq1".utf8) && kernel.link(3)?.group == 0)
    }

    /// A multi-queue device the kernel will not rename, once it is down: it is set up again and
    /// its result says it was taken down, not renamed.
    @Test func aDeviceTakenDownButNotRenamedIsSetUpAndSaysSo() throws {
        let kernel = ScriptedKernel([Link(3, "mq1", multiQueue: true, up: true)])
        kernel.refuse = { $0.type == NetlinkType.newLink && $0.name != nil ? EPERM : nil }
        let (results, _) = try reap(kernel.reaper(), try kernel.plan())
        #expect(results.map(\.outcome) == [.failed], "\(results)")
        #expect(results.first?.detail?.contains("cannot rename it to a private name") == true
                && results.first?.detail?.contains("it was taken down to be fenced, then set up again") == true, "\(results)")
        expectRestored(kernel, 3, name: "mq1", up: true)
    }

    /// A device kept after its fence whose name a new device took meanwhile (a daemon restarting
    /// made one under it) cannot be given its name back: it stays fenced, under its private name
    /// and in the private group, down, and its result says how to finish, as a failure.
    @Test func aKeptDeviceWhoseNameWasTakenStaysFenced() throws {
        let kernel = ScriptedKernel([Link(3, "mq1", multiQueue: true, up: true)])
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        reaper.stepHook = { step in
            guard step == "fenced" else { return }
            kernel.change(3) { $0.queues = 1 }
            kernel.add(Link(9, "mq1"))
        }
        let (results, journal) = try reap(reaper, plan)
        #expect(results.map(\.outcome) == [.failed], "\(results)")
        let detail = results.first?.detail ?? ""
        #expect(detail.contains("left fenced under that name and link group") && detail.contains("ip link set dev tw"), "\(detail)")
        let kept = try #require(kernel.link(3))
        #expect(kept.name != Array("mq1".utf8) && kept.group >= 0x0100_0000 && !kept.up, "\(kept)")
        #expect(journal.filter { $0.type == .result }.map(\.result) == [.failed])
    }

    @Test func aSignalBeforeTheDeleteRollsTheBatchBackAndLeavesTheRestUnattempted() throws {
        let kernel = ScriptedKernel([Link(2, "sg0"), Link(3, "sgmq", multiQueue: true, up: true), Link(4, "sg1")])
        let plan = try kernel.plan()
        var reaper = kernel.reaper()
        reaper.batchLimit = 2
        // SIGTERM arrives after the first batch's last look, right before its delete.
        reaper.stepHook = { step in
            if step == "verified" { kernel.caughtSignal = SIGTERM }
        }
        let (results, journal) = try reap(reaper, plan)
        #expect(kernel.deletions.isEmpty, "\(kernel.deletions)")
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        for name in ["sg0", "sgmq"] {
            #expect(byName[name]?.outcome == .skipped && byName[name]?.detail?.hasPrefix("interrupted by SIGTERM before deleting") == true, "\(results)")
        }
        #expect(byName["sg1"]?.outcome == .skipped && byName["sg1"]?.detail == "not attempted: interrupted by SIGTERM", "\(results)")
        expectRestored(kernel, 2, name: "sg0")
        expectRestored(kernel, 3, name: "sgmq", up: true)
        expectRestored(kernel, 4, name: "sg1")
        #expect(!kernel.requests.contains { $0.index == 4 }, "the second batch was not begun")
        #expect(journal.filter { $0.type == .result }.count == 3)
    }
}
#endif

#if os(Linux)
import Glibc
import Netlink
import Storage
import TunwardenCore

extension LinuxReaper {
    /// Step 6 of a batch: what became of each target the deletion was sent for (`confirmed`),
    /// recorded through `record` and `giveBackSaying`, and then the results of the devices the
    /// deletion took with the targets found deleted, given to `unplanned`. `linksAtLook` is the link each
    /// device the final look read named (a veth's peer).
    ///
    /// A target is gone when no device at its ifindex bears the fence's mark (another may have
    /// taken the ifindex the deletion freed). Gone is not deleted: one moved to another namespace
    /// before the deletion (`ip link set … netns`) is gone from this one too, alive elsewhere,
    /// and only its removal notification says so. The notifications are matched to the target
    /// itself (`Target.removal(among:fenceGroup:)`), never taken by ifindex alone: one moved out
    /// and back (under its ifindex or another) before the deletion, which took it, was deleted;
    /// one that left was not; and one whose removal cannot be told from another device's is not
    /// said to be deleted: it is given back wherever it can be found, and where it cannot be, its
    /// intent is left open (`goneFromHere`). A target still there after the deletion is given back at
    /// once; its intent stays open only if that fails. One whose presence could not be checked
    /// after a deletion that does not prove it went (its answer lost, or a group deletion, which
    /// leaves a device taken out of the group just before it) may still bear its fence: its result
    /// says where and which marks, and leaves its intent open (`ReapResult.leftFenced`), so that
    /// the next reap's repair gives it back.
    func verdicts(_ confirmed: [Target], batch: [Target], group: UInt32, whole: Bool, unanswered: [Int32: String], renamedAtLook: [Int32: [UInt8]], linksAtLook: [Int32: Int32],
                  departures: (any LinkDepartures)?, client: RtnetlinkClient, namespaceFD: Int32?, unplanned: ([ReapResult]) -> Void,
                  record recordResult: (Target, JournalRecord.Outcome, String?) -> Void, giveBackSaying: (Target, JournalRecord.Outcome, (_ whole: Bool) -> String) -> Void) {
        func giveBack(_ target: Target, _ outcome: JournalRecord.Outcome, _ detail: String) { giveBackSaying(target, outcome) { _ in detail } }
        let present = Self.stillPresent(confirmed, group: group, client: client)
        // The targets found deleted: only what went with one of them is the batch's doing (one
        // moved away, or still here, took nothing with it from here).
        var deleted: [Int32: String] = [:]
        func record(_ target: Target, _ outcome: JournalRecord.Outcome, _ detail: String?) {
            if outcome == .deleted { deleted[target.index] = target.item.ifname }
            recordResult(target, outcome, detail)
        }
        defer {
            // A device that joined the group between the check before the deletion and the deletion
            // went with it: the notifications tell of its deletion in the group, and it is reported,
            // failed, as deleted without being a target; so is what the kernel deleted with a target
            // the batch deleted. Without the notifications, each target's result says it could not be
            // told.
            unplanned(Self.unplannedResults(departures?.strangers(besides: Set(confirmed.map(\.index))), group: group, wholeGroup: whole,
                                             deleted: deleted, batch: batch, linksAtLook: linksAtLook))
        }
        for target in confirmed {
            let removal = departures?.removals(of: target.index, orNamed: target.fenceName).map { target.removal(among: $0, fenceGroup: group) }
            switch present[target.index] {
            case true? where unanswered[target.index] != nil:
                giveBack(target, .failed, "not deleted: \(unanswered[target.index]!), and it is still there")
            case true?:
                // Given back now, as one whose deletion's answer was lost is: only a give-back
                // that fails leaves it fenced, and its intent open.
                let still = "not deleted: still present after RTM_DELLINK" + (whole ? " (something took it out of the reap's private link group \(group) just before the deletion)" : "")
                giveBackSaying(target, .failed) { given in
                    still + (given ? "; given back from its fence" : ", and it could not be given back whole, so it is still fenced")
                }
            case false?:
                switch removal {
                case nil:
                    record(target, .deleted, "gone after RTM_DELLINK; whether it went to another network namespace just before\(whole ? ", or a device that was not a target joined the group and went with it," : "") could not be told (the link notifications were \(departures == nil ? "not to be had" : "lost"))")
                case let .departed(.deleted, from)?:
                    var words: [String] = []
                    if from != target.index {
                        words.append("it left this namespace and came back as ifindex \(from) (something else moved it) before the deletion, which took it there")
                    }
                    // A rename after the last look is told by the deletion's own notification.
                    let lastName = renamedAtLook[target.index] ?? departures?.removals(of: target.index, orNamed: target.fenceName).flatMap(target.nameLeftUnder(among:))
                    if let renamed = lastName {
                        words.append("renamed \(InterfaceName.text(renamed)) by something else since it was fenced, and deleted as \(InterfaceName.text(renamed)) "
                                     + (whole ? "with the reap's private link group \(group)" : "by its private alternative name \(InterfaceName.text(target.fenceName)), which it kept"))
                    }
                    record(target, .deleted, words.isEmpty ? nil : words.joined(separator: "; "))
                case .departed(.moved, _)?:
                    giveBack(target, .skipped, "not deleted: it left this namespace before the deletion")
                case let unclear?:
                    // Tunwarden's own queue on it tells for sure, where it has one.
                    if target.attached, let fd = target.fd {
                        switch system.tun.home(of: fd) {
                        case .detached:
                            record(target, .deleted, "gone after RTM_DELLINK: the kernel detached tunwarden's queue from it, which only its unregistration does")
                            continue
                        case let .attached(_, home?):
                            let away = !Self.sameNamespace(home, as: namespaceFD)
                            close(home)
                            if away {
                                giveBack(target, .skipped, "not deleted: it left this namespace before the deletion (tunwarden's queue on it says so)")
                                continue
                            }
                        default: break
                        }
                    }
                    let why = if case let .unclear(count) = unclear {
                        "\(count) removals of its ifindex were announced since its fence, and nothing tells which of them was its (another device had its ifindex meanwhile)"
                    } else {
                        "none of the removals announced since its fence is its"
                    }
                    giveBack(target, .skipped, "not known to be deleted: it is gone after RTM_DELLINK, but \(why), so whether the deletion took it or it left this namespace before could not be told")
                }
            case nil where unanswered[target.index] != nil:
                var left = target
                left.markLeft = .unchecked
                record(left, .failed, "\(unanswered[target.index]!), and whether it is gone could not be checked, so it may still be there: if it is, "
                       + stillFenced(target, group: group))
            case nil where whole:
                // The group deletion's answer says nothing of each device: one taken out of the
                // group just before it is left there.
                var left = target
                left.markLeft = .unchecked
                record(left, .failed, "RTM_DELLINK (group \(group)) succeeded, but that says only that the devices still in the group went, and whether it is gone could not be checked, "
                       + "so it may still be there (taken out of the group just before the deletion): if it is, " + stillFenced(target, group: group))
            case nil: record(target, .deleted, "RTM_DELLINK succeeded; the check afterwards could not be made")
            }
        }
    }

    /// The words for a target the deletion may have left in this namespace, fenced, where nothing
    /// could look at it since: where it would be (its ifindex, the `ip` command that shows it),
    /// which marks of the fence the batch left on it (something else may have changed them since,
    /// so it "may" bear them), and that its intent stays open, so that the next reap in this
    /// namespace gives it back from it.
    func stillFenced(_ target: Target, group: UInt32) -> String {
        let privateName = InterfaceName.text(target.fenceName)
        var marks: [String] = []
        if target.renamed { marks.append("its private name \(privateName)") }
        if target.altNameAdded { marks.append("its private alternative name \(privateName)") }
        if target.grouped { marks.append("the reap's private link group \(group)") }
        if target.takenDown { marks.append("down") }
        let shown = target.renamed ? target.fenceName : target.name
        let namespace = namespaceName.map { "network namespace '\(InterfaceName.text(Array($0.utf8)))'" } ?? "this process's network namespace"
        let marked = marks.isEmpty ? "" : " (" + marks.joined(separator: ", ") + ")"
        return "it may still be fenced\(marked), at ifindex \(target.index) in \(namespace): `\(commandsPlace().ipWord) link show dev \(ShellWord.quote(shown))` shows it; "
            + "its intent stays open, so that the next reap in this namespace gives it back (or finds it gone)"
    }
}
#endif

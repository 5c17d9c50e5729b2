#if os(Linux)
import Foundation
import Glibc
import Inventory
import Netlink
import Storage
import TunwardenCore

/// What the repair of a killed reap says of a device that is not at its ifindex as the intent
/// recorded it: the same device changed since by something else, or gone from the namespace,
/// where the fence it may bear is looked for in the namespaces it may have been moved to.
extension LinuxReaper {
    /// Whether `link`, at the ifindex `intent` recorded though under another name or hardware
    /// address, is still the device the intent recorded: a tun device of the same type. Within
    /// one incarnation of a namespace (the intent's identity says which) the kernel hands out
    /// ifindexes cyclically and does not give a freed one again until its counter wraps, so the
    /// ifindex is the device's; only a device moved in from another namespace could bring the
    /// same number, and such a one is no more deleted by that run than this one.
    static func isSameDevice(_ link: LinkMessage, as intent: JournalRecord) -> Bool {
        guard link.kind == "tun", let prior = intent.prior, let type = link.tun?.type else { return false }
        return type == (prior.kind == .tap ? 2 : 1)
    }

    /// What something else changed on `link` since `intent` recorded it, in words: its name, its
    /// hardware address.
    static func changesSince(_ link: LinkMessage, of intent: JournalRecord) -> [String] {
        var changes: [String] = []
        let now = InterfaceName.text(link.name ?? [])
        if link.name != InterfaceName.kernelBytes(intent.ifname) { changes.append("renamed since to \(now)") }
        if let before = intent.prior?.address, let after = link.hardwareAddress.flatMap(LinuxInventory.macText), after != before {
            changes.append("its hardware address changed since from \(before) to \(after)")
        }
        return changes
    }

    /// The result for the device `intent` recorded, found at its ifindex as `link` but changed
    /// since (`isSameDevice`): the killed run did not fence it (it bears no mark), so it did not
    /// delete it either; it is left as it is. Down though it was up, it may have been taken down by
    /// that run (a multi-queue device is, before its rename), or by whoever renamed it (a
    /// device is renamed down): which one is not known, so it is said, not undone.
    static func changedSince(_ link: LinkMessage, intent: JournalRecord, opened: OpenedIntent = .noResult) -> String {
        let now = InterfaceName.text(link.name ?? [])
        var detail = (opened == .noResult ? "run \(intent.run) was interrupted before fencing it" : opened.unmarked(by: intent.run) + ", and it bears no mark of its fence now") + "; "
            + changesSince(link, of: intent).joined(separator: ", and ") + " (the same device: a \(intent.prior?.kind.rawValue ?? "tun") still at its ifindex); not touched"
        if intent.prior?.flags.contains("UP") == true, link.flags & LinkMessage.up == 0 {
            detail += "; it is down though it was up before that run: if that run took it down, `ip link set dev \(ShellWord.quote(link.name ?? [])) up` sets it up (\(now))"
        }
        return detail
    }

    /// The result for the device `intent` recorded, gone from its ifindex: looked for by the
    /// fence's private name (a multi-queue device's name, a single-queue one's alternative name;
    /// each checked by value) first among `here`, the inspected namespace's links (a device moved
    /// out and back, or one a reap could not give back where it came back), then in every
    /// namespace the foreign-stacking look enumerates, and given back where it is found
    /// (`giveBack(_:elsewhere:)`); a give-back that leaves part of the fence on it leaves the
    /// intent open (`leftOpen`), so that the next reap tries again. One found nowhere is gone from
    /// here, deleted or moved where tunwarden cannot see: nothing proves it deleted, so the result
    /// is failed, with the commands that give it back where it may live on. While a namespace
    /// could not be looked in (entering it refused, say), the device may be there, fenced: the
    /// result says which could not, and leaves the intent open, so that a later reap that can
    /// enter them looks again.
    func goneSinceKilled(_ intent: JournalRecord, opened: OpenedIntent = .noResult, here: [LinkMessage], inspectedFD: Int32?, client: RtnetlinkClient)
        -> (outcome: JournalRecord.Outcome, detail: String, leftOpen: LeftOpen?) {
        let fenceName = InterfaceName.kernelBytes(intent.fenceName ?? "")
        let marks = FenceMarks(name: InterfaceName.kernelBytes(intent.ifname), ifname: intent.ifname, fenceName: fenceName,
                               fenceGroup: intent.fenceGroup ?? 0, grouped: false, priorGroup: intent.prior?.group ?? 0,
                               multiQueue: intent.prior?.tun?.multiQueue == true)
        func answer(_ given: (text: String, whole: Bool)) -> (outcome: JournalRecord.Outcome, detail: String, leftOpen: LeftOpen?) {
            given.whole ? (.skipped, opened.leftFenced(by: intent.run) + given.text, nil)
                : (.failed, opened.leftFenced(by: intent.run) + given.text + "; the next reap tries again to give it back", .giveBack)
        }
        if !fenceName.isEmpty, let back = here.first(where: { Int($0.index) != intent.ifindex && $0.tun != nil && ($0.name == fenceName || $0.altNames.contains(fenceName)) }) {
            let fd = inspectedFD.map { dup($0) } ?? open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
            return answer(giveBack(marks, elsewhere: Elsewhere(namespaceFD: fd >= 0 ? fd : nil, name: back.name, index: back.index), cameBack: true))
        }
        let others = ForeignStacking.otherNamespaces(inspectedFD: inspectedFD, namespaceDirectory: namespaceDirectory)
        let found: (elsewhere: Elsewhere?, unread: [String]) = fenceName.isEmpty ? (nil, []) : fenced(fenceName, among: others, client: client)
        if let elsewhere = found.elsewhere {
            return answer(giveBack(marks, elsewhere: elsewhere))
        }
        let gone = opened.gone(by: intent.run)
        guard found.unread.isEmpty else {
            let read = others.count - found.unread.count
            let unread = found.unread.prefix(3).joined(separator: ", ") + (found.unread.count > 3 ? ", …" : "")
            return (.failed, gone + ", and none of the \(read) other namespace\(read == 1 ? "" : "s") tunwarden could look in holds a device bearing its private name "
                + "\(InterfaceName.text(fenceName)), but \(found.unread.count) could not be looked in (\(unread)): it may be there, still fenced; "
                + "the next reap in this namespace that can enter them looks again (if it is there, \(Self.giveBackCommands(marks)) run in that namespace gives it back)", .whereabouts)
        }
        let nowhere = ", and none of the \(others.count) other namespaces tunwarden can see holds a device bearing its private name \(InterfaceName.text(fenceName))"
        // That run sent the deletion and only its check failed: gone, it most likely went with it.
        if opened == .leftOpen(.unchecked) {
            return (.skipped, gone + nowhere + ": not found, most likely deleted by run \(intent.run), whose deletion was sent and not seen to fail; "
                    + "if it lives on elsewhere, it may still be fenced there: \(Self.giveBackCommands(marks)) gives it back", nil)
        }
        return (.failed, gone + nowhere + "; if it lives on elsewhere, it may still be fenced there: \(Self.giveBackCommands(marks)) gives it back", nil)
    }

    /// Where, among `namespaces`, a tun device bears `fenceName` as its name or an alternative
    /// name: a descriptor of that namespace (closed by `giveBack`) and the device there; nil
    /// when none does. `unread` names each namespace that could not be looked in, with why (one
    /// that vanished meanwhile is not among them). `client` is in the inspected namespace, which
    /// names the namespace's id.
    func fenced(_ fenceName: [UInt8], among namespaces: [ForeignStacking.OtherNamespace], client: RtnetlinkClient) -> (elsewhere: Elsewhere?, unread: [String]) {
        var unread: [String] = []
        for namespace in namespaces {
            guard let fd = namespace.open() else { continue }
            let links: [LinkMessage]
            do {
                let transport = try system.rtnetlink.connect(namespaceFD: fd)
                links = try Self.dumpLinks(RtnetlinkClient(transport: transport), attempts: 6)
            } catch {
                unread.append("\(namespace.label): \(ReapRefusal.clause(error))")
                close(fd)
                continue
            }
            if let link = links.first(where: { $0.tun != nil && ($0.name == fenceName || $0.altNames.contains(fenceName)) }) {
                return (Elsewhere(namespaceFD: fd, namespaceID: try? Self.namespaceID(of: fd, client: client),
                                  namespaceName: Self.namespaceName(of: fd, directory: namespaceDirectory), name: link.name, index: link.index), unread)
            }
            close(fd)
        }
        return (nil, unread)
    }
}
#endif

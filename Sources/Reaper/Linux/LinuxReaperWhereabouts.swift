#if os(Linux)
import Foundation
import Glibc
import Netlink
import Storage
import TunwardenCore

/// What became of a fenced target that is no longer in the inspected namespace. A device moved
/// to another namespace (as a VM or container runtime moves a tap it made into its sandbox's)
/// vanishes from this namespace's dumps just as a deleted one does, and keeps the fence's marks
/// where it went. The kernel tells the two apart through tunwarden's own attached queue (a
/// single-queue target) and through the removal notification (either kind); a target that moved
/// has its fence given back where it now is, and one whose fate nothing tells is said to be gone
/// from this namespace, deleted or moved, never deleted.
extension LinuxReaper.Target {
    /// The marks the fence of the batch in `fenceGroup` put on this target.
    func marks(fenceGroup: UInt32) -> LinuxReaper.FenceMarks {
        LinuxReaper.FenceMarks(name: name, ifname: item.ifname, fenceName: fenceName, fenceGroup: fenceGroup, grouped: grouped,
                               priorGroup: item.interface.group ?? 0, multiQueue: multiQueue)
    }
}

extension LinuxReaper {
    /// Where a target gone from the inspected namespace is.
    enum Whereabouts {
        /// The kernel says it is gone; `evidence` says how.
        case deleted(evidence: String)
        /// It lives on in another namespace.
        case moved(Elsewhere)
        /// Its queue says it is in the inspected namespace, under `name`, though not at its ifindex.
        case here(name: [UInt8])
        /// Nothing the kernel said tells a deletion from a move; `why` says what it said.
        case unknown(why: String)
    }

    /// The namespace a target moved to, as far as the kernel told.
    struct Elsewhere {
        /// A descriptor of that namespace (nil when none could be had), closed by `giveBack(_:fenceGroup:elsewhere:)`.
        var namespaceFD: Int32?
        /// Its id in the inspected namespace, when it has one.
        var namespaceID: Int32?
        /// Its name under the namespace directory, when it has one.
        var namespaceName: String?
        /// The target's name there (its tun descriptor's answer), when known.
        var name: [UInt8]?
        /// The target's ifindex there (the move's notification), when known.
        var index: Int32?

        /// The namespace for people: its name, else its id as the inspected one knows it.
        var place: String {
            var words = namespaceName.map { "network namespace '\($0)'" } ?? "another network namespace"
            if let namespaceID { words += " (netns id \(namespaceID) as this one knows it, `ip netns list-id`)" }
            return words
        }
    }

    /// Where `target`, fenced in group `fenceGroup` and gone from the inspected namespace
    /// (`namespaceFD`, nil: this thread's), is: asked of tunwarden's queue on it when it holds
    /// one, else of the link notifications watched since the batch began, matched to the target
    /// itself (`Target.removal(among:fenceGroup:)`): the last removal of its ifindex may be
    /// another device's, one that took the ifindex after the target left.
    func whereabouts(of target: Target, fenceGroup: UInt32, departures: (any LinkDepartures)?, namespaceFD: Int32?, client: RtnetlinkClient) -> Whereabouts {
        var name: [UInt8]?
        if target.attached, let fd = target.fd {
            switch system.tun.home(of: fd) {
            case .detached:
                return .deleted(evidence: "the kernel detached tunwarden's queue from it, which only its unregistration does")
            case let .attached(now, homeFD?):
                if Self.sameNamespace(homeFD, as: namespaceFD) {
                    // Back in this namespace: a departure told of before is no longer where it is.
                    close(homeFD)
                    return .here(name: now)
                } else {
                    return .moved(Elsewhere(namespaceFD: homeFD, namespaceID: try? Self.namespaceID(of: homeFD, client: client),
                                            namespaceName: Self.namespaceName(of: homeFD, directory: namespaceDirectory), name: now))
                }
            case let .attached(now, nil): name = now
            case .unknown: break
            }
        }
        let alive = name.map { Whereabouts.moved(Elsewhere(name: $0)) }
        switch departures?.removals(of: target.index, orNamed: target.fenceName).map({ target.removal(among: $0, fenceGroup: fenceGroup) }) {
        case .departed(.deleted, _)?:
            return .deleted(evidence: "the kernel's notification of its removal names no namespace it went to")
        case let .departed(.moved(id, index), _)?:
            let fd = namespace(withID: id, client: client)
            return .moved(Elsewhere(namespaceFD: fd, namespaceID: id, namespaceName: fd.flatMap { Self.namespaceName(of: $0, directory: namespaceDirectory) },
                                    name: name, index: index))
        // Alive, as its queue says, but where could not be asked.
        case let .unclear(count)?:
            return alive ?? .unknown(why: "\(count) removals of its ifindex were announced, and nothing tells which of them was its: another device had its ifindex meanwhile")
        case .none?:
            return alive ?? .unknown(why: "none of the removals the kernel announced is its")
        case nil:
            return alive ?? .unknown(why: "the kernel's notifications that would tell were \(departures == nil ? "not to be had" : "lost")")
        }
    }

    /// What to add to the result of `target`, fenced and gone from the inspected namespace;
    /// whether nothing of the fence is left on a live device; and whether its intent is to be
    /// left open (`open`): where nothing tells whether it was deleted or moved, so that the next
    /// reap's repair looks for it by its private name in every namespace.
    ///
    /// A device that left and came back (a move keeps its alternative names and link group, and
    /// a freed or taken ifindex gives it another) is found here first, by its private name.
    func goneFromHere(_ target: Target, fenceGroup: UInt32, departures: (any LinkDepartures)?, namespaceFD: Int32?,
                      client: RtnetlinkClient) -> (text: String, whole: Bool, open: Bool) {
        if let here = markedHere(target, namespaceFD: namespaceFD, client: client) {
            let given = giveBack(target.marks(fenceGroup: fenceGroup), elsewhere: here, cameBack: true)
            return (given.text, given.whole, false)
        }
        switch whereabouts(of: target, fenceGroup: fenceGroup, departures: departures, namespaceFD: namespaceFD, client: client) {
        case let .here(name):
            return ("; it left its ifindex but is in this namespace, as \(InterfaceName.text(name)) (its queue says so), still fenced; it could not be found there by its private name: "
                    + "\(Self.giveBackCommands(target.marks(fenceGroup: fenceGroup))) gives it back", false, false)
        case let .deleted(evidence):
            return ("; it was deleted by something else meanwhile (\(evidence)), so there is nothing to give back", true, false)
        case let .moved(elsewhere):
            let given = giveBack(target.marks(fenceGroup: fenceGroup), elsewhere: elsewhere)
            return (given.text, given.whole, false)
        case let .unknown(why):
            // Open only where the notifications were read and could not tell: lost ones leave it
            // as they always did.
            let open = departures?.removals(of: target.index, orNamed: target.fenceName) != nil
            return ("; it is gone from this namespace: deleted, or moved to another by something else (\(why)); if it lives on elsewhere, it is still fenced there: "
                    + "\(Self.giveBackCommands(target.marks(fenceGroup: fenceGroup))) gives it back" + (open ? "; its intent is left open, so that the next reap looks for it by its private name" : ""), false, open)
        }
    }

    /// The device of the inspected namespace, at another ifindex than `target`'s, that bears
    /// its private name (as its name or an alternative name, which no other device has): the
    /// target, moved out and back; nil when none does or the namespace cannot be read.
    func markedHere(_ target: Target, namespaceFD: Int32?, client: RtnetlinkClient) -> Elsewhere? {
        guard let links = try? Self.dumpLinks(client, attempts: 6),
              let link = links.first(where: { $0.index != target.index && $0.tun != nil && ($0.name == target.fenceName || $0.altNames.contains(target.fenceName)) })
        else { return nil }
        let fd = namespaceFD.map { dup($0) } ?? open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        return Elsewhere(namespaceFD: fd >= 0 ? fd : nil, name: link.name, index: link.index)
    }

    /// The marks a fence put on a device, and what they replaced: what giving it back takes off.
    struct FenceMarks {
        /// The device's own name (the kernel's bytes) and as the plan wrote it.
        var name: [UInt8]
        var ifname: String
        /// Its private name: the name of a multi-queue device, the alternative name of a single-queue one.
        var fenceName: [UInt8]
        /// The batch's private link group, and whether the device is known to have been put in it
        /// (only then does the group alone mark it: others of the batch share it).
        var fenceGroup: UInt32
        var grouped: Bool
        /// The link group it had before.
        var priorGroup: UInt32
        var multiQueue: Bool
    }

    /// Gives back, in the namespace a fenced device moved to, what of the fence it still bears
    /// there: only tunwarden's own marks, each checked by value (its private alternative name, its
    /// private name, the batch's link group). The move itself closed it and took its addresses,
    /// as every move does; that is not tunwarden's to undo.
    /// `cameBack`: `elsewhere` is the inspected namespace, which the device left and came back to.
    func giveBack(_ target: FenceMarks, elsewhere: Elsewhere, cameBack: Bool = false) -> (text: String, whole: Bool) {
        defer { if let fd = elsewhere.namespaceFD { close(fd) } }
        let there = cameBack ? "here" : "there"
        let moved = cameBack
            ? "; it left this namespace and came back meanwhile (something else moved it), and lives on here"
            : "; it moved to \(elsewhere.place) meanwhile (something else moved it), where it lives on"
        guard let namespaceFD = elsewhere.namespaceFD else {
            return (moved + ", still fenced; tunwarden could not reach that namespace: \(there), \(Self.giveBackCommands(target)) gives it back", false)
        }
        let remote: RtnetlinkClient
        let link: LinkMessage
        do {
            remote = RtnetlinkClient(transport: try system.rtnetlink.connect(namespaceFD: namespaceFD))
            let links = try Self.dumpLinks(remote, attempts: 6)
            // Here, the batch's other targets share the group: only the private name marks it.
            let marked = { (link: LinkMessage) in
                link.tun != nil && (link.name == target.fenceName || link.altNames.contains(target.fenceName) || (!cameBack && target.grouped && link.group == target.fenceGroup))
            }
            guard let found = links.first(where: { (elsewhere.index == $0.index || elsewhere.name == $0.name) && marked($0) }) ?? links.first(where: marked) else {
                return (moved + " and bears no mark of the fence", true)
            }
            link = found
        } catch {
            return (moved + ", still fenced; it could not be looked at \(there) (\(ReapRefusal.clause(error))): \(there), \(Self.giveBackCommands(target)) gives it back", false)
        }
        let index = link.index
        var done: [String] = [], problems: [String] = []
        var current = link.name ?? target.fenceName
        if link.name == target.fenceName {
            let name = target.name
            var back = false
            do {
                try Self.change(&back, index, "RTM_NEWLINK (rename)", client: remote, isDone: { $0.name == name }) {
                    LinkMessage.renameRequest(index: index, name: name, sequence: $0)
                }
                done.append("gave it its name back from \(InterfaceName.text(target.fenceName))")
                current = name
            } catch {
                problems.append("it keeps the private name \(InterfaceName.text(target.fenceName)) \(there) (\(ReapRefusal.clause(error)); another device \(there) may have \(target.ifname)): once the name is free, `ip link set dev \(ShellWord.quote(target.fenceName)) name \(ShellWord.quote(name))` \(there)")
            }
        }
        if link.altNames.contains(target.fenceName) {
            let alternative = target.fenceName
            var back = false
            if (try? Self.change(&back, index, "RTM_DELLINKPROP (altname)", client: remote, isDone: { !$0.altNames.contains(alternative) }) {
                LinkMessage.altNameRequest(index: index, altName: alternative, add: false, sequence: $0)
            }) != nil {
                done.append("removed its private alternative name \(InterfaceName.text(alternative))")
            } else {
                problems.append("its private alternative name could not be removed \(there) (`ip link property del dev \(ShellWord.quote(current)) altname \(ShellWord.quote(alternative))`)")
            }
        }
        if link.group == target.fenceGroup {
            let prior = target.priorGroup
            var back = false
            if (try? Self.change(&back, index, "RTM_NEWLINK (group)", client: remote, isDone: { $0.group == prior }) {
                LinkMessage.setGroupRequest(index: index, group: prior, sequence: $0)
            }) != nil {
                done.append("set its link group back to \(prior)")
            } else {
                problems.append("its link group could not be set back to \(prior) \(there) (`ip link set dev \(ShellWord.quote(current)) group \(prior)`)")
            }
        }
        var text = moved + " as \(InterfaceName.text(current)) (ifindex \(index))"
        if let last = done.last { text += "; tunwarden " + (done.count == 1 ? last : done.dropLast().joined(separator: ", ") + " and " + last) + " \(there)" }
        if !problems.isEmpty { text += "; it is still fenced \(there): " + problems.joined(separator: "; ") }
        if link.flags & LinkMessage.up == 0 { text += "; it is down \(there), as the move left it (a move closes the device it moves)" }
        return (text, problems.isEmpty)
    }

    /// The commands that take `target`'s fence off it where it is, whichever marks it bears.
    static func giveBackCommands(_ target: FenceMarks) -> String {
        let fence = ShellWord.quote(target.fenceName), name = ShellWord.quote(target.name)
        let group = target.priorGroup
        return target.multiQueue
            ? "`ip link set dev \(fence) name \(name); ip link set dev \(name) group \(group)`"
            : "`ip link property del dev \(name) altname \(fence); ip link set dev \(name) group \(group)`"
    }

    /// Whether the namespace descriptors `fd` and `other` (nil: this thread's namespace) name the same namespace.
    static func sameNamespace(_ fd: Int32, as other: Int32?) -> Bool {
        var a = stat(), b = stat()
        guard fstat(fd, &a) == 0 else { return false }
        let known = other.map { fstat($0, &b) == 0 } ?? (stat("/proc/thread-self/ns/net", &b) == 0)
        return known && a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    /// The id the inspected namespace (`client`'s) gives the namespace behind `fd`, nil for none.
    static func namespaceID(of fd: Int32, client: RtnetlinkClient) throws -> Int32? {
        let replies = try client.request(operation: "RTM_GETNSID") { NamespaceIDMessage.request(fd: fd, sequence: $0) }
        guard let reply = replies.first(where: { $0.header.type == NetlinkType.newNSID }) else { return nil }
        let id = try NamespaceIDMessage.decodeID(reply.payload)
        return id == NamespaceIDMessage.notAssigned ? nil : id
    }

    /// The name under `directory` bound to the namespace behind `fd`, if any.
    static func namespaceName(of fd: Int32, directory: String) -> String? {
        var own = stat()
        guard fstat(fd, &own) == 0, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        return names.sorted().first { name in
            var file = stat()
            return stat(directory + "/" + name, &file) == 0 && file.st_dev == own.st_dev && file.st_ino == own.st_ino
        }
    }

    /// A descriptor of the namespace the inspected one knows by `id`: one of those named under the
    /// namespace directory, else one some process is in; nil when none of them has that id.
    func namespace(withID id: Int32, client: RtnetlinkClient) -> Int32? {
        var paths = ((try? FileManager.default.contentsOfDirectory(atPath: namespaceDirectory)) ?? []).sorted().map { namespaceDirectory + "/" + $0 }
        paths += ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { $0.allSatisfy(\.isNumber) }.map { "/proc/\($0)/ns/net" }
        var seen = Set<UInt64>()
        for path in paths {
            var file = stat()
            guard stat(path, &file) == 0, seen.insert(UInt64(file.st_ino)).inserted else { continue }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            if (try? Self.namespaceID(of: fd, client: client)) == id { return fd }
            close(fd)
        }
        return nil
    }
}
#endif

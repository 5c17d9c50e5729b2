#if os(Linux)
import Foundation
import Glibc
import Netlink
import TunwardenCore

/// Links stacked on a device of the inspected namespace from another namespace: a macvlan or
/// vlan made on a tap and then moved into a container's namespace, a qemu's macvtap, a vxlan whose
/// underlay is the tap. The kernel deletes them with their lower device, however far they moved,
/// yet the lower's own namespace dumps nothing of them: each other namespace must be asked.
///
/// Every namespace a process runs in (`/proc/PID/ns/net`) and every one `ip netns` names is
/// looked at: a netlink socket is made inside it, the kinds that stack on a device are dumped
/// there (`stackingKinds`, each by the kernel's kind filter), and of those that name a lower in
/// another namespace (IFLA_LINK_NETNSID), the ones whose namespace id there is the inspected
/// namespace's are kept. So is every namespace a bind mount this process sees keeps, and every
/// one a process keeps open by a descriptor of its main table (`NamespaceDescriptors`: the
/// holder scan notes them for an audit, the reaper's last look reads them itself), through that
/// descriptor: a link made straight into such a namespace (`ip link add link tap0 … netns B`) is
/// seen there, though the inspected namespace has no id for it. So is every namespace a socket of
/// a main table was made in (`SocketNamespaces`), through a descriptor the socket gives; a socket
/// that cannot be asked leaves its namespace unread.
///
/// A namespace that no process runs in and no path here opens (kept by a descriptor in flight
/// in an SCM_RIGHTS message, by one in a thread's own table after unshare(CLONE_FILES), by a bind
/// mount in another mount namespace alone) is read by the id the inspected namespace gives it,
/// when it has one (`IdentifiedNamespaces`): the kernel gives one when a link moves from the
/// inspected namespace into it, which is how a container's macvlan or a qemu's macvtap gets
/// there. One made straight into such a namespace gives the inspected namespace no id for it,
/// and is not seen. The two sides never change namespace: the socket is made by a thread that
/// enters it.
public enum ForeignStacking {
    /// Link kinds the kernel deletes together with their lower device: they name it in IFLA_LINK
    /// (macvlan, macvtap, vlan, ipvlan, ipvtap, macsec) or IFLA_VXLAN_LINK (vxlan).
    public static let stackingKinds = ["macvlan", "macvtap", "vlan", "ipvlan", "ipvtap", "macsec", "vxlan"]

    /// What a look at the other namespaces found.
    public struct Found {
        /// The names of the links in other namespaces stacked on each link of the inspected
        /// namespace (by ifindex there), each as `NAME (namespace LABEL)`.
        public var uppers: [Int: [String]] = [:]
        /// The vxlans of other namespaces whose forwarding entries send packets through each link
        /// of the inspected namespace (by ifindex there), each as `NAME (namespace LABEL)`: a
        /// vxlan made here and moved away keeps this namespace as its link namespace.
        public var vias: VxlanForwarding.Vias = [:]
        /// The vxlans of other namespaces that keep this one as their link namespace and send
        /// from a local address, by that address's bytes, each as `vxlan NAME (namespace LABEL)`:
        /// they send from this namespace, from whichever device has it.
        public var tunnelLocals: [[UInt8]: [String]] = [:]
        /// The namespaces that could not be looked at (not those whose last process exited).
        public var unread: [String] = []
        /// The errno setns(2) refused the first namespace it could not enter with, if any.
        public var enterErrno: Int32?

        /// Adds `lines` to `unread`, each once: a look that lists the namespaces again may meet
        /// the same problem twice.
        mutating func addUnread(_ lines: [String]) {
            for line in lines where !unread.contains(line) { unread.append(line) }
        }

        public init(uppers: [Int: [String]] = [:], vias: VxlanForwarding.Vias = [:], unread: [String] = []) {
            self.uppers = uppers
            self.vias = vias
            self.unread = unread
        }
    }

    /// Looks at every other namespace for links stacked on the inspected one's. `inspectedFD`: a
    /// descriptor of the inspected namespace, nil for this process's own.
    ///
    /// A kind whose driver is not registered (the kernel's list of link kinds is one for every
    /// namespace) has no link anywhere: found so in one namespace, it is not asked of the others,
    /// which spares each of them a socket (and the thread that makes it), so that a host with
    /// thousands of namespaces is looked at in a fraction of the time. With `confirmingAbsence`
    /// (the reaper's last look), a driver registered while the look went on (a module loaded to
    /// make such a link) makes the whole look start again, asking every kind; an audit, which
    /// deletes nothing, spares the inspected namespace those questions (each one a dump begun
    /// beside its own link dump). The reaper's look also counts a namespace whose vxlans'
    /// forwarding entries kept changing as one not read; an audit takes what it read.
    ///
    /// `held`: the namespaces processes keep open by a descriptor, as the holder scan just found
    /// them; without, each look reads every process's descriptors for them.
    static func look(inspectedFD: Int32?, procRoot: String = "/proc", namespaceDirectory: String = "/run/netns",
                     confirmingAbsence: Bool = true, held: NamespaceDescriptors?) -> Found {
        var absent = Set<String>()
        let first = look(inspectedFD: inspectedFD, procRoot: procRoot, namespaceDirectory: namespaceDirectory, absent: &absent, learn: true,
                         settled: confirmingAbsence, held: held ?? NamespaceDescriptors.walk(procRoot: procRoot))
        guard confirmingAbsence, !absent.isEmpty, Self.anyRegistered(absent, inspectedFD: inspectedFD, procRoot: procRoot) else { return first }
        var none = Set<String>()
        return look(inspectedFD: inspectedFD, procRoot: procRoot, namespaceDirectory: namespaceDirectory, absent: &none, learn: false, settled: true,
                    held: NamespaceDescriptors.walk(procRoot: procRoot))
    }

    /// `look`, reading every process's descriptors for the namespaces they keep open.
    public static func look(inspectedFD: Int32?, procRoot: String = "/proc", namespaceDirectory: String = "/run/netns",
                            confirmingAbsence: Bool = true) -> Found {
        look(inspectedFD: inspectedFD, procRoot: procRoot, namespaceDirectory: namespaceDirectory, confirmingAbsence: confirmingAbsence, held: nil)
    }

    /// Whether any of `kinds` has a driver registered now (asked in the inspected namespace; a
    /// question that cannot be asked counts as yes).
    static func anyRegistered(_ kinds: Set<String>, inspectedFD: Int32?, procRoot: String) -> Bool {
        for kind in kinds {
            do {
                let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: inspectedFD))
                if try linksOf(kind, client: client, stopEarly: true) != nil { return true }
            } catch {
                return true
            }
        }
        return false
    }

    /// One look; kinds found without a driver go into `absent` when `learn`, and kinds already
    /// there are not asked. With `settled`, a namespace whose vxlan entries never read twice
    /// alike is one that could not be read (see `VxlanForwarding.vias`).
    ///
    /// A namespace whose every path was gone when opened (its processes exited or went back, its
    /// descriptors were closed or moved, its name removed) may still be kept by something the
    /// listing passed over because that path stood for it: a socket (the sockets are asked only
    /// of namespaces no other path reaches), another process's descriptor of it (another
    /// tunwarden run holding it for its own look). Every route is then walked again for it, at
    /// most `listingRounds` times; one still listed and still gone after that is one that could
    /// not be read.
    static func look(inspectedFD: Int32?, procRoot: String, namespaceDirectory: String, absent: inout Set<String>, learn: Bool,
                     settled: Bool, held: NamespaceDescriptors) -> Found {
        var found = Found()
        var own: Int32? = inspectedFD
        if own == nil, case let .ok(fd) = Sys.openFile("\(procRoot)/self/ns/net") { own = fd }
        defer { if inspectedFD == nil, let own { close(own) } }
        guard let own, case let .ok(inspectedInode) = Sys.statDescriptor(own) else {
            found.unread = ["the inspected namespace (its descriptor cannot be had)"]
            return found
        }
        // The inspected namespace's ids, read before the walk: a namespace that gets one while
        // the walk goes on is one it lists by its path.
        var identified = IdentifiedNamespaces(inspectedFD: inspectedFD)
        var descriptors = held
        let listing = namespaces(excluding: inspectedInode, procRoot: procRoot, namespaceDirectory: namespaceDirectory, held: descriptors)
        var others = listing.namespaces
        found.addUnread(listing.unlisted)
        // The namespaces looked into, or reported unread or not network namespaces.
        var done: Set<UInt64> = [inspectedInode]
        for round in 1...Self.listingRounds {
            var vanished: [Namespace] = []
            for namespace in others {
                defer { if let fd = namespace.ownedFD { close(fd) } }
                // Known to exist, with no path that opens it.
                if namespace.unreachable {
                    done.insert(namespace.inode)
                    found.addUnread([namespace.label])
                    continue
                }
                switch open(namespace, held: descriptors) {
                case let .opened(fd):
                    defer { close(fd) }
                    done.insert(namespace.inode)
                    identified.opened(fd)
                    inspect(fd, label: namespace.label, own: own, absent: &absent, learn: learn, settled: settled, into: &found)
                case .refused:
                    done.insert(namespace.inode)
                    found.addUnread([namespace.label])
                case .notNetwork:
                    done.insert(namespace.inode)
                case .gone:
                    vanished.append(namespace)
                }
            }
            guard !vanished.isEmpty else { break }
            guard round < Self.listingRounds else {
                found.addUnread(vanished.map { "\($0.label) (whatever keeps it kept moving while it was looked for)" })
                break
            }
            descriptors = NamespaceDescriptors.walk(procRoot: procRoot)
            let again = namespaces(excluding: inspectedInode, procRoot: procRoot, namespaceDirectory: namespaceDirectory, held: descriptors, known: done)
            let wanted = Set(vanished.map(\.inode))
            others = []
            for namespace in again.namespaces {
                if wanted.contains(namespace.inode) {
                    others.append(namespace)
                } else if let fd = namespace.ownedFD {
                    close(fd)
                }
            }
            found.addUnread(again.unlisted)
        }
        identified.read(ownFD: own, into: &found)
        return found
    }

    /// How many times the look lists the namespaces whose every path was gone when opened.
    static let listingRounds = 3

    /// What opening a listed namespace came to.
    enum Opening {
        /// A descriptor of it, which the caller closes.
        case opened(Int32)
        /// A path that may still open it could not be opened.
        case refused
        /// It is a namespace of another type than a network one: nothing to look into.
        case notNetwork
        /// Every path was gone, or opens another namespace now: nothing listed keeps it now.
        case gone
    }

    /// Opens `namespace` by each of its paths in turn, its other processes' descriptors last: one
    /// that exited, closed or went elsewhere says nothing of the others. A path is taken only
    /// when what it opens is the namespace listed (by inode): a thread that went back to its own
    /// namespace, or a name removed and made again, opens another.
    static func open(_ namespace: Namespace, held: NamespaceDescriptors) -> Opening {
        var refused = false, otherType = false
        for path in namespace.paths {
            switch Sys.openFile(path) {
            case let .ok(fd):
                if case let .ok(inode) = Sys.statDescriptor(fd), inode == namespace.inode { return .opened(fd) }
                close(fd)
            case .failed(ENOENT), .failed(ESRCH): continue
            case .failed: refused = true
            }
        }
        for path in namespace.heldPaths {
            switch held.open(path, inode: namespace.inode) {
            case let .namespace(fd): return .opened(fd)
            case .gone: continue
            case .otherType: otherType = true
            case .failed: refused = true
            }
        }
        return refused ? .refused : otherType ? .notNetwork : .gone
    }

    /// Looks into the namespace `fd` for links stacked on the inspected namespace's (`own`) and
    /// vxlans sending through or from it, into `found`; `label` names it there.
    static func inspect(_ fd: Int32, label: String, own: Int32, absent: inout Set<String>, learn: Bool, settled: Bool, into found: inout Found) {
        do {
            var client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: fd))
            var naming: [LinkMessage] = []
            for kind in stackingKinds where !absent.contains(kind) {
                guard let links = try linksOf(kind, client: client, stopEarly: true) else {
                    // No such link can exist, here or anywhere; the socket still holds the
                    // rest of that dump.
                    if learn { absent.insert(kind) }
                    client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: fd))
                    continue
                }
                // A vxlan that names another link namespace may send through its devices by its
                // forwarding entries, with or without a device it is bound to.
                naming += links.filter { $0.linkNetnsID != nil && (Self.lower(of: $0) != nil || $0.kind == "vxlan") }
            }
            guard !naming.isEmpty else { return }
            // The id this namespace gives the inspected one: asked after the dump, whose links
            // naming it made the kernel give it one. Without an answer, a link naming some
            // other namespace may name this one.
            let replies = try client.request(operation: "RTM_GETNSID") { NamespaceIDMessage.request(fd: own, sequence: $0) }
            guard let reply = replies.first(where: { $0.header.type == NetlinkType.newNSID }) else {
                found.unread.append(label)
                return
            }
            let id = try NamespaceIDMessage.decodeID(reply.payload)
            guard id != NamespaceIDMessage.notAssigned else { return }
            for link in naming where link.linkNetnsID == id {
                guard let lower = Self.lower(of: link) else { continue }
                let name = link.name.map(InterfaceName.text) ?? "ifindex \(link.index)"
                found.uppers[lower, default: []].append("\(name) (namespace \(label))")
            }
            let vxlans = naming.filter { $0.kind == "vxlan" && $0.linkNetnsID == id }
            for vxlan in vxlans {
                guard let local = vxlan.tunnelLocal else { continue }
                let name = vxlan.name.map(InterfaceName.text) ?? "ifindex \(vxlan.index)"
                found.tunnelLocals[local, default: []].append("vxlan \(name) (namespace \(label))")
            }
            if !vxlans.isEmpty {
                let vias = try VxlanForwarding.vias(of: vxlans, client: client, namespaceFD: fd, settled: settled) { "\($0) (namespace \(label))" }
                found.vias.merge(vias, uniquingKeysWith: +)
            }
        } catch NetlinkError.enterNamespace(errno: EINVAL) {
            // Not a namespace at all (a plain file left under /run/netns): nothing sits there.
            return
        } catch NetlinkError.enterNamespace(let code) {
            found.enterErrno = found.enterErrno ?? code
            found.unread.append(label)
        } catch {
            found.unread.append(label)
        }
    }

    /// The ifindex, in the namespace IFLA_LINK_NETNSID names, of the device a link of another
    /// namespace sits on: a vxlan's IFLA_VXLAN_LINK; for the other kinds IFLA_LINK, which the
    /// kernel leaves out when that index equals the link's own (numbers of two namespaces that
    /// happen to match: the link's index is then its lower's).
    static func lower(of link: LinkMessage) -> Int? {
        if link.kind == "vxlan" { return link.vxlanLink.map { Int($0) } }
        return Int(link.link ?? Int32(link.index))
    }

    /// What stops reading a dump the kernel did not filter.
    private struct Unfiltered: Error {}

    /// Every link of `kind`, from a kind-filtered dump, or nil when the answer shows the kernel has
    /// no such kind. The kernel filters only by kinds whose driver is registered
    /// (`linkinfo_to_kind_ops`) and otherwise answers with every link; a link of another kind in
    /// the answer therefore proves that no link of this kind exists, and that answer need not be
    /// consistent. With `stopEarly`, the rest of such an answer (on a namespace of ten thousand
    /// links as costly as a whole dump) is not read, and the client must not be used again;
    /// otherwise it is read to its end and the client stays usable. With `consistent` (the
    /// default), a dump the kernel marks interrupted is taken again, up to 20 times, and then it
    /// throws; without, what it showed is taken as it is, for a caller that proves what it read
    /// by a consistent look afterwards.
    public static func linksOf(_ kind: String, client: RtnetlinkClient, stopEarly: Bool, consistent: Bool = true) throws -> [LinkMessage]? {
        var attempt = 0
        while true {
            var found: [LinkMessage] = []
            var unfiltered = false
            do {
                try client.dumpOnce(operation: "RTM_GETLINK (\(kind))", request: { LinkMessage.dumpRequest(kind: kind, sequence: $0) }) { message in
                    guard message.header.type == NetlinkType.newLink else { return }
                    let link = try LinkMessage.decode(message.payload)
                    guard link.kind == kind else {
                        unfiltered = true
                        if stopEarly { throw Unfiltered() }
                        return
                    }
                    found.append(link)
                }
                return unfiltered ? nil : found
            } catch is Unfiltered {
                return nil
            } catch NetlinkError.dumpInterrupted(let operation, _) {
                if unfiltered { return nil }
                if !consistent { return found }
                attempt += 1
                guard attempt < 20 else { throw NetlinkError.dumpInterrupted(operation: operation, attempts: attempt) }
                usleep(useconds_t(5_000 * attempt))
            }
        }
    }

    /// Every link of `kind` (none where the kernel has no such kind), the dump read to its end.
    public static func linksOf(_ kind: String, client: RtnetlinkClient) throws -> [LinkMessage] {
        try linksOf(kind, client: client, stopEarly: false) ?? []
    }
}
#endif

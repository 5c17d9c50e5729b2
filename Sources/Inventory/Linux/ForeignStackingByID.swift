#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

extension ForeignStacking {
    /// The other namespaces the inspected one knows by a namespace id (its nsid table, as
    /// `ip netns list-id` prints it), and which of them the walk opened by a path.
    ///
    /// Moving a link out of a namespace makes the kernel give the destination an id there, so a
    /// namespace that a macvlan or macvtap on a tap was moved into is in the tap's namespace's
    /// table however it is kept: by an open descriptor, by one in flight in an SCM_RIGHTS message
    /// (systemd's `PrivateNetwork=` namespaces), by a bind mount in another mount namespace. The
    /// ids the walk did not open are read by id (`LinkMessage.dumpRequest(targetNamespaceID:)`),
    /// without entering the namespace; one that cannot be read so counts as unread. A stacked link
    /// made straight into another namespace (`ip link add link tap0 … netns B`) gives the tap's
    /// namespace no id for it, and such a namespace stays unseen when no path opens it (the walk
    /// opens those a main descriptor table keeps open).
    struct IdentifiedNamespaces {
        /// A client in the inspected namespace; nil when its table could not be read.
        private let client: RtnetlinkClient?
        /// The ids not matched to a namespace the walk opened.
        private(set) var pending: Set<Int32> = []
        /// Why the table could not be read.
        private(set) var failure: String?

        /// Reads the inspected namespace's table (`inspectedFD`, nil for this process's own): one
        /// small dump, empty where no other namespace has an id there.
        init(inspectedFD: Int32?) {
            do {
                let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: inspectedFD))
                pending = Set(try Self.table(client))
                self.client = client
            } catch {
                client = nil
                failure = "the namespaces known here only by a namespace id (their table cannot be read: \(error))"
            }
        }

        /// Every id in the table of the client's namespace.
        static func table(_ client: RtnetlinkClient) throws -> [Int32] {
            try client.dump(operation: "RTM_GETNSID", request: { NamespaceIDMessage.dumpRequest(sequence: $0) }) { message in
                guard message.header.type == NetlinkType.newNSID else { return nil }
                return try NamespaceIDMessage.decodeID(message.payload)
            }
        }

        /// The id the client's namespace gives the namespace behind `fd`, nil when it has none.
        /// Asking gives none (the kernel's `peernet2id`, unlike a link dump, allocates nothing).
        static func id(of fd: Int32, client: RtnetlinkClient) throws -> Int32? {
            let replies = try client.request(operation: "RTM_GETNSID") { NamespaceIDMessage.request(fd: fd, sequence: $0) }
            guard let reply = replies.first(where: { $0.header.type == NetlinkType.newNSID }) else { return nil }
            let id = try NamespaceIDMessage.decodeID(reply.payload)
            return id == NamespaceIDMessage.notAssigned ? nil : id
        }

        /// Takes the namespace the walk opened as `fd` off the ids left to read. An id whose
        /// namespace cannot be matched so is read by id as well, which at worst names its links twice.
        mutating func opened(_ fd: Int32) {
            guard let client, !pending.isEmpty, let id = try? Self.id(of: fd, client: client) else { return }
            pending.remove(id)
        }

        /// Reads the namespaces left (not the inspected one, which may have an id for itself)
        /// and adds what sits on the inspected namespace's devices to `found`, as the walk does;
        /// those that cannot be read go into its `unread`. `ownFD` opens the inspected namespace.
        func read(ownFD: Int32, into found: inout Found) {
            if let failure { found.unread.append(failure) }
            guard let client, !pending.isEmpty else { return }
            var left = pending
            do {
                if let own = try Self.id(of: ownFD, client: client) { left.remove(own) }
            } catch {
                found.unread += left.sorted().map { "\(Self.label($0)) (its id cannot be told from this namespace's own: \(error))" }
                return
            }
            var naming: [(id: Int32, links: [LinkMessage])] = []
            for id in left.sorted() {
                do {
                    let links = try Self.links(of: id, client: client).filter { link in
                        guard let kind = link.kind, stackingKinds.contains(kind), link.linkNetnsID != nil else { return false }
                        return ForeignStacking.lower(of: link) != nil || kind == "vxlan"
                    }
                    if !links.isEmpty { naming.append((id, links)) }
                } catch NetlinkError.kernel(_, EINVAL, _) where (try? Self.table(client).contains(id)) == false {
                    continue  // The namespace went (its last keeper let go) after the table was read.
                } catch {
                    found.unread.append("\(Self.label(id)) (\(error))")
                }
            }
            guard !naming.isEmpty else { return }
            // The links name their link namespace by this namespace's ids; the id of this one
            // itself is asked after the dumps, whose links naming it made the kernel give it one.
            let own: Int32?
            do { own = try Self.id(of: ownFD, client: client) } catch {
                found.unread += naming.map { "\(Self.label($0.id)) (its links name a namespace that cannot be told from this one: \(error))" }
                return
            }
            guard let own else { return }
            for (id, links) in naming {
                let label = Self.label(id)
                for link in links where link.linkNetnsID == own {
                    let name = link.name.map(InterfaceName.text) ?? "ifindex \(link.index)"
                    if let lower = ForeignStacking.lower(of: link) { found.uppers[lower, default: []].append("\(name) (namespace \(label))") }
                    guard link.kind == "vxlan" else { continue }
                    if let local = link.tunnelLocal { found.tunnelLocals[local, default: []].append("vxlan \(name) (namespace \(label))") }
                }
                // A vxlan's forwarding entries are dumped only from inside its namespace (the
                // bridge family's neighbour dump takes no target id), so the devices they send
                // through here stay unknown.
                if links.contains(where: { $0.kind == "vxlan" && $0.linkNetnsID == own }) {
                    found.unread.append("\(label) (a vxlan there sends from this namespace, and its forwarding entries cannot be read by id)")
                }
            }
        }

        /// How a namespace known only by its id here is named in findings.
        static func label(_ id: Int32) -> String { "nsid \(id)" }

        /// Every link of the namespace known here as `id`. An answer that does not carry the id
        /// back is the socket's own namespace's (a kernel older than 4.15 ignores the request's
        /// id), and fails the read.
        static func links(of id: Int32, client: RtnetlinkClient) throws -> [LinkMessage] {
            var links: [LinkMessage] = []
            try client.dumpEach(operation: "RTM_GETLINK (nsid \(id))", request: { LinkMessage.dumpRequest(targetNamespaceID: id, sequence: $0) },
                                restart: { links.removeAll() }) { message in
                guard message.header.type == NetlinkType.newLink else { return }
                guard try LinkMessage.targetNamespaceID(message.payload) == id else {
                    throw NetlinkError.unexpectedReply(operation: "RTM_GETLINK (nsid \(id))",
                                                       detail: "an answer without IFLA_TARGET_NETNSID \(id): this kernel does not dump by namespace id")
                }
                links.append(try LinkMessage.decode(message.payload))
            }
            return links
        }
    }
}
#endif

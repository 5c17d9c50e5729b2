#if os(Linux)
import Glibc
import Netlink

/// Traffic-control actions that send another device's packets to a device (`tc … action mirred
/// egress redirect dev tap0`, or `mirred … blockid 22` to every port of shared block 22, which
/// `tc qdisc add dev tap0 ingress_block 22 clsact` makes tap0 one of): a device configured into
/// something, though no process holds it; deleting it leaves the action pointing nowhere, or the
/// block a port short, and that traffic lost.
public enum TrafficRedirects {
    /// What the namespace's `mirred` actions send packets to.
    public struct Found: Equatable, Sendable {
        /// How many actions that a filter uses send packets to each ifindex (an action to a block
        /// counts once for each of its ports).
        public var counts: [Int: Int] = [:]
        /// Why the devices some action sends packets to cannot be known (nil: every one is known),
        /// in words that name the action: then any device may be one.
        public var unresolved: String?

        public init(counts: [Int: Int] = [:], unresolved: String? = nil) {
            self.counts = counts
            self.unresolved = unresolved
        }
    }

    /// The `mirred` actions that a filter uses, over `client` (an rtnetlink client in the
    /// namespace), with the ports of the blocks they send packets to, from the kernel's list of
    /// qdiscs (asked for only when some action sends to a block). None where the kernel has no
    /// traffic-control actions. Throws when either list cannot be had.
    public static func found(client: RtnetlinkClient) throws -> Found {
        var found = Found()
        var blocks: [UInt32: Int] = [:]
        do {
            try client.dumpEach(operation: "RTM_GETACTION (mirred)", request: { TrafficAction.mirredDumpRequest(sequence: $0) },
                                restart: { (found, blocks) = (Found(), [:]) }) { message in
                guard message.header.type == TrafficAction.getAction || message.header.type == TrafficAction.newAction else { return }
                for action in try TrafficAction.decodeMirred(message.payload) where action.boundFilters > 0 {
                    if let block = action.blockIndex {
                        blocks[block, default: 0] += 1
                    } else if action.targetIndex != 0 {
                        // Index 0 without a block: its device is gone, and it sends packets nowhere.
                        found.counts[Int(action.targetIndex), default: 0] += 1
                    }
                }
            }
        } catch NetlinkError.kernel(_, let code, _) where [EOPNOTSUPP, ENOENT].contains(code) {
            return Found()
        }
        guard !blocks.isEmpty else { return found }
        var ports: [UInt32: Set<Int32>] = [:]
        do {
            try client.dumpEach(operation: "RTM_GETQDISC (shared blocks)", request: { TrafficBlock.qdiscDumpRequest(sequence: $0) },
                                restart: { ports = [:] }) { message in
                guard message.header.type == TrafficBlock.newQdisc else { return }
                let qdisc = try TrafficBlock.decodePorts(message.payload)
                for block in qdisc.blocks where blocks[block] != nil { ports[block, default: []].insert(qdisc.index) }
            }
        } catch {
            // The actions send packets to blocks whose ports cannot be listed: any device may be one.
            let named = blocks.keys.sorted().map(String.init).joined(separator: ", ")
            found.unresolved = "a tc action (mirred) sends packets to every device bound to shared block \(named), and which devices those are "
                + "cannot be known (\(error))"
            return found
        }
        for (block, actions) in blocks {
            for index in ports[block] ?? [] { found.counts[Int(index), default: 0] += actions }
        }
        return found
    }

    /// The same for the namespace behind `namespaceFD` (nil: this process's own), on a socket of
    /// its own; `Unreadable` when the list cannot be had.
    public static func found(namespaceFD: Int32?) -> Result<Found, SocketUse.Unreadable> {
        do {
            let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD))
            return .success(try found(client: client))
        } catch {
            return .failure(SocketUse.Unreadable(description: "the kernel's list of traffic-control redirects could not be read: \(error)"))
        }
    }
}
#endif

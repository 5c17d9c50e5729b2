#if os(Linux)
import Glibc
import Netlink

/// Traffic-control actions that send another device's packets to a device (`tc … action mirred
/// egress redirect dev tap0`): a device configured into something, though no process holds it;
/// deleting it leaves the action pointing nowhere and that traffic lost.
public enum TrafficRedirects {
    /// How many `mirred` actions that a filter uses send packets to each ifindex, over `client`
    /// (an rtnetlink client in the namespace). None where the kernel has no traffic-control
    /// actions. Throws when the list cannot be had.
    public static func counts(client: RtnetlinkClient) throws -> [Int: Int] {
        var counts: [Int: Int] = [:]
        do {
            try client.dumpEach(operation: "RTM_GETACTION (mirred)", request: { TrafficAction.mirredDumpRequest(sequence: $0) },
                                restart: { counts = [:] }) { message in
                guard message.header.type == TrafficAction.getAction || message.header.type == TrafficAction.newAction else { return }
                for action in try TrafficAction.decodeMirred(message.payload) where action.boundFilters > 0 && action.targetIndex != 0 {
                    counts[Int(action.targetIndex), default: 0] += 1
                }
            }
        } catch NetlinkError.kernel(_, let code, _) where [EOPNOTSUPP, ENOENT].contains(code) {
            return [:]
        }
        return counts
    }

    /// The same for the namespace behind `namespaceFD` (nil: this process's own), on a socket of
    /// its own; `Unreadable` when the list cannot be had.
    public static func counts(namespaceFD: Int32?) -> Result<[Int: Int], SocketUse.Unreadable> {
        do {
            let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD))
            return .success(try counts(client: client))
        } catch {
            return .failure(SocketUse.Unreadable(description: "the kernel's list of traffic-control redirects could not be read: \(error)"))
        }
    }
}
#endif

#if os(Linux)
import Glibc
import Netlink
import Storage
import TunwardenCore

/// The check the reaper makes right before it fences single-queue devices by attaching to them:
/// whether the attach, which turns a device's carrier on, would make live routes the kernel passes
/// by while it has none (see `CarrierFence`).
extension LinuxReaper {
    /// The single-queue targets among `targets` that are up and not to be fenced by an attach,
    /// each with its outcome and why: skipped when routes the kernel passes by for want of its
    /// carrier go through it, failed when the routes (or, for one that was down when planned,
    /// whether it is up now) cannot be read. From one dump of each family, taken right before the
    /// batch is fenced. A target that was down when planned is asked again whether it is up only
    /// when such routes go through it: down, its routes stay passed by whatever its carrier (the
    /// kernel flags a down device's routes dead too), but brought up since the plan, the attach
    /// would make them live as it would for one that was up all along.
    static func carrierRefusals(_ targets: [Target], client: RtnetlinkClient) -> [Int32: (JournalRecord.Outcome, String)] {
        let attached = targets.filter { !$0.multiQueue }
        guard !attached.isEmpty else { return [:] }
        var refusals: [Int32: (JournalRecord.Outcome, String)] = [:]
        let found: [Int32: [String]]
        do {
            found = try deadRoutes(through: Set(attached.map(\.index)), client: client)
        } catch {
            for target in attached where target.item.interface.isUp {
                refusals[target.index] = (.failed, "cannot list its routes, to tell whether its fence would make live routes the kernel passes by for want of its carrier: \(error); not fenced")
            }
            return refusals
        }
        for target in attached {
            guard let routes = found[target.index], !routes.isEmpty else { continue }
            if !target.item.interface.isUp {
                do {
                    // Gone or another device there: the fence's own checks say so.
                    guard let link = try link(at: target.index, client: client), link.flags & LinkMessage.up != 0 else { continue }
                } catch NetlinkError.kernel(_, ENODEV, _) {
                    continue
                } catch {
                    refusals[target.index] = (.failed, "cannot tell whether it was set up since the plan, with routes the kernel passes by for want of its carrier, which its fence would make live: \(error); not fenced")
                    continue
                }
            }
            refusals[target.index] = (.skipped, CarrierFence.reason(routes, quotedDevice: ShellWord.quote(target.name)))
        }
        return refusals
    }

    /// The routes through each of `indices` whose next hop through it the kernel flags dead, from
    /// one dump of each family, each as `CarrierFence.describe` gives it. Cached routes and routes
    /// through nexthop objects (which a device without carrier cannot have) are not counted.
    /// A linkdown multipath hop's flag follows the current `ignore_routes_with_linkdown`, not the
    /// shares route lookups go by (see `HopFlows`): read as passed by, a flagged hop that in truth
    /// takes flows refuses a fence that would change nothing, the safe side. An unflagged one that
    /// lookups pass by is refused by the plan (`CarrierFence.wokenRoutes`, from the lookups the
    /// inventory makes); this check misses one only if, between the plan and the fence, the
    /// setting went on, a link event or route change came, and the setting went off again.
    static func deadRoutes(through indices: Set<Int32>, client: RtnetlinkClient) throws -> [Int32: [String]] {
        guard !indices.isEmpty else { return [:] }
        var found: [Int32: [String]] = [:]
        for family in [DownedState.inet, DownedState.inet6] {
            var ofFamily: [Int32: [String]] = [:]
            try client.dumpEach(operation: "RTM_GETROUTE", request: { RouteMessage.dumpRequest(family: family, sequence: $0) },
                                restart: { ofFamily = [:] }) { message in
                guard message.header.type == NetlinkType.newRoute else { return }
                let route = try RouteMessage.decode(message.payload)
                guard route.flags & RouteMessage.cloned == 0, route.nexthopID == nil else { return }
                let dead: [Int32] = route.nextHops.isEmpty
                    ? (route.flags & RouteMessage.deadNextHop != 0 ? [route.outputInterface].compactMap { $0 } : [])
                    : route.nextHops.filter { UInt32($0.flags) & RouteMessage.deadNextHop != 0 }.map(\.interfaceIndex)
                for index in Set(dead) where indices.contains(index) {
                    ofFamily[index, default: []].append(describe(route))
                }
            }
            found.merge(ofFamily, uniquingKeysWith: +)
        }
        return found
    }

    /// A route message as `CarrierFence.describe` gives the model's route.
    static func describe(_ route: RouteMessage) -> String {
        let width = route.family == DownedState.inet ? 4 : 16
        guard let address = IPAddress(bytes: route.destination ?? [UInt8](repeating: 0, count: width)),
              let prefix = IPPrefix(address: address, length: Int(route.destinationLength)) else { return "(unreadable)" }
        return CarrierFence.describe(destination: prefix, table: RouteTable(kernel: route.table))
    }
}
#endif

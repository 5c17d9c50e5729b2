#if os(Linux)
import Foundation
import Glibc
import Inventory
import Netlink
import TunwardenCore

/// Whether the device at a planned item's ifindex is still the planned device. The ifindex and
/// the name do not tell: a device moved in from another namespace keeps its ifindex when it is
/// free there, and fresh namespaces number their devices alike, so a tap made in a staging
/// namespace and moved in can arrive under a planned device's name and ifindex. What tells is
/// the device's identity (`DeviceIdentity`: kind, queue mode, hardware address, and counters
/// that never go back), and, for the time from the plan's inventory on, the link notifications
/// of the namespace (`PlanLinkWatch`): the kernel announces a device's removal from a namespace
/// (RTM_DELLINK there) both when it is deleted and when it is moved out, before any other device
/// can take its ifindex. A planned device found replaced is never deleted: its item is skipped,
/// saying what became of the planned one.
extension LinuxReaper {
    /// Begins watching the link notifications of the namespace the reaper acts in, for a plan
    /// about to be made there; nil when no such watch can be had (the plan is then carried out
    /// on the devices' identities alone).
    public func watchLinks() -> PlanLinkWatch? {
        let held: HeldNamespace?
        do { held = try holdNamespace() } catch { return nil }
        return withExtendedLifetime(held) { system.departures(held?.descriptor).map { PlanLinkWatch(source: $0) } }
    }

    /// What the watch since the plan tells of the planned ifindexes `indices`: the removals it
    /// saw (`lost` when notifications were lost, so that a removal cannot be ruled out), or nil
    /// without a watch.
    static func departures(since watch: PlanLinkWatch?, among indices: Set<Int32>) -> (departed: [Int32: LinkDeparture], lost: Bool)? {
        guard let departures = watch?.source as? any LinkDepartures else { return nil }
        guard let found = departures.departed(among: indices) else { return ([:], true) }
        return (found, false)
    }

    /// Why the device `now`, found at `item`'s ifindex, is not the planned device (the words of
    /// its skip result), or nil when nothing tells it is another. `watch` is what the watch since
    /// the plan saw (`departures(since:among:)`; nil: no watch).
    func replacement(of item: ReapItem, by now: NetworkInterface, watch: (departed: [Int32: LinkDeparture], lost: Bool)?,
                     client: () -> RtnetlinkClient?) -> String? {
        let differences = DeviceIdentity.replacement(of: item.interface, by: now)
        let kind = item.interface.kind.rawValue
        let under = InterfaceName.kernelBytes(now.name) == InterfaceName.kernelBytes(item.ifname) ? "under its name" : "as \(now.name)"
        let newcomer = "the \(now.kind.rawValue) now at ifindex \(now.index) \(under), which the plan never showed, is left alone"
        if let departure = watch?.departed[Int32(item.interface.index)] {
            // Moved out and back, as far as anything tells: nothing tells the device now from the
            // planned one, and the planned one is not where it went. Then it is not called a
            // newcomer, nor said to live on there. One still there makes this one a newcomer.
            if differences.isEmpty, case let .moved(id, index) = departure {
                let fd = client().flatMap { namespace(withID: id, client: $0) }
                defer { if let fd { close(fd) } }
                if index.flatMap({ index in fd.flatMap { Self.holds($0, index: index, like: item.interface) } }) != true {
                    let place = Elsewhere(namespaceID: id, namespaceName: fd.flatMap { Self.namespaceName(of: $0, directory: namespaceDirectory) }).place
                    guard let address = item.interface.hardwareAddress else {
                        return "left since the plan was made: the planned \(kind) moved to \(place); the \(now.kind.rawValue) now at ifindex \(now.index) \(under) "
                            + "has nothing to tell it from the planned one (a \(kind) without a hardware address, counters no lower): it may be that one come back, "
                            + "or another; left alone (the next reap plans it again)"
                    }
                    return "left since the plan was made: the planned \(kind) moved to \(place), and a \(now.kind.rawValue) that looks like it (the same "
                        + "hardware address, \(address), counters no lower) is back at ifindex \(now.index) \(under): most likely the planned one come back, "
                        + "though one made to look like it cannot be ruled out; left alone (the next reap plans it again)"
                }
            }
            let evidence = differences.isEmpty ? "" : " (\(differences.joined(separator: ", ")))"
            return "replaced since the plan was made\(evidence): the planned \(kind) \(departureWords(departure, planned: item.interface, client: client)); \(newcomer)"
        }
        if !differences.isEmpty {
            if let watch, !watch.lost {
                // No removal was announced: the device may be the planned one, changed since.
                return "not the device the plan showed (\(differences.joined(separator: ", "))), though no removal of the planned \(kind) was announced: it may be that one changed since, or another; left alone"
            }
            return "replaced since the plan was made (\(differences.joined(separator: ", "))): the planned \(kind) is not at its ifindex any more, deleted or moved to another network namespace (the kernel's notifications that would tell which were \(watch == nil ? "not to be had" : "lost")); \(newcomer)"
        }
        // A device without a hardware address is told from a newcomer by the notifications alone.
        if watch?.lost == true, item.interface.hardwareAddress == nil {
            return "not proved to be the planned device: the link notifications watched since the plan was made were lost (ENOBUFS), so a device moved in under its ifindex and name since cannot be ruled out, and a \(kind) without a hardware address has nothing else to tell it by; left alone (the next reap plans it again)"
        }
        return nil
    }

    /// The identity of a tun/tap device as a link message shows it (its tun type: 1 tun, 2 tap).
    static func identity(of link: LinkMessage) -> DeviceIdentity {
        DeviceIdentity(kind: link.tun?.type.map { $0 == 2 ? .tap : .tun }, multiQueue: link.tun?.multiQueue,
                       hardwareAddress: link.hardwareAddress.flatMap(LinuxInventory.macText))
    }

    /// What a removal notification says became of `planned`, in words: "was deleted (…)",
    /// "moved since to network namespace 'x', where it lives on untouched as ifindex 2". Where it
    /// went is said to hold it only after a look there finds a device like it at the ifindex the
    /// notification gave (the notification tells where it went, not that it stayed).
    func departureWords(_ departure: LinkDeparture, planned: NetworkInterface, client: () -> RtnetlinkClient?) -> String {
        switch departure {
        case .deleted:
            return "was deleted since (the kernel's notification of its removal names no namespace it went to)"
        case let .moved(id, index):
            let fd = client().flatMap { namespace(withID: id, client: $0) }
            defer { if let fd { close(fd) } }
            let place = Elsewhere(namespaceID: id, namespaceName: fd.flatMap { Self.namespaceName(of: $0, directory: namespaceDirectory) }).place
            guard let index else { return "moved since to \(place)" }
            switch fd.flatMap({ Self.holds($0, index: index, like: planned) }) {
            case true?: return "moved since to \(place), where it lives on untouched as ifindex \(index)"
            case false?: return "moved since to another network namespace, and is no longer at the ifindex it had there: moved on or deleted since"
            case nil: return "moved since to \(place) (as ifindex \(index) there when it went; whether it is still there could not be looked at)"
            }
        }
    }

    /// Whether the namespace behind `namespaceFD` has at `index` a device nothing tells from
    /// `planned` (`DeviceIdentity`); nil when it cannot be asked.
    static func holds(_ namespaceFD: Int32, index: Int32, like planned: NetworkInterface) -> Bool? {
        do {
            let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD))
            let replies = try client.request(operation: "RTM_GETLINK") { LinkMessage.getRequest(index: index, sequence: $0) }
            guard let reply = replies.first(where: { $0.header.type == NetlinkType.newLink }) else { return false }
            return identity(of: try LinkMessage.decode(reply.payload)).differences(from: DeviceIdentity(planned)).isEmpty
        } catch NetlinkError.kernel(_, let code, _) where code == ENODEV {
            return false
        } catch {
            return nil
        }
    }
}
#endif

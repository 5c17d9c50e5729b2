#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// Traffic-control filters that match a device by its index (`tc filter add dev v0 … u32 match …
/// indev tap0`, fw's `indev`, flower's `indev`, route's `fromif`, and the meta matches `rt_iif`,
/// `dev` and `sk_bound_if` of basic, cgroup and flow filters; see `TrafficFilter` and
/// `TrafficEmatch`): deleting that device leaves the filter matching an index no device has, and
/// a device made again under the name gets another.
///
/// What it costs: one dump of the namespace's qdiscs, then one dump for each block that can
/// hold filters (an `ingress` or `clsact` qdisc's, a classful qdisc's, a shared block's once)
/// and one class list for each `htb` or `hfsc` qdisc: the default qdiscs every device gets hold
/// none, so a namespace of ten thousand tun devices costs the qdisc dump. Nothing at all is
/// asked where none of the classifiers that match a device is loaded.
public enum TrafficFilters {
    /// What the namespace's filters match by index.
    public struct Found: Equatable, Sendable {
        /// The filters that match each ifindex, each in words (`u32 indev, on v0 egress`).
        public var matches: [Int: [String]] = [:]
        /// The devices filters named that could not be found again by name just after (renamed
        /// or deleted meanwhile): any device may be one of them.
        public var unresolved: [String] = []
        /// The filters that compare a device with a range rather than one device (a bound, a
        /// mask, a name's prefix: `basic meta(rt_iif gt 3), on v0 egress`), each in words: any
        /// device may be one they match.
        public var ranges: [String] = []

        public init(matches: [Int: [String]] = [:], unresolved: [String] = [], ranges: [String] = []) {
            (self.matches, self.unresolved, self.ranges) = (matches, unresolved, ranges)
        }
    }

    /// The classifiers that keep an input device by its index, and the meta match (whose
    /// classifiers cannot hold one without it).
    static let classifiers = ["cls_u32", "cls_fw", "cls_flower", "cls_route", "em_meta"]

    /// The filters of the namespace that match a device by index, over `client` (an rtnetlink
    /// client in the namespace). A filter on a device's own qdisc that matches that device is
    /// left out: it goes with the device. Throws when a list cannot be had.
    public static func found(client: RtnetlinkClient) throws -> Found {
        var places: [TrafficFilter.Place] = []
        var seen: Set<TrafficFilter.Place> = []
        try client.dumpEach(operation: "RTM_GETQDISC (filter blocks)", request: { TrafficBlock.qdiscDumpRequest(sequence: $0) },
                            restart: { (places, seen) = ([], []) }) { message in
            guard message.header.type == TrafficBlock.newQdisc else { return }
            for place in try TrafficFilter.places(ofQdisc: message.payload) where seen.insert(place).inserted { places.append(place) }
        }
        var matches: [TrafficFilter.IndexMatch] = []
        var position = 0
        while position < places.count {
            let place = places[position]
            position += 1
            var found: [TrafficFilter.IndexMatch] = []
            var more: [TrafficFilter.Place] = []
            do {
                if case .classes = place {
                    try client.dumpEach(operation: "RTM_GETTCLASS", request: { TrafficFilter.dumpRequest(place, sequence: $0) }, restart: { more = [] }) { message in
                        guard message.header.type == TrafficFilter.newClass, let block = try TrafficFilter.place(ofClass: message.payload) else { return }
                        more.append(block)
                    }
                } else {
                    try client.dumpEach(operation: "RTM_GETTFILTER", request: { TrafficFilter.dumpRequest(place, sequence: $0) }, restart: { found = [] }) { message in
                        guard message.header.type == TrafficFilter.newFilter else { return }
                        found += try TrafficFilter.decodeIndexMatches(message.payload)
                    }
                }
            } catch NetlinkError.kernel(_, let code, _) where [ENODEV, ENOENT].contains(code) {
                continue       // its device or qdisc went since the qdisc dump: its filters with it
            }
            matches += found
            for block in more where seen.insert(block).inserted { places.append(block) }
        }
        return try resolve(matches, client: client)
    }

    /// The ifindexes `matches` name, each filter in words; a name is looked up once, by name.
    static func resolve(_ matches: [TrafficFilter.IndexMatch], client: RtnetlinkClient) throws -> Found {
        var result = Found()
        guard !matches.isEmpty else { return result }
        var names: [[UInt8]: Int32?] = [:]
        var devices: [Int32: String] = [:]
        func link(_ request: (UInt32) -> [UInt8]) throws -> LinkMessage? {
            do {
                let replies = try client.request(operation: "RTM_GETLINK", request)
                return try replies.first { $0.header.type == NetlinkType.newLink }.map { try LinkMessage.decode($0.payload) }
            } catch NetlinkError.kernel(_, let code, _) where code == ENODEV {
                return nil
            }
        }
        /// Where a filter is, in words.
        func place(of match: TrafficFilter.IndexMatch) throws -> String {
            guard let on = match.on else { return "of shared block \(match.parent)" }
            if devices[on] == nil { devices[on] = try link { LinkMessage.getRequest(index: on, sequence: $0) }?.name.map(InterfaceName.text) ?? "ifindex \(on)" }
            let direction = match.parent == TrafficFilter.ingressParent ? "ingress" : match.parent == TrafficFilter.egressParent ? "egress"
                : match.parent == 0 ? "root" : "parent \(String(match.parent >> 16, radix: 16)):\(String(match.parent & 0xFFFF, radix: 16))"
            return "on \(devices[on] ?? "ifindex \(on)") \(direction)"
        }
        for match in matches {
            let index: Int32
            switch match.device {
            case .some:
                result.ranges.append("\(match.kind) \(match.keyword), \(try place(of: match))")
                continue
            case let .index(value): index = Int32(bitPattern: value)
            case let .name(name):
                // A meta match keeps the name it was given and compares it with each packet's
                // device: one no device has (yet, or ever: longer than a name can be) matches none.
                if match.meta != nil, name.count > 15 { continue }
                if names[name] == nil { names[name] = try link { LinkMessage.getRequest(name: name, sequence: $0) }.map(\.index) }
                guard let known = names[name] ?? nil else {
                    // A classifier's own keyword keeps an index the dump named by the device that
                    // had it: gone by now, it may be any device.
                    if match.meta == nil { result.unresolved.append(InterfaceName.text(name)) }
                    continue
                }
                index = known
            }
            // A filter on the device's own qdisc goes with it.
            if match.on == index { continue }
            result.matches[Int(index), default: []].append("\(match.kind) \(match.keyword), \(try place(of: match))")
        }
        result.unresolved = Array(Set(result.unresolved)).sorted()
        return result
    }

    /// The same for the namespace behind `namespaceFD` (nil: this process's own), on a socket of
    /// its own; `Unreadable` when a list cannot be had. Where none of the classifiers that keep
    /// an input device is loaded or built in (`modules`, as /proc/modules lists them), no filter
    /// can match one, and nothing is asked.
    public static func found(namespaceFD: Int32?, modules: String = "/proc/modules") -> Result<Found, SocketUse.Unreadable> {
        if !KernelModules.mayBeActive(classifiers, modules: modules) { return .success(Found()) }
        do {
            let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD))
            return .success(try found(client: client))
        } catch {
            return .failure(SocketUse.Unreadable(description: "the kernel's list of traffic-control filters could not be read: \(error)"))
        }
    }
}
#endif

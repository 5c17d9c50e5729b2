#if os(Linux)
import Netlink
import Storage
import TunwardenCore

/// The neighbour entries made by hand that a single-queue device's fence flushed, made again:
/// by the repair of the reap killed with it fenced, from its intent, and by the reap that gives it
/// back, once its own queue has let go of it (see `LostNeighbours`). Its private alternative
/// name, and its carrier going off when the reap's queue went, each made the kernel flush every
/// entry of it that is not permanent (`nud noarp`, `managed`). Made again after that, they outlast
/// the reap.
extension LinuxReaper {
    /// Makes again on device `index` each entry of `prior` that the fence flushes and that the
    /// device lacks now, and returns what was made again, in words (empty when nothing was, or
    /// nothing could be: what is still missing is then named by `lostSince`).
    static func remakeFlushedNeighbours(_ prior: PriorState, index: Int32, client: RtnetlinkClient) -> [String] {
        let made = remakeFlushed((prior.neighbours ?? []).filter { $0.kind == .noarp || $0.kind == .managed }, index: index, client: client).made
        guard !made.isEmpty else { return [] }
        return ["its neighbour \(made.count == 1 ? "entry" : "entries") made by hand \(made.joined(separator: ", ")), which its fence flushed, made again from the intent"]
    }

    /// Makes again on device `index` each of `entries` it lacks now: what was made again, in
    /// words, and the entries it still lacks (all of them when its entries cannot be listed).
    static func remakeFlushed(_ entries: [RecreateCommands.Neighbour], index: Int32, client: RtnetlinkClient)
        -> (made: [String], missing: [RecreateCommands.Neighbour]) {
        guard !entries.isEmpty else { return ([], []) }
        guard let present = try? DownedState.neighbours(of: [index], client: client)[index] ?? [] else { return ([], entries) }
        let there = Set(present.compactMap(LinuxReaper.recreated).map { "\($0.kind) \($0.address)" })
        var made: [String] = [], missing: [RecreateCommands.Neighbour] = []
        for entry in entries where !there.contains("\(entry.kind) \(entry.address)") {
            guard let message = neighbourMessage(entry),
                  (try? client.request(operation: "RTM_NEWNEIGH") { message.addRequest(index: index, sequence: $0) ?? [] }) != nil else {
                missing.append(entry)
                continue
            }
            made.append("\(entry.address) (\(entry.kind == .managed ? "managed" : "nud \(entry.kind.rawValue)"))")
        }
        return (made, missing)
    }

    /// The RTM_NEWNEIGH message that makes `entry` again, as `ip neigh add` would.
    static func neighbourMessage(_ entry: RecreateCommands.Neighbour) -> NeighbourMessage? {
        var message = NeighbourMessage()
        message.family = entry.address.family == .inet ? 2 : 10
        message.destination = entry.address.bytes
        message.type = NeighbourMessage.unicast
        switch entry.kind {
        case .permanent: message.state = NeighbourMessage.permanent
        case .noarp: message.state = NeighbourMessage.noARP
        case .managed: message.extendedFlags = NeighbourMessage.managed
        case .proxy: message.flags |= NeighbourMessage.proxy
        }
        if let link = entry.linkLayerAddress {
            let octets = link.split(separator: ":").compactMap { UInt8($0, radix: 16) }
            guard octets.count == link.split(separator: ":").count, !octets.isEmpty else { return nil }
            message.linkLayerAddress = octets
        }
        if entry.router { message.flags |= NeighbourMessage.router }
        if entry.externLearned { message.flags |= NeighbourMessage.externLearned }
        message.protocolID = entry.protocolID
        return message
    }
}
#endif

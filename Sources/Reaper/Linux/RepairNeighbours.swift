#if os(Linux)
import Netlink
import Storage
import TunwardenCore

/// The neighbour entries made by hand that a single-queue device's fence flushed, made again by
/// the repair of the reap killed with it fenced. Its private alternative name, and its carrier
/// going off when the killed reap's queue went, each made the kernel flush every entry of it
/// that is not permanent (`nud noarp`, `managed`); the intent recorded them. The killed reap's
/// queue is gone, so entries made again now outlast the repair.
extension LinuxReaper {
    /// Makes again on device `index` each entry of `prior` that the fence flushes and that the
    /// device lacks now, and returns what was made again, in words (empty when nothing was, or
    /// nothing could be: what is still missing is then named by `lostSince`).
    static func remakeFlushedNeighbours(_ prior: PriorState, index: Int32, client: RtnetlinkClient) -> [String] {
        let flushable = (prior.neighbours ?? []).filter { $0.kind == .noarp || $0.kind == .managed }
        guard !flushable.isEmpty, let entries = try? DownedState.neighbours(of: [index], client: client)[index] ?? [] else { return [] }
        let present = Set(entries.compactMap(LinuxReaper.recreated).map { "\($0.kind) \($0.address)" })
        var made: [String] = []
        for entry in flushable where !present.contains("\(entry.kind) \(entry.address)") {
            guard let message = neighbourMessage(entry),
                  (try? client.request(operation: "RTM_NEWNEIGH") { message.addRequest(index: index, sequence: $0) ?? [] }) != nil else { continue }
            made.append("\(entry.address) (\(entry.kind == .managed ? "managed" : "nud \(entry.kind.rawValue)"))")
        }
        guard !made.isEmpty else { return [] }
        return ["its neighbour \(made.count == 1 ? "entry" : "entries") made by hand \(made.joined(separator: ", ")), which its fence flushed, made again from the intent"]
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

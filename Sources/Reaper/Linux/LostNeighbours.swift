#if os(Linux)
import Foundation
import Glibc
import Netlink
import Storage
import TunwardenCore

/// The neighbour entries made by hand (`nud noarp`, `managed`) that a single-queue target given
/// back lost to its fence: its private alternative name, and its carrier going off when the batch
/// lets go of it, each make the kernel flush every entry of a device without carrier that is not
/// permanent. The second flush comes from the kernel's link watch, up to a second after the queue
/// is closed, so the entries are made again (`remakeFlushed`, as the repair of a killed reap makes
/// them) only once the notification the link watch sends after its flush has come; those that
/// could not be, or whose flush was not seen to be over, are named with the commands that make
/// them.
struct LostNeighbours {
    /// The position of the target's result in its batch's results.
    var result: Int
    var index: Int32
    var name: [UInt8]
    var entries: [RecreateCommands.Neighbour]
    /// Whether the batch's own queue was attached to it, whose closing flushes them again.
    var attached: Bool
}

/// Link notifications of the inspected namespace from right before a batch closes its queues,
/// which tell when the kernel's link watch has handled the carrier of a given-back device going
/// off: it flushes the device's entries, then sends an RTM_NEWLINK without IFF_LOWER_UP and
/// without IFF_RUNNING (the operational state it has just set). The detach itself sends one too,
/// before the link watch runs, still running: a device that is not running yet when its queue is
/// closed (its carrier coming on not handled yet) cannot be told apart, and is not watched.
final class CarrierWatch {
    private let socket: NetlinkSocket
    /// The devices watched: each up and running just before its queue was closed.
    private(set) var devices: Set<Int32>

    /// IFF_RUNNING.
    static let running: UInt32 = 0x40

    /// Waits up to 1.5 s for each of `devices` that is up to be running (its carrier coming on
    /// handled), then subscribes to the link notifications; nil when they cannot be had.
    init?(namespaceFD: Int32?, devices: Set<Int32>, client: RtnetlinkClient) {
        var waiting = devices, ready = Set<Int32>()
        let deadline = ContinuousClock.now + .milliseconds(1500)
        while !waiting.isEmpty {
            for index in waiting {
                guard let link = (try? LinuxReaper.link(at: index, client: client)) ?? nil, link.flags & LinkMessage.up != 0 else {
                    waiting.remove(index)
                    continue
                }
                if link.flags & Self.running != 0 {
                    ready.insert(index)
                    waiting.remove(index)
                }
            }
            guard !waiting.isEmpty, ContinuousClock.now < deadline else { break }
            usleep(20_000)
        }
        guard !ready.isEmpty, let socket = try? NetlinkSocket(namespaceFD: namespaceFD), (try? socket.subscribe([NetlinkSocket.Group.link])) != nil else { return nil }
        self.socket = socket
        self.devices = ready
    }

    /// The watched devices whose carrier going off the link watch has handled, waiting for them
    /// up to `limit` (it runs within a second of the last time it ran).
    func handled(within limit: Duration) -> Set<Int32> {
        var told = Set<Int32>()
        let deadline = ContinuousClock.now + limit
        var datagram: [UInt8] = []
        while told != devices {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            let milliseconds = Int32(min(1000, max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            guard socket.waitReadable(milliseconds: milliseconds) else { continue }
            // A receive that fails (notifications lost) leaves the rest untold.
            guard (try? socket.receive(into: &datagram)) != nil, let messages = try? NetlinkMessage.split(datagram[...]) else { break }
            for message in messages where message.header.type == NetlinkType.newLink {
                guard let link = try? LinkMessage.decode(message.payload), devices.contains(link.index) else { continue }
                if link.flags & (LinkMessage.lowerUp | Self.running) == 0 { told.insert(link.index) }
            }
        }
        return told
    }
}

extension LinuxReaper {
    /// Fences, verifies and deletes one batch (`actOnBatch`); `group` is one no link was in at
    /// re-verification. Then the neighbour entries the fence flushed of each target given back are
    /// made again, once the batch has let go of it and the kernel has flushed them for that too,
    /// and its result says so; one that lacks any of them is failed, and names them.
    func reapBatch(_ batch: [Target], group: UInt32, client: RtnetlinkClient, namespaceFD: Int32?, linkWatch: PlanLinkWatch? = nil) -> [ReapResult] {
        var lost: [LostNeighbours] = []
        var watch: CarrierWatch?
        var results = actOnBatch(batch, group: group, client: client, namespaceFD: namespaceFD, linkWatch: linkWatch, lost: &lost, carrierWatch: &watch)
        guard !lost.isEmpty else { return results }
        let handled = watch?.handled(within: .seconds(3)) ?? []
        let ip = commandsPlace().ipWord
        for entry in lost where results.indices.contains(entry.result) {
            let device = ShellWord.quote(entry.name)
            var words: [String] = []
            if entry.attached, !handled.contains(entry.index) {
                words = AttachTraces.lostNeighbours(entry.entries, why: "the kernel was not seen to be done flushing them as tunwarden let go of it within 3 s, and made again before that they would go again",
                                                    device: device, ip: ip)
            } else {
                let (made, missing) = Self.remakeFlushed(entry.entries, index: entry.index, client: client)
                if !made.isEmpty {
                    words.append("its neighbour \(made.count == 1 ? "entry" : "entries") made by hand \(made.joined(separator: ", ")), which its fence flushed, made again")
                }
                words += AttachTraces.lostNeighbours(missing, why: "the kernel refused them, or its entries could not be listed", device: device, ip: ip)
            }
            results[entry.result].detail = (results[entry.result].detail ?? "") + words.map { "; " + $0 }.joined()
            if words.contains(where: { $0.hasPrefix("it lost") }) { results[entry.result].outcome = .failed }
        }
        return results
    }
}
#endif

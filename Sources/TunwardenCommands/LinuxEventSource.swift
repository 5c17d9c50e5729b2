import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Inventory
#if os(Linux)
import CLinuxShims
import Netlink
#endif
import TunwardenCore

#if os(Linux)
/// The Linux watch source: rtnetlink notifications applied as they come, holder exits from the
/// kernel's proc connector (a down device losing its last holder raises no rtnetlink event), and
/// looks at down or orphaned tun/tap devices' links (nor does a process attaching to a down
/// device), asked for when a tun node is opened or closed (inotify) and taken periodically besides;
/// vxlan forwarding entries read again when neighbour notifications announce a change to one
/// that may send through a device (see `ForwardingEvents`). Where the proc connector is unavailable, the known holders are checked by `kill(pid, 0)` at
/// each look instead, and the devices of those gone read again.
final class LinuxEventSource: WatchSource {
    /// Why the named namespace watched is gone (see `WatchSource.gone`): found deleted by a
    /// look, or its name, looked at each time this is asked (one stat), deleted or given to
    /// another namespace. The watcher holds the namespace it subscribed to, so it never reads the
    /// new one into the old one's facts; it stops instead.
    var gone: String? { goneFound ?? kernel.inventory.held?.nameLost() }
    private var goneFound: String?
    let kernel: LinuxWatchSource
    private let processEvents: Int32
    /// Opens and closes of tun nodes; nil where inotify is unavailable (the periodic look remains).
    private let nodeEvents: TunNodeEvents?
    /// The indices of the devices each known holder holds.
    private var held: [Int32: [Int]] = [:]
    private var exited = [Int32](repeating: 0, count: 256)
    private var lastCounters: [Int: TrafficCounters] = [:]
    private var holderScanWanted = false
    /// Whether the next holder scan looks at other namespaces again: a vxlan that sent from an
    /// address here left this namespace (deleted, or moved into a container, where it still sends
    /// from here).
    private var foreignLookWanted = false
    /// The vxlans of this namespace that send from a local address, by ifindex.
    private var sendingVxlans = Set<Int>()
    private var peerLookWanted = false
    /// Whether neighbour notifications said vxlan forwarding entries may have changed.
    private var forwardingWanted = false
    private var linksToReread = Set<Int>()
    /// Veths announced untied (their link 0), waiting to be read again, by index: what was
    /// announced of each (see `read(ready:)`).
    private var untiedVeths: [Int: NetworkInterface] = [:]
    /// The processes whose exits the proc events socket lets through, one by one (none when it is
    /// opened); nil when every process's exit passes (too many holders, or a filter the kernel refused).
    private var exitsFiltered: Set<Int32>? = []
    private var exitFilterRefused = false
    /// Whether a holder was found gone as the filter first named it: its exit passed unseen.
    private var exitMissed = false

    /// `tunNode`: the tun node whose opens are heard before any holder names one (tests give
    /// another file, to hear only the nodes of holders).
    init(inventory: LinuxInventory, receiveBuffer: Int32, tunNode: String = "/dev/net/tun") throws {
        kernel = try LinuxWatchSource(inventory: inventory, receiveBuffer: receiveBuffer)
        processEvents = tw_proc_events_open()
        if processEvents < 0 {
            Terminal.log("watch: process exit events unavailable (\(String(cString: strerror(-processEvents)))); checking known holders at each look instead")
        }
        do {
            nodeEvents = try TunNodeEvents(path: tunNode)
        } catch {
            nodeEvents = nil
            Terminal.log("watch: tun device opens cannot be watched (\(error)); attaching to a down device is noticed by the periodic look only")
        }
        noteNodeProblem()
        if !kernel.neighboursFiltered {
            Terminal.log("watch: the kernel does not filter neighbour events; every ARP and NDP change wakes the watcher, which passes over it")
        }
    }

    /// Logs a tun node that could not be watched: opens of it are then noticed by the periodic look only.
    private func noteNodeProblem() {
        if let problem = nodeEvents?.takeProblem() {
            Terminal.log("watch: a tun node cannot be watched (\(problem)); processes opening it are noticed by the periodic look only")
        }
    }

    /// Lets only the exits of `pids` reach the proc events socket. A busy host starts and ends
    /// processes all the time; unfiltered, each of them would wake the watcher.
    private func filterExits(to pids: [Int32]) {
        let result = pids.withUnsafeBufferPointer { tw_proc_events_filter(processEvents, $0.baseAddress, Int32($0.count)) }
        if result < 0 {
            exitFilterRefused = true
            Terminal.log("watch: process exit events cannot be filtered (\(String(cString: strerror(-result)))); every process's events wake the watcher")
        }
        exitsFiltered = result == 0 ? Set(pids) : nil
    }

    var descriptors: [Int32] { [kernel.events.descriptor, kernel.neighbours.descriptor] + (processEvents >= 0 ? [processEvents] : []) }

    /// Opens and closes of tun nodes matter only while there are devices to look at: the rest of
    /// the time they stay queued in the kernel, and other processes opening the node never wake
    /// the watcher.
    var lookDescriptors: [Int32] { nodeEvents.map { [$0.descriptor] } ?? [] }

    func snapshot() throws -> Snapshot {
        (holderScanWanted, peerLookWanted, forwardingWanted, linksToReread, untiedVeths) = (false, false, false, [], [:])
        let snapshot = try kernel.snapshot()
        lastCounters = Self.counters(snapshot.interfaces)
        sendingVxlans = Set(snapshot.interfaces.filter { $0.infoKind == "vxlan" && $0.tunnelLocal != nil }.map(\.index))
        foreignLookWanted = false
        return snapshot
    }

    func read(ready: Set<Int32>) -> [WatchNews] {
        var news: [WatchNews] = []
        if ready.contains(kernel.events.descriptor) {
            switch kernel.drain() {
            case let .changes(changes):
                news.append(.changes(changes))
                // A veth whose peer lives in a namespace not seen before: what runs there is
                // looked up before judging (a look at every process), not left unknown.
                if kernel.needsPeerLook(changes) { peerLookWanted = true }
                // An announcement is not always the last word: `ip tuntap add` makes a tun
                // persistent and lets go of it without another event, and a veth's peer is
                // announced (configured) before the two are tied together, with no event after.
                // Every link announced is read again before the burst is judged, and a tun or tap
                // with holders (one may be new), except a veth announced with its peer, and that
                // peer: the end made last is announced once tied, and nothing else changes
                // without an event (its carrier was set off before). A link whose last word was
                // its removal is not asked about (the kernel would say it is gone).
                // The peer a veth's announcement names, in this namespace, was announced untied
                // just before (veth_newlink announces the peer it makes, then ties the two and
                // announces the end it was asked for): nothing of it changed since but its link,
                // which is now this end, so it is not read again.
                var tied: [FactChange] = []
                for change in changes {
                    switch change {
                    case let .link(interface):
                        // (An untied veth names index 0 as its link: veth_get_iflink has no peer.)
                        if interface.kind == .veth, let peer = interface.link, peer != 0 {
                            linksToReread.remove(interface.index)
                            untiedVeths[interface.index] = nil
                            if interface.linkNetnsID == nil, var untied = untiedVeths.removeValue(forKey: peer) {
                                untied.link = interface.index
                                tied.append(.link(untied))
                                linksToReread.remove(peer)
                            }
                        } else {
                            linksToReread.insert(interface.index)
                            untiedVeths[interface.index] = interface.kind == .veth && interface.link == 0 && interface.linkNetnsID == nil ? interface : nil
                        }
                        if interface.kind == .tun || interface.kind == .tap { holderScanWanted = true }
                        if interface.infoKind == "vxlan", interface.tunnelLocal != nil { sendingVxlans.insert(interface.index) }
                    case let .linkRemoved(index):
                        linksToReread.remove(index)
                        untiedVeths[index] = nil
                        if sendingVxlans.remove(index) != nil { (holderScanWanted, foreignLookWanted) = (true, true) }
                    default:
                        continue
                    }
                }
                if !tied.isEmpty { news.append(.changes(tied)) }
            case let .lost(reason):
                news.append(.resync(reason))
            }
        }
        // A change to vxlan forwarding entries (`bridge fdb add … via tap0`): they are read again
        // once the burst is over, however many changes it brings.
        if ready.contains(kernel.neighbours.descriptor), kernel.forwardingNews() {
            forwardingWanted = true
            news.append(.pending)
        }
        var holderExited = false
        if processEvents >= 0, ready.contains(processEvents) {
            var more = true
            while more {
                let count = tw_proc_events_read(processEvents, &exited, Int32(exited.count))
                // A holder's exit detaches its queues without an event if the device is down:
                // its devices are read again, with holders, before the burst is judged.
                let gone = count == -ENOBUFS ? Array(held.keys) : exited.prefix(Int(max(count, 0))).filter { held[$0] != nil }
                for pid in gone {
                    linksToReread.formUnion(held[pid] ?? [])
                    holderExited = true
                }
                var probe = pollfd(fd: processEvents, events: Int16(POLLIN), revents: 0)
                more = count >= 0 && poll(&probe, 1, 0) > 0
            }
            // Only the devices whose holders changed are judged again (the engine compares scans).
            if holderExited {
                holderScanWanted = true
                news.append(.urgent)
            }
        }
        if let nodeEvents, ready.contains(nodeEvents.descriptor) {
            let activity = nodeEvents.drain()
            // Closes heard with a known holder's exit are that exit's: its devices are read again,
            // with a scan, before it is judged, and a look at every candidate would only keep the
            // next exit's alert waiting behind it.
            if activity.opened || (activity.closed && !holderExited) { news.append(.look) }
            noteNodeProblem()
        }
        return news
    }

    /// The looks asked for since the last judgement, taken once for a whole burst of events.
    func settle() -> [WatchNews] {
        defer { (holderScanWanted, peerLookWanted, forwardingWanted, linksToReread, untiedVeths, foreignLookWanted) = (false, false, false, [], [:], false) }
        var changes: [FactChange] = []
        if !linksToReread.isEmpty {
            do { changes += try kernel.links(linksToReread.sorted()) } catch { return [.resync("links could not be read again (\(error))")] }
        }
        if peerLookWanted {
            do { changes += try kernel.peerChanges() } catch { return [.resync("peer namespaces could not be read (\(error))")] }
        } else if holderScanWanted {
            changes.append(kernel.holderChange(lookingElsewhere: foreignLookWanted))
        }
        // After a holder look, whose scan it keeps: the entries are read with which of them send
        // through a device, which tells what later notifications mean.
        if forwardingWanted {
            do { changes.append(try kernel.forwardingChange()) } catch { return [.resync("vxlan forwarding entries could not be read (\(error))")] }
        }
        return [.changes(changes)]
    }

    var deadline: Date? { exitMissed ? .distantPast : nil }

    func tick(now: Date) -> [WatchNews] {
        defer { exitMissed = false }
        return exitMissed ? [.urgent] : []
    }

    /// Without the proc connector, known holders are checked at each look.
    var looksWithoutCandidates: Bool { processEvents < 0 && !held.isEmpty }

    func look(at candidates: [NetworkInterface]) -> [FactChange]? {
        beginLook()
        let changes: [FactChange]
        do {
            // The engine lists them by index, as the look finds them; an index listed twice (never
            // in a kernel's dump) is looked at once.
            var known = candidates
            let indices = candidates.map(\.index)
            if !zip(indices, indices.dropFirst()).allSatisfy({ $0 < $1 }) {
                known.sort { $0.index < $1.index }
                known = known.indices.filter { $0 == 0 || known[$0 - 1].index != known[$0].index }.map { known[$0] }
            }
            changes = try kernel.changes(from: known, ofKind: "tun")
        } catch {
            Terminal.note("watch: orphan look failed: \(error)")
            return []
        }
        return finishLook(at: candidates, found: changes)
    }

    /// Before a look: a node that could not be watched (missing, or made again) is tried again
    /// at each look, and this look covers what went unheard before.
    private func beginLook() {
        if nodeEvents?.watchPathAgain() == true { Terminal.log("watch: the tun node is watched again") }
    }

    /// What a look reports, from the candidates' links that differ from what was known
    /// (`found`). A queue attached or let go of, a carrier changed, a rename (holders are found
    /// by name): the holders are scanned again. Only what differs is reported, so an unchanged
    /// look costs no scan. Without the proc connector, the known holders that are gone are
    /// taken as exits here.
    private func finishLook(at candidates: [NetworkInterface], found: [FactChange]) -> [FactChange] {
        var changes = found
        let differs = !changes.isEmpty
        let gone = processEvents < 0 ? held.filter { kill($0.key, 0) != 0 && errno == ESRCH } : [:]
        if !gone.isEmpty {
            let devices = Set(gone.values.joined()).subtracting(candidates.map(\.index))
            if !devices.isEmpty { changes += (try? kernel.links(devices.sorted())) ?? [] }
        }
        if differs || !gone.isEmpty { changes.append(kernel.holderChange()) }
        return changes
    }

    func traffic(lookingAt candidates: [NetworkInterface]?) -> [FactChange]? {
        if candidates != nil { beginLook() }
        do {
            let all = try kernel.inventory.links()
            let links = all.filter { $0.kind.isTunnelStyle }
            let counters = Self.counters(links)
            defer { lastCounters = counters }
            let moved = links.filter { counters[$0.index] != lastCounters[$0.index] }.map { FactChange.link($0) }
            guard let candidates else { return moved }
            return moved + finishLook(at: candidates, found: LinuxWatchSource.changes(from: candidates, in: all))
        } catch {
            if let missing = error as? InventoryError, missing.namespaceGone {
                goneFound = missing.message
                return []
            }
            Terminal.note("watch: traffic sample failed: \(error)")
            return []
        }
    }

    /// A fresh holder scan, with the socket lists, tc actions, vxlan forwarding entries and
    /// nftables and iptables rules it reads, and a look at other namespaces (their vxlans' entries
    /// through this one's devices and the addresses here they send from): a socket bound to a
    /// device, a tc filter's mirred action, an nftables chain hooked on it, or a vxlan made in a
    /// container that sends from here raises no event this source subscribes to. The engine
    /// marks only the devices whose part of it changed.
    func rereadUses() -> [FactChange]? {
        [kernel.holderChange(lookingElsewhere: true)]
    }

    static func counters(_ interfaces: [NetworkInterface]) -> [Int: TrafficCounters] {
        Dictionary(interfaces.compactMap { link in link.kind.isTunnelStyle ? link.stats.map { (link.index, $0) } : nil },
                   uniquingKeysWith: { first, _ in first })
    }

    func noteHolders(_ held: [Int32: [Int]], nodes: [Int32: Int32]) {
        self.held = held
        nodeEvents?.watchNodes(of: nodes, procRoot: kernel.inventory.procRoot)
        noteNodeProblem()
        guard processEvents >= 0, !exitFilterRefused else { return }
        let pids = Set(held.keys)
        if let named = exitsFiltered {
            guard pids != named else { return }
        } else {
            guard pids.count <= Int(TW_PROC_FILTER_MAX) else { return }
        }
        // While every exit passed, none was missed.
        let named = exitsFiltered ?? pids
        filterExits(to: pids.sorted())
        // A holder that exited after the scan that found it and before the filter named it
        // went unreported: it is taken as an exit now.
        for (pid, devices) in held where !named.contains(pid) && kill(pid, 0) != 0 && errno == ESRCH {
            linksToReread.formUnion(devices)
            holderScanWanted = true
            exitMissed = true
        }
    }

    func close() {
        if processEvents >= 0 { Glibc.close(processEvents) }
        nodeEvents?.close()
    }
}

#endif

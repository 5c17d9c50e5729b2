#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// Tells, from the neighbour notifications a watcher receives (RTNLGRP_NEIGH), whether the
/// devices the namespace's vxlan forwarding entries send through may have changed (`bridge fdb
/// add … via tap0`, its `del`, an entry replaced without its device, a vxlan deleted with its
/// entries): what a tap is judged depends on them (`VxlanForwarding`), and the kernel announces
/// each change of an entry, with its device, as it makes it.
///
/// The group carries every ARP and NDP change of every device as well, by far the most of it on
/// a busy host. The watcher's socket has the kernel drop those (`NetlinkSocket.keepOnly(family:)`);
/// where it cannot, they are passed over on the first byte of their payload, their family. Of the
/// forwarding-database (AF_BRIDGE) notifications left, those of a Linux bridge learning and
/// forgetting addresses, and those of a vxlan's entries that send through no device (learned
/// remotes, an EVPN daemon's), cannot change what is sent through a device: one counts when it
/// names a device (NDA_IFINDEX), or when it is of an entry that sent through one as last read
/// (replaced, it is announced without its device).
public struct ForwardingEvents {
    /// The entries that sent through a device when they were last read.
    public var sending: Set<VxlanForwarding.Key> = []

    public init() {}

    /// Whether the notifications of one received datagram may have changed the devices forwarding
    /// entries send through. One that cannot be read counts: what it said is unknown.
    public func mayChangeVias(_ datagram: ArraySlice<UInt8>) -> Bool {
        var cursor = NetlinkMessage.Cursor(datagram)
        do {
            while let message = try cursor.next() {
                if try mayChangeVias(message) { return true }
            }
        } catch {
            return true
        }
        return false
    }

    /// Whether one notification may have changed them: a forwarding entry's that names a device,
    /// or is of an entry that sent through one.
    func mayChangeVias(_ message: NetlinkMessage) throws -> Bool {
        guard message.header.type == NetlinkType.newNeighbour || message.header.type == NetlinkType.delNeighbour,
              message.payload.first == NeighbourMessage.bridgeFamily else { return false }
        let entry = try NeighbourMessage.decode(message.payload)
        if let via = entry.viaIndex, via > 0 { return true }
        return !sending.isEmpty && sending.contains(VxlanForwarding.Key(vxlan: entry.index, address: entry.linkLayerAddress ?? []))
    }
}

extension LinuxInventory {
    /// A socket in the inspected namespace subscribed to neighbour changes, which carry changes to
    /// vxlan forwarding entries, for a watcher (see `ForwardingEvents`). It is apart from the
    /// `eventSocket`, so that a flood of them never overflows that one (which only a fresh
    /// inventory mends), and the kernel drops every ARP and NDP change before it reaches it where
    /// it takes the filter (`filtered` says whether it did).
    public func forwardingEventSocket() throws -> (socket: NetlinkSocket, filtered: Bool) {
        let socket = try socketInNamespace().socket
        return (socket, try VxlanForwarding.listen(on: socket))
    }
}

extension LinuxWatchSource {
    /// Reads every notification waiting on the neighbour socket, without blocking: whether any
    /// may have changed the devices the namespace's vxlan forwarding entries send through (see
    /// `ForwardingEvents`), or some were lost (ENOBUFS) or could not be read, when only reading
    /// the entries again tells. Once one counts, the rest are read and not looked into.
    public func forwardingNews() -> Bool {
        var changed = false
        while neighbours.waitReadable(milliseconds: 0) {
            do {
                try neighbours.receive(into: &neighbourDatagram)
                if !changed { changed = forwarding.mayChangeVias(neighbourDatagram[...]) }
            } catch {
                // Lost (the rest of what is queued is read next time, and counts no more than
                // this) or unreadable: only the entries themselves tell now.
                return true
            }
        }
        return changed
    }

    /// The devices the namespace's own vxlans' forwarding entries send through as the kernel has
    /// them now, and those other namespaces' vxlans send through as the last snapshot found them,
    /// as a holder change: the last scan handed out (by a snapshot or a holder look) with these,
    /// so that only the devices whose vias changed are judged again. Throws when the entries
    /// cannot be read.
    public func forwardingChange() throws -> FactChange {
        let read: VxlanForwarding.Entries
        do {
            read = try readForwarding()
        } catch {
            // A dump cut short may leave the kernel's answers on the socket.
            dropClient()
            throw error
        }
        noteSending(read)
        lastUses.vxlanVias = read.vias
        guard var last = lastScan else { return holderChange() }
        last.scan.vxlanVias = read.vias.merging(foreignVias, uniquingKeysWith: +)
        lastScan = last
        return .holders(last.scan, namespaceNames: last.names)
    }

    /// Keeps which entries send through a device, and which vxlans have such entries.
    func noteSending(_ read: VxlanForwarding.Entries) {
        forwarding.sending = read.sending
        decoder.vxlansSending = Set(read.sending.map(\.vxlan))
    }
}
#endif

#if os(Linux)
import Foundation
import Glibc
import Netlink
import TunwardenCore

/// Where veth peers live: the namespaces the inspected one gives ids to, named and counted.
extension LinuxInventory {
    /// Identifies the namespaces veth peers live in, by the id the inspected namespace gives them,
    /// with how many processes run in each: every namespace a scanned process runs in, and every
    /// named one under `namespaceDirectory`. The census places each process by its main thread;
    /// a named namespace it leaves empty is looked for among every thread's namespace
    /// (`ForeignStacking.threadNamespaces`), since a thread alone can run in one (a daemon's worker
    /// that entered it), and counts the processes with a thread there. A count of zero is given
    /// only when every process was accounted for; otherwise it is nil (unknown).
    func peerNamespaces(client: RtnetlinkClient, census: HolderScanner.NamespaceCensus, inspected: UInt64,
                        censusComplete: Bool) -> [Int32: PeerNamespace] {
        var complete = censusComplete
        var processesByID: [Int32: Int] = [:]
        func id(ofPID pid: Int32) -> Int32?? {
            do {
                return try namespaceID(client: client) { NamespaceIDMessage.request(pid: UInt32(pid), sequence: $0) }
            } catch NetlinkError.kernel(_, let errno, _) where errno == ESRCH {
                return .some(nil)  // exited: nothing to count
            } catch {
                return nil
            }
        }
        for (inode, entry) in census.processes where inode != inspected {
            switch id(ofPID: entry.samplePID) {
            case let .some(.some(nsid)) where nsid != NamespaceIDMessage.notAssigned: processesByID[nsid, default: 0] += entry.count
            case .some: break
            case .none: complete = false
            }
        }
        // Processes that hide their namespace link from us are placed by the kernel instead.
        for pid in census.hiddenPIDs {
            switch id(ofPID: pid) {
            case let .some(.some(nsid)) where nsid != NamespaceIDMessage.notAssigned: processesByID[nsid, default: 0] += 1
            case .some: break
            case .none: complete = false
            }
        }
        var result: [Int32: PeerNamespace] = processesByID.mapValues { PeerNamespace(name: nil, processCount: $0) }
        guard case let .ok(names) = Sys.namesInByteOrder(namespaceDirectory) else { return result }
        // Walked only when some named namespace has no main thread in it: the common case pays nothing.
        var threads: [UInt64: [Sys.Path]]?
        // Names are the files' bytes (one need not be UTF-8), shown as `InterfaceName.text` shows them.
        for name in names {
            guard case let .ok(fd) = Sys.openFile(Sys.Path(namespaceDirectory).appending(name)) else { continue }
            defer { close(fd) }
            guard case let .ok(inode) = Sys.statDescriptor(fd), inode != inspected,
                  let nsid = (try? namespaceID(client: client, { NamespaceIDMessage.request(fd: fd, sequence: $0) })) ?? nil,
                  nsid != NamespaceIDMessage.notAssigned else { continue }
            var processes = processesByID[nsid] ?? (complete ? 0 : nil)
            if processes == 0 {
                if threads == nil { threads = ForeignStacking.threadNamespaces(procRoot: procRoot) }
                if let found = threads?[inode], !found.isEmpty { processes = found.count }
            }
            result[nsid] = PeerNamespace(name: InterfaceName.text(name), processCount: processes,
                                         forwards: processes == 0 ? forwardedFamilies(namespaceFD: fd) : nil)
        }
        return result
    }

    /// The address families the namespace behind `namespaceFD` forwards, read from its sysctls by
    /// a thread inside it (/proc/sys/net shows the reading thread's namespace); nil when they could
    /// not be read. A namespace no process runs in does something with traffic routed into it
    /// only where it forwards that traffic on.
    func forwardedFamilies(namespaceFD: Int32) -> Set<AddressFamily>? {
        try? NamespaceThread.run(in: namespaceFD) { () -> Set<AddressFamily>? in
            guard let inet = DeviceFileSettings.text(Sys.readSmallFile("/proc/sys/net/ipv4/ip_forward")) else { return nil }
            // Without IPv6 in the kernel there is no such file, and nothing of IPv6 is forwarded.
            let inet6 = DeviceFileSettings.text(Sys.readSmallFile("/proc/sys/net/ipv6/conf/all/forwarding")) ?? "0"
            var families: Set<AddressFamily> = []
            if inet != "0" { families.insert(.inet) }
            if inet6 != "0" { families.insert(.inet6) }
            return families
        } ?? nil
    }

    /// The id the inspected namespace gives the namespace a request names, or nil when the kernel
    /// sent no id.
    func namespaceID(client: RtnetlinkClient, _ request: (UInt32) -> [UInt8]) throws -> Int32? {
        let replies = try client.request(operation: "RTM_GETNSID", request)
        guard let reply = replies.first(where: { $0.header.type == NetlinkType.newNSID }) else { return nil }
        return try NamespaceIDMessage.decodeID(reply.payload)
    }
}
#endif

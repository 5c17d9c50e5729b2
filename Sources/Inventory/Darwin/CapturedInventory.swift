import Foundation
import TunwardenCore

/// A macOS snapshot from captured tool output: a directory holding any of `ifconfig.txt`
/// (`ifconfig -a`), `netstat.txt` (`netstat -rn`), `lsof.txt` (`lsof -nP`, as root) and `ps.txt`
/// (`ps -axo pid,comm`). What is missing is reported as unknown, never guessed. Works on any OS.
public struct CapturedInventory: InventoryBackend {
    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func snapshot() throws -> Snapshot {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InventoryError("\(directory) is not a directory; --from takes a directory holding ifconfig.txt, netstat.txt, lsof.txt and/or ps.txt")
        }
        func read(_ name: String) throws -> String? {
            let path = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else { throw InventoryError("\(path) cannot be read") }
            return String(decoding: data, as: UTF8.self)
        }
        let ifconfigText = try read("ifconfig.txt"), netstatText = try read("netstat.txt")
        let lsofText = try read("lsof.txt"), psText = try read("ps.txt")
        guard ifconfigText != nil || netstatText != nil || lsofText != nil || psText != nil else {
            throw InventoryError("\(directory) holds none of ifconfig.txt, netstat.txt, lsof.txt, ps.txt; capture them with `tunwarden snapshot DIR` on the Mac (or by hand: ifconfig -a, netstat -rn, sudo lsof -nP, ps -axo pid,comm)")
        }
        do {
            return try Self.build(ifconfig: ifconfigText, netstat: netstatText, lsof: lsofText, ps: psText, directory: directory)
        } catch let error as CaptureParseError {
            throw InventoryError("\((directory as NSString).appendingPathComponent(error.file)): expected \(error.expected), found '\(error.found.prefix(60))'")
        }
    }

    /// Turns parsed captures into the same snapshot model the Linux backend builds.
    public static func build(ifconfig: String?, netstat: String?, lsof: String?, ps: String?, directory: String = "",
                             takenAt: Date = Date()) throws -> Snapshot {
        let entries = try ifconfig.map { try DarwinParsers.ifconfig($0) } ?? []
        let rows = try netstat.map { try DarwinParsers.netstat($0) } ?? []
        let utunHolders = try lsof.map { try DarwinParsers.lsof($0) }
        let processes = try ps.map { try DarwinParsers.ps($0) }

        // The kernel's index where an inet6 scopeid shows it, otherwise a stable stand-in above them.
        var nextIndex = (entries.compactMap(\.scopeID).max() ?? 0) + 1
        var interfaces: [NetworkInterface] = []
        for entry in entries {
            let index = entry.scopeID ?? { defer { nextIndex += 1 }; return nextIndex }()
            let kind: InterfaceKind = entry.name.hasPrefix("utun") ? .utun : entry.name.hasPrefix("feth") ? .feth : .other
            interfaces.append(NetworkInterface(
                index: index, name: entry.name, kind: kind, infoKind: kind == .other ? nil : kind.rawValue, flags: entry.flags,
                operstate: entry.status.map { $0 == "active" ? "UP" : "DOWN" }, carrier: entry.status.map { $0 == "active" },
                mtu: entry.mtu, hardwareAddress: entry.ether, addresses: entry.addresses, peerName: entry.peer
            ))
        }
        let indexByName = Dictionary(interfaces.map { ($0.name, $0.index) }, uniquingKeysWith: { a, _ in a })
        let routes = rows.map { row -> Route in
            let type = row.flags.contains("B") ? "blackhole" : row.flags.contains("R") ? "unreachable"
                : row.flags.contains("b") ? "broadcast" : row.flags.contains("m") ? "multicast" : "unicast"
            // Without the G flag a route is directly attached: its Gateway column names the
            // interface's own address or link, not a next hop.
            return Route(destination: row.destination, type: type, table: "main", protocolName: row.flags.contains("S") ? "static" : nil,
                         nextHops: [NextHop(gateway: row.flags.contains("G") ? row.gateway : nil, interfaceIndex: indexByName[row.netif],
                                            interfaceName: row.netif)])
        }

        var missing: [String] = []
        if ifconfig == nil { missing.append("ifconfig.txt (interfaces)") }
        if netstat == nil { missing.append("netstat.txt (routes)") }
        if lsof == nil { missing.append("lsof.txt (utun holders)") }
        if ps == nil { missing.append("ps.txt (running processes)") }
        let holders: HolderScan
        if let utunHolders {
            let attachments = utunHolders.map { holder in
                // lsof cuts COMMAND to nine characters; ps has the whole name.
                let name = processes?[holder.pid].map { ($0 as NSString).lastPathComponent } ?? holder.command
                return HolderAttachment(holder: Holder(pid: holder.pid, comm: name), ifname: holder.ifname, inInspectedNamespace: true)
            }
            holders = HolderScan(complete: true, attachments: attachments, processesScanned: processes?.count ?? 0)
        } else {
            holders = .unavailable("no lsof.txt in \(directory.isEmpty ? "the capture" : directory)")
        }
        var snapshot = Snapshot(platform: "darwin", namespace: nil, namespaceIdentity: "capture:\(directory)", takenAt: takenAt,
                                interfaces: interfaces, routes: routes, holders: holders)
        snapshot.interfacesKnown = ifconfig != nil
        snapshot.processNames = processes
        snapshot.missingSources = missing
        return snapshot
    }
}

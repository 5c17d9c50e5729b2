#if os(Linux)
import Foundation
import Glibc
import Netlink

/// Packet sockets that use one device of a namespace: bound to it (`tcpdump -i tap0`, a DHCP
/// client, an LLDP daemon), or with a membership on it (PACKET_ADD_MEMBERSHIP: promiscuous,
/// all-multicast or one multicast address) while bound to another device or to none (a sniffer
/// reading every device). Such a process uses the device without a tun descriptor, so the holder
/// scan cannot see it, and deleting the device takes it from under the process.
///
/// The kernel lists a namespace's packet sockets, with the device each is bound to and its
/// memberships, through NETLINK_SOCK_DIAG (`packet_diag`, what `ss -0` reads); a netlink socket
/// answers for the namespace it was made in, so one is made there. A kernel without packet socket
/// diagnostics (CONFIG_PACKET_DIAG, module af_packet_diag) lists only the bound device, in
/// `/proc/net/packet` (`Iface`; 0 for a socket bound to none), read from inside the namespace
/// (`NamespaceProcFile`): then a socket bound to none may hold a membership on any device, and
/// which is unknown. Sockets of other kinds bound to the device (`SO_BINDTODEVICE`) are counted by
/// `BoundSockets`.
public enum PacketSockets {
    public typealias Unreadable = SocketUse.Unreadable

    /// How many packet sockets are bound to each ifindex in the namespace behind `namespaceFD`
    /// (nil: this process's own), and how many more have a membership on it. None where the
    /// kernel has no packet sockets; `Unreadable` when the lists could not be had (no way into the
    /// namespace, a read that failed, a layout not understood, memberships the kernel cannot list
    /// while a socket bound to no device may hold one): then nothing is known.
    public static func counts(namespaceFD: Int32?, procRoot: String = "/proc") -> Result<(bound: [Int: Int], memberships: [Int: Int]), Unreadable> {
        let client: RtnetlinkClient
        do {
            client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD, netlinkProtocol: NetlinkSocket.socketDiagnostics))
        } catch {
            return .failure(Unreadable(description: "cannot open a socket-diagnostics socket in the namespace: \(error)"))
        }
        var (bound, memberships): ([Int: Int], [Int: Int]) = ([:], [:])
        do {
            try client.dumpEach(operation: "SOCK_DIAG_BY_FAMILY (AF_PACKET)", request: { SocketDiagnostics.packetDumpRequest(sequence: $0) },
                                restart: { (bound, memberships) = ([:], [:]) }) { message in
                guard message.header.type == SocketDiagnostics.byFamily else { return }
                let socket = try SocketDiagnostics.decodePacket(message.payload)
                if socket.boundInterface != 0 { bound[Int(socket.boundInterface), default: 0] += 1 }
                for index in Set(socket.membershipInterfaces) where index != 0 && index != socket.boundInterface {
                    memberships[Int(index), default: 0] += 1
                }
            }
            return .success((bound, memberships))
        } catch NetlinkError.kernel(_, let code, _) where [ENOENT, EAFNOSUPPORT, EOPNOTSUPP].contains(code) {
            // No packet socket diagnostics: the bound devices from /proc/net/packet.
        } catch {
            return .failure(Unreadable(description: "the kernel's list of packet sockets could not be read: \(error)"))
        }
        switch boundCounts(namespaceFD: namespaceFD, procRoot: procRoot) {
        case let .success(found):
            guard found.unbound == 0 else {
                return .failure(Unreadable(description: "\(found.unbound) packet socket\(found.unbound == 1 ? " is" : "s are") bound to no device, and this kernel cannot say on which devices each holds memberships (promiscuous, multicast): no packet socket diagnostics (CONFIG_PACKET_DIAG, module af_packet_diag)"))
            }
            return .success((found.bound, [:]))
        case let .failure(problem): return .failure(problem)
        }
    }

    /// How many packet sockets are bound to each ifindex, and how many to none, from
    /// `/proc/net/packet` of the namespace behind `namespaceFD`. None where the kernel has no
    /// packet sockets (the file does not exist).
    static func boundCounts(namespaceFD: Int32?, procRoot: String) -> Result<(bound: [Int: Int], unbound: Int), Unreadable> {
        let text: [UInt8]
        switch NamespaceProcFile.read("packet", namespaceFD: namespaceFD, procRoot: procRoot) {
        case let .success(bytes?): text = bytes
        // No packet sockets in this kernel: none can be bound.
        case .success(nil): return .success(([:], 0))
        case let .failure(problem): return .failure(problem)
        }
        guard let counts = parse(String(decoding: text, as: UTF8.self)) else {
            return .failure(Unreadable(description: "\(procRoot)/thread-self/net/packet has no Iface column"))
        }
        return .success((counts.filter { $0.key > 0 }, counts[0] ?? 0))
    }

    /// The counts from the text of `/proc/net/packet`: a header naming the columns, then one
    /// socket per line; those bound to no device under 0. Nil when the header lacks the `Iface`
    /// column.
    static func parse(_ text: String) -> [Int: Int]? {
        let lines = text.split(separator: "\n")
        guard let header = lines.first?.split(separator: " ", omittingEmptySubsequences: true),
              let column = header.firstIndex(of: "Iface") else { return nil }
        var counts: [Int: Int] = [:]
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard column < fields.count, let index = Int(fields[column]), index >= 0 else { continue }
            counts[index, default: 0] += 1
        }
        return counts
    }
}
#endif

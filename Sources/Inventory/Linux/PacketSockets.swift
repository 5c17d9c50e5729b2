#if os(Linux)
import Foundation
import Glibc
import Netlink

/// Packet sockets bound to one device of a namespace: `tcpdump -i tap0`, a DHCP client, an LLDP
/// daemon. Such a process uses the device without a tun descriptor, so the holder scan cannot see
/// it, and deleting the device takes it from under the process.
///
/// The kernel lists a namespace's packet sockets in `/proc/net/packet`, with the ifindex each is
/// bound to (`Iface`; 0 for one bound to every device, which ties it to none), read from inside
/// the namespace (`NamespaceProcFile`). Sockets of other kinds bound to the device (`SO_BINDTODEVICE`) are
/// counted by `BoundSockets`.
public enum PacketSockets {
    public typealias Unreadable = SocketUse.Unreadable

    /// How many packet sockets are bound to each ifindex in the namespace behind `namespaceFD`
    /// (nil: this process's own). None where the kernel has no packet sockets (the file does not
    /// exist); `Unreadable` when the list could not be had (no way into the namespace, a read
    /// that failed, a layout not understood): then nothing is known.
    public static func boundCounts(namespaceFD: Int32?, procRoot: String = "/proc") -> Result<[Int: Int], Unreadable> {
        let text: [UInt8]
        switch NamespaceProcFile.read("packet", namespaceFD: namespaceFD, procRoot: procRoot) {
        case let .success(bytes?): text = bytes
        // No packet sockets in this kernel: none can be bound.
        case .success(nil): return .success([:])
        case let .failure(problem): return .failure(problem)
        }
        guard let counts = parse(String(decoding: text, as: UTF8.self)) else {
            return .failure(Unreadable(description: "\(procRoot)/thread-self/net/packet has no Iface column"))
        }
        return .success(counts)
    }

    /// The counts from the text of `/proc/net/packet`: a header naming the columns, then one
    /// socket per line. Nil when the header lacks the `Iface` column.
    static func parse(_ text: String) -> [Int: Int]? {
        let lines = text.split(separator: "\n")
        guard let header = lines.first?.split(separator: " ", omittingEmptySubsequences: true),
              let column = header.firstIndex(of: "Iface") else { return nil }
        var counts: [Int: Int] = [:]
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard column < fields.count, let index = Int(fields[column]), index > 0 else { continue }
            counts[index, default: 0] += 1
        }
        return counts
    }
}
#endif

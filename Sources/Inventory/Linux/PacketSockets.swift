#if os(Linux)
import Foundation
import Glibc
import Netlink

/// Packet sockets bound to one device of a namespace: `tcpdump -i tap0`, a DHCP client, an LLDP
/// daemon. Such a process uses the device without a tun descriptor, so the holder scan cannot see
/// it, and deleting the device takes it from under the process.
///
/// The kernel lists a namespace's packet sockets in `/proc/net/packet`, with the ifindex each is
/// bound to (`Iface`; 0 for one bound to every device, which ties it to none). The file is opened
/// by a thread inside the namespace (a `/proc/net` file belongs to the namespace of whoever opened
/// it) and read from here. Sockets of other kinds bound to the device (`SO_BINDTODEVICE`) are
/// counted by `BoundSockets`.
public enum PacketSockets {
    public typealias Unreadable = SocketUse.Unreadable

    /// How many packet sockets are bound to each ifindex in the namespace behind `namespaceFD`
    /// (nil: this process's own). None where the kernel has no packet sockets (the file does not
    /// exist); `Unreadable` when the list could not be had (no way into the namespace, a read
    /// that failed, a layout not understood): then nothing is known.
    public static func boundCounts(namespaceFD: Int32?, procRoot: String = "/proc") -> Result<[Int: Int], Unreadable> {
        let path = "\(procRoot)/thread-self/net/packet"
        let opened: (fd: Int32, errno: Int32)
        if let namespaceFD {
            do {
                opened = try NamespaceThread.run(in: namespaceFD) { () -> (Int32, Int32) in
                    let fd = open(path, O_RDONLY | O_CLOEXEC)
                    return (fd, fd < 0 ? errno : 0)
                }
            } catch {
                return .failure(Unreadable(description: "cannot enter the namespace to read \(path): \(error)"))
            }
        } else {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            opened = (fd, fd < 0 ? errno : 0)
        }
        guard opened.fd >= 0 else {
            // No packet sockets in this kernel: none can be bound.
            if opened.errno == ENOENT { return .success([:]) }
            return .failure(Unreadable(description: "\(path) cannot be opened: \(String(cString: strerror(opened.errno)))"))
        }
        let fd = opened.fd
        defer { close(fd) }
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return .failure(Unreadable(description: "\(path) could not be read: \(String(cString: strerror(errno)))")) }
            if count == 0 { break }
            text += buffer.prefix(count)
        }
        guard let counts = parse(String(decoding: text, as: UTF8.self)) else {
            return .failure(Unreadable(description: "\(path) has no Iface column"))
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

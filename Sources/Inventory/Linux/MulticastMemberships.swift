#if os(Linux)
import Glibc
import Netlink
import TunwardenCore

/// Multicast groups that sockets joined on one device of a namespace: an mDNS responder joins
/// 224.0.0.251 and ff02::fb on each device it serves, dnsmasq joins the DHCPv6 and all-routers
/// groups on each device it sends router advertisements on, with IP_ADD_MEMBERSHIP or
/// IPV6_JOIN_GROUP and the device's ifindex, bound to no device. Such a process uses the device
/// without a tun descriptor, and deleting the device drops its memberships under it.
///
/// The kernel lists each device's memberships in an RTM_GETMULTICAST dump (IPv6 on every kernel,
/// IPv4 since Linux 6.13: see `dumpedGroups`), and with how many holders each has in
/// `/proc/net/igmp` and `/proc/net/igmp6`, read from inside the namespace (`NamespaceProcFile`)
/// where the kernel gives no dump; neither says which socket holds one. It holds some itself on every device (read on Linux
/// 6.18 from fresh devices, with and without addresses, up and down, and in net/ipv4/igmp.c and
/// net/ipv6/addrconf.c): 224.0.0.1 while the device is up; ff02::1 and ff01::1; ff02::2, ff01::2
/// and ff05::2 while it forwards; and the solicited-node group ff02::1:ffXX:XXXX of each of its
/// addresses and anycast addresses, as many times as addresses share one. A group beyond those, or
/// one of the first five with more holders than the kernel's one, is a socket's. A socket that
/// joins a solicited-node group cannot be told from the kernel and is not looked for. A multicast
/// address added to the device with `autojoin` (IFA_F_MCAUTOJOIN) is joined through the kernel's
/// own socket: it is the device's configuration, which a reap records and recreates, so that one
/// membership counts as the kernel's too (the addresses are asked for only when some group is
/// beyond the rest, which is rare: nothing is asked on most hosts).
enum MulticastMemberships {
    /// One group held on a device, with how many holders the kernel lists and how many of them
    /// are the kernel's own.
    struct Membership: Equatable {
        var group: IPAddress
        var users: Int
        var kernelHolds: Int
    }

    /// The groups sockets hold on each ifindex of the namespace behind `namespaceFD` (nil: this
    /// process's own), in words (see `HolderScan.multicastGroups`). None for a kernel without
    /// IPv4 multicast or IPv6 (the file does not exist); `Unreadable` when a list could not be had.
    static func socketGroups(namespaceFD: Int32?, procRoot: String) -> Result<[Int: [String]], SocketUse.Unreadable> {
        var groups: [Int: [Membership]] = [:]
        // Groups from the kernel's dumps where it gives them: each file costs the kernel a walk of
        // every device for each page read (`/proc/net/igmp6` 60 ms at 10,000 devices, and
        // `/proc/net/igmp` 30 ms at 10,000 that are up, with 640 KB of text to read).
        var files: [(String, (String) -> [Int: [Membership]]?)] = []
        let client = try? RtnetlinkClient(transport: NetlinkSocket(namespaceFD: namespaceFD))
        for (family, file, parse) in [(UInt8(2), "igmp", parseIPv4), (10, "igmp6", parseIPv6)] as [(UInt8, String, (String) -> [Int: [Membership]]?)] {
            guard let client, case let .success(found) = dumpedGroups(family: family, client: client) else {
                files.append((file, parse))
                continue
            }
            groups.merge(found, uniquingKeysWith: +)
        }
        for (name, parse) in files {
            switch NamespaceProcFile.read(name, namespaceFD: namespaceFD, procRoot: procRoot) {
            case let .success(bytes?):
                guard let found = parse(String(decoding: bytes, as: UTF8.self)) else {
                    return .failure(SocketUse.Unreadable(description: "\(procRoot)/thread-self/net/\(name) is not laid out as expected"))
                }
                groups.merge(found, uniquingKeysWith: +)
            case .success(nil): continue
            case let .failure(problem): return .failure(problem)
            }
        }
        groups = groups.filter { !$0.value.isEmpty }
        guard !groups.isEmpty else { return .success([:]) }
        let joined: Set<AutojoinAddress>
        do {
            joined = try autojoinAddresses(namespaceFD: namespaceFD)
        } catch {
            return .failure(SocketUse.Unreadable(description: "the addresses that join multicast groups by themselves (autojoin) could not be read: \(error)"))
        }
        return .success(words(groups, autojoined: joined))
    }

    /// A multicast address configured with `autojoin` on the device with this ifindex.
    struct AutojoinAddress: Hashable {
        var index: Int
        var bytes: [UInt8]
    }

    /// The groups of `groups` that sockets hold beyond the kernel, in words, with one membership
    /// of each `autojoined` address counted as the kernel's.
    static func words(_ groups: [Int: [Membership]], autojoined: Set<AutojoinAddress>) -> [Int: [String]] {
        var found: [Int: [String]] = [:]
        for (index, memberships) in groups {
            for var membership in memberships {
                if autojoined.contains(AutojoinAddress(index: index, bytes: membership.group.bytes)) { membership.kernelHolds += 1 }
                if let beyond = beyondKernel(group: membership.group, users: membership.users, kernelHolds: membership.kernelHolds) {
                    found[index, default: []].append(beyond)
                }
            }
        }
        return found
    }

    /// The multicast addresses configured with `autojoin` in the namespace behind `namespaceFD`.
    static func autojoinAddresses(namespaceFD: Int32?) throws -> Set<AutojoinAddress> {
        let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: namespaceFD))
        let autojoin: UInt32 = 0x400
        var found = Set<AutojoinAddress>()
        for family: UInt8 in [2, 10] {
            var addresses = Set<AutojoinAddress>()
            do {
                try client.dumpEach(operation: "RTM_GETADDR", request: { AddressMessage.dumpRequest(family: family, sequence: $0) },
                                    restart: { addresses = [] }) { message in
                    guard message.header.type == NetlinkType.newAddress else { return }
                    let address = try AddressMessage.decode(message.payload)
                    guard address.family == family, address.flags & autojoin != 0, let bytes = address.local ?? address.address else { return }
                    addresses.insert(AutojoinAddress(index: Int(address.index), bytes: bytes))
                }
            } catch NetlinkError.kernel(_, let code, _) where family == 10 && code == EAFNOSUPPORT {
                continue
            }
            found.formUnion(addresses)
        }
        return found
    }

    /// The groups held beyond the kernel's own, by ifindex, from the text of `/proc/net/igmp`: a header,
    /// then for each device a line `Idx<TAB>Device : Count Querier`, then one line per group,
    /// indented, `Group Users Timer Reporter` with the group as the kernel's 32-bit word in hex (its
    /// bytes in memory are the address). Nil when a line is not understood.
    static func parseIPv4(_ text: String) -> [Int: [Membership]]? {
        let allHosts: [UInt8] = [224, 0, 0, 1]
        var found: [Int: [Membership]] = [:]
        var device: Int?
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = fields.first else { continue }
            guard line.first == " " || line.first == "\t" else {
                guard let index = Int(first) else { return nil }
                device = index
                continue
            }
            guard let device, fields.count >= 2, let word = UInt32(first, radix: 16), let users = Int(fields[1]) else { return nil }
            let bytes = withUnsafeBytes(of: word) { Array($0) }
            guard let group = IPAddress(bytes: bytes) else { return nil }
            let kernelHolds = bytes == allHosts ? 1 : 0
            if users > kernelHolds { found[device, default: []].append(Membership(group: group, users: users, kernelHolds: kernelHolds)) }
        }
        return found
    }

    /// The groups of `family` (AF_INET or AF_INET6) held on each device of the namespace of
    /// `client` beyond the kernel's own, from an RTM_GETMULTICAST dump. The dump does not count
    /// a group's holders: a socket that joins one of the kernel's own groups (`kernelGroup`) is
    /// not told from it. Fails when the dump cannot be had (a kernel before 6.13 has none for
    /// IPv4), and for IPv4 when it lists no group at all: the kernel joins 224.0.0.1 on each
    /// device that is up, loopback included, so an empty answer is taken for a kernel that
    /// answered another family's dump. Then the file is read.
    static func dumpedGroups(family: UInt8, client: RtnetlinkClient) -> Result<[Int: [Membership]], NetlinkError> {
        do {
            var found: [Int: [Membership]] = [:]
            var listed = 0
            try client.dumpEach(operation: "RTM_GETMULTICAST (\(family == 2 ? "IPv4" : "IPv6"))",
                                request: { AddressMessage.multicastDumpRequest(family: family, sequence: $0) },
                                restart: { (found, listed) = ([:], 0) }) { message in
                // Linux answers with RTM_GETMULTICAST; RTM_NEWMULTICAST is what notifications carry.
                guard message.header.type == AddressMessage.getMulticast || message.header.type == AddressMessage.newMulticast else { return }
                let entry = try AddressMessage.multicastEntry(message.payload)
                guard entry.family == family, let bytes = entry.group, bytes.count == (family == 2 ? 4 : 16) else { return }
                listed += 1
                guard !kernelGroup(bytes), let group = IPAddress(bytes: Array(bytes)) else { return }
                found[Int(entry.index), default: []].append(Membership(group: group, users: 1, kernelHolds: 0))
            }
            if family == 2, listed == 0 { return .failure(.malformed("no IPv4 multicast group listed, not even 224.0.0.1")) }
            return .success(found)
        } catch let error as NetlinkError {
            return .failure(error)
        } catch {
            return .failure(.malformed("\(error)"))
        }
    }

    /// Whether a group is one the kernel joins on devices itself: 224.0.0.1, or in IPv6 a
    /// solicited-node group (ff02::1:ffXX:XXXX), ff02::1 and ff01::1, or ff02::2, ff01::2 and ff05::2.
    static func kernelGroup(_ bytes: [UInt8]) -> Bool { kernelGroup(bytes[...]) }

    /// The same for a group's 4 or 16 bytes where they lie in a message.
    static func kernelGroup(_ group: ArraySlice<UInt8>) -> Bool {
        if group.count == 4 { return group.elementsEqual([224, 0, 0, 1]) }
        guard group.count == 16 else { return false }
        let b = group.startIndex
        guard group[b] == 0xff, group[(b + 2)..<(b + 11)].allSatisfy({ $0 == 0 }) else { return false }
        // ff02::1:ffXX:XXXX, a solicited-node group.
        if group[b + 1] == 0x02, group[b + 11] == 1, group[b + 12] == 0xff { return true }
        let scope = group[b + 1], last = group[b + 15]
        return group[(b + 11)..<(b + 15)].allSatisfy { $0 == 0 } && (last == 1 && (scope == 1 || scope == 2) || last == 2 && (scope == 1 || scope == 2 || scope == 5))
    }

    /// The same from the text of `/proc/net/igmp6`: one line per membership,
    /// `Idx Device Group Users Flags Timer`, the group in 32 hex digits. Nil when a line is not
    /// understood.
    static func parseIPv6(_ text: String) -> [Int: [Membership]]? {
        var found: [Int: [Membership]] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard !fields.isEmpty else { continue }
            guard fields.count >= 4, let device = Int(fields[0]), fields[2].utf8.count == 32, let users = Int(fields[3]) else { return nil }
            var bytes: [UInt8] = []
            var digits = fields[2][...]
            while !digits.isEmpty {
                guard let byte = UInt8(digits.prefix(2), radix: 16) else { return nil }
                bytes.append(byte)
                digits = digits.dropFirst(2)
            }
            guard let group = IPAddress(bytes: bytes) else { return nil }
            // ff02::1:ffXX:XXXX, a solicited-node group: the kernel's, as often as it likes.
            if bytes.prefix(13) == [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff] { continue }
            // ff02::1 and ff01::1 always; ff02::2, ff01::2 and ff05::2 while forwarding.
            let kernelHolds = kernelGroup(bytes) ? 1 : 0
            if users > kernelHolds { found[device, default: []].append(Membership(group: group, users: users, kernelHolds: kernelHolds)) }
        }
        return found
    }

    /// `group` in words when sockets hold it beyond the `kernelHolds` memberships the kernel has
    /// of it; nil when nothing but the kernel does.
    static func beyondKernel(group: IPAddress, users: Int, kernelHolds: Int) -> String? {
        guard users > kernelHolds else { return nil }
        return kernelHolds == 0 ? "\(group)" : "\(group) (\(users) memberships, of which the kernel holds \(kernelHolds))"
    }
}
#endif

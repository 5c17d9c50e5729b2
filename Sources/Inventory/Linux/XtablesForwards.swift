#if os(Linux)
import Glibc
import Netlink

/// Legacy x_tables rules (iptables-legacy, ip6tables-legacy) whose TEE target duplicates another
/// device's packets to a device by its name (`-t mangle … -j TEE --gateway 10.0.0.2 --oif tap0`):
/// a device configured into another's traffic, though no process holds it; deleting it sends the
/// copies nowhere. TEE is valid only in the mangle table, so that table alone is read.
///
/// Asking the kernel for a table it does not have makes it load and create that table (and its
/// module): the table is asked for only where the namespace already lists it, in its own
/// `/proc/net/ip_tables_names` (`ip6_tables_names`), read from inside it.
public enum XtablesForwards {
    static let table = "mangle"

    /// The TEE targets' devices of the mangle tables of the namespace behind `namespaceFD` (nil:
    /// this process's own), IPv4 and IPv6, in `byName` (each with words that name its rule), and
    /// in `unresolved` why one's device cannot be known, if so; nothing where the namespace has no
    /// such table. `Unreadable` when a table it has cannot be read (the kernel answers only
    /// CAP_NET_ADMIN).
    public static func found(namespaceFD: Int32?, procRoot: String = "/proc") -> Result<NftablesForwards.Found, SocketUse.Unreadable> {
        var found = NftablesForwards.Found()
        for family in [XtablesTable.Family.ipv4, .ipv6] {
            let names = family == .ipv4 ? "ip_tables_names" : "ip6_tables_names"
            switch NamespaceProcFile.read(names, namespaceFD: namespaceFD, procRoot: procRoot) {
            case let .success(listed):
                // No file: no x_tables for the family; a file without the table: no such table.
                guard let listed, String(decoding: listed, as: UTF8.self).split(separator: "\n").contains(Substring(table)) else { continue }
            case let .failure(problem):
                return .failure(problem)
            }
            let words = "an \(family == .ipv4 ? "iptables" : "ip6tables")-legacy rule (table \(family.name) \(table))"
            let entries: [UInt8]
            switch read(family: family, namespaceFD: namespaceFD) {
            case let .success(bytes): entries = bytes
            case let .failure(problem): return .failure(problem)
            }
            let targets: [XtablesTable.TeeDevice]
            do {
                targets = try XtablesTable.teeTargets(entries: entries[...], family: family)
            } catch {
                return .failure(SocketUse.Unreadable(description: "the kernel's \(family.name) \(table) table could not be read: \(error)"))
            }
            for target in targets {
                switch target {
                case .routed: break
                case let .named(name): found.byName[name, default: []].append(words)
                case let .unknown(what):
                    found.unresolved = found.unresolved ?? "\(words) duplicates packets with \(what), whose device cannot be known"
                }
            }
        }
        return .success(found)
    }

    /// The entries of the mangle table of `family`, read on a raw socket made inside the
    /// namespace: its size first, then the entries of that size (again, a few times, while the
    /// table changes size in between).
    static func read(family: XtablesTable.Family, namespaceFD: Int32?) -> Result<[UInt8], SocketUse.Unreadable> {
        let what = "the kernel's \(family.name) \(table) table"
        let body = { () -> Result<[UInt8], SocketUse.Unreadable> in
            let fd: Int32
            switch Sys.rawSocket(family: family == .ipv4 ? AF_INET : AF_INET6) {
            case let .ok(opened): fd = opened
            case let .failed(code): return .failure(SocketUse.Unreadable(description: "\(what) could not be read: socket: \(Sys.describe(code))"))
            }
            defer { close(fd) }
            for _ in 0..<5 {
                let size: Int
                switch Sys.exchangeOption(fd, level: family.level, option: XtablesTable.getInfo, XtablesTable.infoRequest(table: table)) {
                case let .ok(info):
                    do { size = try XtablesTable.entriesSize(info: info) } catch {
                        return .failure(SocketUse.Unreadable(description: "\(what) could not be read: \(error)"))
                    }
                case let .failed(code):
                    return .failure(SocketUse.Unreadable(description: "\(what) could not be read: getsockopt(IPT_SO_GET_INFO): \(Sys.describe(code))"))
                }
                switch Sys.exchangeOption(fd, level: family.level, option: XtablesTable.getEntries, XtablesTable.entriesRequest(table: table, size: size)) {
                case let .ok(answer):
                    guard answer.count == XtablesTable.entriesHeaderSize + size else {
                        return .failure(SocketUse.Unreadable(description: "\(what) could not be read: \(answer.count) bytes instead of \(XtablesTable.entriesHeaderSize + size)"))
                    }
                    return .success(Array(answer.dropFirst(XtablesTable.entriesHeaderSize)))
                case .failed(EAGAIN):
                    // The table changed size since its size was asked: ask again.
                    continue
                case let .failed(code):
                    return .failure(SocketUse.Unreadable(description: "\(what) could not be read: getsockopt(IPT_SO_GET_ENTRIES): \(Sys.describe(code))"))
                }
            }
            return .failure(SocketUse.Unreadable(description: "\(what) kept changing while it was read"))
        }
        do {
            return try NamespaceThread.run(in: namespaceFD, body)
        } catch {
            return .failure(SocketUse.Unreadable(description: "cannot enter the namespace to read \(what): \(error)"))
        }
    }

    /// The namespace's nftables forwards (`NftablesForwards.found`) with its legacy TEE targets
    /// (`found`) among those by name: what the reaper's last look asks, which deletes nothing
    /// unless both can be read.
    public static func withNftables(namespaceFD: Int32?) -> Result<NftablesForwards.Found, SocketUse.Unreadable> {
        switch NftablesForwards.found(namespaceFD: namespaceFD) {
        case var .success(found):
            switch Self.found(namespaceFD: namespaceFD) {
            case let .success(legacy):
                found.byName.merge(legacy.byName, uniquingKeysWith: +)
                found.unresolved = found.unresolved ?? legacy.unresolved
                return .success(found)
            case let .failure(problem):
                return .failure(problem)
            }
        case let .failure(problem):
            return .failure(problem)
        }
    }
}
#endif

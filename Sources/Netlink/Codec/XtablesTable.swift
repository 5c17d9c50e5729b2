/// The legacy x_tables firewall (iptables-legacy, ip6tables-legacy) as the kernel hands a table
/// out through getsockopt (include/uapi/linux/netfilter/x_tables.h, netfilter_ipv4/ip_tables.h,
/// netfilter_ipv6/ip6_tables.h), and the one target read from it: TEE
/// (include/uapi/linux/netfilter/xt_TEE.h), which duplicates packets to a gateway, through the
/// device named by its `--oif` when it has one. Such a device is configured into another device's
/// traffic, though no process holds it; deleting it sends the copies nowhere. iptables-nft puts
/// the same target, with the same bytes, into an nftables rule's `target` expression.
public enum XtablesTable {
    /// The families a table is read for: the size of each one's entry header (`struct ipt_entry`:
    /// `struct ipt_ip` 84 bytes, nfcache, target_offset, next_offset, comefrom, then 8-aligned
    /// counters, 112 in all; `struct ip6t_entry`: `struct ip6t_ip6` 136 bytes and the same after
    /// it, 168), where in it target_offset and next_offset lie, and the getsockopt level.
    public enum Family: Sendable {
        case ipv4, ipv6

        var entrySize: Int { self == .ipv4 ? 112 : 168 }
        var targetOffsetField: Int { self == .ipv4 ? 88 : 140 }
        /// SOL_IP or SOL_IPV6.
        public var level: Int32 { self == .ipv4 ? 0 : 41 }
        /// The name iptables gives the family in `-t` words.
        public var name: String { self == .ipv4 ? "ip" : "ip6" }
    }

    /// IPT_SO_GET_INFO and IPT_SO_GET_ENTRIES (IP6T_ ones are the same numbers on SOL_IPV6).
    public static let getInfo: Int32 = 64, getEntries: Int32 = 65
    /// XT_TABLE_MAXNAMELEN.
    static let tableNameSize = 32
    /// Size of `struct ipt_getinfo` (name, valid_hooks, hook_entry[5], underflow[5], num_entries,
    /// size) and where its `size` lies.
    public static let infoSize = 84
    static let infoSizeField = 80
    /// Size of `struct ipt_get_entries` before its entries (name, size, padding to the entries'
    /// 8-byte alignment).
    public static let entriesHeaderSize = 40
    /// Size of `struct xt_entry_target` before its data: target_size, name[29], revision.
    static let targetHeaderSize = 32

    /// The argument of IPT_SO_GET_INFO for the table `name`.
    public static func infoRequest(table name: String) -> [UInt8] {
        tableName(name) + [UInt8](repeating: 0, count: infoSize - tableNameSize)
    }

    /// The size of the table's entries, from IPT_SO_GET_INFO's answer. Throws for an answer
    /// shorter than `struct ipt_getinfo`.
    public static func entriesSize(info: [UInt8]) throws(NetlinkError) -> Int {
        guard info.count >= infoSize else { throw .truncated(what: "ipt_getinfo", need: infoSize, have: info.count) }
        return Int(info[...].readNative(UInt32.self, at: infoSizeField))
    }

    /// The argument of IPT_SO_GET_ENTRIES for the table `name` whose entries take `size` bytes
    /// (the kernel refuses any other length, and says EAGAIN when the table changed size since).
    public static func entriesRequest(table name: String, size: Int) -> [UInt8] {
        var request = tableName(name)
        request.appendNative(UInt32(truncatingIfNeeded: size))
        return request + [UInt8](repeating: 0, count: entriesHeaderSize - tableNameSize - 4 + size)
    }

    private static func tableName(_ name: String) -> [UInt8] {
        Array(Array(name.utf8).prefix(tableNameSize - 1)) + [UInt8](repeating: 0, count: tableNameSize - min(name.utf8.count, tableNameSize - 1))
    }

    /// Where a TEE target sends its copies.
    public enum TeeDevice: Equatable, Sendable {
        /// Wherever the route to its gateway leads (no `--oif`).
        case routed
        /// Through the device of this name (the kernel's bytes), whichever device has it.
        case named([UInt8])
        /// Not known: a revision whose layout this reader does not know, or data too short for
        /// one it does (in words).
        case unknown(String)
    }

    /// Where a TEE target of `revision` whose data is `info` sends its copies: `struct
    /// xt_tee_tginfo` is `union nf_inet_addr gw` (16 bytes) then `char oif[16]` (revisions 0 and 1;
    /// the kernel registers revision 1).
    public static func teeDevice(revision: UInt32, info: ArraySlice<UInt8>) -> TeeDevice {
        guard revision <= 1 else { return .unknown("a TEE target of revision \(revision)") }
        guard info.count >= 32 else { return .unknown("a TEE target of \(info.count) bytes") }
        let oif = info[(info.startIndex + 16)..<(info.startIndex + 32)].prefix { $0 != 0 }
        return oif.isEmpty ? .routed : .named(Array(oif))
    }

    /// The TEE targets of a table's entries (the bytes after `struct ipt_get_entries`' header), in
    /// their order, walked by each entry's next_offset. Throws where an entry or its target does
    /// not fit the bytes, or its offsets are not the kernel's.
    public static func teeTargets(entries: ArraySlice<UInt8>, family: Family) throws(NetlinkError) -> [TeeDevice] {
        var found: [TeeDevice] = []
        var offset = entries.startIndex
        while offset < entries.endIndex {
            let remaining = entries.endIndex - offset
            guard remaining >= family.entrySize else { throw .truncated(what: "x_tables entry", need: family.entrySize, have: remaining) }
            let targetOffset = Int(entries.readNative(UInt16.self, at: offset + family.targetOffsetField))
            let nextOffset = Int(entries.readNative(UInt16.self, at: offset + family.targetOffsetField + 2))
            guard targetOffset >= family.entrySize, targetOffset + targetHeaderSize <= nextOffset else {
                throw .malformed("x_tables entry with target at \(targetOffset) and next entry at \(nextOffset)")
            }
            guard nextOffset <= remaining else { throw .truncated(what: "x_tables entry", need: nextOffset, have: remaining) }
            let target = offset + targetOffset
            let targetSize = Int(entries.readNative(UInt16.self, at: target))
            guard targetSize >= targetHeaderSize, targetOffset + targetSize <= nextOffset else {
                throw .malformed("x_tables target of \(targetSize) bytes in an entry of \(nextOffset)")
            }
            let name = entries[(target + 2)..<(target + 31)].prefix { $0 != 0 }
            if name.elementsEqual("TEE".utf8) {
                found.append(teeDevice(revision: UInt32(entries[target + 31]), info: entries[(target + targetHeaderSize)..<(target + targetSize)]))
            }
            offset += nextOffset
        }
        return found
    }
}

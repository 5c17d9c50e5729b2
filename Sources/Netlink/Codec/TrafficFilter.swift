/// Traffic-control filters (RTM_GETTFILTER; include/uapi/linux/pkt_cls.h), read for the device a
/// filter matches the packets' input device against: u32's and fw's `indev`, flower's `indev`
/// and route's `fromif`. The kernel keeps that device's ifindex (`tcf_change_indev`) and no
/// notifier clears it when the device goes, so the filter then matches an index no device has,
/// and a device made again under the name gets another. A dump names the device (u32, fw,
/// flower: only while one has that index) or gives the index (route).
///
/// Filters live in the blocks of qdiscs: of `ingress` and `clsact` (by direction, or a shared
/// block by its index), of a classful qdisc, and of the classes of `htb`, `hfsc`, `atm` and `cbq`.
/// A dump lists one block, so what to dump comes from the kernel's list of qdiscs
/// (`places(ofQdisc:)`), which names every device that has one.
public enum TrafficFilter {
    /// RTM_NEWTFILTER (as a dump lists each filter) and RTM_GETTFILTER; RTM_NEWTCLASS and
    /// RTM_GETTCLASS.
    public static let newFilter: UInt16 = 44, getFilter: UInt16 = 46
    public static let newClass: UInt16 = 40, getClass: UInt16 = 42
    /// TCM_IFINDEX_MAGIC_BLOCK: `tcm_ifindex` of a request for a shared block, whose index then
    /// stands in `tcm_parent` (`tcm_block_index`).
    static let blockMagic: UInt32 = 0xFFFF_FFFF
    /// TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS) and (…, TC_H_MIN_EGRESS): the parents `tc filter
    /// … ingress` and `… egress` name (an `ingress` qdisc answers to the first).
    public static let ingressParent: UInt32 = 0xFFFF_FFF2, egressParent: UInt32 = 0xFFFF_FFF3
    /// TCA_KIND, TCA_OPTIONS.
    static let kindAttribute: UInt16 = 1, optionsAttribute: UInt16 = 2
    /// TCA_U32_INDEV, TCA_FW_INDEV, TCA_FLOWER_INDEV (strings), TCA_ROUTE4_IIF (u32).
    static let u32Indev: UInt16 = 8, fwIndev: UInt16 = 3, flowerIndev: UInt16 = 2, routeIif: UInt16 = 4

    /// Qdiscs whose kind has no filters (no class operations with a block): `noqueue` and the
    /// other defaults the kernel attaches to every device, and the classless shapers. Any other
    /// kind, one this list does not know included, is asked for its filters.
    static let withoutFilters: Set<String> = ["noqueue", "noop", "pfifo_fast", "pfifo", "bfifo", "pfifo_head_drop", "mq", "mqprio",
                                              "tbf", "netem", "red", "gred", "pie", "fq_pie", "codel", "fq", "hhf", "plug", "skbprio",
                                              "taprio", "cbs", "etf"]
    /// Qdiscs whose classes have blocks of their own, beside the qdisc's.
    static let classBlocks: Set<String> = ["htb", "hfsc", "atm", "cbq"]

    /// One block of filters to dump.
    public enum Place: Hashable, Sendable {
        /// The block of the qdisc or class `parent` on the device with this ifindex (`parent` 0:
        /// the root qdisc).
        case device(index: Int32, parent: UInt32)
        /// A shared block, by its index (`ingress_block 22`).
        case block(UInt32)
        /// Every class of the device with this ifindex, whose classes have blocks of their own:
        /// its class list names them.
        case classes(index: Int32)
    }

    /// The blocks of the qdisc one RTM_NEWQDISC message describes. Throws for a payload shorter
    /// than `struct tcmsg`, or attributes that do not parse.
    public static func places(ofQdisc payload: ArraySlice<UInt8>) throws(NetlinkError) -> [Place] {
        let qdisc = try QdiscMessage.decode(payload)
        var ingressBlock: UInt32 = 0, egressBlock: UInt32 = 0
        var attributes = AttributeDecoder(payload.dropFirst(TrafficBlock.headerSize))
        while attributes.next() {
            switch attributes.type {
            case TrafficBlock.ingressBlock: ingressBlock = attributes.uint32()
            case TrafficBlock.egressBlock: egressBlock = attributes.uint32()
            default: break
            }
        }
        try attributes.finish()
        switch qdisc.kind {
        case "ingress":
            return [ingressBlock != 0 ? .block(ingressBlock) : .device(index: qdisc.index, parent: ingressParent)]
        case "clsact":
            return [ingressBlock != 0 ? .block(ingressBlock) : .device(index: qdisc.index, parent: ingressParent),
                    egressBlock != 0 ? .block(egressBlock) : .device(index: qdisc.index, parent: egressParent)]
        case let kind where withoutFilters.contains(kind):
            return []
        default:
            // A qdisc the kernel attached itself has handle 0: only a root one can be named (as
            // parent 0); the children of an `mq` root cannot.
            var places: [Place] = []
            if qdisc.handle != 0 {
                places.append(.device(index: qdisc.index, parent: qdisc.handle))
            } else if qdisc.parent == QdiscMessage.root {
                places.append(.device(index: qdisc.index, parent: 0))
            }
            if !places.isEmpty, classBlocks.contains(qdisc.kind) { places.append(.classes(index: qdisc.index)) }
            return places
        }
    }

    /// A dump request for the filters of one block.
    public static func dumpRequest(_ place: Place, sequence: UInt32) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: TrafficBlock.headerSize)
        let (index, parent): (UInt32, UInt32)
        switch place {
        case let .device(device, parentHandle): (index, parent) = (UInt32(bitPattern: device), parentHandle)
        case let .block(block): (index, parent) = (blockMagic, block)
        case let .classes(device): return classDumpRequest(index: device, sequence: sequence)
        }
        Swift.withUnsafeBytes(of: index) { header.replaceSubrange(4..<8, with: $0) }
        Swift.withUnsafeBytes(of: parent) { header.replaceSubrange(12..<16, with: $0) }
        return NetlinkMessage.encode(type: getFilter, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: header)
    }

    /// A dump request for the classes of the device with this ifindex.
    static func classDumpRequest(index: Int32, sequence: UInt32) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: TrafficBlock.headerSize)
        Swift.withUnsafeBytes(of: index) { header.replaceSubrange(4..<8, with: $0) }
        return NetlinkMessage.encode(type: getClass, flags: NetlinkFlags.request | NetlinkFlags.dump, sequence: sequence, payload: header)
    }

    /// The class one RTM_NEWTCLASS message describes, as a block to dump (nil for a class
    /// without a minor number, which is its qdisc's own block). Throws for a short payload.
    public static func place(ofClass payload: ArraySlice<UInt8>) throws(NetlinkError) -> Place? {
        guard payload.count >= TrafficBlock.headerSize else { throw .truncated(what: "tcmsg", need: TrafficBlock.headerSize, have: payload.count) }
        let index = payload.readNative(Int32.self, at: payload.startIndex + 4)
        let handle = payload.readNative(UInt32.self, at: payload.startIndex + 8)
        return handle & 0xFFFF == 0 ? nil : .device(index: index, parent: handle)
    }

    /// The device a filter matches packets against: by name as the dump gives it (the device with
    /// that ifindex now; a meta match's name compared as such), by ifindex, or by a comparison
    /// that may take in any device (a bound, a mask, a name's prefix), in words as `tc` writes it.
    public enum InputDevice: Hashable, Sendable {
        case name([UInt8])
        case index(UInt32)
        case some(String)
    }

    /// A filter that matches a device, as one RTM_NEWTFILTER message describes it.
    public struct IndexMatch: Hashable, Sendable {
        /// The classifier (`u32`, `fw`, `flower`, `route`, or `basic`, `cgroup` and `flow` through
        /// a meta match).
        public var kind: String
        public var device: InputDevice
        /// The ifindex of the device whose qdisc holds it (nil for a shared block's filter).
        public var on: Int32?
        /// Its block's parent there (`TrafficFilter.ingressParent`, a qdisc or class handle).
        public var parent: UInt32
        /// The meta match that names the device, in words (`meta(rt_iif)`); nil for a
        /// classifier's own keyword.
        public var meta: String? = nil

        /// The keyword `tc filter` takes the device with: `indev`, `fromif` for route, or the
        /// meta match.
        public var keyword: String { meta ?? (kind == "route" ? "fromif" : "indev") }
    }

    /// The classifiers that take extended matches, with the attribute of their options that holds
    /// the match tree (TCA_BASIC_EMATCHES, TCA_CGROUP_EMATCHES, TCA_FLOW_EMATCHES).
    static let ematchTrees: [String: UInt16] = ["basic": 2, "cgroup": 3, "flow": 11]

    /// The device matches of one filter message: the classifier's input device, or each meta
    /// match of its extended matches that compares a device (`TrafficEmatch`); empty for a
    /// filter without one. Throws for a payload shorter than `struct tcmsg`, or attributes that
    /// do not parse.
    public static func decodeIndexMatches(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> [IndexMatch] {
        guard payload.count >= TrafficBlock.headerSize else { throw .truncated(what: "tcmsg", need: TrafficBlock.headerSize, have: payload.count) }
        let base = payload.startIndex
        let index = payload.readNative(UInt32.self, at: base + 4)
        let parent = payload.readNative(UInt32.self, at: base + 12)
        guard let (kind, options) = try kindAndOptions(payload), let tree = ematchTrees[kind] else {
            return try decodeIndexMatch(payload).map { [$0] } ?? []
        }
        let on = index == blockMagic ? nil : Int32(bitPattern: index)
        var matches: [IndexMatch] = []
        var inner = AttributeDecoder(options)
        while inner.next() {
            guard inner.type == tree else { continue }
            for found in try TrafficEmatch.deviceComparisons(inner.data) {
                matches.append(IndexMatch(kind: kind, device: found.device, on: on, parent: parent, meta: found.words))
            }
        }
        try inner.finish()
        return matches
    }

    /// The classifier's kind and options of one filter message (nil without options).
    static func kindAndOptions(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> (String, ArraySlice<UInt8>)? {
        var kind = ""
        var options: ArraySlice<UInt8>?
        var attributes = AttributeDecoder(payload.dropFirst(TrafficBlock.headerSize))
        while attributes.next() {
            switch attributes.type {
            case kindAttribute: kind = String(decoding: attributes.bytesUpToNUL(), as: UTF8.self)
            case optionsAttribute: options = attributes.data
            default: break
            }
        }
        try attributes.finish()
        return options.map { (kind, $0) }
    }

    /// The input-device match of one filter message by its classifier's own keyword (u32, fw,
    /// flower, route); nil for a filter without one (or a classifier that has none). Throws for
    /// a payload shorter than `struct tcmsg`, or attributes that do not parse.
    public static func decodeIndexMatch(_ payload: ArraySlice<UInt8>) throws(NetlinkError) -> IndexMatch? {
        guard payload.count >= TrafficBlock.headerSize else { throw .truncated(what: "tcmsg", need: TrafficBlock.headerSize, have: payload.count) }
        let base = payload.startIndex
        let index = payload.readNative(UInt32.self, at: base + 4)
        let parent = payload.readNative(UInt32.self, at: base + 12)
        guard let (kind, options) = try kindAndOptions(payload) else { return nil }
        let wanted: UInt16
        switch kind {
        case "u32": wanted = u32Indev
        case "fw": wanted = fwIndev
        case "flower": wanted = flowerIndev
        case "route": wanted = routeIif
        default: return nil
        }
        var device: InputDevice?
        var inner = AttributeDecoder(options)
        while inner.next() {
            guard inner.type == wanted else { continue }
            if kind == "route" {
                let iif = inner.uint32()
                if iif != 0 { device = .index(iif) }
            } else {
                let name = inner.bytesUpToNUL()
                if !name.isEmpty { device = .name(name) }
            }
        }
        try inner.finish()
        guard let device else { return nil }
        return IndexMatch(kind: kind, device: device, on: index == blockMagic ? nil : Int32(bitPattern: index), parent: parent)
    }
}

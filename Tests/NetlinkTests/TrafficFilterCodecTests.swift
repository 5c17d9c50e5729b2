import Testing
@testable import Netlink

/// Filters that match the packets' input device, and the qdiscs whose blocks hold filters, laid
/// out as the kernel sends them (`struct tcmsg`, TCA_KIND, TCA_OPTIONS nesting the classifier's
/// own attributes).
@Suite struct TrafficFilterCodecTests {
    /// A tcmsg for ifindex `index` (0xFFFFFFFF: a shared block) with `handle` and `parent`.
    func header(index: UInt32, handle: UInt32 = 0, parent: UInt32) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0, 0]
        for value in [index, handle, parent, 0] { withUnsafeBytes(of: value) { bytes += $0 } }
        return bytes
    }

    func filter(_ kind: String, index: UInt32 = 2, parent: UInt32 = TrafficFilter.egressParent, _ options: (inout AttributeEncoder) -> Void) -> [UInt8] {
        var message = AttributeEncoder(prefix: header(index: index, parent: parent))
        message.append(type: 1, string: kind)
        message.appendNested(type: 2, options)
        return message.bytes
    }

    @Test func eachClassifierGivesItsInputDevice() throws {
        let u32 = try #require(try TrafficFilter.decodeIndexMatch(filter("u32") { $0.append(type: 1, uint32: 0x10001); $0.append(type: 8, string: "tap0") }[...]))
        #expect(u32 == TrafficFilter.IndexMatch(kind: "u32", device: .name(Array("tap0".utf8)), on: 2, parent: TrafficFilter.egressParent))
        #expect(u32.keyword == "indev")
        let fw = try #require(try TrafficFilter.decodeIndexMatch(filter("fw") { $0.append(type: 3, string: "tap1") }[...]))
        #expect(fw.device == .name(Array("tap1".utf8)))
        let flower = try #require(try TrafficFilter.decodeIndexMatch(filter("flower", index: 0xFFFF_FFFF, parent: 22) { $0.append(type: 2, string: "tap2") }[...]))
        #expect(flower.on == nil && flower.parent == 22 && flower.device == .name(Array("tap2".utf8)))
        let route = try #require(try TrafficFilter.decodeIndexMatch(filter("route", parent: 0x10000) { $0.append(type: 4, uint32: 7) }[...]))
        #expect(route.device == .index(7) && route.keyword == "fromif")
        // The same attribute numbers mean other things in other classifiers, and a u32 without indev matches no device.
        #expect(try TrafficFilter.decodeIndexMatch(filter("basic") { $0.append(type: 8, string: "tap0") }[...]) == nil)
        #expect(try TrafficFilter.decodeIndexMatch(filter("u32") { $0.append(type: 1, uint32: 0x10001) }[...]) == nil)
        #expect(try TrafficFilter.decodeIndexMatch(filter("flower") { $0.append(type: 8, string: "tap0") }[...]) == nil)
        #expect(throws: NetlinkError.self) { try TrafficFilter.decodeIndexMatch([UInt8](repeating: 0, count: 19)[...]) }
    }

    @Test func qdiscsNameTheBlocksToDump() throws {
        func qdisc(_ kind: String, index: UInt32 = 5, handle: UInt32, parent: UInt32, blocks: (UInt32, UInt32) = (0, 0)) throws -> [TrafficFilter.Place] {
            var message = AttributeEncoder(prefix: header(index: index, handle: handle, parent: parent))
            message.append(type: 1, string: kind)
            if blocks.0 != 0 { message.append(type: 13, uint32: blocks.0) }
            if blocks.1 != 0 { message.append(type: 14, uint32: blocks.1) }
            return try TrafficFilter.places(ofQdisc: message.bytes[...])
        }
        #expect(try qdisc("clsact", handle: 0xFFFF_0000, parent: QdiscMessage.ingress)
                == [.device(index: 5, parent: TrafficFilter.ingressParent), .device(index: 5, parent: TrafficFilter.egressParent)])
        #expect(try qdisc("clsact", handle: 0xFFFF_0000, parent: QdiscMessage.ingress, blocks: (22, 0))
                == [.block(22), .device(index: 5, parent: TrafficFilter.egressParent)])
        #expect(try qdisc("ingress", handle: 0xFFFF_0000, parent: QdiscMessage.ingress) == [.device(index: 5, parent: TrafficFilter.ingressParent)])
        #expect(try qdisc("htb", handle: 0x10000, parent: QdiscMessage.root) == [.device(index: 5, parent: 0x10000), .classes(index: 5)])
        #expect(try qdisc("prio", handle: 0x20000, parent: 0x10001) == [.device(index: 5, parent: 0x20000)])
        // The defaults every device gets hold no filters, and a handle-0 child cannot be named.
        #expect(try qdisc("noqueue", handle: 0, parent: QdiscMessage.root).isEmpty)
        #expect(try qdisc("fq_codel", handle: 0, parent: QdiscMessage.root) == [.device(index: 5, parent: 0)])
        #expect(try qdisc("fq_codel", handle: 0, parent: 0x1).isEmpty)
    }

    @Test func requestsNameTheBlock() throws {
        let device = try #require(try NetlinkMessage.split(TrafficFilter.dumpRequest(.device(index: 3, parent: TrafficFilter.ingressParent), sequence: 4)[...]).first)
        #expect(device.header.type == 46 && device.header.flags == NetlinkFlags.request | NetlinkFlags.dump)
        #expect(Array(device.payload) == header(index: 3, parent: TrafficFilter.ingressParent))
        let block = try #require(try NetlinkMessage.split(TrafficFilter.dumpRequest(.block(22), sequence: 4)[...]).first)
        #expect(Array(block.payload) == header(index: 0xFFFF_FFFF, parent: 22))
        let classes = try #require(try NetlinkMessage.split(TrafficFilter.dumpRequest(.classes(index: 3), sequence: 4)[...]).first)
        #expect(classes.header.type == 42 && Array(classes.payload) == header(index: 3, parent: 0))
        #expect(try TrafficFilter.place(ofClass: header(index: 3, handle: 0x10001, parent: 0x10000)[...]) == .device(index: 3, parent: 0x10001))
        #expect(try TrafficFilter.place(ofClass: header(index: 3, handle: 0x10000, parent: QdiscMessage.root)[...]) == nil)
    }

    /// A meta match as the kernel dumps it: `struct tcf_ematch_hdr` (kind 4), then
    /// TCA_EM_META_HDR with the left and right `tcf_meta_val` and the two values.
    func meta(left: (type: UInt16, id: UInt16, shift: UInt8), op: UInt8 = 0, right: (type: UInt16, id: UInt16, shift: UInt8),
              leftValue: [UInt8]? = nil, rightValue: [UInt8]? = nil, matchKind: UInt16 = 4, flags: UInt16 = 0) -> [UInt8] {
        var header: [UInt8] = []
        for value: UInt16 in [0, matchKind, flags, 0] { withUnsafeBytes(of: value) { header += $0 } }
        var attributes = AttributeEncoder(prefix: header)
        var metaHeader: [UInt8] = []
        withUnsafeBytes(of: left.type << 12 | left.id) { metaHeader += $0 }
        metaHeader += [left.shift, op]
        withUnsafeBytes(of: right.type << 12 | right.id) { metaHeader += $0 }
        metaHeader += [right.shift, 0]
        attributes.append(type: 1, payload: metaHeader)
        if let leftValue { attributes.append(type: 2, payload: leftValue) }
        if let rightValue { attributes.append(type: 3, payload: rightValue) }
        return attributes.bytes
    }

    /// A basic (or cgroup, flow) filter whose extended-match tree holds `matches`.
    func ematchFilter(_ matches: [[UInt8]], kind: String = "basic", tree: UInt16 = 2) -> ArraySlice<UInt8> {
        filter(kind) { options in
            options.append(type: 1, uint32: 0x10001)
            options.appendNested(type: tree) { tree in
                tree.append(type: 1, payload: [UInt8(matches.count), 0, 0, 0])
                tree.appendNested(type: 2) { list in
                    for (position, match) in matches.enumerated() { list.append(type: UInt16(position + 1), payload: match) }
                }
            }
        }[...]
    }

    func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    @Test func metaMatchesGiveTheDevicesTheyCompare() throws {
        let integer: UInt16 = 1, variable: UInt16 = 0
        // meta(rt_iif eq 7), as iproute2 sends it: the device side carries no mask.
        let routeInput = meta(left: (integer, 15, 0), right: (integer, 0, 0), rightValue: u32(7))
        let matches = try TrafficFilter.decodeIndexMatches(ematchFilter([routeInput]))
        #expect(matches == [TrafficFilter.IndexMatch(kind: "basic", device: .index(7), on: 2, parent: TrafficFilter.egressParent, meta: "meta(rt_iif eq 7)")])
        #expect(matches.first?.keyword == "meta(rt_iif eq 7)")
        // The value on the left, the socket's device, a mask of all ones, and several matches in one tree.
        let reversed = meta(left: (integer, 0, 0), right: (integer, 19, 0), leftValue: u32(9), rightValue: u32(0xFFFF_FFFF))
        let named = meta(left: (variable, 5, 0), right: (variable, 0, 0), rightValue: Array("tap0".utf8))
        let nfmark = meta(left: (integer, 12, 0), right: (integer, 0, 0), rightValue: u32(7))
        let text = [UInt8](repeating: 1, count: 12) // another kind of match, not read
        let several = try TrafficFilter.decodeIndexMatches(ematchFilter([reversed, nfmark, named, text.enumerated().map { $0 == 2 ? 5 : $1 }], kind: "cgroup", tree: 3))
        #expect(several.map(\.device) == [.index(9), .name(Array("tap0".utf8))])
        #expect(several.map(\.keyword) == ["meta(9 eq sk_bound_if)", "meta(dev eq \"tap0\")"])
        // A bound, a mask, a prefix (a shifted name) or an 8-byte value above 32 bits.
        let bound = meta(left: (integer, 15, 0), op: 1, right: (integer, 0, 0), rightValue: u32(3))
        let masked = meta(left: (integer, 15, 0), right: (integer, 0, 0), leftValue: u32(0xFF), rightValue: u32(3))
        let prefix = meta(left: (variable, 5, 1), right: (variable, 0, 0), rightValue: Array("ppp".utf8))
        let ranges = try TrafficFilter.decodeIndexMatches(ematchFilter([bound, masked, prefix], kind: "flow", tree: 11))
        #expect(ranges.map(\.device) == [.some("meta(rt_iif gt 3)"), .some("meta(rt_iif eq 3)"), .some("meta(dev eq \"ppp\")")])
        // A negated match (TCF_EM_INVERT) still names its device, and says it is negated.
        let negated = meta(left: (integer, 15, 0), right: (integer, 0, 0), rightValue: u32(5), flags: 4 | 1)
        let negatedBound = meta(left: (integer, 15, 0), op: 2, right: (integer, 0, 0), rightValue: u32(5), flags: 4)
        #expect(try TrafficFilter.decodeIndexMatches(ematchFilter([negated, negatedBound])).map(\.device) == [.index(5), .some("not meta(rt_iif lt 5)")])
        #expect(try TrafficFilter.decodeIndexMatches(ematchFilter([negated])).first?.keyword == "not meta(rt_iif eq 5)")
        // Two of the packet's own values, index 0, or no meta match at all: no device.
        let twoIDs = meta(left: (integer, 5, 0), right: (integer, 15, 0))
        let zero = meta(left: (integer, 15, 0), right: (integer, 0, 0), rightValue: u32(0))
        let huge = meta(left: (integer, 15, 0), right: (integer, 0, 0), rightValue: withUnsafeBytes(of: UInt64(1) << 40) { Array($0) })
        #expect(try TrafficFilter.decodeIndexMatches(ematchFilter([twoIDs, zero, huge, meta(left: (integer, 15, 0), right: (integer, 0, 0), rightValue: u32(7), matchKind: 1)])).isEmpty)
        // The classifiers' own keywords still come through the plural.
        #expect(try TrafficFilter.decodeIndexMatches(filter("u32") { $0.append(type: 8, string: "tap0") }[...]).map(\.device) == [.name(Array("tap0".utf8))])
        // A short match header or meta header is an error, not a guess.
        #expect(throws: NetlinkError.self) { try TrafficFilter.decodeIndexMatches(ematchFilter([[0, 0, 4, 0]] as [[UInt8]])) }
        #expect(throws: NetlinkError.self) {
            var header: [UInt8] = []
            for value: UInt16 in [0, 4, 0, 0] { withUnsafeBytes(of: value) { header += $0 } }
            var attributes = AttributeEncoder(prefix: header)
            attributes.append(type: 1, payload: [1, 2, 3])
            return try TrafficFilter.decodeIndexMatches(ematchFilter([attributes.bytes]))
        }
    }
}

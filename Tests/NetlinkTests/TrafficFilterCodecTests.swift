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
}

import Testing
@testable import Netlink

/// `mirred` actions and the shared tc blocks they send packets to: real replies captured by
/// Fixtures/capture-tc.py, which sets up the values asserted here (tapin, ifindex 2, bound to
/// block 22 by its ingress; tapout, 3, by its egress; tapdev, 4, mirrored to by device).
@Suite struct TrafficBlockTests {
    @Test func capturedActionsNameTheirDeviceOrTheirBlock() throws {
        let replies = try CapturedMessageTests.messages("tc-action-dump", type: TrafficAction.getAction)
        let actions = try replies.flatMap { try TrafficAction.decodeMirred($0.payload) }
        // The block's action reports no device; the other reports tapdev and no block. Each is bound by one filter.
        #expect(Set(actions.map { "\($0.targetIndex)/\($0.blockIndex.map(String.init) ?? "-")/\($0.boundFilters)" }) == ["0/22/1", "4/-/1"],
                "\(actions)")
    }

    @Test func capturedQdiscsNameTheBlocksTheirDevicesArePortsOf() throws {
        let qdiscs = try CapturedMessageTests.messages("qdisc-dump", type: TrafficBlock.newQdisc).map { try TrafficBlock.decodePorts($0.payload) }
        let bound = qdiscs.filter { !$0.blocks.isEmpty }
        #expect(bound == [TrafficBlock.Ports(index: 2, blocks: [22]), TrafficBlock.Ports(index: 3, blocks: [22])], "\(qdiscs)")
        // lo's noqueue and va's clsact are listed too, bound to no block.
        #expect(qdiscs.count == 4)
    }

    @Test func qdiscRequestIsWhatTheKernelExpects() throws {
        let request = try #require(try NetlinkMessage.split(TrafficBlock.qdiscDumpRequest(sequence: 5)[...]).first)
        #expect(request.header.type == 38 && request.header.flags == NetlinkFlags.request | NetlinkFlags.dump && request.header.sequence == 5)
        #expect(Array(request.payload) == [UInt8](repeating: 0, count: 20))
    }

    @Test func aBlockOfTheWrongSizeOrAShortHeaderIsAnError() throws {
        var short = AttributeEncoder(prefix: [UInt8](repeating: 0, count: 20))
        short.append(type: 13, payload: [22, 0])
        #expect(throws: NetlinkError.self) { try TrafficBlock.decodePorts(short.bytes[...]) }
        #expect(throws: NetlinkError.self) { try TrafficBlock.decodePorts([UInt8](repeating: 0, count: 19)[...]) }
        // A block attribute of 0 binds the device to nothing.
        var none = AttributeEncoder(prefix: [0, 0, 0, 0, 9, 0, 0, 0] + [UInt8](repeating: 0, count: 12))
        none.append(type: 14, payload: [0, 0, 0, 0])
        #expect(try TrafficBlock.decodePorts(none.bytes[...]) == TrafficBlock.Ports(index: 9, blocks: []))
    }
}

import Testing
@testable import Netlink

/// Byte-level tests of RTM_NEWNEIGHTBL, read for a device's neighbour parameters (`ip ntable
/// change … dev DEVICE`), which deleting the device destroys (review round 7, finding F1).
@Suite struct NeighbourTableCodecTests {
    /// Captured on Linux 6.18 from a dump in a namespace whose tap (ifindex 2) had
    /// `ip ntable change name arp_cache dev i47t base_reachable 90000 ucast_probes 7`: the
    /// device's message (an ndtmsg, NDTA_NAME, NDTA_PARMS with NDTPA_IFINDEX 2).
    static let deviceParameters = [
        "020000000e0001006172705f6361636865000000b8000600080001000200000008000200010000000800100000400300080008006500000008000e00",
        "40000000080009000000000008000a000700000008000b000300000008001100000000000c000300cc5d0100000000000c000400905f0100000000",
        "000c00060060ea0000000000000c00070088130000000000000c000500e8030000000000000c000c00e8030000000000000c000d00200300000000",
        "00000c000f00e8030000000000000c0013008813000000000000",
    ]

    /// The same dump's NDTA_PARMS of the IPv6 table's own (`ndisc_cache`), without NDTPA_IFINDEX,
    /// cut out of its table message (thresholds, NDTA_CONFIG and NDTA_STATS left in front).
    static let tableParameters = [
        "0a000000100001006e646973635f6361636865000c0008003075000000000000080002008000000008000300000200000800040000040000b000",
        "060008000200010000000800100000400300080008006500000008000e0040000000080009000000000008000a000300000008000b0003000000",
        "08001100000000000c000300206a0000000000000c00040030750000000000000c00060060ea0000000000000c00070088130000000000000c00",
        "0500e8030000000000000c000c00e8030000000000000c000d0020030000000000000c000f0000000000000000000c0013008813000000000000",
    ]

    @Test func aDevicesParametersAreReadWithItsIndex() throws {
        let table = try NeighbourTableMessage.decode(RecreatedAttributeTests.bytes(Self.deviceParameters))
        #expect(table.family == 2 && table.name == "arp_cache" && table.hasParameters && table.index == 2)
        #expect(table.values[.baseReachableTime] == 90000 && table.values[.unicastProbes] == 7 && table.values[.multicastProbes] == 3)
        #expect(table.values[.retransTime] == 1000 && table.values[.gcStaleTime] == 60000 && table.values[.delayProbeTime] == 5000)
        #expect(table.values[.queueBytes] == 212_992 && table.values[.proxyQueue] == 64 && table.values[.proxyDelay] == 800)
        #expect(table.values[.lockTime] == 1000 && table.values[.intervalProbeTime] == 5000 && table.values[.appProbes] == 0)
        // NDTPA_REFCNT, NDTPA_QUEUE_LEN and NDTPA_REACHABLE_TIME are not parameters a person sets.
        #expect(table.values.count == 14)
    }

    @Test func aTablesOwnParametersHaveNoIndex() throws {
        let table = try NeighbourTableMessage.decode(RecreatedAttributeTests.bytes(Self.tableParameters))
        #expect(table.family == 10 && table.name == "ndisc_cache" && table.hasParameters && table.index == nil)
        #expect(table.values[.baseReachableTime] == 30000 && table.values[.retransTime] == 1000 && table.values[.unicastProbes] == 3)
    }

    /// A table message cut short, a parameter of the wrong size, and an attribute that overruns
    /// the message are errors, not values.
    @Test func malformedMessagesAreErrors() {
        let whole = Array(RecreatedAttributeTests.bytes(Self.deviceParameters))
        #expect(throws: NetlinkError.self) { try NeighbourTableMessage.decode(whole.prefix(3)[...]) }
        #expect(throws: NetlinkError.self) { try NeighbourTableMessage.decode(whole.prefix(whole.count - 6)[...]) }
        var parameters = AttributeEncoder(prefix: [])
        parameters.append(type: NeighbourTableMessage.Parameter.baseReachableTime.rawValue, uint32: 90000)
        var message = AttributeEncoder(prefix: [2, 0, 0, 0])
        message.append(type: 6, payload: parameters.bytes)
        #expect(throws: NetlinkError.self) { try NeighbourTableMessage.decode(message.bytes[...]) }
    }

    /// The device a message is of is read without decoding the rest; a table's own parameters
    /// name none, and a message that does not read gives nil.
    @Test func theDeviceIsReadAlone() {
        let device = RecreatedAttributeTests.bytes(Self.deviceParameters)
        #expect(NeighbourTableMessage.parametersIndex(device) == .some(2))
        #expect(NeighbourTableMessage.parametersIndex(RecreatedAttributeTests.bytes(Self.tableParameters)) == .some(nil))
        #expect(NeighbourTableMessage.parametersIndex(device.prefix(3)) == nil)
        #expect(NeighbourTableMessage.parametersIndex(device.prefix(device.count - 6)) == nil)
    }

    @Test func theDumpRequestAsksForEveryTable() throws {
        let request = NeighbourTableMessage.dumpRequest(sequence: 7)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == 66 && message.header.flags == NetlinkFlags.request | NetlinkFlags.dump && message.header.sequence == 7)
        #expect(Array(message.payload) == [0, 0, 0, 0])
    }
}

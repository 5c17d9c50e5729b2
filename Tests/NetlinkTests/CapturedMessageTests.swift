import Foundation
import Testing
@testable import Netlink

/// Byte-level tests on replies captured from the real kernel by Fixtures/capture.py, which also
/// sets up the values asserted here.
@Suite struct CapturedMessageTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "bin"))
        return Array(try Data(contentsOf: url))
    }

    static func messages(_ name: String, type: UInt16) throws -> [NetlinkMessage] {
        try NetlinkMessage.split(fixture(name)[...]).filter { $0.header.type == type }
    }

    static func links() throws -> [String: LinkMessage] {
        let decoded = try messages("link-dump", type: NetlinkType.newLink).map { try LinkMessage.decode($0.payload) }
        return Dictionary(uniqueKeysWithValues: decoded.map { ($0.name.map { String(decoding: $0, as: UTF8.self) } ?? "?", $0) })
    }

    /// What `LinkMessage.decodeAttachment` must read of a message `decode` read as `link`.
    static func attachment(of link: LinkMessage) -> LinkMessage.Attachment {
        LinkMessage.Attachment(index: link.index, flags: link.flags, name: link.name.map { $0[...] }, carrier: link.carrier,
                               carrierUpCount: link.carrierUpCount, persist: link.tun?.persist, numQueues: link.tun?.numQueues, numDisabledQueues: link.tun?.numDisabledQueues,
                               xdpProgramID: link.xdpProgramID)
    }

    @Test func theAttachmentReaderReadsWhatDecodingReads() throws {
        let messages = try Self.messages("link-dump", type: NetlinkType.newLink)
        #expect(messages.count > 3)
        for message in messages {
            let link = try LinkMessage.decode(message.payload)
            #expect(try LinkMessage.decodeAttachment(message.payload) == Self.attachment(of: link))
        }
        // The tun fields are there to compare: a multi-queue device's queue counts.
        let mq = try #require(messages.first { (try? LinkMessage.decode($0.payload))?.name == Array("mq0".utf8) })
        #expect(try LinkMessage.decodeAttachment(mq.payload).numQueues == 0)
        #expect(try LinkMessage.decodeAttachment(mq.payload).persist == true)
    }

    @Test func dumpStreamEndsWithDoneAndKeepsSequence() throws {
        let all = try NetlinkMessage.split(Self.fixture("link-dump")[...])
        #expect(all.last?.header.type == NetlinkType.done)
        #expect(all.allSatisfy { $0.header.sequence == 1 })
        #expect(all.dropLast().allSatisfy { $0.header.flags & NetlinkFlags.multi != 0 })
    }

    @Test func persistentTunDecodes() throws {
        let tun = try #require(try Self.links()["kure_tun"])
        #expect(tun.index == 2)
        #expect(tun.kind == "tun")
        #expect(tun.hardwareType == 65534)  // ARPHRD_NONE
        #expect(tun.tun?.type == 1)
        #expect(tun.tun?.persist == true)
        #expect(tun.tun?.multiQueue == false)
        #expect(tun.tun?.packetInfo == false)
        #expect(tun.tun?.owner == nil)  // only sent when set
        #expect(tun.tun?.numQueues == nil)  // only sent for multi-queue devices
        #expect(tun.carrier == false)
        #expect(tun.flags & 0x1 != 0)  // IFF_UP: it was set up
        #expect(tun.mtu == 1500)
        // RTEXT_FILTER_SKIP_STATS still leaves IFLA_STATS64 in.
        #expect(tun.stats == LinkMessage.Stats(rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0))
    }

    @Test func tapAndMultiQueueDecode() throws {
        let links = try Self.links()
        let tap = try #require(links["tap0"])
        #expect(tap.kind == "tun")
        #expect(tap.tun?.type == 2)
        #expect(tap.hardwareType == 1)
        #expect(tap.hardwareAddress?.count == 6)
        let mq = try #require(links["mq0"])
        #expect(mq.tun?.multiQueue == true)
        #expect(mq.tun?.owner == 1000)
        #expect(mq.tun?.group == 100)
        #expect(mq.tun?.numQueues == 0)
        #expect(mq.tun?.numDisabledQueues == 0)
    }

    @Test func vethPairPointsAtEachOther() throws {
        let links = try Self.links()
        let va = try #require(links["va"]), vb = try #require(links["vb"])
        #expect(va.kind == "veth" && vb.kind == "veth")
        #expect(va.link == vb.index)
        #expect(vb.link == va.index)
        #expect(va.linkNetnsID == nil)
        #expect(links["lo"]?.kind == nil)
    }

    @Test func addressesDecode() throws {
        let addresses = try Self.messages("addr-dump", type: NetlinkType.newAddress).map { try AddressMessage.decode($0.payload) }
        let tunAddresses = addresses.filter { $0.index == 2 }
        let plain = try #require(tunAddresses.first { $0.local == [10, 8, 0, 1] })
        #expect(plain.prefixLength == 24)
        #expect(plain.family == 2)
        #expect(plain.address == [10, 8, 0, 1])
        let p2p = try #require(tunAddresses.first { $0.local == [10, 9, 0, 1] })
        #expect(p2p.address == [10, 9, 0, 2])
        #expect(p2p.prefixLength == 32)
        let v6 = try #require(addresses.first { $0.family == 10 && $0.address?.first == 0x20 })
        #expect(v6.address == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(v6.prefixLength == 64)
        #expect(v6.scope == 0)
        let linkLocal = addresses.filter { $0.family == 10 && $0.address?.first == 0xfe }
        #expect(linkLocal.allSatisfy { $0.scope == 253 })
    }

    /// An RTM_GETMULTICAST entry (ifaddrmsg, IFA_MULTICAST, IFA_CACHEINFO, as Linux 6.18 sends
    /// them) is read in place: family, ifindex and the group's bytes; one without a group has none,
    /// and a cut one throws.
    @Test func multicastEntriesAreReadInPlace() throws {
        let group: [UInt8] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb]
        var payload: [UInt8] = [10, 128, 0, 0xfd] + withUnsafeBytes(of: UInt32(7).littleEndian, Array.init)
        payload += [20, 0, 7, 0] + group
        payload += [20, 0, 6, 0] + [UInt8](repeating: 0xaa, count: 16)
        // Read from the middle of a larger buffer, as a dump's messages are.
        let buffer = [UInt8](repeating: 0x55, count: 5) + payload + [0x55]
        let entry = try AddressMessage.multicastEntry(buffer[5..<(5 + payload.count)])
        #expect(entry.family == 10 && entry.index == 7 && entry.group.map(Array.init) == group)
        let bare = try AddressMessage.multicastEntry(Array(payload.prefix(8))[...])
        #expect(bare.group == nil && bare.index == 7)
        #expect(throws: NetlinkError.self) { try AddressMessage.multicastEntry(Array(payload.prefix(6))[...]) }
        #expect(throws: NetlinkError.self) { try AddressMessage.multicastEntry(Array(payload.prefix(8 + 12))[...]) }
    }

    @Test func routesFromAllTablesDecode() throws {
        let routes = try Self.messages("route-dump", type: NetlinkType.newRoute).map { try RouteMessage.decode($0.payload) }
        let upper = try #require(routes.first { $0.destination == [128, 0, 0, 0] && $0.destinationLength == 1 })
        #expect(upper.outputInterface == 2)
        #expect(upper.priority == 7)
        #expect(upper.table == 254)
        #expect(upper.type == 1)
        let lower = try #require(routes.first { $0.destination == [0, 0, 0, 0] && $0.destinationLength == 1 })
        #expect(lower.outputInterface == 2)
        let other = try #require(routes.first { $0.destination == [192, 0, 2, 0] })
        #expect(other.table == 100)
        // The local table is part of the dump.
        #expect(routes.contains { $0.table == 255 && $0.type == 2 && $0.destination == [10, 8, 0, 1] })
        let multipath = try #require(routes.first { $0.destination == [198, 18, 0, 0] })
        #expect(multipath.destinationLength == 15)
        #expect(multipath.nextHops.count == 2)
        #expect(multipath.nextHops.map(\.gateway) == [[198, 51, 100, 2], [203, 0, 113, 2]])
        #expect(multipath.outputInterface == nil)
        let v6 = try #require(routes.first { $0.family == 10 && $0.destinationLength == 48 })
        #expect(v6.gateway == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2])
    }

    @Test func trafficCountersDecode() throws {
        let links = try Self.links()
        let va = try #require(links["va"]?.stats), vb = try #require(links["vb"]?.stats)
        // capture.py sent traffic over the pair: what one end sent, the other received.
        #expect(va.txPackets > 0)
        #expect(va.txPackets == vb.rxPackets)
        #expect(va.txBytes == vb.rxBytes)
    }

    @Test func errorWithExtendedAck() throws {
        let message = try #require(try NetlinkMessage.split(Self.fixture("error-extack")[...]).first)
        #expect(message.header.type == NetlinkType.error)
        let error = try ErrorMessage.decode(message.payload, flags: message.header.flags)
        #expect(error.errno == 95)  // EOPNOTSUPP
        #expect(error.message == "Unknown device type")
        #expect(error.request.type == NetlinkType.newLink)
        #expect(error.request.sequence == 4)
    }
}

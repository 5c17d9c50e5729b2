import Dispatch
import Testing
@testable import Netlink

/// A transport that records what is sent and answers with scripted datagrams, so the dump and
/// acknowledgement logic is tested with exact bytes and no privileges.
final class ScriptedTransport: NetlinkTransport {
    var sent: [[UInt8]] = []
    /// Called with each request's sequence number; returns the datagrams the "kernel" answers with.
    var respond: (_ sequence: UInt32, _ attempt: Int) -> [[UInt8]]
    private var queue: [[UInt8]] = []

    init(respond: @escaping (_ sequence: UInt32, _ attempt: Int) -> [[UInt8]]) { self.respond = respond }

    func send(_ datagram: [UInt8]) throws {
        sent.append(datagram)
        let sequence = datagram[...].readNative(UInt32.self, at: 8)
        queue += respond(sequence, sent.count)
    }

    func receive() throws -> [UInt8] {
        guard !queue.isEmpty else { throw NetlinkError.system(call: "recv", errno: 11) }
        return queue.removeFirst()
    }
}

func message(type: UInt16, flags: UInt16 = NetlinkFlags.multi, sequence: UInt32, payload: [UInt8]) -> [UInt8] {
    var bytes = NetlinkMessage.encode(type: type, flags: flags, sequence: sequence, payload: payload)
    // Replies come from the kernel: port id 0, as encode writes.
    bytes.replaceSubrange(12..<16, with: [0, 0, 0, 0])
    return bytes
}

func linkPayload(index: Int32, name: String) -> [UInt8] {
    var header = [UInt8](repeating: 0, count: 16)
    withUnsafeBytes(of: index) { header.replaceSubrange(4..<8, with: $0) }
    var attributes = AttributeEncoder(prefix: header)
    attributes.append(type: LinkMessage.Attribute.ifname, string: name)
    return attributes.bytes
}

func done(_ sequence: UInt32, flags: UInt16 = NetlinkFlags.multi) -> [UInt8] {
    message(type: NetlinkType.done, flags: flags, sequence: sequence, payload: [0, 0, 0, 0])
}

@Suite struct ConversationTests {
    @Test func linkDumpRequestBytes() {
        let request = LinkMessage.dumpRequest(sequence: 7)
        // nlmsghdr: len 40, RTM_GETLINK, NLM_F_REQUEST|NLM_F_DUMP, seq 7, pid 0; ifinfomsg zeroed;
        // IFLA_EXT_MASK (29) = RTEXT_FILTER_SKIP_STATS (8).
        var expected: [UInt8] = [40, 0, 0, 0, 18, 0, 0x01, 0x03, 7, 0, 0, 0, 0, 0, 0, 0]
        expected += [UInt8](repeating: 0, count: 16)
        expected += [8, 0, 29, 0, 8, 0, 0, 0]
        #expect(request == expected)
        #expect(LinkMessage.dumpRequest(sequence: 7, withStats: true).suffix(4) == [0, 0, 0, 0])
    }

    @Test func routeDumpAsksForEveryTableAndFamily() {
        let request = RouteMessage.dumpRequest(sequence: 1)
        #expect(request.count == 28)
        #expect(Array(request[4..<8]) == [26, 0, 0x01, 0x03])
        #expect(request[16...].allSatisfy { $0 == 0 })  // family AF_UNSPEC, table RT_TABLE_UNSPEC
    }

    /// The inventory dumps each family on its own (an AF_UNSPEC dump holds the RTNL lock): the
    /// family is the first byte of rtmsg and of ifaddrmsg, and everything else stays zero.
    @Test func perFamilyDumpsCarryTheirFamily() {
        let route = RouteMessage.dumpRequest(family: 10, sequence: 1)
        #expect(route.count == 28)
        #expect(route[16] == 10)
        #expect(route[17...].allSatisfy { $0 == 0 })
        let address = AddressMessage.dumpRequest(family: 2, sequence: 3)
        #expect(address.count == 24)
        #expect(Array(address[4..<8]) == [22, 0, 0x01, 0x03])
        #expect(address[16] == 2)
        #expect(address[17...].allSatisfy { $0 == 0 })
    }

    @Test func dumpCollectsMessagesAcrossDatagrams() throws {
        let transport = ScriptedTransport { sequence, _ in
            [
                message(type: NetlinkType.newLink, sequence: sequence, payload: linkPayload(index: 1, name: "lo"))
                    + message(type: NetlinkType.newLink, sequence: sequence, payload: linkPayload(index: 2, name: "t0")),
                done(sequence),
            ]
        }
        let client = RtnetlinkClient(transport: transport)
        let names = try client.dump(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }) { try LinkMessage.decode($0.payload).name.map { String(decoding: $0, as: UTF8.self) } }
        #expect(names == ["lo", "t0"])
        #expect(transport.sent.count == 1)
    }

    @Test func interruptedDumpIsRetriedAndOnlyTheCleanResultKept() throws {
        let transport = ScriptedTransport { sequence, attempt in
            let flags = attempt < 3 ? NetlinkFlags.multi | NetlinkFlags.dumpInterrupted : NetlinkFlags.multi
            return [
                message(type: NetlinkType.newLink, flags: flags, sequence: sequence, payload: linkPayload(index: 1, name: "try\(attempt)")),
                done(sequence, flags: flags),
            ]
        }
        let client = RtnetlinkClient(transport: transport)
        let names = try client.dump(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }) { try LinkMessage.decode($0.payload).name.map { String(decoding: $0, as: UTF8.self) } }
        #expect(names == ["try3"])
        #expect(transport.sent.count == 3)
    }

    @Test func dumpEachRestartsBeforeEveryAttempt() throws {
        let transport = ScriptedTransport { sequence, attempt in
            let flags = attempt < 2 ? NetlinkFlags.multi | NetlinkFlags.dumpInterrupted : NetlinkFlags.multi
            return [message(type: NetlinkType.newLink, flags: flags, sequence: sequence, payload: linkPayload(index: 1, name: "try\(attempt)")),
                    done(sequence, flags: flags)]
        }
        var restarts = 0
        var seen: [String] = []
        try RtnetlinkClient(transport: transport).dumpEach(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) },
                                                           restart: { restarts += 1; seen.removeAll() }) { seen.append(try LinkMessage.decode($0.payload).name.map { String(decoding: $0, as: UTF8.self) } ?? "") }
        #expect(restarts == 2)
        #expect(seen == ["try2"])
    }

    #if os(Linux)
    /// The read-ahead thread sends each request and queues the replies; the conversation is the
    /// one the plain transport gives, retries and errors included.
    @Test func readAheadTransportKeepsTheConversation() throws {
        let scripted = ScriptedTransport { sequence, attempt in
            let flags = attempt < 2 ? NetlinkFlags.multi | NetlinkFlags.dumpInterrupted : NetlinkFlags.multi
            return (0..<50).map { message(type: NetlinkType.newLink, flags: flags, sequence: sequence, payload: linkPayload(index: Int32($0), name: "t\($0)-\(attempt)")) }
                + [done(sequence, flags: flags)]
        }
        let client = RtnetlinkClient(transport: ReadAheadTransport(wrapping: scripted))
        let names = try client.dump(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }) { try LinkMessage.decode($0.payload).name.map { String(decoding: $0, as: UTF8.self) } }
        #expect(names == (0..<50).map { "t\($0)-2" })
        #expect(scripted.sent.count == 2)
    }

    /// The read-ahead thread receives into datagrams the reader gave back: with the reader and the
    /// "kernel" in lock step, the third datagram lands in the first one's storage, and so on.
    @Test func readAheadTransportReceivesIntoGivenBackDatagrams() throws {
        final class LockStep: NetlinkTransport, @unchecked Sendable {
            let allow = DispatchSemaphore(value: 0)
            var sequence: UInt32 = 0
            var handedOut = 0
            func send(_ datagram: [UInt8]) throws { sequence = datagram[...].readNative(UInt32.self, at: 8) }
            func receive() throws -> [UInt8] {
                var datagram: [UInt8] = []
                try receive(into: &datagram)
                return datagram
            }
            func receive(into datagram: inout [UInt8]) throws {
                allow.wait()
                handedOut += 1
                let last = handedOut == 6
                let bytes = last ? done(sequence) : message(type: NetlinkType.newLink, sequence: sequence, payload: linkPayload(index: Int32(handedOut), name: "t\(handedOut)"))
                datagram.removeAll(keepingCapacity: true)
                datagram.append(contentsOf: bytes)
            }
        }
        let inner = LockStep()
        let transport = ReadAheadTransport(wrapping: inner)
        try transport.send(LinkMessage.dumpRequest(sequence: 7))
        var addresses: [UInt] = []
        for number in 1...6 {
            inner.allow.signal()
            let datagram = try transport.receive()
            #expect(NetlinkMessage.endsExchange(datagram[...], sequence: 7) == (number == 6))
            addresses.append(datagram.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) })
            transport.recycle(datagram)
        }
        // Taken for datagram k + 2 when datagram k + 1 is queued: the one given back just before.
        #expect(addresses[2] == addresses[0])
        #expect(addresses[3] == addresses[1])
        #expect(addresses[4] == addresses[0])
        #expect(Set(addresses).count == 2)
    }

    @Test func readAheadTransportReportsAFailedSend() {
        final class Refusing: NetlinkTransport {
            func send(_ datagram: [UInt8]) throws { throw NetlinkError.system(call: "sendto(netlink)", errno: 105) }
            func receive() throws -> [UInt8] { Issue.record("nothing was sent, so nothing is read"); return [] }
        }
        let client = RtnetlinkClient(transport: ReadAheadTransport(wrapping: Refusing()))
        #expect(throws: NetlinkError.system(call: "sendto(netlink)", errno: 105)) {
            _ = try client.dump(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }) { _ in 0 }
        }
    }
    #endif

    /// The read-ahead thread's end check reads headers only: a datagram ends the exchange when it
    /// holds the exchange's NLMSG_DONE or NLMSG_ERROR, or cannot be read at all.
    @Test func endsExchangeLooksForTheExchangesDoneOrError() {
        let links = (0..<3).flatMap { message(type: NetlinkType.newLink, sequence: 5, payload: linkPayload(index: Int32($0), name: "t\($0)")) }
        let error = message(type: NetlinkType.error, flags: 0, sequence: 5, payload: [0, 0, 0, 0] + [UInt8](repeating: 0, count: 16))
        #expect(!NetlinkMessage.endsExchange(links[...], sequence: 5))
        #expect(NetlinkMessage.endsExchange((links + done(5))[...], sequence: 5))
        #expect(!NetlinkMessage.endsExchange((links + done(4))[...], sequence: 5))
        #expect(NetlinkMessage.endsExchange((links + error)[...], sequence: 5))
        #expect(!NetlinkMessage.endsExchange(error[...], sequence: 6))
        // Nothing readable ends it too; the client then reports what is wrong.
        #expect(NetlinkMessage.endsExchange([][...], sequence: 5))
        #expect(NetlinkMessage.endsExchange((links + [40, 0, 0, 0, 3, 0])[...], sequence: 5) == false)
        #expect(NetlinkMessage.endsExchange((links + [200, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0])[...], sequence: 5))
        #expect(NetlinkMessage.endsExchange([8, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0][...], sequence: 5))
    }

    @Test func alwaysInterruptedDumpFailsAfterBoundedAttempts() {
        let transport = ScriptedTransport { sequence, _ in
            [done(sequence, flags: NetlinkFlags.multi | NetlinkFlags.dumpInterrupted)]
        }
        let client = RtnetlinkClient(transport: transport)
        client.maxDumpAttempts = 4
        #expect(throws: NetlinkError.dumpInterrupted(operation: "RTM_GETLINK", attempts: 4)) {
            _ = try client.dump(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }) { _ in 0 }
        }
        #expect(transport.sent.count == 4)
    }

    @Test func kernelRefusalCarriesExtendedAckText() throws {
        let captured = try CapturedMessageTests.fixture("error-extack")
        let transport = ScriptedTransport { sequence, _ in
            var reply = captured
            withUnsafeBytes(of: sequence) { reply.replaceSubrange(8..<12, with: $0) }
            return [reply]
        }
        let client = RtnetlinkClient(transport: transport)
        #expect(throws: NetlinkError.kernel(operation: "RTM_NEWLINK", errno: 95, message: "Unknown device type")) {
            try client.request(operation: "RTM_NEWLINK") { NetlinkMessage.encode(type: NetlinkType.newLink, flags: NetlinkFlags.request, sequence: $0, payload: [UInt8](repeating: 0, count: 16)) }
        }
        // The request asked for the acknowledgement that ends the exchange.
        #expect(transport.sent[0][6] & UInt8(NetlinkFlags.ack) != 0)
        #expect("\(NetlinkError.kernel(operation: "RTM_NEWLINK", errno: 95, message: "Unknown device type"))"
            == "RTM_NEWLINK failed: Operation not supported (EOPNOTSUPP): Unknown device type")
    }

    @Test func staleRepliesAreSkippedAndFutureOnesRejected() throws {
        let stale = ScriptedTransport { sequence, _ in
            [message(type: NetlinkType.newLink, sequence: sequence - 1, payload: linkPayload(index: 9, name: "old")), done(sequence)]
        }
        let client = RtnetlinkClient(transport: stale, firstSequence: 10)
        let names = try client.dump(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }) { try LinkMessage.decode($0.payload).name.map { String(decoding: $0, as: UTF8.self) } }
        #expect(names.isEmpty)

        let future = ScriptedTransport { sequence, _ in [done(sequence + 5)] }
        #expect(throws: NetlinkError.self) {
            _ = try RtnetlinkClient(transport: future).dump(operation: "RTM_GETLINK", request: { LinkMessage.dumpRequest(sequence: $0) }) { _ in 0 }
        }
    }

    @Test func dumpErrorInDoneIsReported() {
        let transport = ScriptedTransport { sequence, _ in
            [message(type: NetlinkType.done, sequence: sequence, payload: [0xf3, 0xff, 0xff, 0xff])]  // -13
        }
        #expect(throws: NetlinkError.kernel(operation: "RTM_GETROUTE", errno: 13, message: nil)) {
            _ = try RtnetlinkClient(transport: transport).dump(operation: "RTM_GETROUTE", request: { RouteMessage.dumpRequest(sequence: $0) }) { _ in 0 }
        }
    }

    @Test func namespaceIDRequestAndReply() throws {
        let request = NamespaceIDMessage.request(pid: 4242, sequence: 3)
        #expect(request.count == 28)
        #expect(Array(request[4..<6]) == [90, 0])
        #expect(Array(request[20..<28]) == [8, 0, 2, 0, 0x92, 0x10, 0, 0])
        var reply = AttributeEncoder(prefix: [0, 0, 0, 0])
        reply.append(type: NamespaceIDMessage.Attribute.nsid, int32: 5)
        #expect(try NamespaceIDMessage.decodeID(reply.bytes[...]) == 5)
    }
}

/// The requests the reaper fences and restores devices with, byte for byte, and the attributes it
/// reads back.
@Suite struct FencingMessageTests {
    /// nlmsghdr for a request (NLM_F_REQUEST; the client adds NLM_F_ACK), then an ifinfomsg naming `index`.
    func header(length: UInt8, type: UInt8, index: UInt8, flags: [UInt8] = [0, 0, 0, 0], change: [UInt8] = [0, 0, 0, 0]) -> [UInt8] {
        [length, 0, 0, 0, type, 0, 0x01, 0x00, 9, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0, index, 0, 0, 0] + flags + change
    }

    @Test func renameCarriesTheExactBytesByIndex() {
        let request = LinkMessage.renameRequest(index: 7, name: [0x7a, 0x7a, 0xff], sequence: 9)
        // IFLA_IFNAME (3): 4 bytes of name with its NUL, no repair of the 0xff.
        #expect(request == header(length: 40, type: 16, index: 7) + [8, 0, 3, 0, 0x7a, 0x7a, 0xff, 0])
    }

    @Test func upAndDownChangeOnlyIFF_UP() {
        #expect(LinkMessage.setUpRequest(index: 3, up: false, sequence: 9) == header(length: 32, type: 16, index: 3, change: [1, 0, 0, 0]))
        #expect(LinkMessage.setUpRequest(index: 3, up: true, sequence: 9) == header(length: 32, type: 16, index: 3, flags: [1, 0, 0, 0], change: [1, 0, 0, 0]))
    }

    @Test func altNamesAreAddedAndRemovedInAPropertyList() {
        let name = Array("tw0123456789abc".utf8)
        // IFLA_PROP_LIST (52, nested) holding IFLA_ALT_IFNAME (53): 15 bytes and a NUL, padded.
        let attribute: [UInt8] = [24, 0, 52, 0x80, 20, 0, 53, 0] + name + [0]
        #expect(LinkMessage.altNameRequest(index: 5, altName: name, add: true, sequence: 9) == header(length: 56, type: 108, index: 5) + attribute)
        #expect(LinkMessage.altNameRequest(index: 5, altName: name, add: false, sequence: 9) == header(length: 56, type: 109, index: 5) + attribute)
    }

    @Test func namesAltNamesAndAVxlanLowerDeviceDecodeAsBytes() throws {
        var attributes = AttributeEncoder(prefix: [UInt8](repeating: 0, count: 16))
        attributes.append(type: 3, payload: [0x79, 0xfe, 0x31, 0])
        attributes.appendNested(type: 52) {
            $0.append(type: 53, payload: Array("twaaaa".utf8) + [0])
            $0.append(type: 53, payload: [0x61, 0xff, 0])
        }
        attributes.appendNested(type: 18) { info in
            info.append(type: 1, payload: Array("vxlan".utf8) + [0])
            info.appendNested(type: 2) { data in
                data.append(type: 1, uint32: 42)
                data.append(type: 3, uint32: 6)
            }
        }
        let link = try LinkMessage.decode(attributes.bytes[...])
        #expect(link.name == [0x79, 0xfe, 0x31])
        #expect(link.altNames == [Array("twaaaa".utf8), [0x61, 0xff]])
        #expect(link.kind == "vxlan")
        #expect(link.vxlanLink == 6)
    }
}

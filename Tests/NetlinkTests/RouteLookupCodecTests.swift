import Testing
@testable import Netlink

/// Route lookups as `ip route get` asks them (RTM_GETROUTE for one destination, with or without
/// RTM_F_FIB_MATCH), byte for byte, and a batch of them answered out of order, with a refusal
/// among the answers and a stale answer to an earlier request.
@Suite struct RouteLookupCodecTests {
    /// IPv4, with RTM_F_FIB_MATCH: `struct nlmsghdr`, `struct rtmsg` with rtm_dst_len 32 and the
    /// flag (and RTM_F_LOOKUP_TABLE, as every request: the answer names the real table), then RTA_DST. No NLM_F_DUMP, no NLM_F_ACK: the kernel answers with one message.
    @Test func anIPv4LookupWithFibMatch() {
        let bytes = RouteLookup.request(family: 2, destination: [10, 9, 1, 7], fibMatch: true, sequence: 5)
        #expect(bytes == [36, 0, 0, 0, 26, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0,
                          2, 32, 0, 0, 0, 0, 0, 0, 0, 0x30, 0, 0,
                          8, 0, 1, 0, 10, 9, 1, 7])
    }

    /// IPv6, without the flag: rtm_dst_len 128 and a 16-byte RTA_DST.
    @Test func anIPv6LookupOfThePathTaken() {
        let destination: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]
        let bytes = RouteLookup.request(family: 10, destination: destination, fibMatch: false, sequence: 0x01020304)
        #expect(bytes == [48, 0, 0, 0, 26, 0, 1, 0, 4, 3, 2, 1, 0, 0, 0, 0,
                          10, 128, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0,
                          20, 0, 1, 0] + destination)
    }

    /// Two lookups in one datagram: the answers come back in the order asked whatever order they
    /// arrive in, a refusal (ENETUNREACH) as the kernel's error, and an answer to an earlier
    /// sequence is passed over.
    @Test func aBatchIsAnsweredInOrder() throws {
        let transport = ScriptedTransport { first, _ in
            var route = [UInt8](repeating: 0, count: RouteMessage.headerSize)
            route[0] = 2
            route[1] = 32
            var attributes = AttributeEncoder(prefix: route)
            attributes.append(type: RouteMessage.Attribute.outputInterface, int32: 7)
            let answer = message(type: NetlinkType.newRoute, flags: 0, sequence: first + 1, payload: attributes.bytes)
            var refusal: [UInt8] = []
            refusal.appendNative(Int32(-101))
            refusal += RouteLookup.request(family: 2, destination: [240, 0, 0, 1], fibMatch: true, sequence: first)[0..<16]
            let stale = message(type: NetlinkType.newRoute, flags: 0, sequence: first - 1, payload: attributes.bytes)
            return [stale + answer, message(type: NetlinkType.error, flags: 0, sequence: first, payload: refusal)]
        }
        let client = RtnetlinkClient(transport: transport, firstSequence: 40)
        let answers = try client.askEach(operation: "RTM_GETROUTE", [
            { RouteLookup.request(family: 2, destination: [240, 0, 0, 1], fibMatch: true, sequence: $0) },
            { RouteLookup.request(family: 2, destination: [10, 9, 1, 7], fibMatch: false, sequence: $0) },
        ])
        #expect(transport.sent.count == 1)
        #expect(transport.sent.first?.count == 72)
        #expect(transport.sent.first.map { $0[...].readNative(UInt32.self, at: 44) } == 41)
        try #require(answers.count == 2)
        guard case let .failure(.kernel(operation, errno, _)) = answers[0] else {
            Issue.record("\(answers[0])")
            return
        }
        #expect(operation == "RTM_GETROUTE" && errno == 101)
        let path = try RouteMessage.decode(try answers[1].get().payload)
        #expect(path.outputInterface == 7)
    }
}

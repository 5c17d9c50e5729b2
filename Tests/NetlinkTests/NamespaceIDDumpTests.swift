import Testing
@testable import Netlink

/// The messages that read a namespace known only by its id: the dump of a namespace's id table
/// (RTM_GETNSID) and the link dump of another namespace by its id (IFLA_TARGET_NETNSID), byte for
/// byte, with answers captured from Linux 6.18.
@Suite struct NamespaceIDDumpTests {
    /// An RTM_NEWNSID answer to the table dump, as captured: NLM_F_MULTI, a zeroed rtgenmsg, and
    /// NETNSA_NSID 0.
    static let capturedTableEntry: [UInt8] = [
        0x1c, 0, 0, 0, 0x58, 0, 0x02, 0, 0x07, 0, 0, 0, 0x7e, 0x5a, 0, 0,
        0, 0, 0, 0, 0x08, 0, 0x01, 0, 0, 0, 0, 0,
    ]

    /// The ifinfomsg and first attributes of a link answer to a dump by id, as captured: `lo`
    /// (ifindex 1, ARPHRD_LOOPBACK), IFLA_TARGET_NETNSID 0 first, then IFLA_IFNAME.
    static let capturedLinkPayload: [UInt8] = [
        0, 0, 0x04, 0x03, 1, 0, 0, 0, 0x08, 0, 0, 0, 0, 0, 0, 0,
        0x08, 0, 0x2e, 0, 0, 0, 0, 0,
        0x07, 0, 0x03, 0, 0x6c, 0x6f, 0, 0,
    ]

    @Test func theTableDumpRequestIsARtgenmsgAlone() {
        // nlmsghdr: len 20, RTM_GETNSID (90), NLM_F_REQUEST|NLM_F_DUMP, seq 7, pid 0; rtgenmsg zeroed.
        #expect(NamespaceIDMessage.dumpRequest(sequence: 7) == [20, 0, 0, 0, 90, 0, 0x01, 0x03, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func theTableIsReadFromTheCapturedAnswer() throws {
        let transport = ScriptedTransport { sequence, _ in
            var entry = Self.capturedTableEntry
            withUnsafeBytes(of: sequence) { entry.replaceSubrange(8..<12, with: $0) }
            var second = entry
            second[24] = 3
            return [entry + second + done(sequence)]
        }
        let ids = try RtnetlinkClient(transport: transport).dump(operation: "RTM_GETNSID", request: { NamespaceIDMessage.dumpRequest(sequence: $0) }) {
            $0.header.type == NetlinkType.newNSID ? try NamespaceIDMessage.decodeID($0.payload) : nil
        }
        #expect(ids == [0, 3])
    }

    @Test func theLinkDumpByIDCarriesTheTargetID() {
        let request = LinkMessage.dumpRequest(targetNamespaceID: 5, sequence: 9)
        // nlmsghdr: len 48, RTM_GETLINK, NLM_F_REQUEST|NLM_F_DUMP, seq 9; ifinfomsg zeroed;
        // IFLA_EXT_MASK = RTEXT_FILTER_SKIP_STATS; IFLA_TARGET_NETNSID (46) = 5.
        var expected: [UInt8] = [48, 0, 0, 0, 18, 0, 0x01, 0x03, 9, 0, 0, 0, 0, 0, 0, 0]
        expected += [UInt8](repeating: 0, count: 16)
        expected += [8, 0, 29, 0, 8, 0, 0, 0, 8, 0, 46, 0, 5, 0, 0, 0]
        #expect(request == expected)
        #expect(LinkMessage.dumpRequest(targetNamespaceID: -1, sequence: 9).suffix(4) == [0xff, 0xff, 0xff, 0xff])
    }

    @Test func theTargetIDIsReadBackFromAnAnswer() throws {
        #expect(try LinkMessage.targetNamespaceID(Self.capturedLinkPayload[...]) == 0)
        #expect(try LinkMessage.decode(Self.capturedLinkPayload[...]).name == Array("lo".utf8))
        // An answer from the socket's own namespace has none.
        #expect(try LinkMessage.targetNamespaceID(linkPayload(index: 1, name: "lo")[...]) == nil)
    }

    @Test func garbageIsAnErrorNeverACrash() {
        // Too short for an ifinfomsg, an attribute longer than what is left, and every cut of the capture.
        #expect(throws: NetlinkError.self) { _ = try LinkMessage.targetNamespaceID([0, 0, 0][...]) }
        var overlong = Self.capturedLinkPayload
        overlong[16] = 0x40
        #expect(throws: NetlinkError.self) { _ = try LinkMessage.targetNamespaceID(overlong[...]) }
        for cut in 0..<Self.capturedLinkPayload.count { _ = try? LinkMessage.targetNamespaceID(Self.capturedLinkPayload.prefix(cut)) }
        for cut in 0..<Self.capturedTableEntry.count - 16 { _ = try? NamespaceIDMessage.decodeID(Self.capturedTableEntry[16..<(16 + cut)]) }
    }
}

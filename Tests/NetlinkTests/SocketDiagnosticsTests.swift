import Testing
@testable import Netlink

/// Byte-level tests of the socket-list request and of reading the bound device from a reply.
@Suite struct SocketDiagnosticsTests {
    @Test func theRequestAsksForOneFamilyAndTransportInTheGivenStates() throws {
        let request = SocketDiagnostics.dumpRequest(family: 10, transport: 17, states: ~(1 << 6), sequence: 5)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == 20 && message.header.flags == NetlinkFlags.request | NetlinkFlags.dump && message.header.sequence == 5)
        #expect(message.payload.count == 56)
        #expect(Array(message.payload.prefix(8)) == [10, 17, 0, 0, 0xbf, 0xff, 0xff, 0xff])
        #expect(message.payload.dropFirst(8).allSatisfy { $0 == 0 }, "no socket named: every one is listed")
    }

    @Test func aReplyGivesTheBoundDeviceStateOwnerAndInode() throws {
        var reply: [UInt8] = [2, 10, 0, 0]          // AF_INET, TCP_LISTEN
        reply += [0x1f, 0x90, 0, 0]                  // ports
        reply += [10, 9, 0, 1] + [UInt8](repeating: 0, count: 12)  // idiag_src: 10.9.0.1
        reply += [UInt8](repeating: 0, count: 16)    // idiag_dst
        reply.appendNative(UInt32(7))                // idiag_if
        reply += [UInt8](repeating: 0xee, count: 8)  // cookie
        reply += [UInt8](repeating: 0, count: 12)    // expires, queues
        reply.appendNative(UInt32(1000))             // uid
        reply.appendNative(UInt32(424242))           // inode
        reply += [8, 0, 1, 0, 0, 0, 0, 0]            // an attribute, not read
        let socket = try SocketDiagnostics.decode(reply[...])
        #expect(socket == SocketDiagnostics.Socket(family: 2, state: 10, boundInterface: 7, uid: 1000, inode: 424242, localAddress: [10, 9, 0, 1], localPort: 8080))
        #expect(throws: NetlinkError.self) { try SocketDiagnostics.decode(reply.prefix(71)) }
        // An IPv6 socket's local address is all 16 bytes.
        reply[0] = 10
        reply.replaceSubrange(8..<24, with: [0xfd, 0, 0, 9] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(try SocketDiagnostics.decode(reply[...]).localAddress == [0xfd, 0, 0, 9] + [UInt8](repeating: 0, count: 11) + [1])
    }

    @Test func thePacketSocketRequestAsksForEveryDeviceAndMembership() throws {
        let request = SocketDiagnostics.packetDumpRequest(sequence: 3)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == 20 && message.header.flags == NetlinkFlags.request | NetlinkFlags.dump && message.header.sequence == 3)
        // struct packet_diag_req: AF_PACKET, every protocol and inode, PACKET_SHOW_INFO | PACKET_SHOW_MCLIST, no cookie.
        #expect(Array(message.payload) == [17, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// A packet socket bound to no device with a promiscuous membership on ifindex 4, as
    /// `PACKET_ADD_MEMBERSHIP` with `PACKET_MR_PROMISC` leaves it.
    @Test func aPacketSocketReplyGivesItsDeviceAndMemberships() throws {
        var reply: [UInt8] = [17, 3, 0, 3]             // AF_PACKET, SOCK_RAW, ETH_P_ALL
        reply.appendNative(UInt32(142102))             // inode
        reply += [UInt8](repeating: 0xcc, count: 8)    // cookie
        var info: [UInt8] = []
        for value in [UInt32(0), 0, 0, 0, 0, 1] { info.appendNative(value) }   // unbound, running
        reply += [28, 0, 0, 0] + info                  // PACKET_DIAG_INFO
        var membership: [UInt8] = []
        membership.appendNative(UInt32(4))             // pdmc_index
        membership.appendNative(UInt32(1))             // pdmc_count
        membership.appendNative(UInt16(1))             // PACKET_MR_PROMISC
        membership.appendNative(UInt16(0))             // pdmc_alen
        membership += [UInt8](repeating: 0, count: 32)
        reply += [48, 0, 1, 0] + membership            // PACKET_DIAG_MCLIST, one entry
        #expect(try SocketDiagnostics.decodePacket(reply[...]) == SocketDiagnostics.PacketSocket(boundInterface: 0, membershipInterfaces: [4]))
        // Without the list: no membership; a cut entry or header is refused.
        #expect(try SocketDiagnostics.decodePacket(reply.prefix(44)) == SocketDiagnostics.PacketSocket(boundInterface: 0, membershipInterfaces: []))
        var cut = Array(reply.prefix(44)) + [44, 0, 1, 0] + membership.prefix(40)
        #expect(throws: NetlinkError.self) { try SocketDiagnostics.decodePacket(cut[...]) }
        cut = Array(reply.prefix(16)) + [8, 0, 0, 0, 1, 2, 3, 4]
        #expect(try SocketDiagnostics.decodePacket(cut[...]).boundInterface == 0x0403_0201)
        #expect(throws: NetlinkError.self) { try SocketDiagnostics.decodePacket(reply.prefix(15)) }
    }

    @Test func theAFXDPRequestAsksForEverySocketWithItsDevice() throws {
        let request = SocketDiagnostics.xdpDumpRequest(sequence: 9)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == 20 && message.header.flags == NetlinkFlags.request | NetlinkFlags.dump && message.header.sequence == 9)
        // struct xdp_diag_req: AF_XDP, no protocol, every inode, XDP_SHOW_INFO, no cookie.
        #expect(Array(message.payload) == [44, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func anAFXDPReplyGivesTheBoundDevice() throws {
        var reply: [UInt8] = [44, 3, 0, 0]            // AF_XDP, SOCK_RAW
        reply.appendNative(UInt32(5151))               // inode
        reply += [UInt8](repeating: 0xcc, count: 8)    // cookie
        reply += [8, 0, 9, 0, 1, 2, 3, 4]              // another attribute first
        reply += [12, 0, 1, 0]                         // XDP_DIAG_INFO
        reply.appendNative(UInt32(12))                 // ifindex
        reply.appendNative(UInt32(0))                  // queue
        #expect(try SocketDiagnostics.decodeXDP(reply[...]) == 12)
        // Unbound, or without the info asked for: no device.
        #expect(try SocketDiagnostics.decodeXDP(reply.prefix(24)) == 0)
        #expect(throws: NetlinkError.self) { try SocketDiagnostics.decodeXDP(reply.prefix(15)) }
        #expect(throws: NetlinkError.self) { try SocketDiagnostics.decodeXDP(reply.prefix(30)) }
    }

    /// IFLA_XDP: an attached program's id, from the one-mode attribute or a per-mode one; none
    /// when XDP_ATTACHED_NONE.
    @Test(arguments: [(UInt8(2), UInt16(4), UInt32(77), UInt32?(77)), (4, 6, 78, 78), (0, 4, 0, nil), (1, 9, 5, 0)])
    func aLinksXDPProgramDecodes(_ attached: UInt8, _ idType: UInt16, _ id: UInt32, _ expected: UInt32?) throws {
        var payload = [UInt8](repeating: 0, count: 16)
        payload[4] = 3                                  // ifindex 3
        payload += [8, 0, 3, 0] + Array("xd0".utf8) + [0]
        var nest: [UInt8] = [5, 0, 2, 0, attached, 0, 0, 0]
        nest += [8, 0]
        nest.appendNative(idType)
        nest.appendNative(id)
        payload += [UInt8(4 + nest.count), 0, 43, 0x80] + nest
        let link = try LinkMessage.decode(payload[...])
        #expect(link.xdpProgramID == expected)
        #expect(link.name == Array("xd0".utf8))
    }

    /// A permanent ARP entry as `ip neigh add 10.91.0.5 lladdr 02:00:00:00:00:05 dev … nud
    /// permanent` leaves it, read and asked for again on another ifindex.
    @Test func aNeighbourEntryDecodesAndIsAskedForAgain() throws {
        var payload: [UInt8] = [2, 0, 0, 0]           // AF_INET
        payload.appendNative(Int32(7))                 // ifindex
        payload.appendNative(UInt16(0x80))             // NUD_PERMANENT
        payload += [0, 1]                              // flags, type
        payload += [8, 0, 1, 0, 10, 91, 0, 5]          // NDA_DST
        payload += [10, 0, 2, 0, 2, 0, 0, 0, 0, 5, 0, 0]  // NDA_LLADDR, padded
        payload += [8, 0, 4, 0, 0, 0, 0, 0]            // NDA_PROBES, not read
        let neighbour = try NeighbourMessage.decode(payload[...])
        #expect(neighbour.family == 2 && neighbour.index == 7 && neighbour.state == 0x80 && neighbour.type == 1)
        #expect(neighbour.destination == [10, 91, 0, 5] && neighbour.linkLayerAddress == [2, 0, 0, 0, 0, 5])
        let request = try #require(neighbour.addRequest(index: 9, sequence: 3))
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == 28 && message.header.flags == NetlinkFlags.request | NetlinkFlags.ack | NetlinkFlags.create | NetlinkFlags.replace)
        #expect(Array(message.payload) == [2, 0, 0, 0, 9, 0, 0, 0, 0x80, 0, 0, 0] + [8, 0, 1, 0, 10, 91, 0, 5] + [10, 0, 2, 0, 2, 0, 0, 0, 0, 5, 0, 0])
        #expect(throws: NetlinkError.self) { try NeighbourMessage.decode(payload.prefix(11)) }
    }

    /// A vxlan's forwarding entry as `bridge fdb add 00:00:00:00:00:00 dev vxlan0 dst 192.0.2.1
    /// via tap0` leaves it, and the dump request that lists one device's entries alone.
    @Test func aVxlanForwardingEntryNamesTheDeviceItSendsThrough() throws {
        var payload: [UInt8] = [7, 0, 0, 0]           // AF_BRIDGE
        payload.appendNative(Int32(5))                 // the vxlan's ifindex
        payload.appendNative(UInt16(0x80))             // NUD_PERMANENT
        payload += [0x02, 0]                           // NTF_SELF, type
        payload += [10, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]  // NDA_LLADDR, padded
        payload += [8, 0, 1, 0, 192, 0, 2, 1]          // NDA_DST
        payload += [8, 0, 8, 0, 3, 0, 0, 0]            // NDA_IFINDEX: through ifindex 3
        payload += [8, 0, 7, 0, 42, 0, 0, 0]           // NDA_VNI, not read
        let entry = try NeighbourMessage.decode(payload[...])
        #expect(entry.family == NeighbourMessage.bridgeFamily && entry.index == 5 && entry.viaIndex == 3)
        #expect(entry.destination == [192, 0, 2, 1])
        // One without NDA_IFINDEX leaves its route to decide.
        #expect(try NeighbourMessage.decode(payload.prefix(32)).viaIndex == nil)
        // A short NDA_IFINDEX is an error, not a guess.
        var short = Array(payload.prefix(32))
        short += [6, 0, 8, 0, 3, 0, 0, 0]
        #expect(throws: NetlinkError.self) { try NeighbourMessage.decode(short[...]) }
        let request = NeighbourMessage.forwardingDumpRequest(device: 5, sequence: 9)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == NetlinkType.getNeighbour && message.header.flags == NetlinkFlags.request | NetlinkFlags.dump)
        // An ifinfomsg, not an ndmsg: the kernel's legacy parse then filters on the device.
        #expect(Array(message.payload) == [7, 0, 0, 0, 5, 0, 0, 0] + [UInt8](repeating: 0, count: 8))
        // Every device's: an ndmsg of AF_BRIDGE, which the kernel takes as no filter.
        let every = try #require(try NetlinkMessage.split(NeighbourMessage.forwardingDumpRequest(sequence: 10)[...]).first)
        #expect(every.header.type == NetlinkType.getNeighbour && every.header.flags == NetlinkFlags.request | NetlinkFlags.dump)
        #expect(Array(every.payload) == [7] + [UInt8](repeating: 0, count: 11))
    }

    /// RTM_GETACTION for `mirred` actions, and a reply listing one bound redirect and one action
    /// of another kind.
    @Test func mirredActionsAreAskedForAndRead() throws {
        let request = TrafficAction.mirredDumpRequest(sequence: 4)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == 50 && message.header.flags == NetlinkFlags.request | NetlinkFlags.dump)
        // tcamsg, then TCA_ACT_TAB { 1 { TCA_ACT_KIND "mirred" } }.
        #expect(Array(message.payload) == [0, 0, 0, 0, 20, 0, 1, 0, 16, 0, 1, 0, 11, 0, 1, 0] + Array("mirred".utf8) + [0, 0])
        func action(_ kind: String, target: UInt32, bound: Int32) -> [UInt8] {
            var parameters: [UInt8] = []
            for value in [UInt32(1), 0, 4] { parameters.appendNative(value) }     // index, capab, action
            parameters.appendNative(Int32(1))                                   // refcnt
            parameters.appendNative(bound)                                      // bindcnt
            parameters.appendNative(Int32(1))                                   // eaction
            parameters.appendNative(target)                                     // ifindex
            var options: [UInt8] = []
            options.appendNative(UInt16(4 + parameters.count)); options.appendNative(UInt16(2)); options += parameters
            let kindBytes = Array(kind.utf8) + [0]
            var body: [UInt8] = []
            body.appendNative(UInt16(4 + kindBytes.count)); body.appendNative(UInt16(1)); body += kindBytes
            while body.count % 4 != 0 { body.append(0) }
            body.appendNative(UInt16(4 + options.count)); body.appendNative(UInt16(2)); body += options
            var nest: [UInt8] = []
            nest.appendNative(UInt16(4 + body.count)); nest.appendNative(UInt16(1)); nest += body
            return nest
        }
        let actions = action("mirred", target: 7, bound: 1) + action("gact", target: 9, bound: 1)
        var payload: [UInt8] = [0, 0, 0, 0]
        payload.appendNative(UInt16(4 + actions.count)); payload.appendNative(UInt16(1)); payload += actions
        #expect(try TrafficAction.decodeMirred(payload[...]) == [TrafficAction.Mirred(targetIndex: 7, boundFilters: 1)])
        #expect(throws: NetlinkError.self) { try TrafficAction.decodeMirred(payload.prefix(3)) }
    }
}

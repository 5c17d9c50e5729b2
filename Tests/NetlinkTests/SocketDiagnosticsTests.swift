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
        reply += [UInt8](repeating: 0, count: 32)    // addresses
        reply.appendNative(UInt32(7))                // idiag_if
        reply += [UInt8](repeating: 0xee, count: 8)  // cookie
        reply += [UInt8](repeating: 0, count: 12)    // expires, queues
        reply.appendNative(UInt32(1000))             // uid
        reply.appendNative(UInt32(424242))           // inode
        reply += [8, 0, 1, 0, 0, 0, 0, 0]            // an attribute, not read
        let socket = try SocketDiagnostics.decode(reply[...])
        #expect(socket == SocketDiagnostics.Socket(family: 2, state: 10, boundInterface: 7, uid: 1000, inode: 424242))
        #expect(throws: NetlinkError.self) { try SocketDiagnostics.decode(reply.prefix(71)) }
    }
}

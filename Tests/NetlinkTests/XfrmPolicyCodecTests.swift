import Testing
import TestSupport
@testable import Netlink

/// IPsec policies as XFRM_MSG_NEWPOLICY lists them, built by hand in the layout of a 64-bit
/// kernel's `struct xfrm_userpolicy_info` (168 bytes). Old code read no xfrm policy: neither the
/// request nor `XfrmPolicy` existed.
@Suite struct XfrmPolicyCodecTests {
    /// `src 0.0.0.0/0 dst 10.0.0.0/8 dev <ifindex> dir fwd action block priority 7`.
    static func info(family: UInt16 = 2, ifindex: Int32 = 2, direction: UInt8 = 2, action: UInt8 = 1) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 168)
        bytes.replaceSubrange(0..<4, with: [10, 0, 0, 0])             // sel.daddr
        withUnsafeBytes(of: family) { bytes.replaceSubrange(40..<42, with: $0) }
        bytes[42] = 8                                                   // sel.prefixlen_d
        bytes[43] = 0                                                   // sel.prefixlen_s
        bytes[44] = 6                                                   // sel.proto
        withUnsafeBytes(of: ifindex) { bytes.replaceSubrange(48..<52, with: $0) }
        withUnsafeBytes(of: UInt32(1000)) { bytes.replaceSubrange(52..<56, with: $0) }   // sel.user
        for offset in stride(from: 56, to: 152, by: 8) { bytes.replaceSubrange(offset..<(offset + 8), with: [UInt8](repeating: 0xff, count: 8)) }
        withUnsafeBytes(of: UInt32(7)) { bytes.replaceSubrange(152..<156, with: $0) }    // priority
        withUnsafeBytes(of: UInt32(0x2a)) { bytes.replaceSubrange(156..<160, with: $0) } // index
        bytes[160] = direction
        bytes[161] = action
        return bytes
    }

    @Test func theSelectorsDeviceAndThePolicyAreRead() throws {
        let policy = try XfrmPolicy.decode(Self.info()[...])
        #expect(policy == XfrmPolicy(family: 2, destination: [10, 0, 0, 0] + [UInt8](repeating: 0, count: 12), destinationPrefix: 8,
                                     source: [UInt8](repeating: 0, count: 16), sourcePrefix: 0, proto: 6, ifindex: 2, direction: 2, action: 1, priority: 7))
        #expect(policy.directionName == "fwd")
        #expect(try XfrmPolicy.decode(Self.info(ifindex: 0)[...]).ifindex == 0)
        #expect(try XfrmPolicy.decode(Self.info(direction: 4)[...]).directionName == "socket out")
        // A 32-bit kernel's struct ends at `share` (164 bytes); attributes after it are not read.
        #expect(try XfrmPolicy.decode(Self.info()[..<164]).ifindex == 2)
        #expect(try XfrmPolicy.decode((Self.info() + [8, 0, 16, 0, 1, 0, 0, 0])[...]).ifindex == 2)
    }

    @Test func theDumpRequestAsksForEveryPolicy() throws {
        let request = XfrmPolicy.dumpRequest(sequence: 9)
        let message = try #require(try NetlinkMessage.split(request[...]).first)
        #expect(message.header.type == 0x15 && message.header.flags == NetlinkFlags.request | NetlinkFlags.dump && message.header.sequence == 9)
        #expect(request.count == NetlinkHeader.size)
    }

    /// Every cut of a policy short of its fields is refused; random bytes of any length and
    /// random flips in a whole policy decode or throw, never crash.
    @Test func shortOrRandomPayloadsNeverCrash() {
        let whole = Self.info()
        for end in 0..<XfrmPolicy.infoSize { #expect(throws: NetlinkError.self) { try XfrmPolicy.decode(whole[..<end]) } }
        var generator = SplitMix64(state: 0x7866_726d)
        for _ in 0..<5_000 {
            var bytes = Bool.random(using: &generator) ? whole : (0..<Int.random(in: 0..<400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if !bytes.isEmpty {
                for _ in 0..<Int.random(in: 1...16, using: &generator) { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            }
            let start = bytes.isEmpty ? 0 : Int.random(in: 0..<min(bytes.count, 8), using: &generator)
            if let policy = try? XfrmPolicy.decode(bytes[start...]) {
                #expect(bytes.count - start >= XfrmPolicy.infoSize && policy.destination.count == 16 && policy.source.count == 16)
                _ = policy.directionName
            }
        }
    }
}

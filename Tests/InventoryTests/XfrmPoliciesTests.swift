#if os(Linux)
import Glibc
import Netlink
import Testing
@testable import Inventory

/// The IPsec policies that select a device by index, from a scripted XFRM_MSG_GETPOLICY dump:
/// one request, the policies that name a device by their ifindex in `ip xfrm policy`'s words,
/// and a kernel without the dump taken for one without policies. Old code read no xfrm policy.
@Suite struct XfrmPoliciesTests {
    /// `src SRC/0 dst 10.0.0.0/8 dev INDEX dir DIR action block` in the layout of a 64-bit kernel.
    static func policy(ifindex: Int32, family: UInt16 = 2, direction: UInt8 = 2) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 168)
        if family == 2 { bytes.replaceSubrange(0..<4, with: [10, 0, 0, 0]) } else { bytes.replaceSubrange(0..<4, with: [0x20, 0x01, 0x0d, 0xb8]) }
        withUnsafeBytes(of: family) { bytes.replaceSubrange(40..<42, with: $0) }
        bytes[42] = family == 2 ? 8 : 32
        withUnsafeBytes(of: ifindex) { bytes.replaceSubrange(48..<52, with: $0) }
        bytes[160] = direction
        bytes[161] = 1
        return bytes
    }

    @Test func oneDumpNamesThePoliciesThatSelectADevice() throws {
        let script = RawSocketsTests.Script { _, sequence in
            [RawSocketsTests.message(type: XfrmPolicy.newPolicy, sequence: sequence, payload: Self.policy(ifindex: 2)),
             RawSocketsTests.message(type: XfrmPolicy.newPolicy, sequence: sequence, payload: Self.policy(ifindex: 0, direction: 1)),
             RawSocketsTests.message(type: XfrmPolicy.newPolicy, sequence: sequence, payload: Self.policy(ifindex: 2, family: 10, direction: 0)),
             RawSocketsTests.done(sequence, code: 0)]
        }
        let found = try XfrmPolicies.found(client: RtnetlinkClient(transport: script))
        #expect(found == [2: ["dir fwd src 0.0.0.0/0 dst 10.0.0.0/8 action block", "dir in src ::/0 dst 2001:db8::/32 action block"]])
        #expect(script.sent.count == 1 && script.sent.first.map { Array($0[4..<8]) } == [0x15, 0, 0x01, 0x03])
    }

    /// A kernel that refuses the dump as unsupported has no policies; one that refuses it for
    /// want of privilege (EPERM) leaves the list unknown.
    @Test func anUnsupportedDumpIsNoPoliciesAndARefusedOneIsUnknown() throws {
        func refusing(_ code: Int32) -> RtnetlinkClient {
            RtnetlinkClient(transport: RawSocketsTests.Script { request, sequence in
                var payload: [UInt8] = []
                withUnsafeBytes(of: -code) { payload += $0 }
                payload += request.prefix(16)
                return [RawSocketsTests.message(type: NetlinkType.error, sequence: sequence, payload: payload)]
            })
        }
        #expect(try XfrmPolicies.found(client: refusing(EOPNOTSUPP)).isEmpty)
        #expect(throws: NetlinkError.self) { try XfrmPolicies.found(client: refusing(EPERM)) }
    }
}
#endif

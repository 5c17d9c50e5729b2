import Testing
@testable import Netlink

/// Byte-level tests of the devconf arrays in IFLA_AF_SPEC (IFLA_INET_CONF in the AF_INET nest,
/// IFLA_INET6_CONF in the AF_INET6 one), which the recreate commands give back (review finding S1).
@Suite struct DeviceSysctlsCodecTests {
    /// A link message with IFLA_AF_SPEC holding `inet` in an AF_INET nest and `inet6` in an
    /// AF_INET6 one, each as IFLA_INET_CONF / IFLA_INET6_CONF payload bytes.
    static func link(inet: [UInt8]?, inet6: [UInt8]?) -> ArraySlice<UInt8> {
        var families = AttributeEncoder(prefix: [])
        if let inet { families.appendNested(type: LinkMessage.inetFamily) { $0.append(type: LinkMessage.inetConfiguration, payload: inet) } }
        if let inet6 { families.appendNested(type: LinkMessage.inet6Family) { $0.append(type: LinkMessage.inet6Configuration, payload: inet6) } }
        var message = AttributeEncoder(prefix: [UInt8](repeating: 0, count: 16))
        message.append(type: LinkMessage.Attribute.ifname, payload: Array("s46\0".utf8))
        message.append(type: LinkMessage.Attribute.afSpec, payload: families.bytes)
        return message.bytes[...]
    }

    static func le(_ values: [Int32]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value) { Array($0) } }
    }

    /// The captured 6.18 message: 33 IPv4 values (IPV4_DEVCONF_MAX) and 60 IPv6 values, read in
    /// the host's byte order, with the kernel's new-device values where they are known.
    @Test func theCapturedArraysAreRead() throws {
        let link = try LinkMessage.decode(RecreatedAttributeTests.bytes(IPv6SettingsCodecTests.tokenAndDisabledLink))
        let ipv4 = LinkMessage.configurationValues(try #require(link.ipv4Configuration))
        let ipv6 = LinkMessage.configurationValues(try #require(link.ipv6Configuration))
        #expect(ipv4.count == 33 && ipv6.count == 60)
        // accept_redirects, secure_redirects, send_redirects, shared_media (IPV4_DEVCONF_* 4–7),
        // the IGMP report intervals (27, 28, in ms) and arp_evict_nocarrier (33).
        #expect(ipv4[3...6] == [1, 1, 1, 1] && ipv4[26] == 10000 && ipv4[27] == 1000 && ipv4[32] == 1)
        // hop_limit, mtu, router_solicitations (-1: no limit), its interval in ms, disable_ipv6
        // (set in the capture), ioam6_id_wide (u32 all ones).
        #expect(ipv6[1] == 64 && ipv6[2] == 1500 && ipv6[7] == -1 && ipv6[8] == 4000 && ipv6[26] == 1 && ipv6[55] == -1)
        #expect(link.ipv6Disabled == true)
    }

    /// An older kernel's short arrays are read as far as they go; a ragged tail (not a whole
    /// value) is left out; an empty array is no values.
    @Test func shortAndRaggedArraysAreReadAsFarAsTheyGo() throws {
        let link = try LinkMessage.decode(Self.link(inet: Self.le([0, 0, 1]) + [7, 7, 7], inet6: Self.le([1, 64])))
        #expect(LinkMessage.configurationValues(link.ipv4Configuration!) == [0, 0, 1])
        #expect(LinkMessage.configurationValues(link.ipv6Configuration!) == [1, 64])
        #expect(link.ipv6Disabled == nil)
        let empty = try LinkMessage.decode(Self.link(inet: [], inet6: nil))
        #expect(empty.ipv4Configuration?.isEmpty == true && empty.ipv6Configuration == nil)
        #expect(LinkMessage.configurationValues([1, 2, 3]) == [])
    }

    /// A device without IPv4 or IPv6 (no nest) has no array.
    @Test func noNestNoArray() throws {
        let link = try LinkMessage.decode(Self.link(inet: nil, inet6: nil))
        #expect(link.ipv4Configuration == nil && link.ipv6Configuration == nil)
    }

    /// An array cut off inside its attribute (the length says more than there is) is an error,
    /// never a crash, at every cut.
    @Test func truncatedArraysAreErrors() {
        let whole = Array(Self.link(inet: Self.le(Array(repeating: 1, count: 33)), inet6: Self.le(Array(repeating: 2, count: 60))))
        for cut in 17..<whole.count {
            _ = try? LinkMessage.decode(whole.prefix(cut))
        }
        #expect(throws: NetlinkError.self) { try LinkMessage.decode(whole.prefix(whole.count - 3)) }
    }

    /// Random bytes in place of the family nests, and random bytes flipped in a whole message,
    /// never crash the decoder or the array reader.
    @Test func garbageNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        let whole = Array(Self.link(inet: Self.le(Array(repeating: 1, count: 33)), inet6: Self.le(Array(repeating: 2, count: 60))))
        for _ in 0..<2000 {
            var bytes = whole
            for _ in 0..<Int.random(in: 1...8, using: &generator) { bytes[Int.random(in: 16..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            if let link = try? LinkMessage.decode(bytes[...]) {
                _ = link.ipv4Configuration.map(LinkMessage.configurationValues)
                _ = link.ipv6Configuration.map(LinkMessage.configurationValues)
            }
            let random = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? LinkMessage.decode(Self.link(inet: random, inet6: random.reversed()))
            _ = LinkMessage.configurationValues(random[...].dropFirst(Int.random(in: 0...random.count, using: &generator)))
        }
    }
}

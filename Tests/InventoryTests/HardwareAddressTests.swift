#if os(Linux)
@testable import Inventory
import Testing

/// Hardware addresses read as iproute2 writes them: two lowercase hex digits a byte, joined by
/// colons, but for the link types whose addresses are IP addresses.
struct HardwareAddressTests {
    @Test func everyByteIsTwoLowercaseHexDigits() {
        #expect(LinuxInventory.macText([0x00, 0x1a, 0xff, 0x0b, 0xc0, 0x01]) == "00:1a:ff:0b:c0:01")
        #expect(LinuxInventory.macText([0x7f]) == "7f")
        #expect(LinuxInventory.macText([]) == nil)
        // Every byte value, and an address longer than Ethernet's (InfiniBand's is 20 bytes).
        let all = (0...255).map { UInt8($0) }
        let text = LinuxInventory.macText(all)!
        #expect(text.split(separator: ":").map { UInt8($0, radix: 16)! } == all)
        #expect(text.split(separator: ":").allSatisfy { $0.count == 2 && $0 == $0.lowercased() })
    }

    /// A link-layer address as `ip` writes it for its link type (review round 7, finding F4):
    /// IPv4 for the 4-byte addresses of ipip, sit and gre links, IPv6 for the 16-byte ones of
    /// tunnel6 and ip6gre links, hex for every other.
    @Test func addressesAreWrittenAsIpWritesThemForTheLinkType() {
        #expect(LinuxInventory.addressText([0, 0, 0, 0], type: 778) == "0.0.0.0")
        #expect(LinuxInventory.addressText([192, 0, 2, 1], type: 768) == "192.0.2.1")
        #expect(LinuxInventory.addressText([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1], type: 823) == "2001:db8::1")
        #expect(LinuxInventory.addressText([0, 0, 0, 0], type: 65534) == "00:00:00:00")
        #expect(LinuxInventory.addressText([2, 0x47, 0, 0, 1, 1], type: 1) == "02:47:00:00:01:01")
        #expect(LinuxInventory.addressText([], type: 778) == nil)
    }
}
#endif

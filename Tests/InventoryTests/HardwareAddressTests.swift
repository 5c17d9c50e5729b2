#if os(Linux)
@testable import Inventory
import Testing

/// Hardware addresses read as iproute2 writes them: two lowercase hex digits a byte, joined by colons.
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
}
#endif

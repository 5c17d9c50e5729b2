#if os(Linux)
import Testing
@testable import Inventory

/// Telling the multicast addresses added by hand (`ip maddr add`, shown `static`) from the
/// kernel's own in /proc/net/dev_mcast (review round 7, finding F2).
@Suite struct StaticMulticastTests {
    /// Captured on Linux 6.18 (`ip maddr add 01:00:5e:01:02:03 dev t1`, `… 33:33:00:00:12:34 …`),
    /// with a line of another device, a tun's line without an address, and lines that do not read.
    static let file = """
    1    lo              1     0     01005e000001
    2    t1              1     0     333300000001
    2    t1              1     0     01005e000001
    2    t1              1     1     01005e010203
    2    t1              1     1     333300001234
    3    t2              1     1     333300004747
    4    w1              1     1     \n\
    2    t1              1     1
    2    t1              1     x     01005e0a0b0c
    2    t1              1     1     01005e0g
    """

    @Test func onlyAddressesWithAGlobalUseAreStatic() {
        let found = DeviceFileSettings.staticMulticast(Array(Self.file.utf8), of: [2, 4])
        #expect(found == [2: ["01:00:5e:01:02:03", "33:33:00:00:12:34"]])
    }

    @Test func anyBytesAreReadWithoutACrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in
                [UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "1"), UInt8(ascii: "a"), 0xff][Int.random(in: 0..<5, using: &generator)]
            }
            _ = DeviceFileSettings.staticMulticast(bytes, of: [1, 11, 111])
        }
    }
}
#endif

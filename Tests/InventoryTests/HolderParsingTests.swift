#if os(Linux)
import Testing
@testable import Inventory

/// The pure parts of the /proc scan.
@Suite struct HolderParsingTests {
    @Test func attachedInterfaceComesFromTheIffLine() {
        let fdinfo = Array("pos:\t0\nflags:\t0100002\nmnt_id:\t26\nino:\t1046\niff:\tkure_tun\n".utf8)
        #expect(HolderScanner.attachedInterface(fdinfo: fdinfo) == "kure_tun")
        // An opened but unattached /dev/net/tun has no iff line.
        #expect(HolderScanner.attachedInterface(fdinfo: Array("pos:\t0\nflags:\t0100002\n".utf8)) == nil)
        // The kernel prints `iff:` with an empty name for a descriptor that is not attached.
        #expect(HolderScanner.attachedInterface(fdinfo: Array("pos:\t0\niff:\t\n".utf8)) == nil)
    }

    /// A name is the kernel's bytes between `iff:\t` and the line's end, carried as the lossless
    /// text of `InterfaceName`: a byte that is not UTF-8 or a control byte is escaped, never
    /// replaced, and nothing else is trimmed.
    @Test func attachedInterfaceKeepsTheNamesExactBytes() {
        func fdinfo(_ name: [UInt8]) -> [UInt8] { Array("pos:\t0\nflags:\t0100002\niff:\t".utf8) + name + [0x0a] }
        #expect(HolderScanner.attachedInterface(fdinfo: fdinfo([0x7a, 0x7a, 0xff])) == "zz\\xff")
        #expect(HolderScanner.attachedInterface(fdinfo: fdinfo([0x61, 0x1b, 0x62])) == "a\\x1bb")
        #expect(HolderScanner.attachedInterface(fdinfo: fdinfo([0x61, 0x5c, 0x62])) == "a\\\\b")
        // The last line of a file need not end with a newline.
        #expect(HolderScanner.attachedInterface(fdinfo: Array("iff:\tkure".utf8)) == "kure")
    }

    @Test func namespaceLinksParse() {
        #expect(HolderScanner.namespaceInode("net:[4026531840]") == 4_026_531_840)
        #expect(HolderScanner.namespaceInode("mnt:[4026531840]") == nil)
        #expect(HolderScanner.namespaceInode("net:[x]") == nil)
    }

    @Test func namespaceNamesAreValidated() {
        #expect(throws: (any Error).self) { try LinuxInventory.validateNamespaceName("../etc") }
        #expect(throws: (any Error).self) { try LinuxInventory.validateNamespaceName("") }
        #expect(throws: Never.self) { try LinuxInventory.validateNamespaceName("blue") }
    }
}
#endif

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

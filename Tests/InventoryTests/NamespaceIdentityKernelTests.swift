#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Inventory
import TunwardenCore

/// The identity the Linux inventory gives a namespace, against the real kernel as root.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct NamespaceIdentityKernelTests {
    /// The kernel's cookie tells a namespace made again from the one before it, also when it has
    /// the same name and the same inode number; a snapshot and `namespaceIdentity()` agree.
    @Test func aNamespaceMadeAgainHasANewIdentity() throws {
        let first = try TestNamespace()
        defer { first.remove() }
        let before = try LinuxInventory(namespaceName: first.name).snapshot().namespaceIdentity
        #expect(try LinuxInventory(namespaceName: first.name).namespaceIdentity() == before)
        #expect(before.hasPrefix("netns-cookie:"), "\(before)")
        first.remove()
        let again = try TestNamespace(name: first.name)
        defer { again.remove() }
        let after = try LinuxInventory(namespaceName: again.name).namespaceIdentity()
        #expect(after != before)
        #expect(try LinuxInventory(namespaceName: again.name).snapshot().namespaceIdentity == after)
    }

    /// The boot id comes from the kernel's file: identities of two boots differ.
    @Test func theBootIdIsPartOfTheIdentity() throws {
        let ns = try TestNamespace(), directory = try TemporaryDirectory()
        defer { ns.remove(); directory.remove() }
        let real = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var inventory = LinuxInventory(namespaceName: ns.name)
        #expect(NamespaceIdentity.bootID(of: try inventory.namespaceIdentity()) == real)
        inventory.bootIDPath = directory.path + "/boot_id"
        try "0b3c1d2e-0000-4000-8000-000000000001\n".write(toFile: inventory.bootIDPath, atomically: true, encoding: .utf8)
        let identity = try inventory.namespaceIdentity()
        #expect(NamespaceIdentity.bootID(of: identity) == "0b3c1d2e-0000-4000-8000-000000000001")
        #expect(try inventory.snapshot().namespaceIdentity == identity)
        try FileManager.default.removeItem(atPath: inventory.bootIDPath)
        #expect(throws: InventoryError.self) { try inventory.namespaceIdentity() }
    }
}
#endif

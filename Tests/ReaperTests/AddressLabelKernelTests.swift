#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// IPv6 address labels bound to a tap (F2 of review 53), against the real kernel as root, in a
/// throwaway namespace of its own.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct AddressLabelKernelTests {
    func reap(_ ns: TestNamespace, _ state: TemporaryDirectory, _ extra: String...) throws -> Shell.Result {
        try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path] + extra)
    }

    /// An IPv6 address label bound to a tap is named by a `#` line in its recreate commands, the
    /// plan's and the journal's alike. Old code: neither said a word of it, and the label was
    /// left on `dev if2`.
    @Test func anAddressLabelBoundToATapIsNamedInItsRecreateCommands() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "twl8", "mode", "tap")
        let added = try Shell.capture(["ip", "-n", ns.name, "addrlabel", "add", "prefix", "2001:db8:77::/48", "dev", "twl8", "label", "77"])
        try #require(added.status == 0, "ip addrlabel (is the kernel built with IPv6?): \(added.stderr)")
        let planned = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--dry-run", "--format", "json", "--state-dir", state.path, "--min-age", "0"])
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let recreate = try Journal(path: state.path + "/journal.jsonl").read().filter { $0.type == .intent }.flatMap { $0.recreate ?? [] }
        let line = "# its IPv6 address label 77 for 2001:db8:77::/48 is not recreated: the kernel keeps it on this device's index, which no device has once it is deleted; "
            + "`ip addrlabel add prefix 2001:db8:77::/48 dev twl8 label 77`, in its namespace, adds it again"
        for commands in [recreate.joined(separator: "\n"), planned.stdout] { #expect(commands.contains(line), "\(commands)") }
        // The kernel's own labels, bound to no device, name none.
        #expect(recreate.count { $0.contains("address label") } == 1, "\(recreate)")
    }
}
#endif

#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// A macvlan or macvtap on an orphaned tap, moved into a namespace that no process runs in and no
/// path tunwarden sees opens (kept by a descriptor, by one in flight, by a bind mount in another
/// mount namespace), against the real kernel, as root, in throwaway namespaces: the tap's
/// namespace knows that namespace by an id, through which it is read, so the audit calls the tap
/// suspect and the reap keeps both devices. The control keeps the namespace by its name.
@Suite(.enabled(if: HiddenNamespace.available, "needs root, /dev/net/tun, ip, python3 and unshare"))
struct HiddenNamespaceKernelTests {
    static let cases: [(HiddenNamespace.Keeper, String, Int)] = HiddenNamespace.Keeper.allCases.enumerated().flatMap { index, keeper in
        [(keeper, "macvlan", 2 * index), (keeper, "macvtap", 2 * index + 1)]
    }

    @Test(arguments: cases)
    func aDeviceMovedIntoAHiddenNamespaceKeepsItsTap(keeper: HiddenNamespace.Keeper, kind: String, unit: Int) throws {
        let ns = try TestNamespace(), hidden = try HiddenNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); hidden.remove(); state.remove() }
        let tap = "nf46r\(unit)", upper = "nf46u\(unit)"
        try ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "nf46free\(unit)", "mode", "tap")
        let made = try Shell.capture(["ip", "-n", ns.name, "link", "add", "link", tap, "name", upper, "type", kind, "mode", "bridge"])
        guard made.status == 0 else { return }  // no such driver here
        try ns.ip("link", "set", upper, "netns", hidden.name)
        try hidden.hide(by: keeper)
        let verdicts = try ns.auditedVerdicts()
        #expect(verdicts[tap]?.state == "suspect", "\(keeper): \(verdicts)")
        #expect(verdicts[tap]?.reason.contains("\(upper) (namespace ") == true, "\(keeper): \(verdicts)")
        #expect(verdicts["nf46free\(unit)"]?.state == "orphaned", "\(keeper): \(verdicts)")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(try ns.ip("-o", "link", "show").contains(": \(tap)"), "\(keeper): \(result.stdout) \(result.stderr)")
        #expect(!(try ns.ip("-o", "link", "show").contains("nf46free\(unit)")), "\(keeper): \(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("Reaped 1 of 1."), "\(keeper): \(result.stdout) \(result.stderr)")
        #expect(try ns.linksKnownByID().contains(upper), "\(keeper): \(result.stdout)")
    }

    /// A macvlan made straight into a hidden namespace gives the tap's namespace no id for it: that
    /// one is seen only through a path or descriptor that opens it (see
    /// `NamespaceKeptByDescriptorKernelTests`), as the README says, and this test notices if the
    /// kernel changes.
    @Test func aDeviceMadeStraightIntoAnotherNamespaceGivesNoID() throws {
        let ns = try TestNamespace(), other = try TestNamespace()
        defer { ns.remove(); other.remove() }
        try ns.ip("tuntap", "add", "dev", "nf46st0", "mode", "tap")
        guard (try Shell.capture(["ip", "-n", ns.name, "link", "add", "link", "nf46st0", "name", "nf46stm", "netns", other.name, "type", "macvlan"])).status == 0 else { return }
        #expect(try ns.ip("netns", "list-id").isEmpty)
        try ns.ip("tuntap", "add", "dev", "nf46st1", "mode", "tap")
        try ns.ip("link", "add", "link", "nf46st1", "name", "nf46stn", "type", "macvlan")
        try ns.ip("link", "set", "nf46stn", "netns", other.name)
        #expect(!(try ns.ip("netns", "list-id").isEmpty))
    }
}
#endif

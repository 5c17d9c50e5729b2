import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A Mac's paste that also holds another machine's Linux listing (round 44 F1): a colima VM's
/// `ip addr`, a container's net-tools `ifconfig`, a VPN server's `ip -4 addr`. The Mac's output
/// is judged as it is without the Linux part, and the Linux lines are named as set aside; only a
/// capture that holds nothing of a Mac's is refused as Linux output. The old code decided for the
/// whole file from line counts before reading it, and refused every such paste.
@Suite struct CaptureMixedLinuxTests {
    static func path(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/darwin-pastes/round44/\(name)", withExtension: nil)).path
    }

    /// The audit of the capture file at `path`, read as `--from` reads it.
    static func audit(_ path: String) throws -> Assessment {
        Heuristics.assess(try CapturedInventory(path: path).snapshot())
    }

    /// The audit of `text`, given to `--from` as the file `name`.
    static func audit(_ text: String, as name: String) throws -> Assessment {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tw-mixed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return try audit(file.path)
    }

    /// The findings of an audit as a user reads them: severity, id, interface, evidence, commands.
    static func said(_ assessment: Assessment) -> [[String]] {
        assessment.findings.map { [$0.severity.rawValue, $0.id, $0.ifname ?? "-", $0.evidence] + $0.commands }
    }

    /// The 1/8 … 128.0/1 cascade of ClashX into the gone utun7 (beside colima's `ip addr`), and
    /// WireGuard's general default into the gone utun4 (beside a container's `ifconfig`): each
    /// is critical, with the removal commands, word for word as the Mac's part alone, and the
    /// Linux lines are named (without --verbose). No interface of the other machine is taken
    /// for the Mac's.
    @Test(arguments: [
        ("clashx-gone-plus-colima-ipaddr.md", "\nInside the colima VM:", "clashx-gone-plus-colima-ipaddr.md:39–54: Linux `ip addr` output"),
        ("wg-gone-plus-docker-ifconfig.txt", "$ docker exec", "wg-gone-plus-docker-ifconfig.txt:22–34: Linux net-tools `ifconfig -a` output"),
    ])
    func aMacsOutageBesideAnotherMachinesListingIsJudged(file: String, linuxPart: String, note: String) throws {
        let path = try Self.path(file)
        let assessment = try Self.audit(path)
        #expect(assessment.status == .critical && assessment.status.exitCode == 2, "\(file): \(Self.said(assessment))")
        let split = try #require(assessment.findings.first { $0.id == FindingID.splitDefault }, "\(file)")
        #expect(split.severity == .critical && split.evidence.contains("which no longer exists"))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let macOnly = try #require(text.components(separatedBy: linuxPart).first)
        #expect(Self.said(assessment) == Self.said(try Self.audit(macOnly, as: file)), "\(file)")
        #expect(assessment.snapshot.readingProblems.contains { $0.contains(note) && $0.contains("is not read") && $0.contains("another machine's") },
                "\(assessment.snapshot.readingProblems)")
        let names = Set(assessment.snapshot.interfaces.map(\.name))
        #expect(names.isDisjoint(with: ["lo", "eth0", "docker0"]), "\(names)")
    }

    @Test func theRemovalCommandsAreTheMacsRoutes() throws {
        let clashx = try Self.audit(try Self.path("clashx-gone-plus-colima-ipaddr.md"))
        #expect(clashx.findings.first { $0.id == FindingID.splitDefault }?.commands
            == ["1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/5", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"]
                .map { "sudo route -n delete -net \($0) 198.18.0.1" })
        let wireguard = try Self.audit(try Self.path("wg-gone-plus-docker-ifconfig.txt"))
        #expect(wireguard.findings.first { $0.id == FindingID.splitDefault }?.commands == ["sudo route -n delete default"])
    }

    /// A live utun3's block, indented with tabs as ifconfig prints it, beside a VM's `ip addr`:
    /// OK, with the VM's lines named; the same block indented with spaces is judged the same.
    /// (The old code looked for `nd6` in words split on spaces only, so the tab hid it.)
    @Test func aHealthyMacBesideAVMsListingIsOKWithTheNote() throws {
        let path = try Self.path("utun3-tabs-plus-colima-ipaddr.txt")
        let tabs = try Self.audit(path)
        #expect(tabs.status == .ok, "\(Self.said(tabs))")
        #expect(tabs.interfaces.map { "\($0.interface.name) \($0.state.rawValue)" } == ["utun3 live"])
        #expect(tabs.snapshot.readingProblems.contains { $0.hasPrefix("utun3-tabs-plus-colima-ipaddr.txt:6–21: Linux `ip addr` output") }, "\(tabs.snapshot.readingProblems)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\tnd6"))
        let spaces = try Self.audit(text.replacingOccurrences(of: "\t", with: "        "), as: "utun3-tabs-plus-colima-ipaddr.txt")
        #expect(CaptureProofTests.Verdict(spaces) == CaptureProofTests.Verdict(tabs))
        #expect(spaces.snapshot.readingProblems == tabs.snapshot.readingProblems)
    }

    /// Each kind of a Mac's output the reader recognises keeps the paste a Mac's beside a VM's
    /// `ip addr`: it is judged as it is alone. (The old code counted only a few ifconfig lines as
    /// a Mac's.)
    @Test(arguments: [
        "% netstat -rn -f inet\nRouting tables\n\nInternet:\nDestination        Gateway            Flags               Netif Expire\n"
            + "default            192.168.1.1        UGScg                 en0       \n127                127.0.0.1          UCS                   lo0       \n",
        "% ifconfig utun4\nifconfig: interface utun4 does not exist\n% route -n get default\n   route to: default\ndestination: default\n       mask: default\n"
            + "    gateway: 10.8.0.1\n  interface: utun4\n      flags: <UP,GATEWAY,DONE,STATIC,PRCLONING>\n"
            + " recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire\n       0         0         0         0         0         0      1500         0\n",
        "% sudo lsof -nP | grep utun_control\n"
            + "identitys   412 jane     23u    systm 0x8d2f000000000001      0t0                     [ctl com.apple.net.utun_control id 7 unit 1]\n",
        "% ps -axww -o pid,comm\n  PID COMM\n    1 /sbin/launchd\n  412 /usr/libexec/identityservicesd\n",
    ])
    func everyKindOfAMacsOutputKeepsThePasteAMacs(mac: String) throws {
        let linux = try String(contentsOfFile: try Self.path("utun3-tabs-plus-colima-ipaddr.txt"), encoding: .utf8)
        let vm = String(try #require(linux.range(of: "jane@MacBook-Air ~ % colima").map { linux[$0.lowerBound...] }))
        let mixed = try Self.audit(mac + vm, as: "mixed.txt")
        #expect(CaptureProofTests.Verdict(mixed) == CaptureProofTests.Verdict(try Self.audit(mac, as: "mixed.txt")), "\(mac)")
        #expect(mixed.snapshot.readingProblems.contains { $0.contains("Linux `ip addr` output") })
    }

    /// Linux output alone is refused as before, exit 3, with the word on what to run instead:
    /// a VPN server's one `ip -4 addr` block (which the old code, needing two lines, read and
    /// refused only as holding nothing readable), and a container's `ifconfig` and `route -n`,
    /// whose routing table is no Mac's either.
    @Test(arguments: [("server-ip4-addr-wg0.txt", "Linux `ip addr` output"), ("container-ifconfig-route-n.txt", "Linux net-tools `ifconfig -a` output")])
    func linuxOutputAloneIsRefused(file: String, listing: String) throws {
        let path = try Self.path(file)
        do {
            let snapshot = try CapturedInventory(path: path).snapshot()
            Issue.record("\(file) was read as a Mac's capture: \(snapshot.interfaces.map(\.name))")
        } catch let error as InventoryError {
            let text = "\(error)"
            #expect(text.hasPrefix("\(path): this looks like \(listing), not a Mac's") && text.contains("On Linux, run `sudo tunwarden audit`"), "\(text)")
        }
    }

    /// A directory of pastes, one the Mac's and one the VM's: the Mac's is judged, the VM's set
    /// aside (the old code refused the directory for the one file).
    @Test func aDirectoryWithAVMsPasteBesideTheMacsIsJudged() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tw-mixed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try String(contentsOfFile: try Self.path("clashx-gone-plus-colima-ipaddr.md"), encoding: .utf8)
        let parts = text.components(separatedBy: "\nInside the colima VM:")
        try parts[0].write(to: directory.appendingPathComponent("mac.txt"), atomically: true, encoding: .utf8)
        try parts[1].write(to: directory.appendingPathComponent("vm.txt"), atomically: true, encoding: .utf8)
        let assessment = try Self.audit(directory.path)
        #expect(assessment.status == .critical, "\(Self.said(assessment))")
        #expect(assessment.snapshot.readingProblems.contains { $0.hasPrefix("vm.txt:") && $0.contains("Linux `ip addr` output") }, "\(assessment.snapshot.readingProblems)")
        // Alone, the VM's file is refused, named by its path.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("mac.txt"))
        #expect { try CapturedInventory(path: directory.path).snapshot() } throws: { error in
            "\(error)".hasPrefix("\(directory.appendingPathComponent("vm.txt").path): this looks like Linux `ip addr` output")
        }
    }
}

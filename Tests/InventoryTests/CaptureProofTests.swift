import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// What proves a tunnel exists, and what only repeats the routing table or outlives the tunnel.
/// `route get` names the interface of the route it finds, so a static route into a utun that went
/// away makes it print `interface: utun2` too: the usual "no internet" diagnostic must not turn a
/// blackhole into an unknown. Each paste in Fixtures/darwin-pastes is judged as it is without the
/// misleading lines.
@Suite struct CaptureProofTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/darwin-pastes/\(name)", withExtension: nil))
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// What a user sees of an audit: its status, its exit code, each finding's severity, id and
    /// interface, and each tunnel's state.
    struct Verdict: Equatable, CustomStringConvertible {
        var status: AuditStatus
        var exit: Int32
        var findings: [String]
        var states: [String]

        init(_ assessment: Assessment) {
            status = assessment.status
            exit = assessment.status.exitCode
            findings = assessment.findings.map { "\($0.severity.rawValue) \($0.id) \($0.ifname ?? "-")" }.sorted()
            states = assessment.interfaces.map { "\($0.interface.name) \($0.state.rawValue)" }.sorted()
        }

        var description: String { "\(status) (exit \(exit)): \(findings) \(states)" }
    }

    static func verdict(_ text: String, file: String = "paste.txt") -> Verdict { Verdict(CapturePasteTests.assess(text, file: file)) }

    /// The text without the command line that contains `command` and its output: the lines up to
    /// the next prompt (`%`, `$` or oh-my-zsh's `➜`), Markdown fence or blank line.
    static func dropping(_ command: String, from text: String) -> String {
        var kept: [Substring] = []
        var skipping = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.contains(command) {
                skipping = true
                continue
            }
            if skipping, line.contains("% ") || line.contains("$ ") || line.hasSuffix("$") || line.hasSuffix("%") || line.hasPrefix("➜") || line.hasPrefix("```") || line.isEmpty {
                skipping = false
            }
            if !skipping { kept.append(line) }
        }
        return kept.joined(separator: "\n")
    }

    // MARK: route get

    /// ifconfig said utun2 does not exist; the split default into it is read at that moment, and
    /// `route -n get 1.1.1.1` names utun2 as the interface of the route it found.
    @Test func routeGetAfterIfconfigsAnswer() throws {
        let text = try Self.fixture("routeget-after-does-not-exist.txt")
        let verdict = Self.verdict(text)
        #expect(verdict.status == .critical, "\(verdict)")
        #expect(verdict.exit == 2)
        #expect(verdict.findings == ["critical split-default utun2", "warning dead-tunnel-route utun2"], "\(verdict)")
        #expect(verdict.states.isEmpty, "\(verdict)")
        let without = Self.dropping("route -n get", from: text)
        #expect(!without.contains("interface: utun2"))
        #expect(Self.verdict(without) == verdict)
    }

    /// A ClashX crash told in an issue: `ifconfig` lacks utun2, the split default goes into it,
    /// and `route -n get 8.8.8.8` follows the split into utun2.
    @Test func routeGetAfterAWholeListing() throws {
        let text = try Self.fixture("routeget-clashx-dead-split.md")
        let verdict = Self.verdict(text)
        #expect(verdict.status == .critical, "\(verdict)")
        #expect(verdict.exit == 2)
        #expect(verdict.findings.contains("critical split-default utun2"), "\(verdict)")
        #expect(verdict.states == ["utun0 live", "utun1 live"], "\(verdict)")
        #expect(Self.verdict(Self.dropping("route -n get", from: text)) == verdict)
    }

    /// GlobalProtect crashed and left `default link#19 UCSg utun2`; `route -n get default` names
    /// utun2 because that route does.
    @Test func routeGetOfADeadDefault() throws {
        let text = try Self.fixture("routeget-globalprotect-dead-default.txt")
        let verdict = Self.verdict(text)
        #expect(verdict.status == .critical, "\(verdict)")
        #expect(verdict.exit == 2)
        #expect(verdict.findings == ["critical split-default utun2", "info capture-missing -", "warning dead-tunnel-route utun2"], "\(verdict)")
        #expect(verdict.states == ["utun0 live", "utun1 live"], "\(verdict)")
        let assessment = CapturePasteTests.assess(text)
        #expect(assessment.findings.first { $0.id == FindingID.splitDefault }?.evidence.contains("route -n delete default") == true)
        #expect(Self.verdict(Self.dropping("route -n get", from: text)) == verdict)
    }

    /// `route get`'s lines picked out by grep, and an `interface:` line of no known tool show
    /// nothing exists either; `wg show`'s does, under its command line or by its fields. (A whole
    /// `route get` of a default is judged as that default: see `CaptureDefaultRouteTests`.)
    @Test(arguments: [
        ("route get | grep", "user@mbp ~ % route -n get default | grep interface\n  interface: utun6\n", false),
        ("route get | egrep", "user@mbp ~ % route get 1.1.1.1 | egrep 'gateway|interface'\n    gateway: 10.66.66.1\n  interface: utun6\n", false),
        ("a bare interface line", "interface: utun6\n", false),
        ("wg show", "user@mbp ~ % sudo wg show\ninterface: utun6\n  public key: AbCd=\n  listening port: 51820\n", true),
        ("wg show without its command", "interface: utun6\n  public key: AbCd=\n  private key: (hidden)\n  listening port: 51820\n", true),
    ])
    func onlyWireGuardsInterfaceLineIsASighting(label: String, lines: String, shows: Bool) {
        let ifconfig = CaptureEvidenceTests.ifconfig, netstat = CaptureEvidenceTests.netstat
        for (place, text) in [("after", ifconfig + netstat + lines), ("between", ifconfig + lines + netstat),
                              ("after ifconfig's answer", CaptureEvidenceTests.doesNotExist + netstat + lines)] {
            let assessment = CapturePasteTests.assess(text)
            if shows {
                #expect(assessment.status != .critical, "\(label), \(place): \(Verdict(assessment))")
                #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown, "\(label), \(place)")
            } else {
                #expect(Verdict(assessment) == Self.verdict(text.replacingOccurrences(of: lines, with: "")), "\(label), \(place)")
                #expect(assessment.status == .critical, "\(label), \(place): \(Verdict(assessment))")
                #expect(assessment.findings.contains { $0.id == FindingID.splitDefault && $0.ifname == "utun6" && $0.severity == .critical }, "\(label), \(place)")
            }
        }
    }

    /// What truly shows the tunnel still outweighs ifconfig's answer, with a `route get` beside it
    /// or not: its own block, or a holder.
    @Test func realProofStillCounts() throws {
        let text = try Self.fixture("routeget-after-does-not-exist.txt")
        let block = "jane@mbp ~ % ifconfig utun2\nutun2: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1500\n\tinet 198.18.0.1 --> 198.18.0.1 netmask 0xffff0000\n"
        let listed = Self.verdict(text + "\n" + block)
        #expect(listed.status != .critical, "\(listed)")
        #expect(listed.states.contains("utun2 unknown") || listed.states.contains("utun2 live"), "\(listed)")
        let holder = "jane@mbp ~ % sudo lsof -nP | grep utun_control\nClashX    412 jane    6u  systm 0x3d1a2b3c4d5e6f70      0t0      [ctl com.apple.net.utun_control id 9 unit 3]\n"
        let held = Self.verdict(text + "\n" + holder)
        #expect(held.status != .critical, "\(held)")
        #expect(held.states == ["utun2 live"], "\(held)")
    }

    // MARK: What wireguard-go leaves behind

    /// wireguard-go crashed: `sudo wg show` prints nothing, its socket and name file are still
    /// in /var/run/wireguard, `ifconfig -a` lacks utun3, and the split defaults of both families
    /// go into it.
    @Test func wireGuardsLeftoverFiles() throws {
        let text = try Self.fixture("wireguard-stale-files.txt")
        let verdict = Self.verdict(text)
        #expect(verdict.status == .critical, "\(verdict)")
        #expect(verdict.exit == 2)
        #expect(verdict.findings == ["critical split-default utun3", "critical split-default utun3", "info capture-missing -", "warning dead-tunnel-route utun3"], "\(verdict)")
        #expect(verdict.states == ["utun0 live", "utun1 live"], "\(verdict)")
        let without = Self.dropping("cat /var/run/wireguard", from: Self.dropping("ls -la /var/run/wireguard", from: text))
        #expect(!without.contains("utun3.sock") && !without.contains("wg0.name"))
        #expect(Self.verdict(without) == verdict)
        // The tie is noted.
        #expect(CapturePasteTests.assess(text).snapshot.readingNotes.contains { $0.contains("names utun3") && $0.contains("leaves this file behind") })
    }

    /// The other shapes of the same files, and wg-quick's line read from them (by `down`, or by
    /// an `up` that finds them and stops), after the listings (and before or between them, where
    /// the command only reads): the tunnel the listing lacks, or ifconfig says does not exist, is
    /// gone all the same.
    @Test(arguments: [
        ("ls", "user@mbp ~ % ls /var/run/wireguard\nutun6.sock  wg0.name\n", true),
        ("ls -l of the socket", "user@mbp ~ % sudo ls -l /var/run/wireguard/*.sock\nsrwxr-xr-x  1 root  daemon  0 Dec  5 09:12 /var/run/wireguard/utun6.sock\n", true),
        ("find", "user@mbp ~ % sudo find /var/run/wireguard\n/var/run/wireguard\n/var/run/wireguard/utun6.sock\n/var/run/wireguard/wg0.name\n", false),
        ("cat of the name file", "user@mbp ~ % sudo cat /var/run/wireguard/wg0.name\nutun6\n", true),
        ("wg-quick down", "user@mbp ~ % sudo wg-quick down wg0\n[+] Interface for wg0 is utun6\n[#] rm -f /var/run/wireguard/utun6.sock\n[#] rm -f /var/run/wireguard/wg0.name\n", false),
        ("wg-quick up that finds them", "user@mbp ~ % sudo wg-quick up wg0\n[+] Interface for wg0 is utun6\nwg-quick: `wg0' already exists as `utun6'\n", false),
        ("wg-quick up that fails and tears down", "user@mbp ~ % sudo wg-quick up wg0\n[#] wireguard-go utun\n[+] Interface for wg0 is utun6\n[#] wg setconf utun6 /dev/fd/63\nLine unrecognized: `PresharedKey=abc'\nConfiguration parsing error\n[#] rm -f /var/run/wireguard/utun6.sock\n[#] rm -f /var/run/wireguard/wg0.name\n", false),
        ("wg-quick up whose cleanup alone shows", "user@mbp ~ % sudo wg-quick up wg0\n[#] wireguard-go utun\n[+] Interface for wg0 is utun6\n[#] ifconfig utun6 inet 10.66.66.2/32 10.66.66.2 alias\n[#] rm -f /var/run/wireguard/utun6.sock\n", false),
        ("wg-quick up that reports an error", "user@mbp ~ % sudo wg-quick up wg0\n[#] wireguard-go utun\n[+] Interface for wg0 is utun6\n[#] wg setconf utun6 /dev/fd/63\nError: Unable to set configuration\n", false),
    ])
    func wireGuardsFilesShowNothingExists(label: String, lines: String, readOnly: Bool) {
        let ifconfig = CaptureEvidenceTests.ifconfig, netstat = CaptureEvidenceTests.netstat
        var texts = [("after", ifconfig + netstat + lines), ("after ifconfig's answer", CaptureEvidenceTests.doesNotExist + netstat + lines)]
        if readOnly { texts += [("before", lines + ifconfig + netstat), ("between", ifconfig + lines + netstat)] }
        for (place, text) in texts {
            let assessment = CapturePasteTests.assess(text)
            #expect(Verdict(assessment) == Self.verdict(text.replacingOccurrences(of: lines, with: "")), "\(label), \(place)")
            #expect(assessment.findings.contains { $0.id == FindingID.splitDefault && $0.ifname == "utun6" && $0.severity == .critical }, "\(label), \(place): \(Verdict(assessment))")
        }
    }

    /// wg-quick's line right after the `up` that started wireguard-go shows the tunnel at that
    /// moment, and so does `wg show`: neither is outweighed by an earlier listing.
    @Test func wireGuardThatAnswers() {
        let ifconfig = CaptureEvidenceTests.ifconfig, netstat = CaptureEvidenceTests.netstat
        let up = "user@mbp ~ % sudo wg-quick up wg0\n[#] wireguard-go utun\n[+] Interface for wg0 is utun6\n[#] wg setconf utun6 /dev/fd/63\n"
        let assessment = CapturePasteTests.assess(ifconfig + netstat + up)
        #expect(!assessment.findings.contains { $0.severity == .critical }, "\(Verdict(assessment))")
        #expect(assessment.interfaces.first { $0.interface.name == "utun6" }?.state == .unknown)
    }

    /// A real paste: wg-quick up started wireguard-go on utun3, failed to parse its
    /// configuration and tore the tunnel down; ifconfig lists no utun3 and the split default
    /// into it stays behind.
    @Test func aFailedWireGuardUpLeavesItsSplitCritical() throws {
        let text = try Self.fixture("wgquick-up-failed-teardown.txt")
        let verdict = Self.verdict(text)
        #expect(verdict.status == .critical && verdict.exit == 2, "\(verdict)")
        #expect(verdict.findings == ["critical split-default utun3", "info capture-missing -", "warning dead-tunnel-route utun3"], "\(verdict)")
        #expect(verdict.states == ["utun0 live", "utun1 live"], "\(verdict)")
        // The control: the same up without the failure shows utun3 at that moment.
        let kept = text.replacingOccurrences(of: "Line unrecognized: `PresharedKey=abc'\nConfiguration parsing error\n[#] rm -f /var/run/wireguard/utun3.sock\n[#] rm -f /var/run/wireguard/wg0.name\n", with: "")
        #expect(kept != text)
        #expect(Self.verdict(kept).status != .critical, "\(Self.verdict(kept))")
    }

    /// The built-in VPNs' interfaces (IKEv2's `ipsec0`, L2TP's `ppp0`) go away when their
    /// connection ends, as a utun does when its holder closes it: a general default into one
    /// that is gone is as critical as a split default into it, and beside it their other routes
    /// are dead-tunnel-route warnings. Neither is ever planned for reaping or counted in a hoard.
    @Test(arguments: [
        ("ipsec-ikev2-gone.txt", "ipsec0", ["critical split-default ipsec0"]),
        ("ipsec0-gone-default-and-subnet.txt", "ipsec0", ["critical split-default ipsec0", "info capture-missing -", "warning dead-tunnel-route ipsec0"]),
        ("ppp0-gone-default.txt", "ppp0", ["critical split-default ppp0", "info capture-missing -"]),
        ("ipsec0-gone-split.txt", "ipsec0", ["critical split-default ipsec0", "info capture-missing -"]),
        ("utun9-gone-default-and-subnet.txt", "utun9", ["critical split-default utun9", "info capture-missing -", "warning dead-tunnel-route utun9"]),
    ])
    func aDefaultIntoAGoneBuiltInVPNInterfaceIsCritical(fixture: String, tunnel: String, findings: [String]) throws {
        let text = try Self.fixture(fixture)
        let verdict = Self.verdict(text)
        #expect(verdict.status == .critical && verdict.exit == 2, "\(verdict)")
        #expect(verdict.findings == findings, "\(verdict)")
        #expect(verdict.states == (0...3).map { "utun\($0) live" }, "\(verdict)")
        let plan = CaptureHoardTests.reapCommands(text)
        #expect(!plan.contains { $0.contains(tunnel) }, "\(plan)")
        // Another unit of the same kind, and a table filtered to it, judge the same way.
        let renamed = text.replacingOccurrences(of: tunnel, with: tunnel.hasPrefix("ppp") ? "ppp1" : tunnel.hasPrefix("ipsec") ? "ipsec3" : "utun12")
        #expect(Self.verdict(renamed).status == .critical, "\(Self.verdict(renamed))")
    }

    /// The control: the same IKEv2 default into an ipsec0 the listing holds is no finding.
    @Test func aDefaultIntoALiveBuiltInVPNInterfaceIsNoFinding() throws {
        let verdict = Self.verdict(try Self.fixture("ipsec-ikev2-live.txt"))
        #expect(verdict.status == .ok && verdict.exit == 0 && verdict.findings.isEmpty, "\(verdict)")
    }

    /// A table filtered to the VPN's rows shows the general default, the family's only one (every
    /// other default is scoped): into a gone ipsec0 it blackholes all default traffic, as for a
    /// utun (round 42, F8).
    @Test func aFilteredTableNamesTheDeadDefaultIntoAGoneIpsec() throws {
        let text = try Self.fixture("ipsec-ikev2-gone.txt")
            .replacingOccurrences(of: "jane@MacBook-Pro ~ % netstat -rn\n", with: "jane@MacBook-Pro ~ % netstat -rn | grep ipsec\n")
        let start = try #require(text.range(of: "| grep ipsec\n"))
        let end = try #require(text.range(of: "jane@MacBook-Pro ~ % sudo lsof"))
        let filtered = String(text[..<start.upperBound]) + "default            link#25            UCSg               ipsec0       \n" + String(text[end.lowerBound...])
        let verdict = Self.verdict(filtered)
        #expect(verdict.findings == ["critical split-default ipsec0"], "\(verdict)")
        #expect(verdict.status == .critical, "\(verdict)")
    }

    // MARK: What the capture lacks, said whole

    /// A mail client wrapped the IPv6 table at 57 columns, inside words: the rows it cut are
    /// named in capture-missing, and the parenthesis that lists them closes.
    @Test func unreadableRowsAreListedInClosedParentheses() throws {
        let assessment = CapturePasteTests.assess(try Self.fixture("wrap57-mid-word.txt"), file: "wrap57-mid-word.txt")
        let rows = try #require(assessment.snapshot.missingSources.first { $0.hasPrefix("readable route rows (") })
        #expect(rows.hasSuffix(": where they sent traffic)"), "\(rows)")
        #expect(rows.contains("a default route at wrap57-mid-word.txt:29") && rows.contains("a route into utun0 at wrap57-mid-word.txt:43"), "\(rows)")
        let evidence = try #require(assessment.findings.first { $0.id == FindingID.captureMissing }?.evidence)
        #expect(evidence.filter { $0 == "(" }.count == evidence.filter { $0 == ")" }.count, "\(evidence)")
    }
}

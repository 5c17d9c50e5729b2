import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// `ifconfig -a` pasted without the tab indents of its blocks' lines (round 45 F1): every line
/// macOS's ifconfig prints in a block (a bridge's `Address cache:` and its learned addresses,
/// en0's `nat64 prefix`, `-v`'s `throttling:`, `unaligned pkts:`, `L4S:` …) is a line of that
/// block, so the routes that follow are of the listing's moment and a dead split default into a
/// utun the listing lacks is critical. The old code took such a line for prose between two
/// listings, made the routes another moment, and said "the capture does not list it". A line
/// of prose there (`note: utun5 is the VPN`, `Update: …`, `time: 10:32`) still parts them.
@Suite struct CaptureLostIndentTests {
    /// The paste of `round45/noindent-bridge-dead-split.txt` (no indents, bridge100 with its
    /// member vmenet0, a split default into the gone utun5) with `line` put in bridge100's block
    /// after its member's `ifmaxaddr …` line.
    static func paste(inserting line: String) throws -> String {
        let text = try CaptureProofTests.fixture("round45/noindent-bridge-dead-split.txt")
        let anchor = "ifmaxaddr 0 port 23 priority 0 path cost 0\n"
        #expect(text.contains(anchor))
        return text.replacingOccurrences(of: anchor, with: anchor + line + "\n")
    }

    /// The notes and problems of reading the paste.
    static func reading(_ assessment: Assessment) -> [String] {
        assessment.snapshot.readingNotes + assessment.snapshot.readingProblems
    }

    static func isDeadSplitCritical(_ assessment: Assessment) -> Bool {
        assessment.status == .critical && assessment.findings.contains { $0.severity == .critical && $0.id == FindingID.splitDefault && $0.ifname == "utun5" }
    }

    /// The lines plain `ifconfig -a` and `-v`/`-vv` print in a block, as macOS 10.13 to 26 write
    /// them, each keep the dead split critical.
    @Test(arguments: [
        "Address cache:\n2a:1f:6b:9e:10:c7 Vlan1 vmenet0 1193 flags=0<>", "nat64 prefix 64:ff9b:: prefixlen 96",
        "throttling: level 1 (opportunistic)", "unaligned pkts: 12", "data milestone interval: 8.00 KB", "logging: level 1 facilities=1<DLIL>",
        "functional type: wifi_infra", "L4S: enabled", "hostfilter 0 hw: 0:0:0:0:0:0 ip: 0.0.0.0",
        "checksum stats:\nin: IPv4=120 IPv6=0 UDP=40 TCP=80\nchecksum good sw: IPv4=0 UDP=0 TCP=0 hw: IPv4=0 UDP=0 TCP=0",
        "state rrc: 1 (connected) availability: 0 (true) lqm: 100(good)", "MAC NAT list:\nen0 192.168.1.2 6e:67:2:6d:cf:32 1196",
    ])
    func aLineOfTheBlockKeepsTheListingWhole(line: String) throws {
        let assessment = CapturePasteTests.assess(try Self.paste(inserting: line))
        #expect(Self.isDeadSplitCritical(assessment), "\(line): \(assessment.findings.map(\.evidence))")
        #expect(!Self.reading(assessment).contains { $0.contains("stands between two listings") || $0.contains("header is cut off") },
                "\(line): \(Self.reading(assessment))")
    }

    /// The same lines where the paste lost its tabs but kept the eight spaces ifconfig puts
    /// after the tab of a bridge member's `ifmaxaddr …` line (a forum that keeps runs of spaces
    /// as `&nbsp;`, round 47 F3): that indent is no tab kept, and a key ifconfig prints in more
    /// words (`Address cache:`) is the block's line whatever indents the listing kept, so the
    /// block stays whole and the dead split critical.
    @Test(arguments: [
        "Address cache:", "Address cache:\n2a:1f:6b:9e:10:c7 Vlan1 vmenet0 1193 flags=0<>", "MAC NAT list:\nen0 192.168.1.2 6e:67:2:6d:cf:32 1196",
        "throttling: level 1 (opportunistic)", "checksum stats:\nin: IPv4=120 IPv6=0 UDP=40 TCP=80",
    ])
    func aMemberLineThatKeptItsSpacesKeepsTheListingWhole(line: String) throws {
        let text = try Self.paste(inserting: line)
            .replacingOccurrences(of: "\nifmaxaddr 0 port 23", with: "\n        ifmaxaddr 0 port 23")
        #expect(text.contains("\n        ifmaxaddr"))
        let assessment = CapturePasteTests.assess(text)
        #expect(Self.isDeadSplitCritical(assessment), "\(line): \(assessment.findings.map(\.evidence))")
        #expect(!Self.reading(assessment).contains { $0.contains("header is cut off") || $0.contains("not ifconfig output") || $0.contains("between two listings") },
                "\(line): \(Self.reading(assessment))")
    }

    /// The control: the same paste without an inserted line is critical.
    @Test func theControlIsCritical() throws {
        #expect(Self.isDeadSplitCritical(CapturePasteTests.assess(try CaptureProofTests.fixture("round45/noindent-bridge-dead-split.txt"))))
    }

    /// A whole `ifconfig -a -vv` without indents, with en0's NAT64 prefix and `-vv` lines and
    /// a bridge's member counters and address cache: the dead split is critical, and no line of
    /// it is left unread.
    @Test func aWholeVerboseListingIsReadAsBlocks() throws {
        let name = "round45/noindent-vv-bridge-nat64-dead-split.txt"
        let assessment = CapturePasteTests.assess(try CaptureProofTests.fixture(name), file: name)
        #expect(Self.isDeadSplitCritical(assessment), "\(assessment.findings.map(\.evidence))")
        #expect(!Self.reading(assessment).contains { $0.contains("between two listings") || $0.contains("cut off") }, "\(Self.reading(assessment))")
    }

    /// Prose between the listing and the routes, even in a key's shape, still says they are of
    /// two moments: the dead split is not proven, and the line is named.
    @Test(arguments: ["note: utun5 is the VPN", "Update: reconnected twice", "time: 10:32", "edit: 3 hours later it was still down",
                      "Edit: 2"])
    func proseStillPartsTheListings(line: String) throws {
        let text = try CaptureProofTests.fixture("round45/noindent-bridge-dead-split.txt")
            .replacingOccurrences(of: "status: active\njane@Janes-MacBook-Pro ~ % netstat -rn", with: "status: active\n\(line)\njane@Janes-MacBook-Pro ~ % netstat -rn")
        #expect(text.contains("\n\(line)\n"))
        let assessment = CapturePasteTests.assess(text)
        #expect(!Self.isDeadSplitCritical(assessment), "\(line): \(assessment.findings.map(\.evidence))")
        #expect(Self.reading(assessment).contains { $0.contains("'\(line)' stands between two listings") }, "\(line): \(Self.reading(assessment))")
    }

    /// The shape of a body line: keys in lower case or capitals, values of machine words; not a
    /// line of `wg show` or `route get`, which are read as theirs.
    @Test func keyValueLinesAreToldFromProse() {
        func words(_ line: String) -> [Substring] { line.split(separator: " ") }
        for line in ["throttling: level 1 (opportunistic)", "L4S: enabled", "unaligned pkts: 12", "txstart qlen: 10 packets timeout: 100 microseconds",
                     "vlan: 10 parent interface: en0", "netif: 3F2504E0-4F89-11D3-9A0C-0305E82C3301", "uplink rate: 29.49 Mbps [eff] / 106.81 Mbps"] {
            #expect(Section.isKeyValueLine(words(line)), "\(line)")
        }
        for line in ["Note: utun5 is down", "note: utun5 is down", "time: 10:32", "date: 2024-03-05", "here is the output:", "Output:", "sudo: a password is required",
                     "update: 3 hours later", "interface: utun6", "public key: AbCd=", "listening port: 51820", "gateway: 10.66.66.1"] {
            #expect(!Section.isKeyValueLine(words(line)), "\(line)")
        }
    }
}

import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Routing tables in shapes that are hard to read (round 42, F3, F5, F6g), on ClashX's cascade
/// `1` … `128.0/1` into the gone utun7 (`clashx-gone-utun7.txt`, critical as netstat prints it):
/// a table whose columns were cut away is unknown, never OK; one whose cells a browser or
/// `unexpand` separated by tabs is read as the spaced one; `ip route` of Homebrew's iproute2mac
/// is named, not passed by.
@Suite struct CaptureRouteTableShapeTests {
    static func fixture(_ name: String) throws -> String { try CaptureDefaultRouteTests.fixture(name) }

    static func assess(_ text: String) -> Assessment { CapturePasteTests.assess(text) }

    /// The critical finding over the cascade, with all eight routes.
    static func cascadeBlackholed(_ assessment: Assessment) -> Bool {
        assessment.status == .critical && assessment.findings.contains {
            $0.id == FindingID.splitDefault && $0.severity == .critical && $0.ifname == "utun7" && $0.routes?.count == 8
        }
    }

    @Test func theSpacedTableIsCritical() throws {
        #expect(Self.cascadeBlackholed(Self.assess(try Self.fixture("clashx-gone-utun7.txt"))))
    }

    // MARK: F3: a table none of whose rows could be read

    /// `| cut -c1-45` (no Netif column), `| awk '{print $1, $2}'`, `| sed 's/  */,/g'`: the table
    /// shows routes that could not be read, any of which may be the outage; the answer is unknown.
    @Test func aTableNoRowOfWhichCouldBeReadIsUnknown() throws {
        let spaced = try Self.fixture("clashx-gone-utun7.txt")
        let lines = spaced.split(separator: "\n", omittingEmptySubsequences: false)
        let header = try #require(lines.firstIndex { $0.hasSuffix("% netstat -rn -f inet") })
        let blanks = try Regex("  +")
        var sedLines: [String] = lines[..<header].map(String.init)
        sedLines.append(String(lines[header]) + " | sed 's/  */,/g'")
        for line in lines[(header + 1)...] { sedLines.append(String(line).replacing(blanks, with: ",")) }
        let sed = sedLines.joined(separator: "\n")
        #expect(sed.contains("default,192.168.1.1,UGScg,en0,"))
        for (label, text) in [("cut", try Self.fixture("clashx-cut45.txt")), ("awk", try Self.fixture("clashx-awk2.txt")), ("sed", sed)] {
            let assessment = Self.assess(text)
            #expect(assessment.status == .unknown && assessment.status.exitCode == 3, "\(label): \(assessment.status)")
            let missing = try #require(assessment.findings.first { $0.id == FindingID.captureMissing })
            #expect(missing.leavesUnknown && missing.evidence.contains("the status is unknown"), "\(label)")
        }
    }

    /// Control: a capture that has no routing table at all stays as it was, OK with what it lacks
    /// told; it shows no route it could not read.
    @Test func aCaptureWithoutATableStaysOK() throws {
        let text = try Self.fixture("grep-utun12-default.txt")
            .swapping("jane@MacBook-Pro ~ % netstat -rn | grep utun12\ndefault            10.66.66.1         UGSc               utun12       \n", "")
        let assessment = Self.assess(text)
        #expect(assessment.status == .ok)
        #expect(assessment.findings.contains { $0.id == FindingID.captureMissing && !$0.leavesUnknown })
    }

    // MARK: F5: tab-separated tables

    /// A table copied from a rendered web page (one tab between cells), through `unexpand -a`, or
    /// with every run of blanks a tab: `127<TAB>` and `1<TAB>` are destinations, not `cat -n`
    /// line numbers, and the verdict is the spaced table's.
    @Test(arguments: ["clashx-tsv.txt", "clashx-unexpand.txt", "clashx-tabs.txt"])
    func aTabSeparatedTableIsReadAsTheSpacedOne(file: String) throws {
        let text = try Self.fixture(file)
        #expect(text.contains("\n1\t") || text.contains("\n1 \t"), "\(file) has no bare `1` row")
        let assessment = Self.assess(text)
        #expect(Self.cascadeBlackholed(assessment), "\(file): \(assessment.findings.map(\.evidence))")
        #expect(!assessment.interfaces.contains { $0.interface.name == "utun7" })
    }

    /// Control: the whole paste numbered by `cat -n` (`%6d\t`), also each line's number glued to
    /// the line (the blanks before it lost), is read as it is plainly.
    @Test func catDashNNumbersAreStillTakenAway() throws {
        let plain = try Self.fixture("clashx-gone-utun7.txt")
        let lines = plain.split(separator: "\n", omittingEmptySubsequences: false)
        let padded = lines.enumerated().map { String(repeating: " ", count: 6 - String($0.offset + 1).count) + "\($0.offset + 1)\t\($0.element)" }
        let glued = lines.enumerated().map { "\($0.offset + 1)\t\($0.element)" }
        for (label, numbered) in [("padded", padded), ("glued", glued)] {
            let assessment = Self.assess(numbered.joined(separator: "\n"))
            #expect(Self.cascadeBlackholed(assessment), "\(label): \(assessment.findings.map(\.evidence))")
        }
    }

    // MARK: F6g: iproute2mac

    /// `ip route` on a Mac with Homebrew's iproute2mac prints Linux's shape: not read, but named
    /// without --verbose, with what to paste instead.
    @Test(arguments: ["ip route", "ip r", "ip -4 route show", "ip route list"])
    func iproute2macOutputIsNamed(command: String) throws {
        let text = try Self.fixture("iproute2mac.txt").swapping("% ip route\n", "% \(command)\n")
        let problems = Self.assess(text).snapshot.readingProblems
        #expect(problems.contains { $0.contains("`\(command)` output (Homebrew's iproute2mac) is not read") && $0.contains("paste `netstat -rn`") }, "\(problems)")
    }

    /// Control: other commands (`ping`, `ip addr`) are not named so.
    @Test func otherCommandsAreNotTakenForIpRoute() throws {
        for command in ["ping -c1 1.1.1.1", "ip addr"] {
            let text = try Self.fixture("iproute2mac.txt").swapping("% ip route\n", "% \(command)\n")
            #expect(!Self.assess(text).snapshot.readingProblems.contains { $0.contains("iproute2mac") }, "\(command)")
        }
    }
}

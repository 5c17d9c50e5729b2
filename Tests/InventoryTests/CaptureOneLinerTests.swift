import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A read-only one-liner that runs the listings together (`ifconfig -a; sudo lsof -nP | grep
/// utun_control`, lsof first, or with `netstat -rn` between) reads as the same commands typed on
/// lines of their own: nothing on the line changes the tables, and `| grep utun_control` keeps
/// every holder row. A line that changes something between its listings, or pipes a listing into
/// anything that may cut it, is read as before: its holders are unknown, and nothing is planned.
@Suite struct CaptureOneLinerTests {
    /// The reviewer's session on three command lines: nesession[448] hoards utun4–6.
    static let separateLines = "hoard-three-command-lines.txt"

    /// The same session with its commands on one line, in either order: the same hoard, the
    /// same plan.
    @Test(arguments: ["oneliner-ifconfig-netstat-lsof.txt", "oneliner-lsof-first.txt"])
    func aReadOnlyOneLinerGivesTheVerdictsOfSeparateLines(fixture: String) throws {
        let separate = try CaptureProofTests.fixture(Self.separateLines)
        let oneLine = try CaptureProofTests.fixture(fixture)
        #expect(CaptureProofTests.verdict(oneLine) == CaptureProofTests.verdict(separate))
        #expect(CaptureProofTests.verdict(oneLine).findings.contains("warning utun-hoard -"), "\(CaptureProofTests.verdict(oneLine))")
        #expect(CaptureHoardTests.reapCommands(oneLine) == CaptureHoardTests.reapCommands(separate))
        #expect(CaptureHoardTests.reapCommands(oneLine).count == 6)
    }

    /// `ifconfig -a; sudo lsof -nP | grep utun_control`, then `netstat -rn`: as when the lsof is
    /// typed on a line of its own after the listing.
    @Test func anLsofAfterTheListingOnItsLineIsReadAsItsOwnLine() throws {
        let oneLine = try CaptureProofTests.fixture("oneliner-ifconfig-then-lsof.txt")
        let separate = Self.split(oneLine, first: "ifconfig -a", then: "sudo lsof -nP | grep utun_control")
        #expect(separate != oneLine)
        #expect(CaptureProofTests.verdict(oneLine) == CaptureProofTests.verdict(separate))
        #expect(CaptureProofTests.verdict(oneLine).findings.contains("warning utun-hoard -"), "\(CaptureProofTests.verdict(oneLine))")
        #expect(CaptureHoardTests.reapCommands(oneLine) == CaptureHoardTests.reapCommands(separate))
        #expect(!CaptureHoardTests.reapCommands(oneLine).isEmpty)
    }

    /// Lines that change the tables between the listings (a kill, time passing, an interface taken
    /// down), or that pipe lsof into more than a grep that keeps every holder row (a cut, a grep
    /// that drops them, a file shown later): the holders are unknown, and nothing is planned.
    @Test(arguments: [
        "ifconfig -a; sudo killall -9 nesessionmanager; sudo lsof -nP | grep utun_control", "ifconfig -a; sleep 30; sudo lsof -nP | grep utun_control",
        "ifconfig -a; sudo ifconfig utun4 down; sudo lsof -nP | grep utun_control", "ifconfig -a; sudo lsof -nP | grep utun_control | head -5",
        "ifconfig -a; sudo lsof -nP | head -40", "ifconfig -a; sudo lsof -nP | grep -v utun_control",
        "ifconfig -a; sudo lsof -nP | grep utun_control > l.txt; cat l.txt", "ifconfig -a; sudo lsof -nP | grep utun_control | grep nesession",
    ])
    func aOneLinerThatChangesOrCutsLeavesTheHoldersUnknown(commandLine: String) throws {
        let text = try CaptureProofTests.fixture("oneliner-ifconfig-then-lsof.txt")
            .replacingOccurrences(of: "% ifconfig -a; sudo lsof -nP | grep utun_control\n", with: "% \(commandLine)\n")
        #expect(text.contains(commandLine))
        let verdict = CaptureProofTests.verdict(text)
        #expect(verdict.findings.contains("info holder-unknown -"), "\(commandLine): \(verdict)")
        #expect(!verdict.findings.contains("warning utun-hoard -"), "\(commandLine): \(verdict)")
        #expect(CaptureHoardTests.reapCommands(text).isEmpty, "\(commandLine): \(CaptureHoardTests.reapCommands(text))")
    }

    /// With lsof first, the interface listing after it is cut by its own pipe, or read across a
    /// change: no unit is known idle, and nothing is planned.
    @Test(arguments: ["sudo lsof -nP | grep utun_control; ifconfig -a | head -57; netstat -rn",
                      "sudo lsof -nP | grep utun_control; sudo killall -9 nesessionmanager; ifconfig -a; netstat -rn"])
    func anLsofFirstOneLinerWithACutOrAChangePlansNothing(commandLine: String) throws {
        let text = try CaptureProofTests.fixture("oneliner-lsof-first.txt")
            .replacingOccurrences(of: "% sudo lsof -nP | grep utun_control; ifconfig -a; netstat -rn\n", with: "% \(commandLine)\n")
        #expect(text.contains(commandLine))
        #expect(CaptureHoardTests.reapCommands(text).isEmpty, "\(commandLine): \(CaptureHoardTests.reapCommands(text))")
    }

    /// The text with the one-liner `first; then` typed as two command lines: `then` on a line of
    /// its own before the first lsof row.
    static func split(_ text: String, first: String, then: String) -> String {
        var lines = text.components(separatedBy: "\n")
        guard let line = lines.firstIndex(where: { $0.hasSuffix("% \(first); \(then)") }),
              let row = lines.firstIndex(where: { $0.contains("com.apple.net.utun_control") }) else { return text }
        lines[line] = lines[line].replacingOccurrences(of: "\(first); \(then)", with: first)
        let prompt = lines[line].replacingOccurrences(of: first, with: "")
        lines.insert(prompt + then, at: row)
        return lines.joined(separator: "\n")
    }
}

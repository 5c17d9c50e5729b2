import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A time a command printed dates the listings of its line, wherever on the line it ran (`date;
/// ifconfig -a`, `ifconfig -a; date`, `date && netstat -rn`), and in whatever form: `date`'s
/// default in the languages macOS prints it in, a bare clock (`date +%T`), seconds since 1970
/// (`date +%s`), or `uptime`'s clock. Two more than ten minutes apart are two moments, in which a
/// VPN may have reconnected from its menu with no command typed at all.
@Suite struct CaptureShownTimeTests {
    /// The tuntaposx session of `CaptureReconnectTests` with nothing typed between the `closed`
    /// block and the routes: `ifconfig` and `netstat` for its two command lines, and `middle`
    /// after the ifconfig block (where a trailing time of its line stands).
    static func session(ifconfig: String, middle: String = "", netstat: String) throws -> String {
        CaptureShellSyntaxTests.withoutPs(try CaptureProofTests.fixture("tunnelblick-closed-then-reconnect.txt"))
            .replacingOccurrences(of: "MacBook-Pro:~ bob$ ifconfig -a\n", with: ifconfig)
            .replacingOccurrences(of: "MacBook-Pro:~ bob$ open -a Tunnelblick\nMacBook-Pro:~ bob$ sleep 20\nMacBook-Pro:~ bob$ netstat -nr -f inet\n",
                                  with: middle + netstat)
    }

    /// The reviewer's paste: `date; ifconfig -a` at 17:02:11, `date; netstat -nr -f inet` at 17:41:30.
    @Test func theReviewersDatedListingsAreTwoMoments() throws {
        try CaptureShellSyntaxTests.expectNothingPlanned(try CaptureProofTests.fixture("date-semicolon-listings-39-minutes-apart.txt"), "fixture")
    }

    /// The hoard form: lsof read 39 minutes after the listing ties no holder to its units.
    @Test func anLsofDatedLaterTiesNoHolders() throws {
        let text = try CaptureProofTests.fixture("date-semicolon-hoard-lsof-39-minutes-later.txt")
        let verdict = CaptureProofTests.verdict(text)
        #expect(!verdict.findings.contains("warning utun-hoard -"), "\(verdict)")
        #expect(CaptureHoardTests.reapCommands(text).isEmpty, "\(CaptureHoardTests.reapCommands(text))")
        // The control: the same times two minutes apart are one moment, and the hoard stands.
        let near = text.replacingOccurrences(of: "Sat Dec  5 17:41:30 CET 2026", with: "Sat Dec  5 17:04:30 CET 2026")
        #expect(CaptureProofTests.verdict(near).findings.contains("warning utun-hoard -"), "\(CaptureProofTests.verdict(near))")
    }

    /// Times 39 minutes apart, printed before each listing on its line or on one of its own, in
    /// the forms people paste: each pair is two moments, and nothing is planned.
    @Test(arguments: [
        ("date; ", "Sat Dec  5 17:02:11 CET 2026", "Sat Dec  5 17:41:30 CET 2026"),
        ("date && ", "Sat Dec  5 17:02:11 CET 2026", "Sat Dec  5 17:41:30 CET 2026"),
        ("date -u; ", "Sat Dec  5 16:02:11 UTC 2026", "Sat Dec  5 16:41:30 UTC 2026"),
        ("date; ", "sáb  5 dic 2026 17:02:11 CET", "sáb  5 dic 2026 17:41:30 CET"),
        ("date; ", "Сб  5 дек 2026 17:02:11 MSK", "Сб  5 дек 2026 17:41:30 MSK"),
        ("date; ", "2026년 12월  5일 토요일 17시 02분 11초 KST", "2026년 12월  5일 토요일 17시 41분 30초 KST"),
        ("date +%T\n", "17:02:11", "17:41:30"), ("date +\"%H:%M:%S\"\n", "17:02:11", "17:41:30"),
        ("date +%s\n", "1796400131", "1796402490"),
        ("uptime\n", "17:02  up 3 days,  2:11, 2 users, load averages: 1.52 1.61 1.70", "17:41  up 3 days,  2:50, 2 users, load averages: 1.22 1.40 1.55"),
    ] as [(String, String, String)])
    func timesFarApartAreTwoMoments(command: String, first: String, second: String) throws {
        func line(_ listing: String, _ time: String) -> String {
            command.hasSuffix("\n") ? "MacBook-Pro:~ bob$ \(command)\(time)\nMacBook-Pro:~ bob$ \(listing)\n"
                : "MacBook-Pro:~ bob$ \(command)\(listing)\n\(time)\n"
        }
        let text = try Self.session(ifconfig: line("ifconfig -a", first), netstat: line("netstat -nr -f inet", second))
        try CaptureShellSyntaxTests.expectNothingPlanned(text, "\(command) \(second)")
        // The control: two minutes apart, one moment, and `closed` stands for the routes.
        let near = text.replacingOccurrences(of: second, with: first.replacingOccurrences(of: "17:02", with: "17:04")
            .replacingOccurrences(of: "16:02", with: "16:04").replacingOccurrences(of: "17시 02분", with: "17시 04분")
            .replacingOccurrences(of: "1796400131", with: "1796400251"))
        #expect(near != text)
        try CaptureShellSyntaxTests.expectClosedStands(near, "\(command) near")
    }

    /// A time printed after the listing on its line (`ifconfig -a; date`) dates that listing.
    @Test func aTimeAfterTheListingDatesIt() throws {
        let text = try Self.session(ifconfig: "MacBook-Pro:~ bob$ ifconfig -a; date\n", middle: "Sat Dec  5 17:02:11 CET 2026\n",
                                    netstat: "MacBook-Pro:~ bob$ netstat -nr -f inet; date\n")
            .replacingOccurrences(of: "MacBook-Pro:~ bob$ \n", with: "Sat Dec  5 17:41:30 CET 2026\nMacBook-Pro:~ bob$ \n")
        try CaptureShellSyntaxTests.expectNothingPlanned(text, "trailing")
        try CaptureShellSyntaxTests.expectClosedStands(text.replacingOccurrences(of: "17:41:30", with: "17:03:30"), "trailing near")
    }
}

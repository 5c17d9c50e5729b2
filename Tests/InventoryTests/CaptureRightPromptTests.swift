import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// A theme's right prompt on a command line (powerlevel10k's `15s 10:20:03`) is no argument: the
/// listing under it is whole (round 41 F2). A real argument is never taken for one.
@Suite struct CaptureRightPromptTests {
    static func fixture(_ name: String) throws -> String { try CaptureLsofColumnTests.fixture(name) }

    /// The review's pastes: each blackholed default stays CRITICAL, as without the right prompt.
    @Test(arguments: ["wg-gone-default-linkN.txt", "ifconfig-rprompt.txt", "p10k-rprompt-ifconfig.txt", "prompt-rprompt-kube.txt", "prompt-rprompt-conda.txt"])
    func aRightPromptKeepsTheListingWhole(fixture: String) throws {
        let verdict = CaptureProofTests.verdict(try Self.fixture(fixture))
        #expect(verdict.status == .critical && verdict.exit == 2, "\(fixture): \(verdict)")
        #expect(verdict.findings.contains { $0.hasPrefix("critical split-default utun") }, "\(fixture): \(verdict)")
    }

    /// The hoard fixture's netstat line with `rightPrompt` after `netstat -rn` and `gap` blanks.
    static func hoard(_ rightPrompt: String, gap: Int = 40, command: String = "netstat -rn") throws -> String {
        let text = try fixture("p10k-rprompt-netstat-hoard.txt")
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("jane@MacBook-Pro ~ % netstat -rn") })
        let replacement = "jane@MacBook-Pro ~ % \(command)" + (rightPrompt.isEmpty ? "" : String(repeating: " ", count: gap) + rightPrompt)
        return text.replacingOccurrences(of: String(line), with: replacement)
    }

    /// The plan is the control's, whatever the theme shows: run times, clocks, status marks,
    /// a Kubernetes context, a conda environment; a run time alone right after the command too.
    @Test(arguments: [("15s", 40), ("1m3s 10:20:03", 40), ("INT ✘  15s", 60), ("⎈ minikube  3.11.4", 30), ("base  at 10:20:03", 30),
                      ("350ms", 3), ("15s 10:20:03", 1), ("2s", 1), ("took 15s", 1), ("9:41", 12)])
    func theHoardIsPlannedUnderARightPrompt(rightPrompt: String, gap: Int) throws {
        let control = CaptureHoardTests.reapCommands(try Self.hoard(""))
        #expect(control.count == 14, "\(control)")
        #expect(CaptureHoardTests.reapCommands(try Self.hoard(rightPrompt, gap: gap)) == control, "'\(rightPrompt)' after \(gap) blanks")
    }

    /// The other way: a filter or a word that may be an argument is never hidden by what
    /// follows it. A grep stays a grep, an lsof file name stays a selection, an address or a
    /// word without a right prompt's sign stays unread.
    @Test(arguments: [("netstat -rn | grep default", "15s 10:20:03"), ("netstat -rn | grep -v default", "INT ✘  15s"), ("netstat -rn", "utun12"), ("netstat -rn", "10.0.0.1  15s"),
                      ("netstat -rn", "-f inet  15s"), ("netstat -rn", "> rt.txt  15s"), ("netstat -rn", "base")])
    func aRightPromptHidesNoArgument(command: String, rightPrompt: String) throws {
        let commands = CaptureHoardTests.reapCommands(try Self.hoard(rightPrompt, command: command))
        #expect(commands.isEmpty, "`\(command)` + '\(rightPrompt)': \(commands)")
    }

    @Test func anLsofFileNameIsNoRightPrompt() throws {
        let text = try Self.hoard("")
            .replacingOccurrences(of: "% sudo lsof -nP | grep utun_control", with: "% sudo lsof -nP                    minikube  15s 10:20:03")
        #expect(CaptureHoardTests.reapCommands(text).isEmpty)
        let prompt = try Self.hoard("")
            .replacingOccurrences(of: "% sudo lsof -nP | grep utun_control", with: "% sudo lsof -nP | grep utun_control                    15s 10:20:03")
        #expect(CaptureHoardTests.reapCommands(prompt).count == 14)
    }

    @Test func signsAndWords() {
        #expect(ShellCommand.isRightPromptSign("⎈"))
        #expect(ShellCommand.isRightPromptSign("1m3s"))
        #expect(ShellCommand.isRightPromptSign("9:41"))
        #expect(!ShellCommand.isRightPromptSign("utun3"))
        #expect(!ShellCommand.isRightPromptSign("10.0.0.1"))
        #expect(ShellCommand.isRightPromptWord("3.11.4", tool: .lsof))
        #expect(!ShellCommand.isRightPromptWord("minikube", tool: .lsof))
        #expect(ShellCommand.isRightPromptWord("minikube", tool: .netstat))
        #expect(!ShellCommand.isRightPromptWord("10.0.0.1", tool: .netstat))
        #expect(!ShellCommand.isRightPromptWord("-f", tool: .netstat))
    }
}

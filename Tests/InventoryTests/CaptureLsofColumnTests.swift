import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// lsof's PID and COMMAND are read by its columns' names, never by counting back from TYPE past
/// columns that `-R` (PPID) and `-g` (PGID) add (round 41 F1, F4). identityservicesd holds
/// utun0–2 and rapportd utun3, as on every Mac; nesessionmanager hoards utun4–12. Only the
/// hoard's idle units may lose routes.
@Suite struct CaptureLsofColumnTests {
    static func fixture(_ name: String) throws -> String { try CaptureProofTests.fixture("round41/\(name)") }

    /// The plan of the control, `sudo lsof -nP +c 0 | grep utun_control`: nesessionmanager's
    /// seven idle units, nothing of the system daemons'.
    static func controlPlan() throws -> [String] {
        let commands = CaptureHoardTests.reapCommands(try fixture("lsof-plain-ids-three.txt"))
        #expect(commands.count == 14, "\(commands)")
        #expect(commands.contains("route -n delete -inet6 default fe80::%utun4 -ifscope utun4"))
        return commands
    }

    static func touchesSystemUtuns(_ commands: [String]) -> Bool {
        commands.contains { command in (0...3).contains { command.contains("%utun\($0) ") || command.contains("%utun\($0)/") } }
    }

    /// The control with its lsof command line replaced by `command` and each utun row's PID
    /// followed by `extra(pid)` (`750 750` for `-g`); `header`, when given, goes above the rows.
    static func variant(command: String, header: String? = nil, extra: (Substring) -> [String], renaming: [String: String] = [:]) throws -> String {
        let text = try fixture("lsof-plain-ids-three.txt")
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("jane@MacBook-Pro ~ % sudo lsof") {
                lines.append("jane@MacBook-Pro ~ % \(command)")
                if let header { lines.append(header) }
            } else if line.contains("utun_control") {
                let words = line.split(separator: " ")
                let name = renaming[String(words[0])] ?? String(words[0])
                lines.append(([name, String(words[1])] + extra(words[1]) + words[2...].map(String.init)).joined(separator: "  "))
            } else {
                lines.append(String(line))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The review's pastes: `-g` without a header (`+c 0`, grepped), `-R` with and without its
    /// header, `-g` with its header. Each plans what the plain listing plans: no route of the
    /// system daemons' utuns (`750[750]` and `412[1]` as holders planned theirs).
    @Test(arguments: ["lsof-g-ids-three.txt", "lsof-R-ppid-column.txt", "lsof-R-grep.txt", "lsof-g-pgid-column.txt"])
    func anExtraIdColumnIsNoPid(fixture: String) throws {
        let text = try Self.fixture(fixture)
        let commands = CaptureHoardTests.reapCommands(text)
        #expect(!Self.touchesSystemUtuns(commands), "\(fixture): \(commands)")
        #expect(commands.count == 14, "\(fixture): \(commands)")
        let hoards = CapturePasteTests.assess(text).findings.filter { $0.id == FindingID.utunHoard }
        #expect(hoards.count == 1 && hoards[0].evidence.hasPrefix("nesessionmanager[448] holds 8"), "\(fixture): \(hoards.map(\.evidence))")
    }

    /// Shapes of our own: both columns (`-R -g`, `-nPRg`) with and without a header, `-o`
    /// (OFFSET) and `-s` (SIZE), and `+c 0` names with spaces among extra columns. Each reads as
    /// the control does.
    @Test(arguments: [
        ("sudo lsof -nP -R -g | grep utun_control", nil as String?),
        ("sudo lsof +c 0 -nPRg", "COMMAND  PID  PPID  PGID  USER  FD  TYPE  DEVICE  SIZE/OFF  NODE  NAME"),
        ("sudo lsof -nP -g -R", "COMMAND  PID  PPID  PGID  USER  FD  TYPE  DEVICE  OFFSET  NODE  NAME"),
    ])
    func bothColumnsLineUp(command: String, header: String?) throws {
        let text = try Self.variant(command: command, header: header, extra: { _ in ["1", "77"] })
        #expect(CaptureHoardTests.reapCommands(text) == (try Self.controlPlan()), "\(command)")
    }

    @Test(arguments: [("sudo lsof -nP -g", "COMMAND  PID  PGID  USER  FD  TYPE  DEVICE  SIZE  NODE  NAME"),
                      ("sudo lsof +c 0 -nP -g", "COMMAND  PID  PGID  USER  FD  TYPE  DEVICE  SIZE/OFF  NODE  NAME"),
                      ("sudo lsof +c 0 -nPg | grep utun_control", nil as String?)])
    func namesWithSpacesBesideAPgid(command: String, header: String?) throws {
        let text = try Self.variant(command: command, header: header, extra: { [String($0)] },
                                    renaming: ["WireGuardNetworkExtension": "WireGuard Network Extension", "rapportd": "rapport 2"])
        #expect(CaptureHoardTests.reapCommands(text) == (try Self.controlPlan()), "\(command)")
        let utun12 = CapturePasteTests.assess(text).interfaces.first { $0.interface.name == "utun12" }
        #expect(utun12?.holders.map(\.comm).contains("WireGuard Network Extension") == true, "\(String(describing: utun12?.holders))")
    }

    /// Rows that cannot be lined up one way are not read, and nothing is planned on the listing:
    /// `-g` rows with no header and no command line (a PGID or a name's number?), a `-K` TID
    /// column (empty on a process's own rows), and rows with fewer words than the header names.
    @Test(arguments: [
        ("", nil as String?, 1),
        ("sudo lsof -nP -K | grep utun_control", nil, 1),
        ("sudo lsof -nP", "COMMAND  PID  TID  TASKCMD  USER  FD  TYPE  DEVICE  SIZE/OFF  NODE  NAME", 1),
        ("sudo lsof -nP -R -g", "COMMAND  PID  PPID  PGID  USER  FD  TYPE  DEVICE  SIZE/OFF  NODE  NAME", 1),
    ])
    func rowsThatDoNotLineUpPlanNothing(command: String, header: String?, extras: Int) throws {
        var text = try Self.variant(command: command, header: header, extra: { Array(repeating: String($0), count: extras) })
        if command.isEmpty { text = text.replacingOccurrences(of: "jane@MacBook-Pro ~ % \n", with: "") }
        let assessment = CapturePasteTests.assess(text)
        let commands = CaptureHoardTests.reapCommands(text)
        #expect(commands.isEmpty, "\(command): \(commands)")
        #expect(!assessment.findings.contains { $0.id == FindingID.utunHoard && $0.reapable }, "\(command)")
        #expect(assessment.snapshot.readingProblems.contains { $0.contains("do not line up with lsof's columns") }
                || assessment.snapshot.readingNotes.contains { $0.contains("do not line up") } || command.isEmpty,
                "\(assessment.snapshot.readingProblems)")
    }

    @Test func optionLettersStopAtAValue() {
        func letters(_ arguments: [String]) -> Set<Character> {
            LsofIdColumns.optionLetters(ShellCommand(tool: .lsof, name: "lsof", arguments: arguments, words: 0..<1))
        }
        #expect(letters(["-nPRg"]) == ["n", "P", "R", "g"])
        #expect(letters(["-cRapport"]) == ["c"])
        #expect(letters(["-p448", "-R"]) == ["p", "R"])
        #expect(letters(["-Ki"]).isEmpty)
        #expect(LsofIdColumns(command: ShellCommand(tool: .lsof, name: "lsof", arguments: ["-g448", "-R"], words: 0..<1)) == .named(["PPID", "PGID"]))
        #expect(LsofIdColumns(command: ShellCommand(tool: .lsof, name: "lsof", arguments: ["-nPK"], words: 0..<1)) == .unmappable(["TID"]))
    }

    /// Without a header or command line, a number before the PID leaves two readings.
    @Test func unknownColumnsReadOnlyOneWay() {
        #expect(LsofIdColumns.unknown.read(["identitys", "412"])?.pid == "412")
        #expect(LsofIdColumns.unknown.read(["Google", "Chrome", "Helper", "1822"])?.command == "Google Chrome Helper")
        #expect(LsofIdColumns.unknown.read(["identitys", "412", "1"]) == nil)
        #expect(LsofIdColumns.named(["PGID"]).read(["1Password", "7", "1234", "1234"])?.command == "1Password 7")
        #expect(LsofIdColumns.named(["PGID"]).read(["identitys", "412"]) == nil)
    }

    /// lsof's default nine characters cut `OpenVPN Connect` to `OpenVPN C`: the holder is named
    /// by the whole name ps gives, not by its last word or the directory `OpenVPN`.
    @Test func aCutNameWithASpaceIsNamedByPs() throws {
        let text = try Self.fixture("lsof-openvpn-connect-space.txt")
        let utun12 = CapturePasteTests.assess(text).interfaces.first { $0.interface.name == "utun12" }
        #expect(utun12?.holders.map(\.comm).contains("OpenVPN Connect") == true, "\(String(describing: utun12?.holders))")
        let c0 = try Self.fixture("lsof-c0-spaces.txt")
        let held = CapturePasteTests.assess(c0).interfaces.first { $0.interface.name == "utun12" }
        #expect(held?.holders.map(\.comm).contains("WireGuard Network Extension") == true, "\(String(describing: held?.holders))")
    }
}

/// lsof's field output (`-F`) is for programs and is not read; the report says it was seen and
/// what to paste instead, rather than that the capture lacks lsof output (round 41 F3).
@Suite struct CaptureLsofFieldTests {
    @Test(arguments: [true, false])
    func fieldOutputIsNamedNotRead(withCommandLine: Bool) throws {
        var text = try CaptureLsofColumnTests.fixture("lsof-F-mode.txt")
        if !withCommandLine {
            text = text.replacingOccurrences(of: "jane@MacBook-Pro ~ % sudo lsof -nP -F pcfn | grep -B3 utun_control\n", with: "")
            #expect(!text.contains("-F pcfn"))
        }
        let assessment = CapturePasteTests.assess(text)
        #expect(!assessment.findings.contains { $0.id == FindingID.captureMissing && $0.evidence.contains("lsof") }, "\(assessment.findings.map(\.evidence))")
        let unknown = assessment.findings.first { $0.id == FindingID.holderUnknown }
        #expect(unknown?.evidence.contains("field output") == true && unknown?.evidence.contains("sudo lsof -nP | grep utun_control") == true,
                "\(String(describing: unknown?.evidence))")
        #expect(CaptureHoardTests.reapCommands(text).isEmpty)
    }
}

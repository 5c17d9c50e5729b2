import ArgumentParser
import Foundation
import Inventory
import TunwardenCore
#if canImport(Darwin)
import Darwin
#endif

/// `tunwarden snapshot DIR`: capture the macOS tools' output for `audit --from`, tickets and support.
public struct SnapshotCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Capture ifconfig -a -v, netstat -rn, lsof -nP and ps -axww -o pid,comm into a directory (macOS).",
        discussion: """
        Writes ifconfig.txt, netstat.txt, lsof.txt and ps.txt into DIR, each starting with the command line \
        that made it (at a # prompt when run as root), for `tunwarden audit --from DIR` \
        and `tunwarden reap --from DIR --dry-run` on any machine, or to attach to a ticket. Run it with sudo: \
        without root, lsof does not see other users' utun sockets and the capture's holders are incomplete.
        """
    )

    @Argument(help: ArgumentHelp("Directory to write the captures into (created if needed).", valueName: "dir"))
    public var directory: String

    public init() {}

    public func run() throws {
        #if os(macOS)
        let (written, failed) = try DarwinTools().capture(into: directory)
        Terminal.write("Captured \(written.joined(separator: ", ")) into \(directory).\n")
        if geteuid() != 0 { Terminal.note("not root: lsof.txt lacks other users' sockets; run with sudo for a complete capture") }
        if !failed.isEmpty {
            Terminal.error("could not capture: \(failed.joined(separator: "; "))")
            throw ExitCode(AuditStatus.unknown.exitCode)
        }
        #else
        Terminal.error("snapshot captures the output of macOS tools (ifconfig -a -v, netstat -rn, lsof -nP, ps -axww -o pid,comm) and runs on macOS; here, audit the live system, or audit a Mac's capture with --from")
        throw ExitCode(ExitCode.validationFailure.rawValue)
        #endif
    }
}

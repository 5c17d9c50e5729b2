#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import TunwardenCommands

/// Entering a named network namespace needs root (CAP_SYS_ADMIN): run without it, every command
/// that takes `--netns` says so and gives the command line to run as root, instead of a bare
/// setns errno. The built binary runs as the user nobody against a throwaway namespace.
@Suite struct NamespacePrivilegeTests {
    /// The words that run a command as nobody (uid and gid 65534, no supplementary groups), or nil
    /// when this machine has neither setpriv nor runuser.
    static var asNobody: [String]? {
        if let setpriv = Shell.which("setpriv") { return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] }
        if let runuser = Shell.which("runuser") { return [runuser, "-u", "nobody", "--"] }
        return nil
    }

    @Test(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3 to make a namespace"),
          .enabled(if: asNobody != nil && Shell.which("timeout") != nil, "needs setpriv or runuser (to drop root) and timeout"))
    func enteringANamespaceWithoutRootSaysToRunItAsRoot() throws {
        let asNobody = try #require(Self.asNobody)
        let ns = try TestNamespace()
        let state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let refusal = "cannot enter network namespace '\(ns.name)': that needs root (or CAP_SYS_ADMIN), which this process lacks (setns: EPERM)"
        for arguments in [["audit", "--no-state"], ["audit", "--no-state", "--format", "json"], ["audit", "--no-state", "--format", "nagios"],
                          ["watch", "--state-dir", state.path]] {
            let command = [Shell.tunwardenBinary, "--netns", ns.name] + arguments
            // A watch that did get in would run until stopped: the timeout ends it (status 137).
            let result = try Shell.capture(["timeout", "-s", "KILL", "30"] + asNobody + command)
            #expect(result.status == 3, "\(arguments): status \(result.status), stderr: \(result.stderr)")
            let advice = "\(refusal); run it as root: sudo \(command.joined(separator: " "))"
            let expected = arguments[0] == "watch" ? "tunwarden: error: cannot subscribe to rtnetlink events: \(advice)\n" : "tunwarden: error: \(advice)\n"
            #expect(result.stderr == expected, "\(arguments)")
            #expect(!result.stderr.contains("Operation not permitted"), "\(arguments): \(result.stderr)")
            switch arguments.last {
            case "json":
                let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
                #expect(object["status"] as? String == "unknown" && object["error"] as? String == advice, "\(result.stdout)")
            case "nagios":
                #expect(result.stdout.hasPrefix("TUNWARDEN UNKNOWN: \(refusal)"), "\(result.stdout)")
            default:
                #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
            }
        }
    }

    /// The command line given to run as root is the one that was run, quoted so that a shell
    /// passes every argument through unchanged.
    @Test func theRootCommandLineKeepsEveryArgument() throws {
        #expect(ErrorAdvice.asRoot(["/usr/bin/tunwarden", "--netns", "blue", "audit", "--format=json"])
                == "sudo /usr/bin/tunwarden --netns blue audit --format=json")
        let arguments = ["tunwarden", "audit", "--alert-exec", "mail -s 'tun leak' root", "--protect", "wg*", "--textfile", ""]
        let line = ErrorAdvice.asRoot(arguments)
        #expect(line == #"sudo tunwarden audit --alert-exec 'mail -s '\''tun leak'\'' root' --protect 'wg*' --textfile ''"#)
        // What a shell makes of it: sudo's arguments, one per line.
        let echoed = try Shell.run(["sh", "-c", "sudo() { printf '%s\\n' \"$@\"; }; " + line])
        #expect(echoed == arguments.joined(separator: "\n") + "\n")
    }
}
#endif

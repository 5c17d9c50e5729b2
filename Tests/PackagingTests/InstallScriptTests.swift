#if os(Linux)
import Foundation
import Testing
import TestSupport

/// packaging/install.sh, the install from source: everything lands under PREFIX (staged in a
/// temporary DESTDIR, never the real system), and the units it installs run the binary it
/// installed, where the units as shipped name the .deb's /usr/bin/tunwarden.
@Suite struct InstallScriptTests {
    static let script = PackagingTests.repository.appendingPathComponent("packaging/install.sh").path
    static let units = ["tunwarden-audit.service", "tunwarden-audit.timer", "tunwarden-watch.service"]

    static func install(_ settings: [String: String]) throws -> Shell.Result {
        var environment = ProcessInfo.processInfo.environment
        for key in ["PREFIX", "UNITDIR", "BINARY", "DESTDIR"] { environment[key] = nil }
        environment.merge(settings) { _, new in new }
        return try Shell.capture(["/bin/sh", script], environment: environment)
    }

    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int).map { $0 & 0o777 }
    }

    @Test func aPrefixInstallPutsEverythingUnderItAndTheUnitsRunThatBinary() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let result = try Self.install(["PREFIX": "/usr/local", "DESTDIR": root.path, "BINARY": Shell.tunwardenBinary])
        try #require(result.status == 0, "\(result.stdout)\(result.stderr)")
        // Staged, not installed: the message says where, and does not send the user to systemctl.
        #expect(result.stdout.contains("Staged /usr/local/bin/tunwarden") && result.stdout.contains("under \(root.path)"), "\(result.stdout)")
        #expect(!result.stdout.contains("Installed") && !result.stdout.contains("daemon-reload"), "\(result.stdout)")

        let binary = root.path + "/usr/local/bin/tunwarden"
        #expect(Self.mode(binary) == 0o755)
        #expect(try Shell.run([binary, "--version"]) == (try Shell.run([Shell.tunwardenBinary, "--version"])))
        let page = root.path + "/usr/local/share/man/man8/tunwarden.8"
        #expect(Self.mode(page) == 0o644)
        #expect(FileManager.default.contentsEqual(atPath: page, andPath: PackagingTests.repository.appendingPathComponent("man/tunwarden.8").path))
        for completion in ["bash-completion/completions/tunwarden", "zsh/site-functions/_tunwarden", "fish/vendor_completions.d/tunwarden.fish"] {
            let path = root.path + "/usr/local/share/" + completion
            #expect(Self.mode(path) == 0o644, "\(completion)")
            #expect(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("tunwarden"), "\(completion) is empty")
        }
        // Where systemd looks for an administrator's units.
        for unit in Self.units {
            let installed = try String(contentsOfFile: root.path + "/usr/local/lib/systemd/system/" + unit, encoding: .utf8)
            let shipped = try PackagingTests.file("packaging/systemd/" + unit)
            #expect(Self.mode(root.path + "/usr/local/lib/systemd/system/" + unit) == 0o644)
            #expect(!installed.contains("/usr/bin/tunwarden"), "\(unit) still runs /usr/bin/tunwarden")
            #expect(installed == shipped.replacingOccurrences(of: "/usr/bin/tunwarden", with: "/usr/local/bin/tunwarden"), "\(unit) differs beyond the path")
            for line in installed.split(separator: "\n") where line.hasPrefix("ExecStart=") {
                #expect(line.hasPrefix("ExecStart=/usr/local/bin/tunwarden "), "\(unit): \(line)")
            }
        }
    }

    /// What the issue saw: `systemd-analyze verify` on copied units fails with "not executable".
    /// Checked inside the staging root, so that the installed binary is the one looked for.
    @Test(.enabled(if: Shell.which("systemd-analyze") != nil, "needs systemd-analyze"))
    func systemdFindsTheBinaryTheInstalledUnitsRun() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let result = try Self.install(["DESTDIR": root.path, "BINARY": Shell.tunwardenBinary])
        try #require(result.status == 0, "\(result.stderr)")
        let unitDirectory = "/usr/local/lib/systemd/system"
        func notExecutable(_ units: [String]) throws -> [Substring] {
            let verify = try Shell.capture(["systemd-analyze", "--root=\(root.path)", "verify"] + units)
            return (verify.stdout + verify.stderr).split(separator: "\n").filter { $0.contains("tunwarden is not executable") }
        }
        #expect(try notExecutable(Self.units.map { "\(unitDirectory)/\($0)" }).isEmpty)
        // The units as shipped, copied beside them, name a binary this install did not put there.
        let copied = unitDirectory + "/copied-tunwarden-watch.service"
        try FileManager.default.copyItem(atPath: PackagingTests.repository.appendingPathComponent("packaging/systemd/tunwarden-watch.service").path,
                                         toPath: root.path + copied)
        #expect(try notExecutable([copied]).contains { $0.contains("/usr/bin/tunwarden") })
    }

    @Test func anotherPrefixPutsTheUnitsWhereSystemdLooksAndHonoursUnitdir() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let opt = try Self.install(["PREFIX": "/opt/tunwarden/", "DESTDIR": root.path, "BINARY": Shell.tunwardenBinary])
        try #require(opt.status == 0, "\(opt.stderr)")
        #expect(FileManager.default.isExecutableFile(atPath: root.path + "/opt/tunwarden/bin/tunwarden"))
        let watch = try String(contentsOfFile: root.path + "/etc/systemd/system/tunwarden-watch.service", encoding: .utf8)
        #expect(watch.contains("ExecStart=/opt/tunwarden/bin/tunwarden watch\n"))

        let chosen = try Self.install(["PREFIX": "/usr", "UNITDIR": "/lib/systemd/system", "DESTDIR": root.path, "BINARY": Shell.tunwardenBinary])
        try #require(chosen.status == 0, "\(chosen.stderr)")
        let audit = try String(contentsOfFile: root.path + "/lib/systemd/system/tunwarden-audit.service", encoding: .utf8)
        #expect(audit.contains("ExecStart=/usr/bin/tunwarden audit"))
    }

    @Test(arguments: [
        (["PREFIX": "usr/local"], 64, "PREFIX must be an absolute path"),
        (["PREFIX": "/opt/my tools"], 64, "PREFIX may hold only"),
        (["PREFIX": "/"], 64, "PREFIX=/ is not a prefix"),
        (["UNITDIR": "units"], 64, "UNITDIR must be an absolute path"),
        (["BINARY": "/nonexistent/tunwarden"], 66, "no binary at /nonexistent/tunwarden"),
    ] as [([String: String], Int32, String)])
    func badSettingsInstallNothing(settings: [String: String], status: Int32, message: String) throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        var all = ["DESTDIR": root.path, "BINARY": Shell.tunwardenBinary]
        all.merge(settings) { _, new in new }
        let result = try Self.install(all)
        #expect(result.status == status, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty, "something was installed")
    }

    /// The units as shipped are the .deb's: they run the binary build-deb installs.
    @Test func theShippedUnitsRunTheDebsBinary() throws {
        #expect(try PackagingTests.file("packaging/build-deb").contains("\"$stage/usr/bin/tunwarden\""))
        for unit in ["tunwarden-audit.service", "tunwarden-watch.service"] {
            let execs = try PackagingTests.file("packaging/systemd/" + unit).split(separator: "\n").filter { $0.hasPrefix("ExecStart=") }
            #expect(!execs.isEmpty && execs.allSatisfy { $0.hasPrefix("ExecStart=/usr/bin/tunwarden ") }, "\(unit)")
        }
    }
}
#endif

#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport

/// The files under man/ and packaging/ checked against the tool they describe: the man page lints
/// clean and names every option the commands take; unit, cron and launchd command lines parse;
/// the units' capability sets are exactly what judging needs; the .deb builds, installs,
/// verifies and removes cleanly.
@Suite struct PackagingTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func file(_ path: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
    }

    static var isRoot: Bool { getuid() == 0 }

    static let commands = ["audit", "reap", "watch", "journal", "history", "snapshot"]

    @Test(.enabled(if: Shell.which("mandoc") != nil, "needs mandoc"))
    func manPageLintsCleanAtWarningLevel() throws {
        let result = try Shell.capture(["mandoc", "-T", "lint", "-W", "warning", Self.repository.appendingPathComponent("man/tunwarden.8").path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.isEmpty && result.stderr.isEmpty, "\(result.stdout)\(result.stderr)")
    }

    /// Every long option of every command, as `--help` prints it, is in the man page.
    @Test func manPageNamesEveryCommandAndOption() throws {
        let page = try Self.file("man/tunwarden.8")
        for command in Self.commands {
            #expect(page.contains(".Ss \(command)"), "no section for \(command)")
            let help = try Shell.capture([Shell.tunwardenBinary, command, "--help"]).stdout
            // An option's line is indented by two spaces; its help's wrapped lines, by more.
            let options = Set(help.split(separator: "\n").flatMap { line -> [String] in
                guard line.hasPrefix("  -") else { return [] }
                var trimmed = line.dropFirst(2)
                if trimmed.dropFirst(2).hasPrefix(", --") { trimmed = trimmed.dropFirst(4) }
                guard trimmed.hasPrefix("--") else { return [] }
                let first = trimmed.split(separator: " ").first.map(String.init) ?? ""
                return first.split(separator: "/").map { String($0.dropFirst(2)) }
            }.filter { !$0.isEmpty })
            // snapshot takes a directory and no option but --help.
            #expect(options.count >= (command == "snapshot" ? 1 : 2), "parsed no options from \(command) --help")
            for option in options {
                #expect(page.contains("Fl -\(option)"), "\(command) --\(option) is not in man/tunwarden.8")
            }
        }
    }

    /// The command lines the units, the cron entry and the launchd jobs run are ones tunwarden
    /// accepts (checked with --help appended, so nothing runs).
    @Test func scheduledCommandLinesParse() throws {
        var lines: [[String]] = []
        for unit in ["systemd/tunwarden-audit.service", "systemd/tunwarden-watch.service"] {
            for line in try Self.file("packaging/" + unit).split(separator: "\n") where line.hasPrefix("ExecStart=") {
                lines.append(line.dropFirst("ExecStart=".count).split(separator: " ").map(String.init))
            }
        }
        let cron = try Self.file("packaging/cron/tunwarden")
        let cronCommand = try #require(cron.split(separator: "\n").first { $0.hasPrefix("17 ") })
        let invocation = try #require(cronCommand.range(of: "/usr/bin/tunwarden audit"))
        lines.append(cronCommand[invocation.lowerBound...].split(separator: " ").prefix { $0 != ">/dev/null" }.map(String.init))
        for plist in ["org.tunwarden.audit.plist", "org.tunwarden.watch.plist"] {
            let data = try Data(contentsOf: Self.repository.appendingPathComponent("packaging/launchd/\(plist)"))
            let object = try #require(try PropertyListSerialization.propertyList(from: data, format: nil) as? [String: Any], "\(plist) is not a plist")
            #expect(object["Label"] as? String == plist.replacingOccurrences(of: ".plist", with: ""))
            if plist.contains("audit") { #expect(object["StartInterval"] as? Int == 3600) } else { #expect(object["KeepAlive"] as? Bool == true) }
            lines.append(try #require(object["ProgramArguments"] as? [String]))
        }
        #expect(lines.count == 5)
        for line in lines {
            #expect(line.first?.hasSuffix("/tunwarden") == true, "\(line)")
            let result = try Shell.capture([Shell.tunwardenBinary] + line.dropFirst() + ["--help"])
            #expect(result.status == 0, "\(line.joined(separator: " ")): \(result.stderr)")
        }
    }

    @Test(.enabled(if: Shell.which("ruby") != nil, "needs ruby"))
    func homebrewFormulaIsValidRubyAndInstallsFilesThatExist() throws {
        let path = Self.repository.appendingPathComponent("packaging/homebrew/tunwarden.rb").path
        let syntax = try Shell.capture(["ruby", "-c", path])
        #expect(syntax.status == 0, "\(syntax.stderr)")
        let formula = try Self.file("packaging/homebrew/tunwarden.rb")
        for installed in ["man/tunwarden.8", "packaging/tunwarden.conf"] {
            #expect(formula.contains("\"\(installed)\""))
            #expect(FileManager.default.fileExists(atPath: Self.repository.appendingPathComponent(installed).path))
        }
    }

    /// The journal's logrotate entry lints clean, and rotating with it renames the journal (a
    /// reap's append never meets a truncation) and leaves a new, empty journal with the mode
    /// tunwarden gives it, which the next reap appends to and `tunwarden journal` reads.
    @Test(.enabled(if: isRoot && Shell.which("logrotate") != nil, "needs root and logrotate"))
    func logrotateEntryRotatesTheJournalByRenaming() throws {
        let entry = try Self.file("packaging/logrotate/tunwarden")
        #expect(entry.contains("/var/lib/tunwarden/journal.jsonl {"))
        #expect(!entry.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "copytruncate" })
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let lint = try Shell.capture(["logrotate", "-d", "-s", work.path + "/lint.status", Self.repository.appendingPathComponent("packaging/logrotate/tunwarden").path])
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        // logrotate starts its error lines "error: "; a path it echoes may hold the word anywhere.
        #expect(!(lint.stdout + lint.stderr).split(separator: "\n").contains { $0.hasPrefix("error") }, "\(lint.stdout)\(lint.stderr)")

        let journal = work.path + "/journal.jsonl"
        let record = #"{"time":"2026-01-01T00:00:00Z","run":"r","type":"result","ifname":"t0","ifindex":7,"result":"deleted"}"#
        try Data((record + "\n").utf8).write(to: URL(fileURLWithPath: journal))
        let inode = try #require(try FileManager.default.attributesOfItem(atPath: journal)[.systemFileNumber] as? UInt64)
        let config = work.path + "/tunwarden.logrotate"
        try Data(entry.replacingOccurrences(of: "/var/lib/tunwarden/journal.jsonl", with: journal).utf8).write(to: URL(fileURLWithPath: config))
        let rotation = try Shell.capture(["logrotate", "-f", "-s", work.path + "/status", config])
        #expect(rotation.status == 0, "\(rotation.stdout)\(rotation.stderr)")

        let rotated = try FileManager.default.attributesOfItem(atPath: journal + ".1")
        #expect(rotated[.systemFileNumber] as? UInt64 == inode, "the journal was copied, not renamed")
        #expect(try String(contentsOfFile: journal + ".1", encoding: .utf8) == record + "\n")
        let fresh = try FileManager.default.attributesOfItem(atPath: journal)
        #expect(fresh[.size] as? UInt64 == 0)
        #expect((fresh[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o640)
        let shown = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal])
        #expect(shown.status == 0 && shown.stdout.contains("is empty"), "\(shown.stdout)\(shown.stderr)")
        let old = try Shell.capture([Shell.tunwardenBinary, "journal", "--journal", journal + ".1"])
        #expect(old.status == 0 && old.stdout.contains("deleted  device t0 (ifindex 7)"), "\(old.stdout)\(old.stderr)")
    }

    /// The units' CapabilityBoundingSet is what judging needs and no more (holder scanning, other
    /// namespaces, the firewall's rules: see `unitCapabilitiesSeeStackingElsewhereAndTheFirewall`):
    /// with it, a tun held by another user's process is seen as held; without CAP_SYS_PTRACE or
    /// without CAP_DAC_READ_SEARCH, holders are unknown (and nothing is called orphaned).
    @Test(.enabled(if: TestNamespace.available && Shell.which("setpriv") != nil, "needs root, ip, python3 and setpriv"))
    func unitCapabilitiesAreExactlyWhatJudgingNeeds() throws {
        func capabilities(_ unit: String) throws -> [String] {
            let line = try #require(try Self.file("packaging/systemd/\(unit)").split(separator: "\n").first { $0.hasPrefix("CapabilityBoundingSet=") })
            return line.dropFirst("CapabilityBoundingSet=".count).split(separator: " ").map { $0.lowercased().replacingOccurrences(of: "cap_", with: "") }
        }
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "capheld0", "mode", "tun")
        try ns.hold("capheld0", user: 65534)
        try ns.ip("tuntap", "add", "dev", "caporph0", "mode", "tun")
        struct Seen { var status: Int32; var holdersKnown: Bool?; var states: [String: String]; var holders: [String] }
        func audit(_ caps: [String]) throws -> Seen {
            // Inside the namespace, as the units run in the host's (no --netns).
            let result = try Shell.capture(["ip", "netns", "exec", ns.name, "setpriv", "--bounding-set", (["-all"] + caps.map { "+" + $0 }).joined(separator: ","),
                                            "--inh-caps", "-all", Shell.tunwardenBinary, "audit", "--no-state", "--format", "json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
            let interfaces = (object["interfaces"] as? [[String: Any]]) ?? []
            return Seen(status: result.status, holdersKnown: (object["summary"] as? [String: Any])?["holders_known"] as? Bool,
                        states: Dictionary(uniqueKeysWithValues: interfaces.map { ($0["ifname"] as? String ?? "", $0["state"] as? String ?? "") }),
                        holders: interfaces.flatMap { ($0["holders"] as? [[String: Any]] ?? []).compactMap { $0["comm"] as? String } })
        }
        let watch = try capabilities("tunwarden-watch.service"), timer = try capabilities("tunwarden-audit.service")
        #expect(Set(watch) == ["net_admin", "sys_ptrace", "dac_read_search", "sys_admin", "net_raw"])
        #expect(Set(timer) == ["sys_ptrace", "dac_read_search", "sys_admin", "net_admin", "net_raw"])
        for caps in [watch, timer] {
            let seen = try audit(caps)
            #expect(seen.status == 1 && seen.holdersKnown == true, "with \(caps): \(seen)")
            #expect(seen.states == ["capheld0": "live", "caporph0": "orphaned"], "with \(caps)")
            #expect(seen.holders == ["python3"], "with \(caps)")
        }
        for missing in ["sys_ptrace", "dac_read_search"] {
            let seen = try audit(timer.filter { $0 != missing })
            #expect(seen.status == 3 && seen.holdersKnown == false, "without \(missing): \(seen)")
            #expect(seen.states["caporph0"] == "unknown", "without \(missing): an orphan cannot be told from a device in use")
        }
    }

    /// Under the units' capabilities the audit sees what it judges by: a tap carrying a macvlan
    /// moved into another namespace (a container's) and a tun an nftables rule matches by index
    /// are `suspect`, and an unheld tun with neither is orphaned. Under the sets the units had
    /// before (holder scanning alone; the watcher's with CAP_NET_ADMIN), nothing unheld is called
    /// orphaned: each is `unknown`, and a `use-unknown` finding names what could not be read and
    /// the capability missing. The units let setns(2) through for network namespaces alone.
    @Test(.enabled(if: TestNamespace.available && Shell.which("setpriv") != nil && Shell.which("nft") != nil, "needs root, ip, python3, setpriv and nft"))
    func unitCapabilitiesSeeStackingElsewhereAndTheFirewall() throws {
        for unit in ["tunwarden-watch.service", "tunwarden-audit.service"] {
            let lines = try Self.file("packaging/systemd/\(unit)").split(separator: "\n")
            #expect(lines.filter { $0.hasPrefix("RestrictNamespaces=") } == ["RestrictNamespaces=net"], "\(unit)")
        }
        let ns = try TestNamespace(), container = try TestNamespace()
        defer { ns.remove(); container.remove() }
        try ns.ip("tuntap", "add", "dev", "capstack0", "mode", "tap")
        try ns.ip("link", "add", "link", "capstack0", "name", "capmv0", "type", "macvlan")
        try ns.ip("link", "set", "capmv0", "netns", container.name)
        try ns.ip("tuntap", "add", "dev", "capnft0", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "capplain0", "mode", "tun")
        for rule in [["add", "table", "inet", "capt"], ["add", "chain", "inet", "capt", "c", "{ type filter hook input priority 0; }"],
                     ["add", "rule", "inet", "capt", "c", "iif", "\"capnft0\"", "accept"]] {
            try Shell.run(["ip", "netns", "exec", ns.name, "nft"] + rule)
        }
        func audit(_ caps: [String]) throws -> (status: Int32, states: [String: String], findings: [[String: Any]]) {
            let result = try Shell.capture(["ip", "netns", "exec", ns.name, "setpriv", "--bounding-set", (["-all"] + caps.map { "+" + $0 }).joined(separator: ","),
                                            "--inh-caps", "-all", Shell.tunwardenBinary, "audit", "--no-state", "--format", "json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
            let interfaces = (object["interfaces"] as? [[String: Any]]) ?? []
            return (result.status, Dictionary(uniqueKeysWithValues: interfaces.map { ($0["ifname"] as? String ?? "", $0["state"] as? String ?? "") }),
                    (object["findings"] as? [[String: Any]]) ?? [])
        }
        for unit in ["tunwarden-watch.service", "tunwarden-audit.service"] {
            let line = try #require(try Self.file("packaging/systemd/\(unit)").split(separator: "\n").first { $0.hasPrefix("CapabilityBoundingSet=") })
            let caps = line.dropFirst("CapabilityBoundingSet=".count).split(separator: " ").map { $0.lowercased().replacingOccurrences(of: "cap_", with: "") }
            let seen = try audit(caps)
            #expect(seen.states == ["capstack0": "suspect", "capnft0": "suspect", "capplain0": "orphaned"], "\(unit)")
            #expect(!seen.findings.contains { $0["id"] as? String == "use-unknown" }, "\(unit): \(seen.findings)")
        }
        for (caps, missing) in [(["sys_ptrace", "dac_read_search"], ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]),
                                (["net_admin", "sys_ptrace", "dac_read_search"], ["CAP_SYS_ADMIN"])] {
            let seen = try audit(caps)
            #expect(seen.status == 3, "with \(caps)")
            // With CAP_NET_ADMIN the rule is read, and names its tun.
            let rule = caps.contains("net_admin") ? "suspect" : "unknown"
            #expect(seen.states == ["capstack0": "unknown", "capnft0": rule, "capplain0": "unknown"], "with \(caps)")
            #expect(!seen.findings.contains { $0["reapable"] as? Bool == true }, "with \(caps): \(seen.findings)")
            let unread = try #require(seen.findings.first { $0["id"] as? String == "use-unknown" }, "with \(caps): \(seen.findings)")
            let evidence = unread["evidence"] as? String ?? ""
            #expect(evidence.contains("other network namespaces could not be looked in for devices stacked on this one's"), "\(evidence)")
            for capability in missing { #expect(evidence.contains("needs \(capability), which this process lacks"), "with \(caps): \(evidence)") }
            #expect(evidence.contains("nftables") == missing.contains("CAP_NET_ADMIN"), "with \(caps): \(evidence)")
        }
    }

    /// Installations from source (or a package removed but not purged) leave these behind, and
    /// purging the test's package would delete them.
    static let packageLeftovers = ["/var/lib/tunwarden", "/etc/tunwarden", "/etc/cron.d/tunwarden"]
    static let packageTools = ["dpkg", "systemd-analyze", "man", "objdump"]

    /// What keeps this machine from having the package installed and purged by a test, one
    /// cause each, or nothing when the test may run. `packageStatus` is what `dpkg-query -W -f
    /// '${Status}' tunwarden` printed (empty when no such package is known), nil when it could
    /// not be run.
    static func packageTestBlockers(isRoot: Bool, missingTools: [String], leftovers: [String], packageStatus: String?) -> [String] {
        var blockers: [String] = []
        if !isRoot { blockers.append("not root (dpkg -i needs it)") }
        if !missingTools.isEmpty { blockers.append("\(missingTools.joined(separator: ", ")) not installed") }
        if !leftovers.isEmpty {
            blockers.append("\(leftovers.joined(separator: " and ")) exist\(leftovers.count == 1 ? "s" : ""), from an installation from source or a removed package, and purging the test's package would delete them (remove them, or `dpkg --purge tunwarden`, to run this test)")
        }
        switch packageStatus {
        case nil where isRoot && missingTools.isEmpty:
            blockers.append("dpkg-query could not tell whether a tunwarden package is installed")
        case let status? where status.hasPrefix("deinstall ok config-files"):
            blockers.append("a tunwarden package was removed but not purged (dpkg status '\(status)'; `dpkg --purge tunwarden` clears it)")
        case let status? where !status.isEmpty:
            blockers.append("a tunwarden package is installed here (dpkg status '\(status)')")
        default:
            break
        }
        return blockers
    }

    /// Why this machine may not have the package installed and purged by a test, naming every
    /// cause that applies; nil when it may. Worked out once, when the test list is made.
    static let packageTestSkipReason: String? = {
        let missingTools = packageTools.filter { Shell.which($0) == nil }
        let status = missingTools.contains("dpkg") ? "" : (try? Shell.capture(["dpkg-query", "-W", "-f", "${Status}", "tunwarden"]))?.stdout
        let blockers = packageTestBlockers(isRoot: isRoot, missingTools: missingTools,
                                           leftovers: packageLeftovers.filter(FileManager.default.fileExists(atPath:)), packageStatus: status)
        return blockers.isEmpty ? nil : blockers.joined(separator: "; ")
    }()

    @Test func packageTestSkipNamesTheCauseThatApplies() {
        let leftovers = Self.packageTestBlockers(isRoot: true, missingTools: [], leftovers: ["/var/lib/tunwarden", "/etc/tunwarden"],
                                                 packageStatus: "deinstall ok config-files")
        #expect(leftovers == [
            "/var/lib/tunwarden and /etc/tunwarden exist, from an installation from source or a removed package, and purging the test's package would delete them (remove them, or `dpkg --purge tunwarden`, to run this test)",
            "a tunwarden package was removed but not purged (dpkg status 'deinstall ok config-files'; `dpkg --purge tunwarden` clears it)",
        ])
        #expect(Self.packageTestBlockers(isRoot: false, missingTools: ["objdump"], leftovers: [], packageStatus: "")
                == ["not root (dpkg -i needs it)", "objdump not installed"])
        #expect(Self.packageTestBlockers(isRoot: true, missingTools: [], leftovers: [], packageStatus: "install ok installed")
                == ["a tunwarden package is installed here (dpkg status 'install ok installed')"])
        #expect(Self.packageTestBlockers(isRoot: true, missingTools: [], leftovers: [], packageStatus: "").isEmpty)
    }

    /// build-deb's package installs, works, passes `systemd-analyze verify`, and removes leaving
    /// only its conffiles (purge removes those).
    @Test(.enabled(if: packageTestSkipReason == nil, Comment(rawValue: packageTestSkipReason ?? "")),
          .timeLimit(.minutes(20)))
    func debianPackageInstallsVerifiesAndRemovesCleanly() throws {
        let out = try TemporaryDirectory()
        defer { out.remove() }
        // At the lowest priority: the release build runs beside the timing-sensitive watch tests.
        let build = try Shell.capture(["nice", "-n", "19", Self.repository.appendingPathComponent("packaging/build-deb").path, out.path])
        try #require(build.status == 0, "build-deb failed: \(build.stderr)")
        let deb = try #require(build.stdout.split(separator: "\n").last.map(String.init))
        #expect(deb.hasSuffix(".deb") && FileManager.default.fileExists(atPath: deb))

        let usage = try Shell.capture([Self.repository.appendingPathComponent("packaging/build-deb").path])
        #expect(usage.status == 64 && usage.stderr.contains("usage:"))

        let contents = try Shell.run(["dpkg-deb", "-c", deb])
        for path in ["./usr/bin/tunwarden", "./usr/share/man/man8/tunwarden.8.gz", "./lib/systemd/system/tunwarden-watch.service",
                     "./lib/systemd/system/tunwarden-audit.timer", "./etc/tunwarden/tunwarden.conf", "./etc/cron.d/tunwarden",
                     "./usr/share/bash-completion/completions/tunwarden", "./usr/share/zsh/vendor-completions/_tunwarden",
                     "./usr/share/fish/vendor_completions.d/tunwarden.fish", "./etc/logrotate.d/tunwarden", "./var/lib/tunwarden/"] {
            #expect(contents.contains(" \(path)\n") || contents.hasSuffix(" \(path)"), "missing \(path)")
        }
        #expect(try Shell.run(["dpkg-deb", "-f", deb, "Depends"]).contains("libc6"))
        // The state database links the system's SQLite.
        #expect(try Shell.run(["dpkg-deb", "-f", deb, "Depends"]).contains("libsqlite3-0"))
        // libcurl is loaded only to send a webhook: recommended, never a load-time dependency.
        #expect(try Shell.run(["dpkg-deb", "-f", deb, "Recommends"]).contains("libcurl4"))
        #expect(!(try Shell.run(["dpkg-deb", "-f", deb, "Depends"]).contains("curl")))

        defer { _ = try? Shell.capture(["dpkg", "--purge", "tunwarden"]) }
        let install = try Shell.capture(["dpkg", "-i", deb])
        try #require(install.status == 0, "dpkg -i: \(install.stdout)\(install.stderr)")
        #expect(try Shell.run(["/usr/bin/tunwarden", "--version"]).trimmingCharacters(in: .whitespacesAndNewlines)
                == (try Shell.run([Shell.tunwardenBinary, "--version"])).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(try Shell.run(["man", "-w", "tunwarden"]).contains("/usr/share/man/man8/tunwarden.8"))
        let units = ["tunwarden-audit.service", "tunwarden-audit.timer", "tunwarden-watch.service"].map { "/lib/systemd/system/\($0)" }
        let verify = try Shell.capture(["systemd-analyze", "verify"] + units)
        #expect(verify.status == 0 && verify.stderr.isEmpty && verify.stdout.isEmpty, "systemd-analyze verify: \(verify.stdout)\(verify.stderr)")
        // The installed completions are the binary's own, and bash can load them.
        let completion = try Shell.capture(["bash", "-c", "source /usr/share/bash-completion/completions/tunwarden && complete -p tunwarden"])
        #expect(completion.status == 0, "\(completion.stderr)")

        let listed = try Shell.run(["dpkg-query", "-L", "tunwarden"]).split(separator: "\n").map(String.init)
        let remove = try Shell.capture(["dpkg", "-r", "tunwarden"])
        #expect(remove.status == 0, "dpkg -r: \(remove.stderr)")
        let conffiles: Set = ["/etc/tunwarden/tunwarden.conf", "/etc/cron.d/tunwarden", "/etc/logrotate.d/tunwarden",
                              "/etc/tunwarden", "/etc/cron.d", "/etc/logrotate.d", "/etc"]
        var isDirectory: ObjCBool = false
        for path in listed where !conffiles.contains(path) {
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                Issue.record("left behind after dpkg -r: \(path)")
            }
        }
        #expect(FileManager.default.fileExists(atPath: "/etc/tunwarden/tunwarden.conf"), "dpkg -r keeps conffiles")
        #expect(!FileManager.default.fileExists(atPath: "/var/lib/tunwarden"), "the empty state directory goes with the package")
        let purge = try Shell.capture(["dpkg", "--purge", "tunwarden"])
        #expect(purge.status == 0)
        #expect(!FileManager.default.fileExists(atPath: "/etc/tunwarden/tunwarden.conf"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/cron.d/tunwarden"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/logrotate.d/tunwarden"))
    }
}
#endif

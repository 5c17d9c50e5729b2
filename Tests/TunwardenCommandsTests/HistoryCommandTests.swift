#if os(Linux)
import Foundation
import Testing
import TestSupport

/// `history` shows every namespace recorded, by name, including one that is gone; `--netns`
/// picks one, deleted or not. The built binary, as root, in throwaway namespaces.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct HistoryCommandTests {
    func tunwarden(_ arguments: [String]) throws -> Shell.Result {
        try Shell.capture([Shell.tunwardenBinary] + arguments)
    }

    @Test func everyNamespaceIsShownByNameEvenOnceItIsGone() throws {
        let state = try TemporaryDirectory()
        let kept = try TestNamespace(), gone = try TestNamespace()
        defer { kept.remove(); gone.remove(); state.remove() }
        let empty = try tunwarden(["history", "--state-dir", state.path])
        #expect(empty.status == 0 && empty.stdout.hasPrefix("No history yet"), "\(empty.stdout)\(empty.stderr)")

        try kept.ip("tuntap", "add", "dev", "hkeep0", "mode", "tun")
        try gone.ip("tuntap", "add", "dev", "hgone0", "mode", "tun")
        try gone.ip("tuntap", "add", "dev", "hgone1", "mode", "tun")
        for ns in [kept, gone] { _ = try tunwarden(["--netns", ns.name, "audit", "--state-dir", state.path, "--format", "nagios"]) }
        _ = try tunwarden(["--netns", kept.name, "audit", "--state-dir", state.path, "--format", "nagios"])
        gone.remove()

        let all = try tunwarden(["history", "--state-dir", state.path])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.contains("namespace \(kept.name):\n  Tunnel-style interfaces"), "\(all.stdout)")
        #expect(all.stdout.contains("namespace \(gone.name):\n  Tunnel-style interfaces"), "\(all.stdout)")
        #expect(all.stdout.contains("(2 samples)") && all.stdout.contains("(1 sample)"), "\(all.stdout)")
        #expect(!all.stdout.contains("No history yet"))

        // The namespace need not exist: its history is kept.
        let picked = try tunwarden(["--netns", gone.name, "history", "--state-dir", state.path])
        #expect(picked.status == 0, "\(picked.stderr)")
        #expect(picked.stdout.contains("namespace \(gone.name):") && picked.stdout.contains("last 2, min 2, max 2"), "\(picked.stdout)")
        #expect(!picked.stdout.contains(kept.name))
        let none = try tunwarden(["--netns", "twtest-never", "history", "--state-dir", state.path])
        #expect(none.status == 0 && none.stdout.hasPrefix("No history of namespace twtest-never yet"), "\(none.stdout)")

        let json = try tunwarden(["history", "--state-dir", state.path, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
        #expect(object["version"] as? Int == 1)
        let namespaces = try #require(object["namespaces"] as? [[String: Any]])
        #expect(Set(namespaces.compactMap { $0["netns"] as? String }) == [kept.name, gone.name])
        let entry = try #require(namespaces.first { $0["netns"] as? String == gone.name })
        #expect((entry["counts"] as? [[String: Any]])?.map { $0["count"] as? Int } == [2])
        #expect((entry["identity"] as? String)?.contains("@boot:") == true)
        #expect(entry["host"] as? Bool == false)
    }

    /// A state database found after a reboot holds namespaces of the boot before, which are gone
    /// (namespace cookies start over): `history` shows this boot's alone and says how many it
    /// leaves out, where it showed the old ones as current.
    @Test func namespacesOfAnEarlierBootAreNotShownAsThisBoots() throws {
        let state = try TemporaryDirectory()
        let earlier = try TestNamespace(), current = try TestNamespace()
        defer { earlier.remove(); current.remove(); state.remove() }
        try earlier.ip("tuntap", "add", "dev", "hboot0", "mode", "tun")
        _ = try tunwarden(["--netns", earlier.name, "audit", "--state-dir", state.path, "--format", "nagios"])
        let boot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // The state as a reboot leaves it: recorded under another boot's id.
        let rewritten = try Shell.capture(["python3", "-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("UPDATE namespaces SET identity = replace(identity, ?, ?), boot = ?", (sys.argv[2], "00000000-1111-2222-3333-444444444444", "00000000-1111-2222-3333-444444444444"))
            db.commit()
            """, state.path + "/state.db", boot])
        try #require(rewritten.status == 0, "\(rewritten.stderr)")

        let shown = try tunwarden(["history", "--state-dir", state.path])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.hasPrefix("No history yet") && !shown.stdout.contains(earlier.name), "\(shown.stdout)")
        #expect(shown.stdout.contains("(1 namespace recorded before the last reboot is not shown"), "\(shown.stdout)")
        let json = try tunwarden(["history", "--state-dir", state.path, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
        #expect((object["namespaces"] as? [Any])?.isEmpty == true, "\(json.stdout)")

        // This boot's namespace is shown; recording it forgets the earlier boot's.
        try current.ip("tuntap", "add", "dev", "hboot1", "mode", "tun")
        _ = try tunwarden(["--netns", current.name, "audit", "--state-dir", state.path, "--format", "nagios"])
        let after = try tunwarden(["history", "--state-dir", state.path])
        #expect(after.stdout.contains("namespace \(current.name):") && !after.stdout.contains(earlier.name) && !after.stdout.contains("before the last reboot"),
                "\(after.stdout)")
    }
}
#endif

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
}
#endif

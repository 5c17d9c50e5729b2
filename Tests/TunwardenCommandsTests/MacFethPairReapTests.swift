import Foundation
import Testing
import TestSupport

/// What `reap --from` and `audit --from` print for the round 49 Mojave pastes, as a person runs
/// them: `--protect` on one side of a ZeroTier feth pair keeps its peer too (destroying the peer
/// would unpeer the protected side and take its link down), saying so in the text and the JSON;
/// and a healthy capture whose netstat cut two feths' names alike is OK, not UNKNOWN.
@Suite struct MacFethPairReapTests {
    static let pastes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InventoryTests/Fixtures/darwin-pastes/round49").path

    func run(_ arguments: [String]) throws -> Shell.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["TUNWARDEN_CONFIG"] = "/dev/null"
        return try Shell.capture([Shell.tunwardenBinary] + arguments, environment: environment)
    }

    @Test func protectingOneSideOfAFethPairKeepsItsPeer() throws {
        let result = try run(["reap", "--no-state", "--dry-run", "--min-age", "0", "--from", Self.pastes + "/mojave-two-zerotier-pairs.txt", "--protect", "feth248"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("feth5248 destroy") && !result.stdout.contains("Would destroy feth feth5248"), "\(result.stdout)")
        #expect(result.stdout.contains("Protected feth248 (matches the protect pattern 'feth248')."), "\(result.stdout)")
        #expect(result.stdout.contains("Kept feth5248: its peer feth248 is protected (matches the protect pattern 'feth248')"), "\(result.stdout)")
        #expect(result.stdout.contains("sudo ifconfig feth7481 destroy") && result.stdout.contains("sudo ifconfig feth2481 destroy"), "\(result.stdout)")
        #expect(result.stdout.contains("2 interfaces to delete."), "\(result.stdout)")
    }

    @Test func theJSONPlanNamesThePeerAndWhyItIsKept() throws {
        let result = try run(["reap", "--no-state", "--dry-run", "--min-age", "0", "--format", "json",
                              "--from", Self.pastes + "/mojave-two-zerotier-pairs.txt", "--protect", "feth248"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
        let plan = (report["plan"] as? [[String: Any]] ?? []).compactMap { $0["ifname"] as? String }
        #expect(Set(plan) == ["feth7481", "feth2481"], "\(result.stdout)")
        let excluded = report["excluded"] as? [[String: Any]] ?? []
        let kept = try #require(excluded.first { $0["ifname"] as? String == "feth5248" }, "\(result.stdout)")
        #expect(kept["reason"] as? String == "peer-kept" && kept["peer"] as? String == "feth248" && kept["peer_reason"] as? String == "protected"
                && kept["pattern"] as? String == "feth248", "\(kept)")
    }

    @Test func aHealthyCaptureWithTwoCutFethNamesIsOK() throws {
        let result = try run(["audit", "--no-state", "--from", Self.pastes + "/mojave-two-zerotier-running.txt"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("feth248…"), "\(result.stdout)")
    }
}

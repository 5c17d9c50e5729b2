#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// The dead-tunnel-route finding the audit makes in `ns` (about `device`, or the first one),
/// judged as the audit judges while the dump streams in, and held equal to judging the same
/// snapshot whole.
func auditedDeadRouteFinding(_ ns: TestNamespace, _ device: String? = nil) throws -> Finding? {
    let engine = JudgingEngine(policy: AuditPolicy())
    let identity = try LinuxInventory(namespaceName: ns.name).load(into: engine)
    let streamed = try #require(engine.assessment(of: identity))
    #expect(streamed == Heuristics.assess(streamed.snapshot, policy: AuditPolicy()), "judged on arrival, unlike the whole snapshot")
    return streamed.findings.first { $0.id == "dead-tunnel-route" && (device == nil || $0.ifname == device) }
}

/// The device `ip route get` in `ns` picks for `destination`, with `selector` (`mark 5`,
/// `uid 1000`): the oracle the route verdicts are held against. Nil when the lookup fails (a
/// kill switch refuses it).
func routeGetDevice(_ ns: TestNamespace, _ destination: String, _ selector: String...) -> String? {
    guard let words = (try? Shell.run(["ip", "-n", ns.name, "route", "get", destination] + selector))?.split(whereSeparator: \.isWhitespace) else { return nil }
    return words.firstIndex(of: "dev").map { String(words[$0 + 1]) }
}
#endif

#if os(Linux)
import Foundation
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// IPv6 defaults of one metric into a tap nobody holds and a live veth, of different router
/// preferences, judged against `ip -6 route get` as root in a throwaway namespace: the capture is
/// critical exactly where the kernel sends internet traffic into the tap. Device routes only, so
/// that the neighbour reachability of gateways (RT6_LOOKUP_F_REACHABLE) plays no part.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct RouterPreferenceKernelTests {
    /// One setup: the routes added in order (`ip -6 route append`, so that the later one is
    /// listed after the earlier), each `(device, metric, preference)`.
    struct Case: CustomTestStringConvertible, Sendable {
        let routes: [(String, String, String)]
        var testDescription: String { routes.map { "\($0.0) metric \($0.1) pref \($0.2)" }.joined(separator: ", ") }
    }

    static let cases: [Case] = [
        // The review's case: the dead one listed first, of a lower preference.
        Case(routes: [("pr1t0", "1024", "low"), ("pr1va", "1024", "high")]),
        Case(routes: [("pr1t0", "1024", "medium"), ("pr1va", "1024", "high")]),
        Case(routes: [("pr1va", "1024", "low"), ("pr1t0", "1024", "medium")]),
        Case(routes: [("pr1va", "1024", "medium"), ("pr1t0", "1024", "high")]),
        // The metric before the preference.
        Case(routes: [("pr1va", "1024", "high"), ("pr1t0", "100", "low")]),
        Case(routes: [("pr1t0", "2048", "high"), ("pr1va", "1024", "low")]),
        // An equal standing, the dead one first: the kernel takes it.
        Case(routes: [("pr1t0", "1024", "high"), ("pr1va", "1024", "high")]),
    ]

    @Test(arguments: cases)
    func theCaptureFollowsTheKernelsChoice(_ setup: Case) throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("link", "add", "pr1va", "type", "veth", "peer", "name", "pr1vb")
        for device in ["pr1va", "pr1vb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "pr1va", "nodad")
        try ns.ip("tuntap", "add", "dev", "pr1t0", "mode", "tap")
        try ns.ip("link", "set", "pr1t0", "up")
        for (device, metric, preference) in setup.routes {
            try ns.ip("-6", "route", "append", "default", "dev", device, "metric", metric, "pref", preference)
        }
        let chosen = Set(["2606:4700::1111", "2a00:1450:4001::1", "2001:4860:4860::8888"].map { routeGetDevice(ns, $0) })
        try #require(chosen.count == 1, "the kernel must choose one device for every destination: \(chosen)")
        let intoTap = chosen.first == "pr1t0"
        let finding = try #require(try auditedDeadRouteFinding(ns, "pr1t0"))
        #expect(finding.severity == (intoTap ? .critical : .warning), "kernel chose \(chosen): \(finding.evidence)")
        let metrics = Set(setup.routes.map(\.1)), preferences = Set(setup.routes.map(\.2))
        #expect(finding.evidence.contains("router preference") == (metrics.count == 1 && preferences.count == 2), "\(finding.evidence)")
    }
}
#endif

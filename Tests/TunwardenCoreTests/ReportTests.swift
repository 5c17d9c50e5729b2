import Foundation
import Testing
@testable import TunwardenCore

@Suite struct JSONWriterTests {
    struct Sample: Encodable {
        var name: String
        var count: Int
        var negative: Int32
        var big: UInt64
        var flag: Bool
        var missing: String?
        var list: [String]
        var empty: [Int]
        var nested: [Inner]
    }

    struct Inner: Encodable {
        var address: IPAddress
        var ratio: Double
    }

    let sample = Sample(name: "tab\there \"quoted\" back\\slash\u{01} ünïcode", count: 0, negative: -42, big: UInt64.max,
                        flag: true, missing: nil, list: ["a", "b"], empty: [],
                        nested: [Inner(address: IPAddress("fe80::1%utun3")!, ratio: 0.5)])

    @Test func compactOutputIsExactAndInDeclarationOrder() throws {
        let text = String(decoding: try JSONWriter.encode(sample), as: UTF8.self)
        #expect(text == #"{"name":"tab\there \"quoted\" back\\slash\u0001 ünïcode","count":0,"negative":-42,"big":18446744073709551615,"flag":true,"list":["a","b"],"empty":[],"nested":[{"address":"fe80::1%utun3","ratio":0.5}]}"#)
    }

    @Test func prettyAndCompactParseToTheSameValue() throws {
        let compact = try JSONSerialization.jsonObject(with: Data(try JSONWriter.encode(sample))) as? NSDictionary
        let prettyBytes = try JSONWriter.encode(sample, pretty: true)
        let pretty = try JSONSerialization.jsonObject(with: Data(prettyBytes)) as? NSDictionary
        #expect(compact != nil)
        #expect(compact == pretty)
        #expect(String(decoding: prettyBytes, as: UTF8.self).contains("\n  \"name\": "))
    }

    struct Wrapper<T: Encodable>: Encodable { var items: T }

    /// A large array is written as a run of buffers (none regrown); together they are the array.
    @Test(arguments: [false, true])
    func largeOutputGoesOnInFreshBuffersAndStaysWhole(pretty: Bool) throws {
        let names = (0..<60_000).map { "tun\($0)-\(String(repeating: "x", count: $0 % 40))" }
        let segments = try JSONWriter.encodeSegments(Wrapper(items: names), pretty: pretty, capacity: 1024)
        #expect(segments.count > 3)
        // No buffer grew past the size a fresh one is given (plus the slack before a member).
        #expect(segments.allSatisfy { $0.count <= JSONSink.segmentCapacity })
        let parsed = try JSONSerialization.jsonObject(with: Data(JSONSegment.joined(segments))) as? [String: [String]]
        #expect(parsed?["items"] == names)
    }

    @Test func stringLiteral() {
        #expect(JSONWriter.string("a\"b\n") == #""a\"b\n""#)
    }
}

@Suite struct RenderingTests {
    func assessment() -> Assessment {
        let orphan = Build.tun(7, "kure_tun")
        let live = Build.tun(8, "vpn0", carrier: true)
        return Heuristics.assess(Build.snapshot([orphan, live], routes: [Build.route("0.0.0.0/1", 7), Build.route("128.0.0.0/1", 7)],
                                                holders: [Build.holder(42, "vpn0")]))
    }

    @Test func tableHasHeaderRowsFindingsAndSummary() {
        let text = AuditTable.render(assessment())
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "IFNAME    KIND  STATE     HOLDERS      ADDRESSES  ROUTES")
        #expect(lines[1] == "kure_tun  tun   orphaned  (none)       (none)     0.0.0.0/1,128.0.0.0/1")
        #expect(lines[2] == "vpn0      tun   live      openvpn[42]  (none)     (none)")
        #expect(text.contains("  CRITICAL dead-tunnel-route kure_tun: 2 routes send traffic into tun kure_tun"))
        #expect(text.contains("  WARNING orphaned-tun kure_tun [reapable]: "))
        #expect(text.hasSuffix("\n2 tunnel interfaces, 1 orphaned, 1 critical finding; status CRITICAL.\n"))
        #expect(!text.contains("\u{1B}["))
        #expect(AuditTable.render(assessment(), color: true).contains("\u{1B}[1;31mCRITICAL\u{1B}[0m"))
    }

    /// With nothing to list, the table says so instead of printing a header over no rows.
    @Test func emptyTableSaysWhatWasFound() {
        let none = Heuristics.assess(Build.snapshot([]))
        #expect(AuditTable.render(none) ==
            "No tunnel-style interfaces here; --all also lists the other interfaces.\n\n0 tunnel interfaces, 0 orphaned; status OK.\n")
        #expect(AuditTable.render(none, includeContext: true).hasPrefix("No interfaces at all in this namespace.\n"))
        #expect(AuditTable.render(assessment()).hasPrefix("IFNAME"))
    }

    @Test func nagiosLine() {
        #expect(NagiosLine.render(assessment()) ==
            "TUNWARDEN CRITICAL: 1 dead-tunnel-route (kure_tun); 1 orphaned-tun (kure_tun) | tunnels=2;76;95;0 orphaned=1;1;;0 suspect=0;;;0 unknown=0;;;0 dead_routes=2;1;;0")
        #expect(NagiosLine.unknown("a | b") == "TUNWARDEN UNKNOWN: a / b")
    }

    @Test func jsonReportKeysAndTypes() throws {
        let bytes = try AuditReport(assessment()).json(pretty: false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["status"] as? String == "critical")
        #expect(object["netns"] == nil)
        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["orphaned"] as? Int == 1)
        #expect(summary["holders_known"] as? Bool == true)
        let interfaces = try #require(object["interfaces"] as? [[String: Any]])
        #expect(interfaces.map { $0["ifname"] as? String } == ["kure_tun", "vpn0"])
        #expect(interfaces[0]["tun"] as? [String: Any] != nil)
        #expect((interfaces[1]["holders"] as? [[String: Any]])?.first?["pid"] as? Int == 42)
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.map { $0["id"] as? String } == ["dead-tunnel-route", "orphaned-tun"])
        #expect(((findings[0]["routes"] as? [[String: Any]])?.first?["nexthops"] as? [[String: Any]])?.first?["ifindex"] as? Int == 7)
    }
}

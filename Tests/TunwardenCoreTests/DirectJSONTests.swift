import Foundation
import Testing
@testable import TunwardenCore

/// The records a report holds tens of thousands of (interface entries, findings) write their JSON
/// directly for speed; these tests hold that output to the Encodable containers' byte for byte.
@Suite struct DirectJSONTests {
    /// An assessment exercising every optional member: holders, addresses, routes with gateways
    /// and several next hops, tun details, traffic counters, a veth peer, context interfaces.
    func assessment() -> Assessment {
        var orphan = Build.tun(7, "kure_tun")
        orphan.stats = TrafficCounters(rxPackets: 1, txPackets: 2, rxBytes: 3, txBytes: UInt64.max)
        orphan.addresses = [InterfaceAddress(local: IPAddress("10.8.0.2")!, prefixLength: 24, peer: IPAddress("10.8.0.1"), scope: "global"),
                            InterfaceAddress(local: IPAddress("fe80::1")!, prefixLength: 64, scope: "link"),
                            InterfaceAddress(local: IPAddress("10.9.0.1")!, prefixLength: 24, scope: "global", broadcast: IPAddress("10.9.0.255"),
                                             label: "kure_tun:\\x01", flags: ["permanent", "noprefixroute"], validLifetime: 300,
                                             preferredLifetime: 0, metric: 9)]
        var live = Build.tun(8, "vpn\"0", carrier: true)
        live.tun = TunDetails(persistent: true, multiQueue: true, packetInfo: false, vnetHeader: true, owner: 1000, group: 27,
                              numQueues: 2, numDisabledQueues: 1)
        let veth = NetworkInterface(index: 9, name: "veth1", kind: .veth, infoKind: "veth", flags: ["BROADCAST", "UP"], operstate: "UP",
                                    carrier: true, mtu: 1500, group: 0, master: 3, link: 12, linkNetnsID: 4,
                                    hardwareAddress: "aa:bb:cc:dd:ee:ff", peerName: "eth0")
        let ethernet = NetworkInterface(index: 2, name: "eth0", kind: .other, infoKind: nil, flags: ["UP"], mtu: 1500)
        var multipath = Build.route("0.0.0.0/1", 7)
        multipath.nextHops = [NextHop(gateway: IPAddress("10.8.0.1"), interfaceIndex: 7, interfaceName: "kure_tun"),
                              NextHop(interfaceIndex: 8, interfaceName: "vpn\"0")]
        multipath.metric = 50
        multipath.routeProtocol = .static
        return Heuristics.assess(Build.snapshot([ethernet, orphan, live, veth],
                                                routes: [multipath, Build.route("128.0.0.0/1", 7), Build.route("192.0.2.0/24", 2)],
                                                holders: [Build.holder(42, "vpn\"0"), Build.holder(43, "gone0", here: false)]))
    }

    @Test(arguments: [false, true])
    func reportsMatchTheContainerEncoding(pretty: Bool) throws {
        for includeContext in [false, true] {
            let report = AuditReport(assessment(), includeContext: includeContext)
            let direct = try JSONWriter.encode(report, pretty: pretty)
            let reference = try JSONWriter.encodeThroughContainers(report, pretty: pretty)
            #expect(String(decoding: direct, as: UTF8.self) == String(decoding: reference, as: UTF8.self))
            #expect(report.interfaceCount == (includeContext ? 4 : 3))
        }
    }

    @Test func entriesWithObservationsMatchTheContainerEncoding() throws {
        let assessment = assessment()
        var observations = Observations()
        observations.record(assessment, namespace: assessment.snapshot.namespaceIdentity, at: Date(timeIntervalSince1970: 1_700_000_000))
        let report = AuditReport(assessment, observations: observations)
        let direct = String(decoding: try JSONWriter.encode(report), as: UTF8.self)
        #expect(direct == String(decoding: try JSONWriter.encodeThroughContainers(report), as: UTF8.self))
        #expect(direct.contains(#""first_seen":"2023-11-14T22:13:20Z""#))
        #expect(direct.contains(#""orphaned_since":"#))
    }

    @Test func findingsMatchTheContainerEncodingAndDecodeBack() throws {
        let findings = assessment().findings
        #expect(findings.contains { $0.routes != nil } && findings.contains { $0.routes == nil } && findings.contains { $0.ifname == nil || $0.ifname != nil })
        for pretty in [false, true] {
            #expect(try JSONWriter.encode(findings, pretty: pretty) == JSONWriter.encodeThroughContainers(findings, pretty: pretty))
        }
        #expect(try JSONDecoder().decode([Finding].self, from: Data(JSONWriter.encode(findings))) == findings)
        #expect(try JSONDecoder().decode([Finding].self, from: JSONEncoder().encode(findings)) == findings)
    }

    /// The word-at-a-time escape scan against the byte-by-byte definition: every length up to
    /// three words and a tail, each byte that must be escaped at every position, among bytes that
    /// sit next to the special ones in value (0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d) and UTF-8 bytes
    /// of 0x80 and up, which borrow tricks could mistake for them.
    @Test func escapeScanFindsExactlyTheBytesToEscape() {
        let plain: [UInt8] = [0x20, 0x21, 0x23, 0x41, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff]
        let special: [UInt8] = [0x00, 0x01, 0x0a, 0x1f, 0x22, 0x5c]
        var generator = SystemRandomNumberGenerator()
        for length in 0...27 {
            for _ in 0..<40 {
                var bytes = (0..<length).map { _ in plain.randomElement(using: &generator)! }
                #expect(bytes.withUnsafeBufferPointer(JSONEscaping.needed(in:)) == false, "\(bytes)")
                guard length > 0 else { continue }
                let position = Int.random(in: 0..<length, using: &generator)
                bytes[position] = special.randomElement(using: &generator)!
                #expect(bytes.withUnsafeBufferPointer(JSONEscaping.needed(in:)) == true, "\(bytes)")
            }
        }
        // Random bytes of any value, against the definition.
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0x18...0xff, using: &generator) }
            #expect(bytes.withUnsafeBufferPointer(JSONEscaping.needed(in:)) == bytes.contains(where: JSONEscaping.needsEscape))
        }
    }

    /// Strings written through the fast path and through the escaping path both decode back to
    /// themselves, whatever they hold, small (stored inline) or long.
    @Test func stringsRoundTripThroughTheWriter() throws {
        let pieces = ["a", "bt9999", "é", "日本", "🙂", "\"", "\\", "\n", "\t", "\u{01}", "\u{1f}", " ", "orphaned-tun (ifindex 2)"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...30, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let written = JSONWriter.string(text)
            let decoded = try JSONSerialization.jsonObject(with: Data("[\(written)]".utf8)) as? [String]
            #expect(decoded == [text], "\(written)")
        }
    }
}

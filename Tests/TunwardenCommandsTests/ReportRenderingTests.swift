import Foundation
import Testing
@testable import TunwardenCommands
import TunwardenCore

/// A large report written in two halves at once must be byte for byte the report written in one go.
@Suite struct ReportRenderingTests {
    /// `count` interfaces: tun devices in every state (findings of several kinds), veth pairs,
    /// plain interfaces for `--all`, addresses, a route, holders; some names that need escaping.
    static func assessment(count: Int) -> Assessment {
        var interfaces: [NetworkInterface] = []
        for index in 1...count {
            let name = index % 97 == 0 ? "t\"\(index)\\x" : "t\(index)"
            switch index % 5 {
            case 0:
                interfaces.append(NetworkInterface(index: index, name: "eth\(index)", kind: .other, infoKind: "dummy", flags: ["UP"]))
            case 1:
                interfaces.append(NetworkInterface(index: index, name: "v\(index)", kind: .veth, infoKind: "veth", link: index + 1))
            default:
                var tun = NetworkInterface(index: index, name: name, kind: index % 2 == 0 ? .tun : .tap, infoKind: "tun", flags: index % 3 == 0 ? ["UP"] : [],
                                           carrier: index % 7 == 0,
                                           tun: TunDetails(persistent: index % 11 != 0, multiQueue: false, numQueues: 0, numDisabledQueues: 0))
                if index % 13 == 0 { tun.addresses = [InterfaceAddress(local: IPAddress("10.\(index % 250).0.1")!, prefixLength: 24, scope: "global")] }
                interfaces.append(tun)
            }
        }
        let holder = Holder(pid: 4242, comm: "openvpn", uid: 0, fd: 5)
        let snapshot = Snapshot(platform: .linux, namespaceIdentity: "ns", takenAt: Date(timeIntervalSince1970: 1_800_000_000), interfaces: interfaces,
                                routes: [Route(destination: IPPrefix("0.0.0.0/1")!, type: .unicast, table: .main, nextHops: [NextHop(interfaceIndex: 2, interfaceName: "t2")])],
                                holders: HolderScan(complete: true, attachments: [HolderAttachment(holder: holder, ifname: "t4", inInspectedNamespace: true)],
                                                    processesScanned: 50))
        return Heuristics.assess(snapshot)
    }

    @Test(arguments: [false, true])
    func aLargeReportWrittenInHalvesIsTheReportWrittenWhole(pretty: Bool) throws {
        let assessment = Self.assessment(count: 5000)
        for includeContext in [false, true] {
            let report = AuditReport(assessment, includeContext: includeContext)
            #expect(report.interfaceCount >= ReportRendering.shareFrom)
            let whole = report.json(pretty: pretty)
            let pieces = ReportRendering.json(report, pretty: pretty)
            // Several pieces, written one after another: nothing was copied into one buffer.
            #expect(pieces.count > 1)
            let halves = Array(pieces.joined())
            #expect(halves == whole, "pretty \(pretty), context \(includeContext): \(halves.count) bytes != \(whole.count)")
            // And it is JSON, with every entry.
            let object = try #require(try JSONSerialization.jsonObject(with: Data(halves)) as? [String: Any])
            #expect((object["interfaces"] as? [Any])?.count == report.interfaceCount)
        }
    }

    @Test func aSmallReportIsWrittenInOneGo() {
        let report = AuditReport(Self.assessment(count: 40))
        #expect(ReportRendering.json(report, pretty: false) == [report.json(pretty: false)])
    }
}

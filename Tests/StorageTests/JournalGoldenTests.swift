import Foundation
import Testing
@testable import Storage
import TunwardenCore

/// The journal's two kinds of record, byte for byte against files kept in the tests (`Golden/`),
/// in the one-line form the journal appends. Run with TUNWARDEN_UPDATE_GOLDEN=1 to rewrite them
/// when a change is meant (and document it in the README's schema).
@Suite struct JournalGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test func intentAndResultRecords() throws {
        let moment = Date(timeIntervalSince1970: 1_764_720_000)
        var device = NetworkInterface(index: 7, name: "kure_tun", kind: .tun, infoKind: "tun", flags: ["POINTOPOINT", "NOARP"], operstate: "DOWN",
                                      carrier: false, mtu: 1500, tun: TunDetails(persistent: true, multiQueue: false, packetInfo: false, vnetHeader: false, owner: 1000),
                                      addresses: [InterfaceAddress(local: IPAddress("10.8.0.2")!, prefixLength: 24, peer: IPAddress("10.8.0.1"), scope: "global")])
        device.txQueueLength = 500
        let routes = [Route(destination: IPPrefix("0.0.0.0/1")!, routeProtocol: .static, scope: .global,
                            nextHops: [NextHop(gateway: IPAddress("10.8.0.1"), interfaceIndex: 7, interfaceName: "kure_tun")])]
        let intent = JournalRecord(time: moment, run: "run-1", type: .intent, netns: "blue", ifname: "kure_tun", ifindex: 7,
                                   prior: PriorState(device, routes: routes), recreate: RecreateCommands.commands(for: device, routes: routes, namespace: "blue"))
        let result = JournalRecord(time: moment.addingTimeInterval(1), run: "run-1", type: .result, netns: "blue", ifname: "kure_tun", ifindex: 7,
                                   result: .failed, detail: "RTM_DELLINK: Operation not permitted (EPERM)")
        let text = try [intent, result].map { String(decoding: try JSONWriter.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        let file = Self.directory.appendingPathComponent("journal.jsonl")
        if ProcessInfo.processInfo.environment["TUNWARDEN_UPDATE_GOLDEN"] == "1" {
            try Data(text.utf8).write(to: file)
            return
        }
        #expect(text == (try String(contentsOf: file, encoding: .utf8)), "the journal's records differ from Golden/journal.jsonl")
        // What the journal writes, it reads back.
        for line in text.split(separator: "\n") {
            #expect((try? Journal.decoder().decode(JournalRecord.self, from: Data(line.utf8))) != nil, "\(line)")
        }
    }
}

import Foundation
import Testing
@testable import Storage
import TunwardenCore

/// The journal's two kinds of record, byte for byte against files kept in the tests (`Golden/`),
/// in the one-line form the journal appends and as `journal --format json` lists them. Run with
/// TUNWARDEN_UPDATE_GOLDEN=1 to rewrite them when a change is meant (and document it in the
/// README's schema).
@Suite struct JournalGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// An intent record with every part of a device's prior state, and its result with a
    /// checkpoint.
    static func records() -> [JournalRecord] {
        let moment = Date(timeIntervalSince1970: 1_764_720_000)
        var device = NetworkInterface(index: 7, name: "kure_tun", kind: .tun, infoKind: "tun", flags: ["POINTOPOINT", "NOARP"], operstate: "DOWN",
                                      carrier: false, mtu: 1500, tun: TunDetails(persistent: true, multiQueue: false, packetInfo: false, vnetHeader: false, owner: 1000),
                                      addresses: [InterfaceAddress(local: IPAddress("10.8.0.2")!, prefixLength: 24, peer: IPAddress("10.8.0.1"), scope: "global")])
        device.txQueueLength = 500
        let routes = [Route(destination: IPPrefix("0.0.0.0/1")!, routeProtocol: .static, scope: .global,
                            nextHops: [NextHop(gateway: IPAddress("10.8.0.1"), interfaceIndex: 7, interfaceName: "kure_tun")])]
        let intent = JournalRecord(time: moment, run: "run-1", type: .intent, netns: "blue", ifname: "kure_tun", ifindex: 7,
                                   prior: PriorState(device, routes: routes), recreate: RecreateCommands.commands(for: device, routes: routes, namespace: "blue"),
                                   fenceGroup: 16_777_300, fenceName: "tw0123456789abc",
                                   namespaceIdentity: "netns-cookie:4103@boot:8e1f3f2a-53c4-4c5e-9d2b-0f6a2d1e7c11")
        var result = JournalRecord(time: moment.addingTimeInterval(1), run: "run-1", type: .result, netns: "blue", ifname: "kure_tun", ifindex: 7,
                                   result: .failed, detail: "RTM_DELLINK: Operation not permitted (EPERM)", leftFenced: true, leftOpen: .giveBack)
        // The last record of an append carries the checkpoint: runs whose intents no result
        // answers, with why a result left any of them open.
        result.openRuns = [OpenRun(run: "run-0", at: 0, ifindexes: [3, 4], leftOpen: [LeftOpenDevice(ifindex: 3, cause: .whereabouts)]),
                           OpenRun(run: "run-1", at: 812, leftOpen: [LeftOpenDevice(ifindex: 7, cause: .giveBack)])]
        return [intent, result]
    }

    /// Compares `text` with the golden file `name`, or rewrites the file when asked to.
    func check(_ name: String, _ text: String) throws {
        let file = Self.directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["TUNWARDEN_UPDATE_GOLDEN"] == "1" {
            try Data(text.utf8).write(to: file)
            return
        }
        #expect(text == (try String(contentsOf: file, encoding: .utf8)), "the journal's records differ from Golden/\(name)")
    }

    @Test func intentAndResultRecords() throws {
        let text = Self.records().map { String(decoding: $0.json(), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try check("journal.jsonl", text)
        // What the journal writes, it reads back.
        let read = try text.split(separator: "\n").map { try Journal.decoder().decode(JournalRecord.self, from: Data($0.utf8)) }
        #expect(read == Self.records())
    }

    /// `journal --format json` lists the records with their keys in the journal's own order, each
    /// element the journal's line (compact) or that line pretty-printed.
    @Test func recordsAsTheJournalCommandListsThem() throws {
        let records = Self.records()
        let compact = String(decoding: JournalRecord.json(records, pretty: false), as: UTF8.self)
        #expect(compact == "[" + records.map { String(decoding: $0.json(), as: UTF8.self) }.joined(separator: ",") + "]")
        try check("journal-command.json", String(decoding: JournalRecord.json(records, pretty: true), as: UTF8.self) + "\n")
        #expect(String(decoding: JournalRecord.json([], pretty: true), as: UTF8.self) == "[]")
    }
}

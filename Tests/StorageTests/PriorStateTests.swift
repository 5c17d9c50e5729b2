import Foundation
import Testing
import Storage
import TunwardenCore

/// The prior state the journal keeps of each removed device: everything its recreate commands
/// need, and journals written before a key existed stay readable.
@Suite struct PriorStateTests {
    @Test func everythingRecreateNeedsSurvivesTheJournal() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-prior-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var device = NetworkInterface(index: 7, name: InterfaceName.text(Array("zz".utf8) + [0xff]), kind: .tap, infoKind: "tun",
                                      flags: ["BROADCAST", "MULTICAST", "NOARP", "PROMISC"], mtu: 1400, master: 3,
                                      tun: TunDetails(persistent: true), txQueueLength: 1234, alias: InterfaceName.text(Array("my alias".utf8) + [0x07]),
                                      masterName: "br0")
        device.addresses = [
            InterfaceAddress(local: IPAddress("10.66.0.1")!, prefixLength: 24, scope: "global", broadcast: IPAddress("10.66.0.255"),
                             label: "zz\\xff:a", flags: ["permanent", "noprefixroute"], metric: 9),
            InterfaceAddress(local: IPAddress("2001:db8::1")!, prefixLength: 64, scope: "global", flags: ["nodad", "mngtmpaddr"],
                             validLifetime: 3000, preferredLifetime: 2000),
        ]
        let prior = PriorState(device, routes: [], neighbours: [
            RecreateCommands.Neighbour(address: IPAddress("10.66.0.5")!, linkLayerAddress: "02:00:00:00:00:05", kind: .permanent),
            RecreateCommands.Neighbour(address: IPAddress("2001:db8::5")!, linkLayerAddress: "02:00:00:00:00:06", kind: .permanent, router: true),
            RecreateCommands.Neighbour(address: IPAddress("2001:db8::7")!, linkLayerAddress: nil, kind: .proxy),
        ])
        let record = JournalRecord(time: Date(timeIntervalSince1970: 1_800_000_000), run: "r1", type: .intent, netns: "blue",
                                   ifname: device.name, ifindex: 7, prior: prior, recreate: [])
        let journal = Journal(path: path)
        try journal.append([record])
        let read = try #require(try journal.read().first?.prior)
        #expect(read == prior)
        #expect(read.txQueueLength == 1234 && read.alias == #"my alias\x07"# && read.master == 3 && read.masterName == "br0")
        #expect(read.addresses.map(\.flags) == [["permanent", "noprefixroute"], ["nodad", "mngtmpaddr"]])
        #expect(read.addresses[0].label == #"zz\xff:a"# && read.addresses[0].broadcast == IPAddress("10.66.0.255") && read.addresses[0].metric == 9)
        #expect(read.addresses[1].validLifetime == 3000 && read.addresses[1].preferredLifetime == 2000)
        let line = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        #expect(line.contains(#""txqlen":1234"#) && line.contains(#""ifalias":"my alias\\x07""#) && line.contains(#""master_ifname":"br0""#))
        #expect(line.contains(#""valid_life_time":3000"#) && line.contains(#""flags":["nodad","mngtmpaddr"]"#))
        #expect(line.contains(#""neigh":[{"dst":"10.66.0.5","lladdr":"02:00:00:00:00:05","state":"permanent"},"#
                              + #"{"dst":"2001:db8::5","lladdr":"02:00:00:00:00:06","state":"permanent","router":true},{"dst":"2001:db8::7","state":"proxy"}]"#), "\(line)")
        // None made by hand: no key at all.
        #expect(PriorState(device, routes: []).neighbours == nil)
    }

    @Test func aRecordWrittenBeforeTheNewKeysStillReads() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tunwarden-prior-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let old = #"{"time":"2027-01-15T08:00:00Z","run":"r0","type":"intent","ifname":"t0","ifindex":7,"prior":{"kind":"tap","# +
            #""info_kind":"tun","flags":["BROADCAST","MULTICAST"],"mtu":1500,"group":0,"address":"02:00:00:00:00:01","tun":{"persist":true},"# +
            #""addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":24,"scope":"global"}],"routes":[]},"# +
            #""recreate":["ip tuntap add dev t0 mode tap"]}"# + "\n"
        try Data(old.utf8).write(to: URL(fileURLWithPath: path))
        let prior = try #require(try Journal(path: path).read().first?.prior)
        #expect(prior.txQueueLength == nil && prior.alias == nil && prior.master == nil && prior.masterName == nil)
        #expect(prior.addresses == [InterfaceAddress(local: IPAddress("10.0.0.1")!, prefixLength: 24, scope: "global")])
    }
}

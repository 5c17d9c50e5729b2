import Foundation
import Testing
import TunwardenCore

/// What observations keep of traffic and holders: the basis of "idle since".
@Suite struct ObservationTrafficTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func counters(_ packets: UInt64) -> TrafficCounters {
        TrafficCounters(rxPackets: packets, txPackets: 0, rxBytes: packets * 100, txBytes: 0)
    }

    @Test func idleSinceIsTheLastChangeOfTheCountersOrTheFirstSighting() {
        var observation = InterfaceObservation(ifindex: 3, ifname: "tun0", kind: .tun, firstSeen: t0, lastSeen: t0, orphanedSince: nil)
        #expect(observation.idleSince == nil, "counters never read: idle time unknown")
        do { let changed = observation.noteTraffic(counters(5), at: t0); #expect(changed) }
        #expect(observation.idleSince == t0)
        do { let changed = observation.noteTraffic(counters(5), at: t0 + 60); #expect(!changed) }
        #expect(observation.idleSince == t0)
        do { let changed = observation.noteTraffic(counters(9), at: t0 + 120); #expect(changed) }
        #expect(observation.idleSince == t0 + 120)
        // A counter reset (the device was reset) is a change too.
        do { let changed = observation.noteTraffic(counters(0), at: t0 + 180); #expect(changed) }
        #expect(observation.lastTrafficChange == t0 + 180)
        do { let changed = observation.noteTraffic(nil, at: t0 + 240); #expect(!changed) }
    }

    @Test func holdersSeenKeepTheMostRecentDistinctOnes() {
        var observation = InterfaceObservation(ifindex: 3, ifname: "tun0", kind: .tun, firstSeen: t0, lastSeen: t0, orphanedSince: nil)
        for pid in 1...10 { observation.noteHolders([Holder(pid: Int32(pid), comm: "openvpn")]) }
        observation.noteHolders([Holder(pid: 4, comm: "openvpn")])
        #expect(observation.holdersSeen?.count == InterfaceObservation.holdersSeenLimit)
        #expect(observation.holdersSeen?.last == "openvpn[4]")
        #expect(observation.holdersSeen?.first == "openvpn[3]")
    }

    @Test func samplesBetweenInventoriesOnlyTouchKnownInterfacesAndSurviveAStateFileRoundTrip() throws {
        var tun = NetworkInterface(index: 7, name: "tun7", kind: .tun)
        tun.stats = counters(1)
        let snapshot = Snapshot(platform: .linux, namespaceIdentity: "net:[1]", takenAt: t0, interfaces: [tun], routes: [],
                                holders: HolderScan(complete: true, attachments: [], processesScanned: 1))
        var observations = Observations()
        observations.record(Heuristics.assess(snapshot), namespace: "net:[1]", at: t0)
        tun.stats = counters(2)
        let stranger = NetworkInterface(index: 8, name: "tun8", kind: .tun)
        do { let changed = observations.noteTraffic([tun, stranger], namespace: "net:[1]", at: t0 + 30); #expect(changed) }
        do { let changed = observations.noteTraffic([tun], namespace: "net:[1]", at: t0 + 60); #expect(!changed) }
        #expect(observations.namespaces["net:[1]"]?.count == 1)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let decoded = try decoder.decode(Observations.self, from: Data(observations.json()))
        #expect(decoded.observation(of: tun, in: "net:[1]")?.lastTrafficChange == t0 + 30)
        #expect(decoded.observation(of: tun, in: "net:[1]")?.traffic == counters(2))
    }
}

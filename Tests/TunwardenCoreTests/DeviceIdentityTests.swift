import Foundation
import Testing
@testable import TunwardenCore

/// A device is told from another that later stands at its ifindex under its name by its kind,
/// queue mode, hardware address and (a tun or tap) counters that never go back; an observation
/// of such another starts afresh, so that the grace period counts from its own arrival.
@Suite struct DeviceIdentityTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func tap(_ address: String?, multiQueue: Bool = false, packets: UInt64 = 0) -> NetworkInterface {
        var interface = NetworkInterface(index: 2, name: "tap0", kind: .tap, carrier: false, hardwareAddress: address,
                                         tun: TunDetails(persistent: true, multiQueue: multiQueue))
        interface.stats = TrafficCounters(rxPackets: packets, txPackets: 0, rxBytes: packets * 100, txBytes: 0)
        return interface
    }

    @Test func aDifferentHardwareAddressKindOrQueueModeIsAnotherDevice() {
        let old = DeviceIdentity(tap("7a:15:0e:9c:22:01"))
        #expect(DeviceIdentity(tap("7a:15:0e:9c:22:01")).differences(from: old).isEmpty)
        #expect(DeviceIdentity(tap("7A:15:0E:9C:22:01")).differences(from: old).isEmpty, "the same address, written otherwise")
        #expect(DeviceIdentity(tap("02:00:00:00:f2:02")).differences(from: old)
            == ["its hardware address is 02:00:00:00:f2:02 where the earlier one's was 7a:15:0e:9c:22:01"])
        #expect(DeviceIdentity(tap("7a:15:0e:9c:22:01", multiQueue: true)).differences(from: old).count == 1)
        var tun = tap(nil)
        tun.kind = .tun
        #expect(DeviceIdentity(tun).differences(from: old).count == 2, "kind and address")
        // What one side does not know tells nothing.
        #expect(DeviceIdentity(kind: nil, hardwareAddress: nil).differences(from: old).isEmpty)
    }

    @Test func countersThatWentBackAreAnotherTunOrTap() {
        #expect(DeviceIdentity.replacement(of: tap("7a:15:0e:9c:22:01", packets: 40), by: tap("7a:15:0e:9c:22:01", packets: 3)).count == 1)
        #expect(DeviceIdentity.replacement(of: tap("7a:15:0e:9c:22:01", packets: 3), by: tap("7a:15:0e:9c:22:01", packets: 40)).isEmpty)
        #expect(DeviceIdentity.countersWentBack(from: TrafficCounters(rxPackets: 9, txPackets: 0, rxBytes: 0, txBytes: 0),
                                                to: TrafficCounters(rxPackets: 1, txPackets: 0, rxBytes: 0, txBytes: 0), kind: .other) == nil,
                "another kind's driver may reset them")
    }

    /// Each of the four counters going back tells another device, whichever it is.
    @Test(arguments: 0..<4)
    func anyOneCounterGoingBackTells(counter: Int) {
        var earlier = [UInt64](repeating: 50, count: 4), now = earlier
        now[counter] = 49
        func counters(_ values: [UInt64]) -> TrafficCounters {
            TrafficCounters(rxPackets: values[0], txPackets: values[1], rxBytes: values[2], txBytes: values[3])
        }
        #expect(DeviceIdentity.countersWentBack(from: counters(earlier), to: counters(now), kind: .tap) != nil)
        earlier[counter] = 49
        #expect(DeviceIdentity.countersWentBack(from: counters(earlier), to: counters(now), kind: .tun) == nil)
    }

    @Test(arguments: ["tap sq 7a:15:0e:9c:22:01", "tun mq", "tun", "- aa:bb", "veth 02:00:00:00:00:01"])
    func theStoredTextReadsBack(text: String) throws {
        let identity = try #require(DeviceIdentity(text: text))
        #expect(identity.text == text)
        #expect(DeviceIdentity(text: "tap sq 7a:15 extra") == nil && DeviceIdentity(text: "martian") == nil && DeviceIdentity(text: "") == nil)
        #expect(DeviceIdentity(text: "  ") == nil && DeviceIdentity(text: "tun mq aa:bb cc") == nil)
        #expect(DeviceIdentity(text: " tap  sq  7a:15 ") == DeviceIdentity(kind: .tap, multiQueue: false, hardwareAddress: "7a:15"), "words apart by any number of spaces")
    }

    /// The finding's case: a tap seen orphaned, then another moved in under its ifindex and name.
    @Test func anObservationOfAnotherDeviceStartsAfresh() {
        func seen(_ interface: NetworkInterface) -> AssessedInterface {
            AssessedInterface(interface: interface, state: .orphaned, reason: "no process attached", holders: [], holdersKnown: true, routes: [])
        }
        let first = InterfaceObservation.continuing(nil, with: seen(tap("7a:15:0e:9c:22:01")), at: Self.t0, bootClock: 100)
        let same = InterfaceObservation.continuing(first, with: seen(tap("7a:15:0e:9c:22:01")), at: Self.t0 + 5, bootClock: 105)
        #expect(same.orphanedSinceBoot == 100 && same.firstSeen == Self.t0)
        let newcomer = InterfaceObservation.continuing(same, with: seen(tap("02:00:00:00:f2:02")), at: Self.t0 + 6, bootClock: 106)
        #expect(newcomer.firstSeen == Self.t0 + 6 && newcomer.orphanedSince == Self.t0 + 6 && newcomer.orphanedSinceBoot == 106)
        #expect(newcomer.orphanedAge(at: Self.t0 + 7, bootClock: 107) == 1)
        #expect(newcomer.identity?.hardwareAddress == "02:00:00:00:f2:02")
        // One recorded without an identity (before it was kept) takes the device's.
        var legacy = same
        legacy.identity = nil
        #expect(InterfaceObservation.continuing(legacy, with: seen(tap("02:00:00:00:f2:02")), at: Self.t0 + 6, bootClock: 106).orphanedSinceBoot == 100)
    }
}

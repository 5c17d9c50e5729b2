#if os(Linux)
import Foundation
@testable import Inventory
import Testing
import TunwardenCore

/// A traffic sample's dump serves as the orphan look: from links already read, only the
/// candidates that differ in what attaching and detaching change are reported.
struct LookFromLinksTests {
    static func tun(_ index: Int, _ name: String, queues: UInt32 = 0, carrier: Bool = false, up: Bool = false) -> NetworkInterface {
        NetworkInterface(index: index, name: name, kind: .tun, infoKind: "tun", flags: up ? ["UP"] : [], carrier: carrier,
                         tun: TunDetails(persistent: true, numQueues: queues, numDisabledQueues: 0))
    }

    @Test func onlyCandidatesThatDifferAreReported() {
        let known = [Self.tun(3, "a"), Self.tun(4, "b"), Self.tun(5, "c"), Self.tun(6, "d"), Self.tun(7, "e"), Self.tun(8, "f")]
        var traffic = Self.tun(3, "a")
        traffic.stats = TrafficCounters(rxPackets: 9, txPackets: 9, rxBytes: 900, txBytes: 900)
        let links = [
            traffic,                                  // counters alone: not the look's business
            Self.tun(4, "b", queues: 1),              // a queue attached
            Self.tun(5, "c", carrier: true),          // carrier
            Self.tun(6, "renamed"),                   // renamed (holders are found by name)
            Self.tun(8, "f", up: true),               // set up
            NetworkInterface(index: 1, name: "lo", kind: .other, infoKind: nil, flags: ["UP", "LOOPBACK"]),
        ]
        let changes = LinuxWatchSource.changes(from: known + [Self.tun(4, "b")], in: links)
        let described = changes.map { change -> String in
            switch change {
            case let .link(interface): return "link \(interface.index) \(interface.name)"
            case let .linkRemoved(index): return "gone \(index)"
            default: return "other"
            }
        }
        // Index 7 is gone; 4, listed twice, is reported once.
        #expect(described == ["link 4 b", "link 5 c", "link 6 renamed", "gone 7", "link 8 f"])
        #expect(LinuxWatchSource.changes(from: known.filter { $0.index == 3 }, in: links).isEmpty)
    }
}
#endif

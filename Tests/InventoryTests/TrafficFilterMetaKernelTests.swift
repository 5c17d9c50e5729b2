#if os(Linux)
import Foundation
import Glibc
@testable import Netlink
import Testing
@testable import Inventory
import TestSupport

/// The devices meta matches of basic, cgroup and flow filters compare, resolved against the real
/// kernel, as root, in a throwaway namespace. (This project's test kernels are built without
/// cls_basic and em_meta, so the filters themselves cannot be made here: the matches are given
/// as `TrafficFilter.decodeIndexMatches` reads them from a dump, which the codec tests check
/// byte by byte.)
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct TrafficFilterMetaKernelTests {
    @Test func metaMatchesKeepTheirDevicesAndARangeKeepsAny() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "twmt0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "twmt1", "mode", "tap")
        try ns.ip("link", "add", "twmv0", "type", "veth", "peer", "name", "twmv1")
        let links = try LinuxInventory(namespaceName: ns.name).snapshot().interfaces
        let index = { (name: String) throws -> Int32 in Int32(try #require(links.first { $0.name == name }).index) }
        let (tap0, tap1, veth) = (try index("twmt0"), try index("twmt1"), try index("twmv0"))
        let fd = open("/run/netns/\(ns.name)", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: fd))
        let egress = TrafficFilter.egressParent
        let found = try TrafficFilters.resolve([
            .init(kind: "basic", device: .index(UInt32(tap0)), on: veth, parent: egress, meta: "meta(rt_iif eq \(tap0))"),
            .init(kind: "cgroup", device: .name(Array("twmt1".utf8)), on: veth, parent: egress, meta: "meta(dev eq \"twmt1\")"),
            // On the tap's own qdisc: it goes with the tap.
            .init(kind: "basic", device: .index(UInt32(tap1)), on: tap1, parent: egress, meta: "meta(sk_bound_if eq \(tap1))"),
            .init(kind: "flow", device: .some("meta(rt_iif gt 1)"), on: veth, parent: TrafficFilter.ingressParent, meta: "meta(rt_iif gt 1)"),
            // A meta match keeps the name it was typed with: one no device has (yet) matches none,
            // and one longer than a name can be never will; neither is a device that went.
            .init(kind: "basic", device: .name(Array("ppp0".utf8)), on: veth, parent: egress, meta: "meta(dev eq \"ppp0\")"),
            .init(kind: "basic", device: .name(Array("a-name-far-too-long".utf8)), on: veth, parent: egress, meta: "meta(dev eq \"a-name-far-too-long\")"),
        ], client: client)
        #expect(found.matches == [Int(tap0): ["basic meta(rt_iif eq \(tap0)), on twmv0 egress"], Int(tap1): ["cgroup meta(dev eq \"twmt1\"), on twmv0 egress"]])
        #expect(found.ranges == ["flow meta(rt_iif gt 1), on twmv0 ingress"] && found.unresolved.isEmpty)
        // u32's indev names the device that had the index as the dump was made: gone, it may be any.
        let gone = try TrafficFilters.resolve([.init(kind: "u32", device: .name(Array("twmgone".utf8)), on: veth, parent: egress)], client: client)
        #expect(gone.unresolved == ["twmgone"] && gone.matches.isEmpty)
    }
}
#endif

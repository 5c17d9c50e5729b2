#if os(Linux)
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Inventory
@testable import TunwardenCore

/// The Linux backend against the real kernel, as root, each test in its own throwaway namespace.
/// Without root (or /dev/net/tun, ip, python3) the suite is skipped and says so.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct LinuxKernelTests {
    /// The audit's way: links judged as the dump arrives. Every test also holds it equal to
    /// judging the same snapshot whole.
    func audit(_ ns: TestNamespace, policy: AuditPolicy = AuditPolicy()) throws -> Assessment {
        let engine = JudgingEngine(policy: policy)
        let identity = try LinuxInventory(namespaceName: ns.name).load(into: engine)
        let streamed = try #require(engine.assessment(of: identity))
        #expect(streamed == Heuristics.assess(streamed.snapshot, policy: policy), "judged on arrival, unlike the whole snapshot")
        return streamed
    }

    @Test func linksThatNameLaterLinksAreJudgedOnceEverythingIsIn() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        // A port dumped before its bridge, and a tap dumped before the macvlan stacked on it.
        try ns.ip("tuntap", "add", "dev", "kfwd0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "kfwd1", "mode", "tap")
        try ns.ip("link", "add", "kbr0", "type", "bridge")
        try ns.ip("link", "set", "kfwd0", "master", "kbr0")
        try ns.ip("link", "add", "kmv1", "link", "kfwd1", "type", "macvlan")
        try ns.ip("tuntap", "add", "dev", "kfwd2", "mode", "tun")
        let a = try audit(ns)
        #expect(try entry(a, "kfwd0").state == .suspect)
        #expect(try entry(a, "kfwd0").reason.contains("port of kbr0"))
        #expect(try entry(a, "kfwd0").interface.masterName == "kbr0")
        #expect(try entry(a, "kfwd1").state == .suspect)
        #expect(try entry(a, "kfwd1").reason.contains("kmv1 sits on it"))
        #expect(try entry(a, "kfwd2").state == .orphaned)
    }

    func entry(_ a: Assessment, _ name: String) throws -> AssessedInterface {
        try #require(a.interfaces.first { $0.interface.name == name })
    }

    @Test func persistentTunAndTapWithoutHolderAreOrphaned() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "kure_tun", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "tap7", "mode", "tap")
        let a = try audit(ns)
        let tun = try entry(a, "kure_tun"), tap = try entry(a, "tap7")
        #expect(tun.interface.kind == .tun)
        #expect(tap.interface.kind == .tap)
        #expect(tun.state == .orphaned)
        #expect(tap.state == .orphaned)
        #expect(tun.interface.tun?.persistent == true)
        #expect(a.findings.filter { $0.id == "orphaned-tun" && $0.reapable }.compactMap(\.ifname).sorted() == ["kure_tun", "tap7"])
        #expect(a.status == .warning)
        #expect(a.snapshot.holders.complete)
    }

    @Test func persistentTunHeldByAChildProcessIsLive() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        // Held names are unique across all tests: tests run in parallel, and a device of the same
        // name held in another namespace rightly makes tunwarden answer "unknown".
        try ns.ip("tuntap", "add", "dev", "kheld0", "mode", "tun")
        let holder = try ns.hold("kheld0")
        let a = try audit(ns)
        let vpn = try entry(a, "kheld0")
        #expect(vpn.state == .live)
        #expect(vpn.interface.carrier == true)
        let found = try #require(vpn.holders.first)
        #expect(found.comm == "python3")
        #expect(found.uid == 0)
        // `ip netns exec` execs python in place, so the holder is the process we started.
        #expect(found.pid == holder.processIdentifier)
        #expect(a.findings.isEmpty)

        // When the holder dies, the persistent device stays behind: now it is an orphan.
        ns.release(holder)
        let after = try audit(ns)
        #expect(try entry(after, "kheld0").state == .orphaned)
        #expect(try entry(after, "kheld0").interface.carrier == false)
    }

    /// One process holding several devices is named as the holder of each (its name and uid are
    /// read once for all of them).
    @Test func oneProcessHoldingSeveralDevicesHoldsEach() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let names = ["kmany0", "kmany1", "kmany2"]
        for name in names { try ns.ip("tuntap", "add", "dev", name, "mode", "tun") }
        let holder = try ns.hold(names.joined(separator: ","), user: 65534)
        let a = try audit(ns)
        for name in names {
            let held = try entry(a, name)
            #expect(held.state == .live, "\(name)")
            #expect(held.holders.map(\.pid) == [holder.processIdentifier], "\(name)")
            #expect(held.holders.map(\.comm) == ["python3"], "\(name)")
            #expect(held.holders.map(\.uid) == [65534], "\(name)")
        }
        let own = a.snapshot.holders.attachments.filter { $0.holder.pid == holder.processIdentifier }
        #expect(Set(own.map(\.holder.fd)).count == names.count)
        #expect(Set(own.map(\.ifname)) == Set(names))
    }

    @Test func nonPersistentTunExistsOnlyWhileHeld() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let holder = try ns.hold("ephem0")
        let a = try audit(ns)
        let device = try entry(a, "ephem0")
        #expect(device.state == .live)
        #expect(device.interface.tun?.persistent == false)
        ns.release(holder)
        #expect(try audit(ns).interfaces.allSatisfy { $0.interface.name != "ephem0" })
    }

    @Test func multiQueueTunWithAndWithoutAQueue() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "mq0", "mode", "tun", "multi_queue")
        try ns.ip("tuntap", "add", "dev", "mq1", "mode", "tun", "multi_queue")
        try ns.hold("mq1", multiQueue: true)
        let a = try audit(ns)
        let idle = try entry(a, "mq0"), busy = try entry(a, "mq1")
        #expect(idle.interface.tun?.multiQueue == true)
        #expect(idle.interface.tun?.numQueues == 0)
        #expect(idle.state == .orphaned)
        #expect(busy.interface.tun?.numQueues == 1)
        #expect(busy.state == .live)
        #expect(busy.holders.count == 1)
    }

    @Test func vethPairAndAPeerInAnEmptyNamespace() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let other = try TestNamespace()
        defer { other.remove() }
        try ns.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
        try ns.ip("link", "add", "vc", "type", "veth", "peer", "name", "vd")
        try ns.ip("link", "set", "vd", "netns", other.name)
        let a = try audit(ns)
        #expect(try entry(a, "va").state == .live)
        #expect(try entry(a, "va").reason == "peer vb")
        let stray = try entry(a, "vc")
        #expect(stray.interface.linkNetnsID != nil)
        #expect(stray.state == .suspect)
        let finding = try #require(a.findings.first { $0.id == "veth-peer-netns-empty" })
        #expect(finding.ifname == "vc")
        #expect(finding.evidence.contains(other.name))
        #expect(finding.reapable == false)
    }

    /// Routes set through a veth into a namespace kept by name that runs no process make it live
    /// only where that namespace forwards the traffic on (a router); a routed CNI's leaked pod
    /// (a /32 route to its own address, no forwarding) stays suspect (Linux 50 F4).
    @Test func vethRoutedIntoAProcesslessNamespaceIsLiveOnlyWhereItForwards() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let pod = try TestNamespace()
        defer { pod.remove() }
        let router = try TestNamespace()
        defer { router.remove() }
        try ns.ip("link", "add", "cali5e1f", "type", "veth", "peer", "name", "eth0", "netns", pod.name)
        try ns.ip("link", "add", "vrt0", "type", "veth", "peer", "name", "up0", "netns", router.name)
        try pod.ip("link", "set", "eth0", "up")
        try pod.ip("addr", "add", "10.244.1.5/32", "dev", "eth0")
        try router.ip("link", "set", "up0", "up")
        try router.ip("addr", "add", "10.99.0.2/24", "dev", "up0")
        _ = try Shell.run(["ip", "netns", "exec", router.name, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        try ns.ip("link", "set", "cali5e1f", "up")
        try ns.ip("link", "set", "vrt0", "up")
        try ns.ip("addr", "add", "10.99.0.1/24", "dev", "vrt0")
        try ns.ip("route", "add", "10.244.1.5/32", "dev", "cali5e1f", "scope", "link")
        try ns.ip("route", "add", "10.50.0.0/16", "via", "10.99.0.2")
        let a = try audit(ns)
        let leaked = try entry(a, "cali5e1f")
        #expect(leaked.state == .suspect, "\(leaked.reason)")
        let finding = try #require(a.findings.first { $0.id == "veth-peer-netns-empty" && $0.ifname == "cali5e1f" })
        #expect(finding.evidence.contains("10.244.1.5/32") && finding.evidence.contains("does not forward"), "\(finding.evidence)")
        let routed = try entry(a, "vrt0")
        #expect(routed.state == .live, "\(routed.reason)")
        #expect(routed.reason.contains("forwards") && routed.reason.contains("10.50.0.0/16"), "\(routed.reason)")
    }

    @Test func vethPeerInANamespaceWithAProcessIsLive() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let other = try TestNamespace()
        defer { other.remove() }
        try ns.ip("link", "add", "vc", "type", "veth", "peer", "name", "vd")
        try ns.ip("link", "set", "vd", "netns", other.name)
        try other.hold("keepalive0")
        let a = try audit(ns)
        #expect(try entry(a, "vc").state == .live)
    }

    @Test func addressesAndLinkLocalRoutes() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "tap1", "mode", "tap")
        try ns.hold("tap1", mode: "tap")
        try ns.ip("link", "set", "tap1", "up")
        try ns.ip("addr", "add", "10.44.0.1/24", "dev", "tap1")
        try ns.ip("addr", "add", "2001:db8:44::1/64", "dev", "tap1", "nodad")
        try ns.ip("addr", "add", "fe80::44/64", "dev", "tap1", "nodad")
        let a = try audit(ns)
        let tap = try entry(a, "tap1")
        let addresses = Set(tap.interface.addresses.map(\.display))
        #expect(addresses.isSuperset(of: ["10.44.0.1/24", "2001:db8:44::1/64", "fe80::44/64"]))
        #expect(tap.interface.addresses.first { $0.local.description == "fe80::44" }?.scope == "link")
        let destinations = Set(tap.routes.map { "\($0.table) \($0.type) \($0.destination)" })
        #expect(destinations.contains("main unicast 10.44.0.0/24"))
        #expect(destinations.contains("main unicast fe80::/64"))
        #expect(destinations.contains("local local 10.44.0.1/32"))
        #expect(tap.state == .live)
    }

    @Test func splitDefaultRoutesIntoAnOrphanAreCritical() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "kure_tua", "mode", "tun")
        try ns.ip("link", "set", "kure_tua", "up")
        try ns.ip("route", "add", "0.0.0.0/1", "dev", "kure_tua")
        try ns.ip("route", "add", "128.0.0.0/1", "dev", "kure_tua")
        let a = try audit(ns)
        let finding = try #require(a.findings.first { $0.id == "dead-tunnel-route" })
        #expect(finding.severity == .critical)
        #expect(Set(finding.routes?.map(\.destination.description) ?? []) == ["0.0.0.0/1", "128.0.0.0/1"])
        #expect(a.status == .critical)
    }

    @Test func inventoryAgreesWithIproute2() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        for i in 0..<20 { try ns.ip("tuntap", "add", "dev", "t\(i)", "mode", i % 2 == 0 ? "tun" : "tap") }
        try ns.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
        try ns.ip("link", "add", "br0", "type", "bridge")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let json = try Shell.run(["ip", "-n", ns.name, "-j", "-d", "link", "show"])
        let links = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        let expected = links.map { link -> String in
            let info = (link["linkinfo"] as? [String: Any])?["info_kind"] as? String ?? "-"
            return "\(link["ifindex"] as? Int ?? -1) \(link["ifname"] as? String ?? "?") \(info)"
        }
        let ours = snapshot.interfaces.map { "\($0.index) \($0.name) \($0.infoKind ?? "-")" }
        #expect(ours == expected)
    }

    /// Each address of a tunnel reads as `ip -j addr show` prints it: family, local, peer,
    /// prefix length and scope, IPv6 addresses holding an IPv4 address in their last 32 bits
    /// included (`::ffff:10.1.2.3`, and `::192.0.2.2` as sit tunnels have).
    @Test func addressesAgreeWithIproute2() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "orc0", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "orc1", "mode", "tap")
        for (address, device) in [("::ffff:10.1.2.3/128", "orc0"), ("::192.0.2.2/96", "orc0"), ("2001:db8::1:0:0:1/64", "orc0"),
                                  ("fe80::1/64", "orc1"), ("10.77.0.1/24", "orc1"), ("fd00:0:0:1::1/64", "orc1")] {
            try ns.ip("addr", "add", address, "dev", device, "nodad")
        }
        try ns.ip("addr", "add", "10.78.0.1", "peer", "10.78.0.2/32", "dev", "orc0")
        func facts(_ address: [String: Any]) -> String {
            ["family", "local", "address", "prefixlen", "scope"].map { "\(address[$0] ?? "-")" }.joined(separator: " ")
        }
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "addr", "show").utf8)) as? [[String: Any]])
        let ours = try ns.auditedInterfaces()
        for device in ["orc0", "orc1"] {
            let expected = (listed.first { $0["ifname"] as? String == device }?["addr_info"] as? [[String: Any]] ?? []).map(facts).sorted()
            let found = (ours.first { $0["ifname"] as? String == device }?["addr_info"] as? [[String: Any]] ?? []).map(facts).sorted()
            #expect(found == expected && expected.count >= 3, "\(device)")
        }
    }

    /// Routes that name a nexthop object are read the same whether the kernel also writes the
    /// object's device into them (`nexthop_compat_mode` 1, the default) or not (0): a split
    /// default through an object shows under its tunnel, and a route through a group under each
    /// member's device. (The kernel takes nexthop objects only on a device with carrier, and
    /// drops them with their routes when the carrier goes, so these tunnels are held.)
    @Test func routesThroughNexthopObjectsAreReadInEitherCompatMode() throws {
        var seen: [String: [String]] = [:]
        for mode in ["1", "0"] {
            let ns = try TestNamespace()
            defer { ns.remove() }
            let set = try Shell.capture(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.ipv4.nexthop_compat_mode=\(mode)"])
            try #require(set.status == 0, "nexthop_compat_mode cannot be set here: \(set.stderr)")
            for device in ["nho0", "nho1"] {
                try ns.hold(device)
                try ns.ip("link", "set", device, "up")
            }
            try ns.ip("nexthop", "add", "id", "1", "dev", "nho0")
            try ns.ip("nexthop", "add", "id", "2", "dev", "nho1")
            try ns.ip("nexthop", "add", "id", "3", "group", "1,3/2")
            for destination in ["0.0.0.0/1", "128.0.0.0/1"] { try ns.ip("route", "add", destination, "nhid", "1") }
            try ns.ip("route", "add", "10.50.0.0/16", "nhid", "3")
            let report = try ns.auditReport()
            let interfaces = report["interfaces"] as? [[String: Any]] ?? []
            for device in ["nho0", "nho1"] {
                let routes = interfaces.first { $0["ifname"] as? String == device }?["routes"] as? [[String: Any]] ?? []
                seen["\(device) in mode \(mode)"] = routes.compactMap { $0["dst"] as? String }.filter { !$0.contains(":") }.sorted()
            }
            #expect(interfaces.first { $0["ifname"] as? String == "nho0" }?["state"] as? String == "live")
        }
        #expect(seen["nho0 in mode 1"] == ["0.0.0.0/1", "10.50.0.0/16", "128.0.0.0/1"], "\(seen)")
        #expect(seen["nho1 in mode 1"] == ["10.50.0.0/16"], "\(seen)")
        #expect(seen["nho0 in mode 0"] == seen["nho0 in mode 1"] && seen["nho1 in mode 0"] == seen["nho1 in mode 1"], "\(seen)")
    }

    /// The JSON's `link` is ip's: IFLA_LINK (a macvlan's lower device, a veth's peer), and no
    /// `link` for a vxlan, whose lower device ip shows only in its kind's data; the tap under
    /// the vxlan is kept all the same, as the device the kernel deletes the vxlan with.
    @Test func theLinkOfEachDeviceIsIproute2s() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        for tap in ["lnk0", "lnk1"] { try ns.ip("tuntap", "add", "dev", tap, "mode", "tap") }
        try ns.ip("link", "add", "lnkvx", "type", "vxlan", "id", "10", "dev", "lnk0", "dstport", "4789")
        try ns.ip("link", "add", "link", "lnk1", "name", "lnkmv", "type", "macvlan")
        try ns.ip("link", "add", "lnkva", "type", "veth", "peer", "name", "lnkvb")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "link", "show").utf8)) as? [[String: Any]])
        let ours = try ns.auditReport()
        let all = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--format", "json", "--no-state", "--all"])
        let interfaces = (try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])?["interfaces"] as? [[String: Any]] ?? []
        let names = Dictionary(uniqueKeysWithValues: interfaces.compactMap { entry in (entry["ifindex"] as? Int).map { ($0, entry["ifname"] as? String ?? "") } })
        for device in ["lnkvx", "lnkmv", "lnkva", "lnkvb"] {
            let theirs = listed.first { $0["ifname"] as? String == device }?["link"] as? String
            let mine = (interfaces.first { $0["ifname"] as? String == device }?["link"] as? Int).map { names[$0] ?? "?" }
            #expect(mine == theirs, "\(device)")
        }
        let tap = (ours["interfaces"] as? [[String: Any]] ?? []).first { $0["ifname"] as? String == "lnk0" }
        #expect(tap?["state"] as? String == "suspect" && (tap?["state_reason"] as? String)?.contains("lnkvx") == true, "\(tap ?? [:])")
    }

    /// Routes told apart only by their type of service or, in IPv6, by the sources they are for
    /// (`from`) are told apart in the report as `ip -j route` tells them apart.
    @Test func routesForATypeOfServiceOrSourcesAreToldApart() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.hold("tosd0")
        try ns.ip("link", "set", "tosd0", "up")
        for tos in ["0x10", "0x08"] { try ns.ip("route", "add", "10.96.0.0/16", "dev", "tosd0", "tos", tos) }
        try ns.ip("route", "add", "10.96.0.0/16", "dev", "tosd0")
        for source in ["2001:db8:1::/48", "2001:db8:2::/48"] { try ns.ip("-6", "route", "add", "2001:db8:300::/48", "from", source, "dev", "tosd0") }
        func keys(_ routes: [[String: Any]]) -> [String] {
            routes.filter { ($0["dst"] as? String)?.hasPrefix("10.96.") == true || ($0["dst"] as? String)?.hasPrefix("2001:db8:300") == true }
                .map { "\($0["dst"] ?? "") from \($0["from"] ?? "-") tos \($0["tos"] ?? "-")" }.sorted()
        }
        var theirs: [[String: Any]] = []
        for family in ["-4", "-6"] {
            theirs += try #require(try JSONSerialization.jsonObject(with: Data(try ns.ip(family, "-j", "route", "show").utf8)) as? [[String: Any]])
        }
        let ours = try ns.auditedInterfaces().first { $0["ifname"] as? String == "tosd0" }?["routes"] as? [[String: Any]] ?? []
        #expect(keys(ours) == keys(theirs) && keys(ours).count == 5, "\(keys(ours)) vs \(keys(theirs))")
    }

    /// Route protocols, address flags and link flags carry the names `ip -j` gives them: `ra` and
    /// the routing daemons' protocols, `dynamic` for an address with lifetimes (and nothing for
    /// one without), `NO-CARRIER` for a device that is up without carrier.
    @Test func protocolsAndFlagsAreNamedAsIproute2NamesThem() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "nmf0", "mode", "tap")
        try ns.ip("link", "set", "nmf0", "up")
        try ns.ip("addr", "add", "10.97.0.1/24", "dev", "nmf0")
        try ns.ip("addr", "add", "10.97.1.1/24", "dev", "nmf0", "valid_lft", "3000", "preferred_lft", "2000")
        try ns.ip("addr", "add", "2001:db8:97::1/64", "dev", "nmf0", "nodad", "valid_lft", "5000", "preferred_lft", "4000")
        for (number, name) in [(8, "gated"), (9, "ra"), (11, "zebra"), (12, "bird"), (18, "keepalived"), (42, "babel"), (99, "openr"), (192, "eigrp"), (77, nil)] {
            try ns.ip("route", "add", "10.98.\(number).0/24", "dev", "nmf0", "proto", "\(number)")
            let ours = try ns.auditedInterfaces().first { $0["ifname"] as? String == "nmf0" }?["routes"] as? [[String: Any]] ?? []
            let mine = ours.first { $0["dst"] as? String == "10.98.\(number).0/24" }?["protocol"] as? String
            let theirs = (try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "route", "show", "10.98.\(number).0/24").utf8)) as? [[String: Any]])?
                .first?["protocol"] as? String
            #expect(mine == theirs && mine == name ?? "\(number)", "proto \(number): \(mine ?? "-") vs ip's \(theirs ?? "-")")
        }
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "addr", "show", "dev", "nmf0").utf8)) as? [[String: Any]])
        let infos = listed.first?["addr_info"] as? [[String: Any]] ?? []
        let entry = try #require(try ns.auditedInterfaces().first { $0["ifname"] as? String == "nmf0" })
        for info in infos {
            let theirs = ["secondary", "temporary", "nodad", "optimistic", "dadfailed", "home", "deprecated", "tentative", "dynamic",
                          "mngtmpaddr", "noprefixroute", "autojoin", "stable-privacy"].filter { info[$0] as? Bool == true }
            let mine = (entry["addr_info"] as? [[String: Any]] ?? []).first { $0["local"] as? String == info["local"] as? String }?["flags"] as? [String] ?? []
            #expect(mine == theirs, "\(info["local"] ?? "?"): \(mine) vs ip's \(theirs)")
        }
        // A veth whose peer is down, and a macvlan on a device that is down, end with M-DOWN.
        try ns.ip("link", "add", "nmfa", "type", "veth", "peer", "name", "nmfb")
        try ns.ip("link", "set", "nmfa", "up")
        if (try? Shell.capture(["ip", "-n", ns.name, "link", "add", "link", "nmfb", "name", "nmfm", "type", "macvlan"]))?.status == 0 {
            try ns.ip("link", "set", "nmfm", "up")
        }
        let links = try #require(try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "link", "show").utf8)) as? [[String: Any]])
        let all = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--format", "json", "--no-state", "--all"])
        let ours = (try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])?["interfaces"] as? [[String: Any]] ?? []
        for link in links {
            let name = link["ifname"] as? String ?? "?"
            let mine = ours.first { $0["ifname"] as? String == name }?["flags"] as? [String]
            #expect(mine == link["flags"] as? [String], "\(name): \(mine ?? []) vs ip's \(link["flags"] ?? "-")")
        }
        #expect((entry["flags"] as? [String])?.first == "NO-CARRIER", "\(entry["flags"] ?? "-")")
        #expect((ours.first { $0["ifname"] as? String == "nmfa" }?["flags"] as? [String])?.last == "M-DOWN")
    }

    @Test func missingNamespaceIsAClearError() throws {
        let inventory = LinuxInventory(namespaceName: "twtest-does-not-exist-\(getpid())")
        let error = #expect(throws: InventoryError.self) { try inventory.snapshot() }
        #expect(error?.message.contains("no network namespace named 'twtest-does-not-exist") == true)
        #expect(error?.message.contains("ip netns list") == true)
    }
}
#endif

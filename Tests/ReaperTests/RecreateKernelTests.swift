#if os(Linux)
import Foundation
import Glibc
import Inventory
import Testing
import TestSupport
import Storage
import TunwardenCore

/// The journal's recreate commands against the real kernel, as root, each test in its own
/// throwaway namespace: replayed with `sh`, they must give back an equivalent device, in the
/// namespace it was reaped from, under the exact bytes of its name.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct RecreateKernelTests {
    /// What `ip` reports about a device that a person would call its configuration: the link
    /// (flags, MTU, queue length, alias, alternative names, master, group, MAC, broadcast address,
    /// promiscuity and allmulti counts, link mode, IPv6 address generation mode, GSO and GRO
    /// sizes, tun settings), each address with every key `ip -j` gives it (lifetimes only as
    /// finite or forever, since they count down; the devices here have no carrier, so the kernel
    /// gives them no link-local address of its own), its routes, with a multipath route's hops in
    /// one order, and its permanent and proxy neighbour entries.
    static func ipView(_ name: String, _ ip: ([String]) throws -> String) throws -> [String] {
        func objects(_ arguments: [String]) throws -> [[String: Any]] {
            try JSONSerialization.jsonObject(with: Data(try ip(arguments).utf8)) as? [[String: Any]] ?? []
        }
        func line(_ object: [String: Any], _ keys: [String]) -> String {
            keys.map { key in
                if let list = object[key] as? [String] { return "\(key)=\(list.sorted())" }
                // Nested objects (a route's metrics) in one order, whatever order a dictionary keeps.
                if let nested = object[key], nested is [Any] || nested is [String: Any],
                   let data = try? JSONSerialization.data(withJSONObject: nested, options: [.sortedKeys]) {
                    return "\(key)=\(String(decoding: data, as: UTF8.self))"
                }
                return "\(key)=\(object[key].map { "\($0)" } ?? "-")"
            }.joined(separator: " ")
        }
        let link = try #require(try objects(["-d", "-j", "link", "show", "dev", name]).first)
        let info = (link["linkinfo"] as? [String: Any])?["info_data"] as? [String: Any] ?? [:]
        var view = [line(link, ["flags", "mtu", "txqlen", "ifalias", "altnames", "master", "group", "address", "broadcast", "promiscuity", "allmulti",
                                "linkmode", "inet6_addr_gen_mode", "gso_max_size", "gso_max_segs", "gro_max_size"]),
                    line(info, info.keys.sorted())]
        for address in try objects(["-j", "addr", "show", "dev", name]).first?["addr_info"] as? [[String: Any]] ?? [] {
            var shown = address
            for key in ["valid_life_time", "preferred_life_time"] {
                if let seconds = address[key] as? NSNumber { shown[key] = seconds.int64Value == 0xFFFF_FFFF ? "forever" : "finite" }
            }
            view.append(line(shown, shown.keys.sorted()))
        }
        // (In an order of their own: the kernel lists a neighbour table in its hash order.)
        var neighbours: [String] = []
        for proxy in [[], ["proxy"]] {
            for entry in try objects(["-j", "neigh", "show"] + proxy + ["dev", name])
            where proxy.isEmpty ? ((entry["state"] as? [String]) ?? []).contains("PERMANENT") : true {
                neighbours.append("neigh " + line(entry, entry.keys.sorted()))
            }
        }
        view += neighbours.sorted()
        for family in ["-4", "-6"] {
            for var route in try objects([family, "-j", "route", "show", "table", "all", "dev", name]) {
                // (Only whether it expires: the seconds left count down.)
                if route["expires"] != nil { route["expires"] = "finite" }
                view.append(line(route, route.keys.sorted()))
            }
            // Multipath routes name their devices in their hops only.
            for route in try objects([family, "-j", "-d", "route", "show", "table", "all"])
            where (route["nexthops"] as? [[String: Any]])?.contains(where: { $0["dev"] as? String == name }) == true {
                // (IPv6 appends a hop given back after the others.)
                let hops = (route["nexthops"] as? [[String: Any]] ?? []).map { line($0, $0.keys.sorted()) }.sorted()
                view.append(line(route, route.keys.sorted().filter { $0 != "nexthops" }) + " hops=\(hops)")
            }
        }
        return view
    }

    /// The seconds of life `ip` reports left for `local` on `name`.
    static func lifetimes(_ name: String, _ local: String, _ ns: TestNamespace) throws -> (valid: Int, preferred: Int) {
        let objects = try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "addr", "show", "dev", name).utf8)) as? [[String: Any]] ?? []
        let address = try #require((objects.first?["addr_info"] as? [[String: Any]])?.first { $0["local"] as? String == local })
        return (address["valid_life_time"] as? Int ?? -1, address["preferred_life_time"] as? Int ?? -1)
    }

    static func intents(_ state: TemporaryDirectory) throws -> [JournalRecord] {
        try Journal(path: state.path + "/journal.jsonl").read().filter { $0.type == .intent }
    }

    /// Runs each command with `sh -c`, as a person pasting them would: from a throwaway namespace
    /// (see `TestNamespace.replayFromElsewhere`), or with `prefix` (`nsenter` into a namespace
    /// the test made) where the commands name no namespace by design.
    static func replay(_ commands: [String], prefix: [String]? = nil) throws {
        guard let prefix else { return try TestNamespace.replayFromElsewhere(commands) }
        for command in commands { try Shell.run(prefix + ["sh", "-c", command]) }
    }

    @Test func aReapedDeviceComesBackWithEverythingIpCanSet() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "rfull0", "mode", "tap")
        try ns.ip("link", "set", "rfull0", "arp", "off", "promisc", "on", "allmulticast", "on", "txqueuelen", "1234", "alias", "my alias",
                  "mtu", "1400", "address", "02:00:00:00:00:42")
        try ns.ip("link", "set", "rfull0", "up")
        // Link settings that differ from a new tap's (set before the routes: a link event marks
        // routes added before it `linkdown`, which no command sets), and a link-local address
        // added by hand, kept apart from the kernel's own by `addrgenmode none`.
        try ns.ip("link", "set", "rfull0", "broadcast", "02:ff:ff:ff:ff:fe", "mode", "dormant", "addrgenmode", "none",
                  "gso_max_size", "30000", "gso_max_segs", "100", "gro_max_size", "40000")
        try ns.ip("addr", "add", "fe80::1/64", "dev", "rfull0", "nodad")
        try ns.ip("link", "property", "add", "dev", "rfull0", "altname", "rfull0-alt", "altname", "rfull0.two")
        try ns.ip("addr", "add", "2001:db8:5::1/64", "dev", "rfull0", "nodad", "noprefixroute")
        try ns.ip("addr", "add", "2001:db8:6::1/64", "dev", "rfull0", "nodad", "home", "mngtmpaddr", "valid_lft", "3000", "preferred_lft", "2000")
        try ns.ip("addr", "add", "10.66.0.1/24", "brd", "+", "dev", "rfull0", "label", "rfull0:a", "noprefixroute")
        try ns.ip("addr", "add", "10.66.1.1/24", "dev", "rfull0", "metric", "9", "valid_lft", "3000", "preferred_lft", "2000")
        try ns.ip("addr", "add", "10.66.2.1/24", "dev", "rfull0", "scope", "link")
        try ns.ip("addr", "add", "239.1.2.3/32", "dev", "rfull0", "autojoin")
        try ns.ip("route", "add", "10.77.0.0/16", "via", "192.0.2.9", "dev", "rfull0", "onlink")
        try ns.ip("route", "add", "10.78.0.0/16", "via", "10.66.1.2", "dev", "rfull0", "src", "10.66.1.1", "mtu", "lock", "1300",
                  "advmss", "1200", "initcwnd", "10", "rtt", "100ms", "features", "ecn", "congctl", "reno", "table", "100")
        try ns.ip("route", "add", "10.79.0.0/16", "nexthop", "via", "10.66.1.2", "dev", "rfull0", "weight", "3",
                  "nexthop", "via", "10.66.1.3", "dev", "rfull0")
        try ns.ip("-6", "route", "add", "2001:db8:9::/64", "via", "2001:db8:6::2", "dev", "rfull0", "metric", "300", "mtu", "1400")
        // A gateway reached through another of its routes, listed before that route.
        try ns.ip("route", "add", "10.99.0.0/24", "dev", "rfull0")
        try ns.ip("route", "add", "10.50.0.0/16", "via", "10.99.0.7", "dev", "rfull0", "rto_min", "50ms", "realm", "5")
        try ns.ip("route", "add", "10.53.0.0/16", "dev", "rfull0", "tos", "0x10", "table", "1000")
        try ns.ip("route", "add", "10.54.0.0/16", "dev", "rfull0", "realms", "3/4")
        try ns.ip("-6", "route", "add", "2001:db8:a::/64", "via", "2001:db8:6::3", "dev", "rfull0", "pref", "high")
        try ns.ip("route", "add", "local", "10.58.0.0/16", "dev", "rfull0", "table", "local")
        try ns.ip("route", "add", "10.59.0.0/16", "via", "10.66.1.2", "dev", "rfull0")
        try ns.ip("route", "append", "10.59.0.0/16", "via", "10.66.1.9", "dev", "rfull0")
        // IPv4 through IPv6 gateways (RTA_VIA), which ip takes only as `via inet6`, and a locked
        // congestion control algorithm.
        try ns.ip("route", "add", "10.82.0.0/16", "via", "inet6", "2001:db8:6::9", "dev", "rfull0")
        try ns.ip("route", "add", "10.83.0.0/16", "nexthop", "via", "inet6", "2001:db8:6::9", "dev", "rfull0",
                  "nexthop", "via", "inet6", "2001:db8:6::8", "dev", "rfull0")
        try ns.ip("route", "add", "10.84.0.0/16", "dev", "rfull0", "congctl", "lock", "reno")
        // Lightweight tunnel encapsulations, on a route and on a hop, and per-hop realms.
        try ns.ip("route", "add", "10.85.0.0/16", "dev", "rfull0", "encap", "ip", "id", "42", "dst", "10.0.0.9", "ttl", "7", "tos", "0x10", "key", "csum")
        try ns.ip("-6", "route", "add", "2001:db8:73::/48", "dev", "rfull0", "encap", "ip6", "id", "44", "dst", "2001:db8::10", "hoplimit", "9",
                  "tc", "0x20", "seq")
        try ns.ip("route", "add", "10.86.0.0/16", "nexthop", "via", "10.66.1.2", "realms", "5", "dev", "rfull0",
                  "nexthop", "encap", "ip", "id", "7", "dst", "10.0.0.7", "via", "10.66.1.3", "realms", "2/6", "dev", "rfull0", "weight", "9")
        // `proto kernel` routes made by hand, which no address explains.
        try ns.ip("route", "add", "10.87.0.0/16", "dev", "rfull0", "proto", "kernel")
        try ns.ip("-6", "route", "add", "2001:db8:87::/48", "dev", "rfull0", "proto", "kernel")
        // An IPv6 route that expires, which must not come back for good.
        try ns.ip("-6", "route", "add", "2001:db8:70::/48", "dev", "rfull0", "expires", "600")
        try ns.ip("tuntap", "add", "dev", "rfull1", "mode", "tun")
        try ns.ip("link", "set", "rfull1", "arp", "on", "multicast", "off", "dynamic", "on", "trailers", "off")
        // Neighbour entries made by hand, which go with the device and never come back by themselves.
        try ns.ip("neigh", "add", "10.66.1.5", "lladdr", "02:00:00:00:00:05", "nud", "permanent", "dev", "rfull0")
        try ns.ip("neigh", "add", "2001:db8:6::5", "lladdr", "02:00:00:00:00:06", "nud", "permanent", "router", "dev", "rfull0")
        try ns.ip("neigh", "add", "proxy", "2001:db8:6::7", "dev", "rfull0", "router")
        try ns.ip("neigh", "add", "10.66.1.8", "lladdr", "02:00:00:00:00:08", "nud", "permanent", "dev", "rfull0", "extern_learn", "protocol", "99")
        let run: ([String]) throws -> String = { try Shell.run(["ip", "-n", ns.name] + $0) }
        let before = try ["rfull0", "rfull1"].map { try Self.ipView($0, run) }

        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let intents = try Self.intents(state)
        #expect(intents.map(\.ifname).sorted() == ["rfull0", "rfull1"])
        let prior = try #require(intents.first { $0.ifname == "rfull0" }?.prior)
        #expect(prior.txQueueLength == 1234 && prior.alias == "my alias")
        #expect(prior.addresses.first { $0.local == IPAddress("2001:db8:5::1") }?.flags.contains("noprefixroute") == true)

        for intent in intents { try Self.replay(intent.recreate ?? []) }
        let after = try ["rfull0", "rfull1"].map { try Self.ipView($0, run) }
        #expect(after == before, "gone: \(Set(before.joined()).subtracting(after.joined())), new: \(Set(after.joined()).subtracting(before.joined()))")
        let left = try Self.lifetimes("rfull0", "10.66.1.1", ns)
        #expect((2900...3000).contains(left.valid) && (1900...2000).contains(left.preferred), "\(left)")
        let route = try JSONSerialization.jsonObject(with: Data(try ns.ip("-6", "-j", "route", "show", "2001:db8:70::/48").utf8)) as? [[String: Any]]
        let expires = try #require(route?.first?["expires"] as? Int, "\(route ?? [])")
        #expect((500...600).contains(expires), "\(expires)")
    }

    /// A port of a bridge is never reaped (it has been configured into something), so its
    /// commands are taken from the inventory itself: the bridge membership must come back.
    @Test func aBridgePortComesBackInItsBridge() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("link", "add", "rbr0", "type", "bridge")
        try ns.ip("tuntap", "add", "dev", "rport0", "mode", "tap")
        try ns.ip("link", "set", "rport0", "master", "rbr0", "arp", "off", "promisc", "on", "txqueuelen", "1234", "alias", "my alias")
        try ns.ip("link", "set", "rport0", "up")
        try ns.ip("addr", "add", "2001:db8:7::1/64", "dev", "rport0", "nodad", "noprefixroute")
        let run: ([String]) throws -> String = { try Shell.run(["ip", "-n", ns.name] + $0) }
        let before = try Self.ipView("rport0", run)

        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let port = try #require(snapshot.interfaces.first { $0.name == "rport0" })
        let bridge = try #require(snapshot.interfaces.first { $0.name == "rbr0" })
        #expect(port.master == bridge.index && port.masterName == "rbr0")
        #expect(port.txQueueLength == 1234 && port.alias == "my alias")
        #expect(port.addresses.first { $0.family == .inet6 && !$0.isLinkLocal }?.flags.contains("nodad") == true)
        let routes = snapshot.routes.filter { $0.nextHops.contains { $0.interfaceIndex == port.index } }
        let commands = RecreateCommands.commands(for: port, routes: routes, namespace: ns.name)
        #expect(commands.contains("ip -n \(ns.name) link set dev rport0 master rbr0"))

        try ns.ip("link", "del", "rport0")
        try Self.replay(commands)
        #expect(try Self.ipView("rport0", run) == before)
    }

    @Test func aReapRunThroughIpNetnsExecJournalsTheNamespacesName() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "rexec0", "mode", "tun")
        try ns.ip("addr", "add", "10.67.0.1/24", "dev", "rexec0")

        let result = try Shell.capture(["ip", "netns", "exec", ns.name, Shell.tunwardenBinary, "reap", "--yes", "--min-age", "0", "--state-dir", state.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let records = try Journal(path: state.path + "/journal.jsonl").read()
        #expect(records.count == 2 && records.allSatisfy { $0.netns == ns.name })
        let commands = try #require(records.first { $0.type == .intent }?.recreate)
        // Replayed from the test's own namespace, a command without `ip -n` would act on the host's.
        try #require(!commands.isEmpty && commands.allSatisfy { $0.hasPrefix("ip -n \(ns.name) ") }, "\(commands)")
        try Self.replay(commands)
        #expect(try ns.ip("-br", "addr", "show", "dev", "rexec0").contains("10.67.0.1/24"))
    }

    @Test func aReapInANamespaceWithoutANameSaysWhereToRunItsCommands() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "ranon0", "mode", "tun")
        // A process keeps the namespace alive once its name is gone; killing it frees the namespace.
        let keeper = Process()
        keeper.executableURL = URL(fileURLWithPath: try #require(Shell.which("ip")))
        keeper.arguments = ["netns", "exec", ns.name, "sleep", "600"]
        try keeper.run()
        defer {
            kill(keeper.processIdentifier, SIGKILL)
            keeper.waitUntilExit()
        }
        let inside = "--net=/proc/\(keeper.processIdentifier)/ns/net"
        var attempts = 0
        while (try? Shell.run(["nsenter", inside, "ip", "link", "show", "dev", "ranon0"])) == nil, attempts < 100 {
            usleep(20_000)
            attempts += 1
        }
        try Shell.run(["ip", "netns", "del", ns.name])
        var info = stat()
        try #require(stat("/proc/\(keeper.processIdentifier)/ns/net", &info) == 0)

        let result = try Shell.capture(["nsenter", inside, Shell.tunwardenBinary, "reap", "--yes", "--min-age", "0", "--state-dir", state.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let intent = try #require(try Self.intents(state).first)
        #expect(intent.netns == nil)
        let commands = intent.recreate ?? []
        #expect(commands.first == RecreateCommands.unnamedNamespaceNote("net:[\(info.st_ino)]"))
        #expect(commands.dropFirst().first == "ip tuntap add dev ranon0 mode tun")
        try Self.replay(commands, prefix: ["nsenter", inside])
        #expect(try Shell.run(["nsenter", inside, "ip", "-br", "link", "show", "dev", "ranon0"]).contains("ranon0"))
    }

    @Test func aNameThatIsNotUTF8ComesBackAsTheSameBytes() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        // 0xff, ESC, a backslash and a quote: bytes a shell, printf or a terminal would change.
        // (A `%` would make the kernel take the name for a pattern like `tun%d`.)
        let name: [UInt8] = Array("zz".utf8) + [0xff, 0x1b] + Array("\\'".utf8)
        try Shell.run(["python3", "-c", "import subprocess, sys; subprocess.run([b'ip', b'-n', sys.argv[1].encode(), b'tuntap', b'add', b'dev', "
                       + "b'zz\\xff\\x1b\\\\\\'', b'mode', b'tun'], check=True)", ns.name])
        let text = InterfaceName.text(name)
        #expect(try LinuxInventory(namespaceName: ns.name).snapshot().interfaces.contains { $0.name == text })

        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let intent = try #require(try Self.intents(state).first)
        #expect(intent.ifname == text)
        let commands = intent.recreate ?? []
        #expect(commands.first == "ip -n \(ns.name) tuntap add dev \"$(printf 'zz\\377\\033\\\\\\047')\" mode tun")
        #expect(commands.allSatisfy { $0.utf8.allSatisfy { (0x20..<0x7f).contains($0) } })
        #expect(try !LinuxInventory(namespaceName: ns.name).snapshot().interfaces.contains { $0.name == text })

        try Self.replay(commands)
        let names = try LinuxInventory(namespaceName: ns.name).snapshot().interfaces.map(\.name)
        #expect(names.contains(text), "\(names)")
        #expect(names.filter { $0 != "lo" }.count == 1, "\(names)")
    }

    /// A reap killed outright inside `ip netns exec NAME` left intents naming NAME; the next reap
    /// run the same way must recognise them as its own and undo their fence.
    @Test func aKilledReapThroughIpNetnsExecIsRepairedByTheNextOne() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "rkill0", "mode", "tun")
        let fence: UInt32 = 0x0123_4567
        try ns.ip("link", "set", "dev", "rkill0", "group", "\(fence)")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        var device = try #require(snapshot.interfaces.first { $0.name == "rkill0" })
        device.group = 0
        try Journal(path: state.path + "/journal.jsonl").append([
            JournalRecord(time: Date(), run: "killed", type: .intent, netns: ns.name, ifname: "rkill0", ifindex: device.index,
                          prior: PriorState(device, routes: []), recreate: [], fenceGroup: fence, fenceName: "tw0000000000000"),
        ])

        let result = try Shell.capture(["ip", "netns", "exec", ns.name, Shell.tunwardenBinary, "reap", "--yes", "--min-age", "1h", "--state-dir", state.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("Repaired rkill0") || result.stdout.contains("Repaired rkill0"), "\(result.stdout)\(result.stderr)")
        let link = try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "-d", "link", "show", "dev", "rkill0").utf8)) as? [[String: Any]]
        #expect(link?.first?["group"] as? String == "default")
    }
}
#endif

#if os(Linux)
import CLinuxShims
import Foundation
import Glibc
@testable import Inventory
import Netlink
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// The reaper under attack, against the real kernel, as root, each test in its own throwaway
/// namespace: other processes attach, rename and stack devices between the plan and the delete
/// (at the reaper's own step hooks, so every interleaving named here is hit every time), names
/// are not UTF-8, signals arrive, a run is killed half-way. Nothing held may ever be deleted, and
/// every result must say what really happened.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"), .serialized)
struct ReaperSafetyTests {
    /// A process in `ns` that attaches to the device whose name has these bytes (creating a
    /// non-persistent one if none answers to it), prints "ready", and on SIGUSR1 prints whether its
    /// descriptor still reaches a device ("alive") or the device was deleted under it ("EBADFD").
    final class Attacher {
        let process = Process()
        let output = Pipe()
        let input = Pipe()

        init(_ ns: TestNamespace, name: [UInt8], tap: Bool = false, multiQueue: Bool = false) throws {
            process.executableURL = URL(fileURLWithPath: Shell.which("ip") ?? "/usr/sbin/ip")
            process.arguments = ["netns", "exec", ns.name, "python3", "-c", Self.script, name.map { String(format: "%02x", $0) }.joined(),
                                 tap ? "tap" : "tun", multiQueue ? "mq" : "sq"]
            process.standardOutput = output
            process.standardInput = input
            try process.run()
            let line = readLine()
            guard line == "ready" else { throw ShellError(command: "attach", status: 1, output: line) }
        }

        func readLine() -> String {
            var bytes: [UInt8] = []
            while true {
                let data = output.fileHandleForReading.readData(ofLength: 1)
                guard let byte = data.first, byte != 10 else { break }
                bytes.append(byte)
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        /// "alive", or "EBADFD" when the device it was attached to was deleted.
        func check() -> String {
            input.fileHandleForWriting.write(Data("check\n".utf8))
            return readLine()
        }

        deinit {
            // SIGKILL: a child spawned by Foundation inherits a mask that blocks SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        static let script = """
        import errno, fcntl, os, struct, sys
        name, mode, queues = bytes.fromhex(sys.argv[1]), sys.argv[2], sys.argv[3]
        flags = (0x0001 if mode == "tun" else 0x0002) | 0x1000 | (0x0100 if queues == "mq" else 0)
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", name, flags))
        print("ready", flush=True)
        for line in sys.stdin:
            try:
                fcntl.ioctl(fd, 0x800454d2, bytes(40))
                print("alive", flush=True)
            except OSError as error:
                print("EBADFD" if error.errno == errno.EBADFD else "errno %d" % error.errno, flush=True)
        """
    }

    /// Makes a persistent, unheld tun/tap whose name has exactly these bytes.
    func makePersistent(_ ns: TestNamespace, _ name: [UInt8], tap: Bool = false, multiQueue: Bool = false) throws {
        let script = """
        import fcntl, os, struct, sys
        flags = (0x0002 if sys.argv[2] == "tap" else 0x0001) | 0x1000 | (0x0100 if sys.argv[3] == "mq" else 0)
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", bytes.fromhex(sys.argv[1]), flags))
        fcntl.ioctl(fd, 0x400454cb, 1)
        """
        try Shell.run(["ip", "netns", "exec", ns.name, "python3", "-c", script, name.map { String(format: "%02x", $0) }.joined(),
                       tap ? "tap" : "tun", multiQueue ? "mq" : "sq"])
    }

    func plan(_ ns: TestNamespace) throws -> ReapPlan {
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        return ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                             policy: ReapPolicy(minimumAge: 0), now: Date())
    }

    func links(_ ns: TestNamespace) throws -> [Int: LinkMessage] {
        let fd = open("/run/netns/\(ns.name)", O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        let client = RtnetlinkClient(transport: try NetlinkSocket(namespaceFD: fd))
        let all = try LinuxReaper.dumpLinks(client)
        return Dictionary(uniqueKeysWithValues: all.map { (Int($0.index), $0) })
    }

    /// Every result is true: deleted means gone, skipped or failed means still there.
    func expectResultsTrue(_ results: [ReapResult], _ ns: TestNamespace) throws {
        let now = try links(ns)
        for result in results {
            if result.outcome == .deleted {
                #expect(now[result.ifindex] == nil, "\(result.ifname) reported deleted but still there")
            } else {
                #expect(now[result.ifindex] != nil, "\(result.ifname) reported \(result.outcome) but gone: \(result.detail ?? "")")
            }
        }
    }

    @Test func namesThatAreNotUTF8AreActedOnByTheirBytes() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let held: [UInt8] = [0x7a, 0x7a, 0xff], orphan: [UInt8] = [0x7a, 0x7a, 0xfe]
        try makePersistent(ns, held)
        try makePersistent(ns, orphan)
        let plan = try plan(ns)
        #expect(Set(plan.items.map(\.ifname)) == [#"zz\xff"#, #"zz\xfe"#])
        // A process attaches to zz\xff between the plan and the act.
        let attacher = try Attacher(ns, name: held)
        let journal = Journal(path: state.path + "/journal.jsonl")
        let results = try LinuxReaper(namespaceName: ns.name).execute(plan, journal: journal, runID: "bytes")
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName[#"zz\xff"#]?.outcome == .skipped)
        #expect(byName[#"zz\xfe"#]?.outcome == .deleted)
        #expect(attacher.check() == "alive")
        try expectResultsTrue(results, ns)
        // No device was made under a repaired name, and the held one kept its exact bytes.
        let names = try links(ns).values.compactMap(\.name)
        #expect(names.contains(held))
        #expect(!names.contains([0x7a, 0x7a, 0xef, 0xbf, 0xbd]))
        let intents = try journal.read().filter { $0.type == .intent }
        #expect(intents.map(\.ifname) == [#"zz\xfe"#])
    }

    @Test(arguments: [false, true])
    func aQueueAttachedToAMultiQueueDeviceAfterTheLastCheckNeverReachesIt(targetByTarget: Bool) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "mqa", "mode", "tun", "multi_queue")
        try ns.ip("tuntap", "add", "dev", "mqb", "mode", "tun", "multi_queue")
        try ns.ip("link", "set", "mqb", "up")
        let plan = try plan(ns)
        let verdicts = { Heuristics.assess(try! LinuxInventory(namespaceName: ns.name).snapshot()).interfaces.map { "\($0.interface.name): \($0.state) (\($0.reason))" } }
        #expect(plan.items.count == 2, "\(verdicts())")
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.lookTargetByTarget = targetByTarget
        let attackers = Locked<[Attacher]>([])
        // Right after the last dump, before the delete: a process attaches by each old name.
        reaper.stepHook = { step in
            guard step == "verified" else { return }
            for name in ["mqa", "mqb"] { attackers.mutate { $0.append(try! Attacher(ns, name: Array(name.utf8), multiQueue: true)) } }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "mq")
        #expect(results.allSatisfy { $0.outcome == .deleted }, "\(results)")
        // The attaches reached new devices, not the ones deleted.
        for attacker in attackers.value { #expect(attacker.check() == "alive") }
        try expectResultsTrue(results, ns)
    }

    @Test func aQueueAttachedBeforeFencingKeepsTheDeviceAndEverythingIsRestored() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "mqc", "mode", "tun", "multi_queue")
        try ns.ip("link", "set", "mqc", "up")
        try ns.ip("addr", "add", "fd09::1/64", "dev", "mqc", "nodad")
        try ns.ip("route", "add", "10.99.0.0/16", "dev", "mqc")
        try ns.ip("tuntap", "add", "dev", "sqc", "mode", "tap")
        let before = try configuration(ns, "mqc")
        let plan = try plan(ns)
        // Attached after re-verification, before fencing: the kernel's queue count must catch the
        // multi-queue one, the exclusive attach the single-queue one.
        var reaper = LinuxReaper(namespaceName: ns.name)
        let attackers = Locked<[Attacher]>([])
        reaper.stepHook = { step in
            guard step == "reverified" else { return }
            attackers.mutate {
                $0.append(try! Attacher(ns, name: Array("mqc".utf8), multiQueue: true))
                $0.append(try! Attacher(ns, name: Array("sqc".utf8), tap: true))
            }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "pre")
        #expect(results.allSatisfy { $0.outcome == .skipped }, "\(results)")
        for attacker in attackers.value { #expect(attacker.check() == "alive") }
        let now = try links(ns).values
        let mqc = try #require(now.first { $0.name == Array("mqc".utf8) })
        #expect(mqc.group == 0 && mqc.altNames.isEmpty && mqc.flags & 1 == 1, "name, group and up restored")
        // Its queue was seen before it was taken down: it never was, and lost nothing.
        let mqcResult = try #require(results.first { $0.ifname == "mqc" })
        #expect(mqcResult.detail?.contains("a process holds a queue") == true && mqcResult.detail?.contains("taken down") == false, "\(mqcResult)")
        let after = try configuration(ns, "mqc")
        #expect(after.addresses == before.addresses && after.routes == before.routes)
        let sqc = try #require(now.first { $0.name == Array("sqc".utf8) })
        #expect(sqc.group == 0 && sqc.altNames.isEmpty)
    }

    /// The routes and addresses of `device` as `ip` shows them, in a form that does not depend on
    /// the carrier: state flags (link down, dead) and lifetimes left out, and the IPv6 link-local
    /// addresses and routes the kernel makes when a carrier comes left out.
    func configuration(_ ns: TestNamespace, _ device: String) throws -> (routes: Set<String>, addresses: Set<String>) {
        func linkLocal(_ text: String?) -> Bool { text.map { $0.hasPrefix("fe80") || $0.hasPrefix("ff00") } ?? false }
        var routes = Set<String>()
        for family in ["-4", "-6"] {
            let listed = try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "-d", family, "route", "show", "table", "all").utf8)) as? [[String: Any]] ?? []
            for route in listed where !linkLocal(route["dst"] as? String) {
                var shown = route
                shown["flags"] = (route["flags"] as? [String] ?? []).filter { $0 != "linkdown" && $0 != "dead" }
                shown["nexthops"] = (route["nexthops"] as? [[String: Any]])?.map { hop in
                    var hop = hop
                    hop["flags"] = (hop["flags"] as? [String] ?? []).filter { $0 != "linkdown" && $0 != "dead" }
                    return hop
                }
                shown["expires"] = nil
                let data = try JSONSerialization.data(withJSONObject: shown.compactMapValues { $0 }, options: [.sortedKeys])
                routes.insert(String(decoding: data, as: UTF8.self))
            }
        }
        let addresses = try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "addr", "show", "dev", device).utf8)) as? [[String: Any]] ?? []
        let kept = (addresses.first?["addr_info"] as? [[String: Any]] ?? []).filter { !linkLocal($0["local"] as? String) }
        return (routes, Set(kept.map { "\($0["local"] ?? "")/\($0["prefixlen"] ?? "") label \($0["label"] ?? "-")" }))
    }

    @Test func aMultiQueueDeviceTakenDownToBeFencedGetsItsAddressesAndRoutesBack() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "mqd", "mode", "tun", "multi_queue")
        try ns.ip("tuntap", "add", "dev", "mqe", "mode", "tun", "multi_queue")
        try ns.ip("tuntap", "add", "dev", "mqf", "mode", "tun", "multi_queue")
        for device in ["mqd", "mqe"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "10.9.0.1/24", "dev", "mqd")
        // A second address of the subnet with a label of its own: the renames keep its ":x".
        try ns.ip("addr", "add", "10.9.0.5/24", "dev", "mqd", "label", "mqd:x")
        try ns.ip("addr", "add", "10.3.0.1/24", "dev", "mqd", "label", "mqd:y")
        try ns.ip("addr", "add", "fd09::1/64", "dev", "mqd", "nodad")
        try ns.ip("addr", "add", "fd0a::1/64", "dev", "mqd", "nodad", "valid_lft", "3000", "preferred_lft", "2000")
        try ns.ip("route", "add", "10.99.0.0/16", "dev", "mqd")
        try ns.ip("route", "add", "10.98.0.0/16", "via", "10.9.0.2", "dev", "mqd", "src", "10.9.0.1", "mtu", "1300", "metric", "7")
        try ns.ip("route", "add", "10.97.0.0/16", "via", "192.0.2.9", "dev", "mqd", "onlink")
        try ns.ip("route", "add", "10.96.0.0/16", "nexthop", "via", "10.9.0.2", "dev", "mqd", "nexthop", "via", "10.9.0.3", "dev", "mqd")
        try ns.ip("route", "add", "default", "dev", "mqd", "table", "100")
        // Its gateway through another route of its own: put back only once that one is back.
        try ns.ip("route", "add", "10.95.0.0/16", "via", "10.99.0.1", "dev", "mqd")
        try ns.ip("-6", "route", "add", "fd10::/64", "via", "fd09::2", "dev", "mqd")
        try ns.ip("-6", "route", "add", "fd11::/64", "dev", "mqd", "metric", "300", "table", "100")
        try ns.ip("-6", "route", "add", "fd12::/64", "dev", "mqd", "expires", "600")
        // Two routes of one key (`ip route append`): both come back.
        try ns.ip("route", "add", "10.93.0.0/16", "via", "10.9.0.2", "dev", "mqd")
        try ns.ip("route", "append", "10.93.0.0/16", "via", "10.9.0.9", "dev", "mqd")
        // Routes a person marked as the kernel's, a kernel route changed, one deleted.
        try ns.ip("route", "add", "10.44.0.0/16", "dev", "mqd", "proto", "kernel")
        try ns.ip("route", "replace", "10.9.0.0/24", "dev", "mqd", "proto", "kernel", "scope", "link", "src", "10.9.0.1", "mtu", "1280")
        try ns.ip("route", "del", "10.3.0.0/24", "dev", "mqd")
        try ns.ip("route", "add", "10.94.0.0/16", "dev", "mqe")
        // mqf is down: no route to lose, but a secondary address the renames relabel (mqf:2), which
        // is named, not undone (undoing it would drop every route that has it as source).
        try ns.ip("addr", "add", "10.7.0.1/24", "dev", "mqf")
        try ns.ip("addr", "add", "10.7.0.2/24", "dev", "mqf")
        let before = try configuration(ns, "mqd"), beforeF = try configuration(ns, "mqf")
        #expect(before.addresses.contains("10.9.0.5/24 label mqd:x") && before.addresses.count == 5, "\(before.addresses)")
        let plan = try plan(ns)
        #expect(Set(plan.items.map(\.ifname)) == ["mqd", "mqe", "mqf"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        let attackers = Locked<[Attacher]>([])
        // Fenced (renamed to a private name, and down): a process finds each by that name and attaches.
        reaper.stepHook = { step in
            guard step == "fenced" else { return }
            for name in ["mqd", "mqf"] {
                let index = Int32(plan.items.first { $0.ifname == name }!.interface.index)
                let fenced = try! self.links(ns).values.first { $0.index == index }!
                attackers.mutate { $0.append(try! Attacher(ns, name: fenced.name!, multiQueue: true)) }
            }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "downed")
        let mqd = try #require(results.first { $0.ifname == "mqd" })
        #expect(mqd.outcome == .skipped, "\(mqd)")
        #expect(mqd.detail?.contains("renamed and taken down to be fenced, then given its name back and set up again; its 5 addresses and") == true
                && mqd.detail?.hasSuffix("routes are as they were") == true, "\(mqd.detail ?? "")")
        let mqf = try #require(results.first { $0.ifname == "mqf" })
        #expect(mqf.outcome == .failed && mqf.detail?.contains("the rename relabelled address 10.7.0.2/24 from mqf to mqf:2") == true, "\(mqf)")
        #expect(results.first { $0.ifname == "mqe" }?.outcome == .deleted)
        for attacker in attackers.value { #expect(attacker.check() == "alive") }
        let after = try configuration(ns, "mqd"), afterF = try configuration(ns, "mqf")
        // mqe's route went with mqe; everything of mqd's and mqf's is as it was.
        #expect(after.addresses == before.addresses, "\(after.addresses)")
        #expect(afterF.addresses == beforeF.addresses.subtracting(["10.7.0.2/24 label mqf"]).union(["10.7.0.2/24 label mqf:2"]), "\(afterF.addresses)")
        let expected = before.routes.filter { !$0.contains("mqe") }
        #expect(after.routes == expected, "missing: \(expected.subtracting(after.routes)), extra: \(after.routes.subtracting(expected))")
        // A route that expired in ten minutes still does (in a little less).
        #expect(try ns.ip("-6", "route", "show", "fd12::/64").contains("expires"))
        try expectResultsTrue(results, ns)
    }

    /// Going down to be fenced flushes a device's neighbour entries, those made by hand too
    /// (permanent, noarp, proxy), which the kernel never makes again: a tap kept after all gets
    /// them back, and a result that says so only when they are.
    @Test func aMultiQueueTapKeptAfterBeingTakenDownGetsItsPermanentNeighboursBack() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "mqn", "mode", "tap", "multi_queue")
        try ns.ip("link", "set", "mqn", "up")
        try ns.ip("addr", "add", "10.91.0.1/24", "dev", "mqn")
        try ns.ip("addr", "add", "fd91::1/64", "dev", "mqn", "nodad")
        try ns.ip("neigh", "add", "10.91.0.5", "lladdr", "02:00:00:00:00:05", "dev", "mqn", "nud", "permanent")
        try ns.ip("neigh", "add", "fd91::5", "lladdr", "02:00:00:00:00:06", "dev", "mqn", "nud", "permanent")
        try ns.ip("neigh", "add", "10.91.0.6", "lladdr", "02:00:00:00:00:07", "dev", "mqn", "nud", "noarp")
        try ns.ip("neigh", "add", "proxy", "10.91.0.8", "dev", "mqn")
        try ns.ip("route", "add", "10.92.0.0/16", "via", "10.91.0.5", "dev", "mqn", "table", "100")
        func permanent() throws -> Set<String> {
            let lines = try ns.ip("neigh", "show", "dev", "mqn", "nud", "permanent") + ns.ip("neigh", "show", "dev", "mqn", "nud", "noarp")
                + ns.ip("neigh", "show", "proxy", "dev", "mqn")
            // (Less the kernel's own NOARP entries for multicast addresses, which come and go.)
            return Set(lines.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("ff") })
        }
        let before = try permanent()
        #expect(before.count == 4, "\(before)")
        let plan = try plan(ns)
        var reaper = LinuxReaper(namespaceName: ns.name)
        let attackers = Locked<[Attacher]>([])
        reaper.stepHook = { step in
            guard step == "fenced" else { return }
            let index = Int32(plan.items.first { $0.ifname == "mqn" }!.interface.index)
            let fenced = try! self.links(ns).values.first { $0.index == index }!
            attackers.mutate { $0.append(try! Attacher(ns, name: fenced.name!, tap: true, multiQueue: true)) }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "neigh")
        let mqn = try #require(results.first { $0.ifname == "mqn" })
        #expect(mqn.outcome == .skipped && mqn.detail?.hasSuffix("routes and 4 neighbour entries made by hand are as they were") == true, "\(mqn)")
        #expect(try permanent() == before)
        for attacker in attackers.value { #expect(attacker.check() == "alive") }
        try expectResultsTrue(results, ns)
    }

    /// The fence stops attaches, not configuration by ifindex or address: a route another device
    /// takes a target's address for as source, a multipath route through it and a live device,
    /// an XDP program attached to it, a tc action redirecting another device's packets to it, or a
    /// vxlan forwarding entry sending through it, since the plan, keeps it, and the route is still
    /// there.
    @Test func whatComesToDependOnATargetAfterItsFenceKeepsIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for device in ["ld0", "ld1", "ld2", "ld3", "ld4", "ld5", "ld6", "ld7"] { try ns.ip("tuntap", "add", "dev", device, "mode", "tap") }
        try ns.ip("tuntap", "add", "dev", "ldmq", "mode", "tap", "multi_queue")
        try ns.ip("link", "add", "lva", "type", "veth", "peer", "name", "lvb")
        for device in ["ld0", "ld1", "ld2", "ld3", "ld4", "ld5", "ld6", "ldmq", "lva", "lvb"] { try ns.ip("link", "set", device, "up") }
        // (A kernel without the vxlan driver leaves that case untested.)
        let vxlan = (try? Shell.capture(["ip", "-n", ns.name, "link", "add", "ldvx", "type", "vxlan", "id", "61", "dstport", "4789"]).status) == 0
        // (A kernel without tc's u32 filter or mirred action, or a machine without nft, leaves that case untested.)
        let tc = (try? Shell.capture(["ip", "netns", "exec", ns.name, "tc", "qdisc", "add", "dev", "lvb", "ingress"]).status) == 0
        let nft = ["ip", "netns", "exec", ns.name, "nft"]
        let nftables = Shell.which("nft") != nil
            && (try? Shell.capture(nft + ["add", "table", "netdev", "t"]).status) == 0
            && (try? Shell.capture(nft + ["add", "chain", "netdev", "t", "c", "{ type filter hook ingress device lva priority 0; }"]).status) == 0
        try ns.ip("addr", "add", "10.1.0.1/24", "dev", "ld0")
        try ns.ip("addr", "add", "10.3.0.1/24", "dev", "ld3")
        try ns.ip("addr", "add", "10.4.0.1/24", "dev", "ldmq")
        try ns.ip("addr", "add", "10.5.0.1/24", "dev", "lva")
        let plan = try plan(ns)
        #expect(Set(plan.items.map(\.ifname)) == ["ld0", "ld1", "ld2", "ld3", "ld4", "ld5", "ld6", "ld7", "ldmq"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        let xdp = Locked<Process?>(nil)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            try! ns.ip("route", "add", "10.80.0.0/24", "dev", "lva", "src", "10.1.0.1")
            try! ns.ip("route", "add", "blackhole", "10.81.0.0/24", "src", "10.4.0.1")
            try! ns.ip("route", "add", "10.82.0.0/24", "nexthop", "dev", "ld3", "nexthop", "dev", "lva")
            xdp.mutate { $0 = try? XDPUseTests.start(ns, "ld2", "link") }
            if tc {
                _ = try? Shell.capture(["ip", "netns", "exec", ns.name, "tc", "filter", "add", "dev", "lvb", "parent", "ffff:", "protocol", "all",
                                        "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", "ld4"])
            }
            if vxlan {
                _ = try? Shell.capture(["bridge", "-n", ns.name, "fdb", "add", "00:00:00:00:00:00", "dev", "ldvx", "dst", "192.0.2.7", "via", "ld7"])
            }
            if nftables {
                _ = try? Shell.capture(nft + ["add", "rule", "netdev", "t", "c", "dup", "to", "\"ld5\""])
                _ = try? Shell.capture(nft + ["add", "chain", "netdev", "t", "h6", "{ type filter hook ingress device ld6 priority 0; }"])
            }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "late")
        let outcome = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(outcome["ld0"]?.outcome == .skipped && outcome["ld0"]?.detail?.contains("takes its address 10.1.0.1 as source") == true, "\(results)")
        #expect(outcome["ldmq"]?.outcome == .skipped && outcome["ldmq"]?.detail?.contains("(10.81.0.0/24) takes its address 10.4.0.1") == true, "\(results)")
        #expect(outcome["ld3"]?.outcome == .skipped && outcome["ld3"]?.detail?.contains("multipath route (10.82.0.0/24)") == true, "\(results)")
        #expect(outcome["ld1"]?.outcome == .deleted, "\(results)")
        if tc {
            #expect(outcome["ld4"]?.outcome == .skipped && outcome["ld4"]?.detail?.contains("a tc action (mirred) now sends another device's packets to it") == true, "\(results)")
        }
        if nftables {
            #expect(outcome["ld5"]?.outcome == .skipped && outcome["ld5"]?.detail?.contains("an nftables rule now sends packets to it") == true, "\(results)")
            #expect(outcome["ld6"]?.outcome == .skipped && outcome["ld6"]?.detail?.contains("nftables chain netdev t h6 is now hooked on it") == true, "\(results)")
        }
        if vxlan {
            #expect(outcome["ld7"]?.outcome == .skipped && outcome["ld7"]?.detail?.contains("forwarding entries of ldvx now send packets out through it") == true, "\(results)")
        }
        if xdp.value != nil {
            #expect(outcome["ld2"]?.outcome == .skipped && outcome["ld2"]?.detail?.contains("an XDP program") == true, "\(results)")
        }
        #expect(try ns.ip("route", "show", "10.80.0.0/24").contains("src 10.1.0.1"))
        #expect(try ns.ip("route", "show", "10.81.0.0/24").contains("src 10.4.0.1"))
        #expect(try ns.ip("route", "show", "10.82.0.0/24").contains("ld3"))
        try expectResultsTrue(results, ns)
    }

    /// Two orphans with one address: the routes through them alone go with them, and nothing
    /// depends on the pair, so both are deleted; a route of a device that stays taking that
    /// address as source keeps both (deleting both would take it).
    @Test(arguments: [false, true])
    func twoOrphansSharingAnAddressAreReapedTogetherUnlessARouteNeedsIt(routed: Bool) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        let (a, b, v) = routed ? ("lsa1", "lsb1", "lsv1") : ("lsa0", "lsb0", "lsv0")
        for device in [a, b] {
            try ns.ip("tuntap", "add", "dev", device, "mode", "tap")
            try ns.ip("link", "set", device, "up")
            try ns.ip("addr", "add", "10.2.0.1/24", "dev", device)
        }
        try ns.ip("link", "add", v, "type", "veth", "peer", "name", v + "p")
        try ns.ip("link", "set", v, "up")
        if routed { try ns.ip("route", "add", "10.80.0.0/24", "dev", v, "src", "10.2.0.1") }
        let plan = try plan(ns)
        #expect(Set(plan.items.map(\.ifname)) == [a, b])
        let results = try LinuxReaper(namespaceName: ns.name).execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "pair")
        if routed {
            #expect(results.allSatisfy { $0.outcome == .skipped && $0.detail?.contains("(10.80.0.0/24) takes its address 10.2.0.1 as source") == true }, "\(results)")
            #expect(try ns.ip("route", "show", "10.80.0.0/24").contains("src 10.2.0.1"))
        } else {
            #expect(results.allSatisfy { $0.outcome == .deleted }, "\(results)")
        }
        try expectResultsTrue(results, ns)
    }

    @Test func aRenameDuringTheActNeverMakesAReportLie() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["rn0", "rn1"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tun") }
        try ns.ip("tuntap", "add", "dev", "rnmq", "mode", "tun", "multi_queue")
        let plan = try plan(ns)
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            // A single-queue target renamed while tunwarden holds it, and a multi-queue target's
            // private name taken away.
            _ = try? ns.ip("link", "set", "rn0", "name", "rn0x")
            if let fenced = try? ns.ip("-o", "link", "show", "type", "tun"),
               let line = fenced.split(separator: "\n").first(where: { $0.contains(": tw") }),
               let name = line.split(separator: ":").dropFirst().first?.trimmingCharacters(in: .whitespaces) {
                _ = try? ns.ip("link", "set", name, "name", "stolen")
            }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "rename")
        try expectResultsTrue(results, ns)
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["rnmq"]?.outcome == .skipped)
        #expect(byName["rn1"]?.outcome == .deleted)
        // Whatever was reported for the renamed one is true (checked above); the group holds nothing.
        #expect(try links(ns).values.allSatisfy { $0.group == 0 })
    }

    @Test(arguments: [false, true])
    func stackedDevicesAreNeverOrphansNorDeletedWithTheirLowerDevice(targetByTarget: Bool) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "base0", "mode", "tap")
        try ns.ip("link", "add", "mv0", "link", "base0", "type", "macvlan")
        try ns.ip("link", "add", "vx0", "type", "vxlan", "id", "42", "dev", "base0", "dstport", "4789")
        try ns.ip("link", "add", "virbr0", "type", "bridge")
        try ns.ip("tuntap", "add", "dev", "virbr0-nic", "mode", "tap")
        try ns.ip("link", "set", "virbr0-nic", "master", "virbr0")
        try ns.ip("tuntap", "add", "dev", "late0", "mode", "tap")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let assessment = Heuristics.assess(snapshot)
        let states = Dictionary(uniqueKeysWithValues: assessment.interfaces.map { ($0.interface.name, $0) })
        #expect(states["base0"]?.state == .suspect)
        #expect(states["base0"]?.reason.contains("mv0") == true && states["base0"]?.reason.contains("vx0") == true)
        #expect(states["virbr0-nic"]?.state == .suspect)
        #expect(states["virbr0-nic"]?.reason.contains("port of virbr0") == true)
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(plan.items.map(\.ifname) == ["late0"])
        // Something is stacked on the one target after it was fenced: it must survive too.
        // Two targets this time: one gets a macvlan, the other a vxlan, after they were fenced.
        try ns.ip("tuntap", "add", "dev", "late1", "mode", "tap")
        let plan2 = try self.plan(ns)
        #expect(plan2.items.map(\.ifname).sorted() == ["late0", "late1"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.lookTargetByTarget = targetByTarget
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            _ = try? ns.ip("link", "add", "mv1", "link", "late0", "type", "macvlan")
            _ = try? ns.ip("link", "add", "vx1", "type", "vxlan", "id", "43", "dev", "late1", "dstport", "4790")
        }
        let results = try reaper.execute(plan2, journal: Journal(path: state.path + "/journal.jsonl"), runID: "stack")
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["late0"]?.outcome == .skipped && byName["late0"]?.detail?.contains("mv1") == true, "\(results)")
        #expect(byName["late1"]?.outcome == .skipped && byName["late1"]?.detail?.contains("vx1") == true, "\(results)")
        let names = Set(try links(ns).values.compactMap { $0.name.map { String(decoding: $0, as: UTF8.self) } })
        #expect(names.isSuperset(of: ["base0", "mv0", "vx0", "virbr0", "virbr0-nic", "late0", "mv1", "late1", "vx1"]))
    }

    /// Multi-queue taps whose IPv6 addresses had passed duplicate address detection (no `nodad`
    /// flag), one with a finite lifetime, and IPv6 routes taking them as source: given back after
    /// a process attached (DAD would make them tentative, and the routes would be refused) and
    /// after a signal with no carrier (DAD would never end, and delete the finite one).
    @Test(arguments: ["attach", "signal"])
    func addressesThatHadPassedDADComeBackUsable(how: String) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "dad0", "mode", "tap", "multi_queue")
        try ns.ip("link", "set", "dad0", "up")
        // Passed DAD without asking for nodad: as with a carrier and DAD done.
        _ = try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.ipv6.conf.dad0.accept_dad=0"])
        try ns.ip("addr", "add", "fd0b::1/64", "dev", "dad0")
        try ns.ip("addr", "add", "fd0d::1/64", "dev", "dad0", "valid_lft", "3000", "preferred_lft", "2000")
        _ = try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.ipv6.conf.dad0.accept_dad=1"])
        // (The kernel may take a moment to make the address usable as a source.)
        for attempt in 1...50 {
            do {
                try ns.ip("-6", "route", "add", "fd0c::/64", "via", "fd0b::2", "dev", "dad0", "src", "fd0d::1")
                break
            } catch where attempt < 50 {
                usleep(20_000)
            }
        }
        let before = try configuration(ns, "dad0")
        let plan = try plan(ns)
        var reaper = LinuxReaper(namespaceName: ns.name)
        let attackers = Locked<[Attacher]>([])
        reaper.stepHook = { step in
            guard step == "fenced" else { return }
            if how == "signal" { raise(SIGTERM); return }
            let fenced = try! self.links(ns).values.first { $0.index == Int32(plan.items[0].interface.index) }!
            attackers.mutate { $0.append(try! Attacher(ns, name: fenced.name!, tap: true, multiQueue: true)) }
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "dad")
        #expect(results.first?.outcome == .skipped && results.first?.detail?.contains("are as they were") == true, "\(results)")
        let after = try configuration(ns, "dad0")
        #expect(after.addresses == before.addresses, "\(after.addresses)")
        #expect(after.routes == before.routes, "missing: \(before.routes.subtracting(after.routes)), extra: \(after.routes.subtracting(before.routes))")
    }

    /// A multi-queue tap given back after a signal takes no other device's routes: the kernel's
    /// IPv6 link-local and multicast routes of a live veth, whose prefix and metric the tap's own
    /// share (an IPv6 replace takes the first route of a prefix and metric, whatever its device),
    /// stay the veth's, no `local` route is added beside the kernel's, and a route of the tap's
    /// key that another device took while the tap was down is left alone and named.
    @Test func aTapGivenBackTakesNoOtherDevicesRoute() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("link", "add", "gbva", "type", "veth", "peer", "name", "gbvb")
        try ns.ip("link", "set", "gbva", "up")
        try ns.ip("link", "set", "gbvb", "up")
        try ns.ip("tuntap", "add", "dev", "gbmq", "mode", "tap", "multi_queue")
        try ns.ip("link", "set", "gbmq", "up")
        try ns.ip("addr", "add", "2001:db8:81::1/64", "dev", "gbmq", "nodad")
        try ns.ip("addr", "add", "fe80::1/64", "dev", "gbmq", "nodad")
        try ns.ip("-6", "route", "add", "2001:db8:90::/64", "dev", "gbmq", "metric", "7")
        func table() throws -> [String] {
            try ns.ip("-6", "route", "show", "table", "all").split(separator: "\n").map { $0.replacingOccurrences(of: " linkdown", with: "") }.sorted()
        }
        // The veths' link-local routes come with their carrier, and the local routes of their
        // link-local addresses once duplicate address detection is done: the listing is taken
        // when all are there, so none arrives between it and the one after the give-back.
        func settled(_ lines: [String]) -> Bool {
            ["gbva", "gbvb"].allSatisfy { device in
                lines.contains("fe80::/64 dev \(device) proto kernel metric 256 pref medium")
                    && lines.contains { $0.hasPrefix("local fe80::") && $0.contains(" dev \(device) table local ") }
            }
        }
        for _ in 0..<250 where try !settled(table()) { usleep(20_000) }
        let before = try table()
        try #require(settled(before), "\(before)")
        try #require(before.contains("multicast ff00::/8 dev gbvb table local proto kernel metric 256 pref medium"), "\(before)")
        var plan = try plan(ns)
        plan.items = plan.items.filter { $0.interface.name == "gbmq" }
        try #require(plan.items.count == 1)
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in if step == "fenced" { raise(SIGTERM) } }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "giveback")
        #expect(results.first?.outcome == .skipped && results.first?.detail?.contains("are as they were") == true, "\(results)")
        var after = try table()
        for _ in 0..<50 where after != before { usleep(20_000); after = try table() }
        #expect(after == before, "missing: \(Set(before).subtracting(after)), extra: \(Set(after).subtracting(before))")

        // Again, with the tap's route of metric 7 taken by the veth while the tap is down.
        plan = try self.plan(ns)
        plan.items = plan.items.filter { $0.interface.name == "gbmq" }
        reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "fenced" else { return }
            _ = try? Shell.run(["ip", "-n", ns.name, "-6", "route", "add", "2001:db8:90::/64", "dev", "gbvb", "metric", "7"])
            raise(SIGTERM)
        }
        let second = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "giveback2")
        #expect(second.first?.detail?.contains("route 2001:db8:90::/64 not given back: a route of the same destination, table and metric leaves through ifindex") == true, "\(second)")
        let routes = try ns.ip("-6", "route", "show", "2001:db8:90::/64")
        #expect(routes.contains("dev gbvb") && !routes.contains("dev gbmq"), "\(routes)")
    }

    /// An IPv6 multipath route across two multi-queue targets of one batch goes when both are
    /// down; rolled back, it is added again by the second one given back, and a device given back
    /// while it could not be yet says so.
    @Test func anIPv6RouteSharedByTwoTargetsComesBackOrIsNamed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["sha", "shb"] {
            try ns.ip("tuntap", "add", "dev", name, "mode", "tun", "multi_queue")
            try ns.ip("link", "set", name, "up")
        }
        try ns.ip("-6", "route", "add", "fd70::/64", "nexthop", "via", "fe80::1", "dev", "sha", "nexthop", "via", "fe80::2", "dev", "shb")
        let plan = try plan(ns)
        #expect(plan.items.count == 2)
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in if step == "fenced" { raise(SIGTERM) } }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "shared")
        #expect(try ns.ip("-6", "route", "show", "fd70::/64").contains("nexthop"), "\(results)")
        for result in results {
            let named = result.detail?.contains("route fd70::/64, which it shares with other devices, missing") == true
            #expect(result.detail?.contains("are as they were") == true || (named && result.outcome == .failed), "\(result)")
        }
    }

    @Test func aSignalDuringTheActRollsTheBatchBack() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["sg0", "sg1"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tun") }
        try ns.ip("tuntap", "add", "dev", "sgmq", "mode", "tun", "multi_queue")
        let plan = try plan(ns)
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in if step == "grouped" { raise(SIGTERM) } }
        let journal = Journal(path: state.path + "/journal.jsonl")
        let results = try reaper.execute(plan, journal: journal, runID: "signal")
        #expect(LinuxReaper.interruptingSignal == SIGTERM)
        #expect(results.allSatisfy { $0.outcome == .skipped && $0.detail?.contains("interrupted by SIGTERM") == true }, "\(results)")
        let now = try links(ns).values
        for name in ["sg0", "sg1", "sgmq"] {
            let link = try #require(now.first { $0.name == Array(name.utf8) }, "\(name) restored under its name")
            #expect(link.group == 0 && link.altNames.isEmpty)
        }
        #expect(try journal.read().filter { $0.type == .result }.count == 3)
    }

    @Test func aRunKilledOutrightIsUndoneFromItsJournal() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "kl0", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "klmq", "mode", "tun", "multi_queue")
        try ns.ip("tuntap", "add", "dev", "kl1", "mode", "tun")
        try ns.ip("link", "set", "klmq", "up")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let kl0 = try #require(snapshot.interfaces.first { $0.name == "kl0" })
        let klmq = try #require(snapshot.interfaces.first { $0.name == "klmq" })
        let kl1 = try #require(snapshot.interfaces.first { $0.name == "kl1" })
        // What a run killed after fencing leaves: intents naming the fence, the fence in place;
        // and one for a device it never reached (or whose plan it could not journal whole).
        let journal = Journal(path: state.path + "/journal.jsonl")
        try journal.append([
            JournalRecord(time: Date(), run: "killed", type: .intent, netns: ns.name, ifname: "kl1", ifindex: kl1.index,
                          prior: PriorState(kl1, routes: []), fenceGroup: 0x1234_5679, fenceName: "tw0000000000003"),
            JournalRecord(time: Date(), run: "killed", type: .intent, netns: ns.name, ifname: "kl0", ifindex: kl0.index,
                          prior: PriorState(kl0, routes: []), fenceGroup: 0x1234_5678, fenceName: "tw0000000000001"),
            JournalRecord(time: Date(), run: "killed", type: .intent, netns: ns.name, ifname: "klmq", ifindex: klmq.index,
                          prior: PriorState(klmq, routes: []), fenceGroup: 0x1234_5678, fenceName: "tw0000000000002"),
        ])
        try ns.ip("link", "property", "add", "dev", "kl0", "altname", "tw0000000000001")
        try ns.ip("link", "set", "kl0", "group", "\(0x1234_5678)")
        try ns.ip("link", "set", "klmq", "down")
        try ns.ip("link", "set", "klmq", "name", "tw0000000000002")
        try ns.ip("link", "set", "tw0000000000002", "group", "\(0x1234_5678)")

        let lines = try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal)
        #expect(lines.count == 3)
        #expect(lines.contains { $0.line.contains("kl1") && $0.line.contains("run killed left no result for it, and it bears no mark of its fence; nothing to undo") }, "\(lines)")
        let now = try links(ns)
        #expect(now[kl0.index]?.group == 0 && now[kl0.index]?.altNames.isEmpty == true)
        #expect(now[klmq.index]?.name == Array("klmq".utf8) && now[klmq.index]?.group == 0 && (now[klmq.index]!.flags & 1) == 1)
        let results = try journal.read().filter { $0.type == .result && $0.run == "killed" }
        #expect(results.count == 3)
        #expect(lines.allSatisfy { !$0.failed && $0.line.hasPrefix("Repaired") }, "\(lines)")
        // Repaired once: the next look finds nothing left to do.
        #expect(try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal).isEmpty)
    }

    /// A server that binds a target's only address after the plan uses it: the last look sees
    /// the socket (its list is read apart from the routes, whose dump starts over) and gives the
    /// target back; the other target goes.
    @Test func aSocketBoundToATargetsAddressAfterThePlanKeepsIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["abs0", "abs1"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tap") }
        try ns.ip("addr", "add", "10.43.0.1/24", "dev", "abs0")
        try ns.ip("link", "set", "abs0", "up")
        let plan = try plan(ns)
        #expect(Set(plan.items.map(\.ifname)) == ["abs0", "abs1"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            _ = try? ns.python("""
                import socket, sys, time
                s = socket.socket(); s.bind(("10.43.0.1", 8080)); s.listen()
                print("ready", flush=True); time.sleep(3600)
                """)
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "bound")
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["abs0"]?.outcome == .skipped && byName["abs0"]?.detail?.contains("bound to its address 10.43.0.1") == true, "\(results)")
        #expect(byName["abs1"]?.outcome == .deleted, "\(results)")
        #expect(try links(ns).values.contains { $0.name == Array("abs0".utf8) })
    }

    /// A raw socket bound to a target after the plan (a VRRP daemon started on it) uses it: no
    /// socket list the kernel has here shows its device, and the last look, asking the process
    /// that holds it, gives the target back, naming the socket; the other target goes.
    @Test func aRawSocketBoundToATargetAfterThePlanKeepsIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["rsklate0", "rsklate1"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tap") }
        let plan = try plan(ns)
        #expect(Set(plan.items.map(\.ifname)) == ["rsklate0", "rsklate1"])
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "grouped" else { return }
            _ = try? ns.python("""
                import socket, time
                s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"rsklate0")
                print("ready", flush=True); time.sleep(3600)
                """)
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "raw")
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["rsklate0"]?.outcome == .skipped, "\(results)")
        #expect(byName["rsklate0"]?.detail?.contains("a raw IPv4 socket (protocol 112, VRRP) of python3[") == true
            && byName["rsklate0"]?.detail?.contains("is now bound to it") == true, "\(results)")
        #expect(byName["rsklate1"]?.outcome == .deleted, "\(results)")
        #expect(try links(ns).values.contains { $0.name == Array("rsklate0".utf8) })
    }

    /// A raw socket whose device cannot be read (the process refuses pidfd_getfd: no
    /// CAP_SYS_PTRACE, a seccomp filter) may be bound to any device: every tap nobody holds is
    /// unknown, saying which socket and why, and no plan holds one. Asked for real, the same
    /// socket, bound to nothing, changes nothing: the tap is an orphan again.
    @Test func aRawSocketWhoseDeviceCannotBeReadLeavesEveryTapUnknown() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "rskunk0", "mode", "tap")
        let holder = try ns.python("""
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
            print("ready", flush=True); time.sleep(3600)
            """)
        var inventory = LinuxInventory(namespaceName: ns.name)
        inventory.readSocketDevice = { _ in .refused("pidfd_getfd: Operation not permitted") }
        let snapshot = try inventory.snapshot()
        let verdict = Heuristics.assess(snapshot).interfaces.first { $0.interface.name == "rskunk0" }
        #expect(verdict?.state == .unknown, "\(verdict?.reason ?? "-")")
        #expect(verdict?.reason.contains("a raw IPv4 socket (protocol 112, VRRP) of python3[\(holder.processIdentifier)] cannot be asked which device it is bound to: pidfd_getfd: Operation not permitted") == true,
                "\(verdict?.reason ?? "-")")
        let blind = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                  policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(blind.items.isEmpty, "\(blind.items.map(\.ifname))")
        #expect(try plan(ns).items.map(\.ifname) == ["rskunk0"])
    }

    /// A target moved to another namespace after the last look (`ip link set … netns`) vanishes
    /// from this one as if deleted; its removal notification (and, single-queue, tunwarden's own
    /// queue on it) says otherwise: the report says it was not deleted and where it went, and the
    /// fence is taken off it there. The other targets go.
    @Test func aTargetMovedAwayBeforeTheDeleteIsNotReportedDeleted() throws {
        let ns = try TestNamespace(), other = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); other.remove(); state.remove() }
        for name in ["mv0", "mv1"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tap") }
        try ns.ip("tuntap", "add", "dev", "mvmq", "mode", "tap", "multi_queue")
        let plan = try plan(ns)
        var reaper = LinuxReaper(namespaceName: ns.name)
        reaper.stepHook = { step in
            guard step == "verified" else { return }
            _ = try? ns.ip("link", "set", "mv0", "netns", other.name)
            _ = try? ns.ip("link", "set", "dev", String(decoding: self.fenceNameOfRenamed(ns), as: UTF8.self), "netns", other.name)
        }
        let results = try reaper.execute(plan, journal: Journal(path: state.path + "/journal.jsonl"), runID: "moved")
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["mv1"]?.outcome == .deleted, "\(results)")
        for name in ["mv0", "mvmq"] {
            #expect(byName[name]?.outcome == .skipped && byName[name]?.detail?.contains("it moved to network namespace '\(other.name)'") == true, "\(results)")
        }
        let there = try other.ip("-d", "-o", "link")
        #expect(there.contains("mv0") && there.contains("mvmq") && !there.contains("tw")
                && there.components(separatedBy: " group ").count == there.components(separatedBy: " group default").count, "\(there)")
    }

    /// The private name a multi-queue target carries while fenced: the one link named `tw…`.
    func fenceNameOfRenamed(_ ns: TestNamespace) -> [UInt8] {
        ((try? links(ns).values.first { $0.name?.starts(with: Array("tw".utf8)) == true })??.name) ?? []
    }

    /// An intent answers for one device in one incarnation of one namespace. After its namespace
    /// is made again under the same name (or the machine restarts), the device that now has the
    /// ifindex is someone else's; in the same namespace, a device that took the ifindex is not
    /// the one the intent recorded. Neither is touched, nor reported as repaired.
    @Test func aRepairLeavesAloneADeviceThatOnlySharesTheIfindex() throws {
        var ns = try TestNamespace()
        let state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "kr0", "mode", "tap")
        try ns.ip("link", "set", "kr0", "up")
        let old = try #require(try LinuxInventory(namespaceName: ns.name).snapshot().interfaces.first { $0.name == "kr0" })
        let oldIdentity = try LinuxInventory(namespaceName: ns.name).namespaceIdentity()
        let journal = Journal(path: state.path + "/journal.jsonl")
        let intent = { (identity: String?) in
            JournalRecord(time: Date(), run: "killed", type: .intent, netns: ns.name, ifname: "kr0", ifindex: old.index,
                          prior: PriorState(old, routes: []), fenceGroup: 0x1234_5677, fenceName: "tw000000000000a", namespaceIdentity: identity)
        }
        // The namespace made again under its name; its first device takes the same ifindex, down:
        // a tun, not a tap (a tap at the ifindex of this incarnation would be kr0 renamed).
        let name = ns.name
        ns.remove()
        ns = try TestNamespace(name: name)
        try ns.ip("tuntap", "add", "dev", "uplink1", "mode", "tun")
        let newcomer = try #require(try links(ns).values.first { $0.name == Array("uplink1".utf8) })
        #expect(Int(newcomer.index) == old.index, "the test needs the ifindex taken again")
        for identity in [oldIdentity, nil] {
            try journal.append([intent(identity)])
            let reaper = LinuxReaper(namespaceName: ns.name)
            if identity != nil { #expect(reaper.unfinishedIntents(try journal.openIntents().records).isEmpty) }
            #expect(try reaper.repairInterrupted(journal: journal).isEmpty)
            #expect(try links(ns)[Int(newcomer.index)].map { $0.flags & 1 } == 0, "uplink1 was set up")
        }
        // In the namespace the intent names, another device at the ifindex means its device is
        // gone from here: deleted, or moved where no namespace shows its fence, which nothing
        // tells apart, so not said to be deleted (failed).
        try journal.append([intent(try LinuxInventory(namespaceName: ns.name).namespaceIdentity())])
        let lines = try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal)
        #expect(lines.count == 1 && lines.first?.line.contains("the device is gone from this namespace: deleted (by that run, or since), or moved") == true
                && lines.first?.line.contains("now belongs to uplink1, which was left alone") == true, "\(lines)")
        #expect(try links(ns)[Int(newcomer.index)].map { $0.flags & 1 } == 0, "uplink1 was set up")
        #expect(try journal.read().filter { $0.type == .result }.map(\.result) == [.failed])
    }

    /// A multi-queue device a killed run took down lost its neighbour entries made by hand, which
    /// its intent recorded: the repair sets it up again and names them as what it lacks (failed).
    @Test func aRepairNamesTheNeighbourEntriesAKilledRunsFenceFlushed() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "knmq", "mode", "tap", "multi_queue")
        try ns.ip("link", "set", "knmq", "up")
        try ns.ip("neigh", "add", "10.68.0.5", "lladdr", "02:00:00:00:00:05", "nud", "permanent", "dev", "knmq")
        let knmq = try #require(try LinuxInventory(namespaceName: ns.name).snapshot().interfaces.first { $0.name == "knmq" })
        let journal = Journal(path: state.path + "/journal.jsonl")
        let saved = RecreateCommands.Neighbour(address: IPAddress("10.68.0.5")!, linkLayerAddress: "02:00:00:00:00:05", kind: .permanent)
        try journal.append([JournalRecord(time: Date(), run: "killed", type: .intent, netns: ns.name, ifname: "knmq", ifindex: knmq.index,
                                          prior: PriorState(knmq, routes: [], neighbours: [saved]), fenceGroup: 0x1234_5670, fenceName: "tw0000000000009")])
        // What the killed run's fence did: down (which flushes the entry), renamed, grouped.
        try ns.ip("link", "set", "knmq", "down")
        try ns.ip("link", "set", "knmq", "name", "tw0000000000009")
        try ns.ip("link", "set", "tw0000000000009", "group", "\(0x1234_5670)")
        try ns.ip("neigh", "flush", "dev", "tw0000000000009")
        let lines = try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal)
        #expect(lines.count == 1 && lines.first?.failed == true && lines.first?.line.contains("neighbour entry 10.68.0.5") == true, "\(lines)")
        #expect(try links(ns)[knmq.index]?.name == Array("knmq".utf8))
    }

    /// A journal at `state` holding what a reap killed right after its intent for `name` leaves:
    /// that intent (the device's state as the inventory sees it now, with its routes, and the
    /// fence it names). Returns the device's ifindex and the journal.
    func killedIntent(_ ns: TestNamespace, _ state: TemporaryDirectory, _ name: String, fenceName: String) throws -> (index: Int, journal: Journal) {
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let device = try #require(snapshot.interfaces.first { $0.name == name })
        let journal = Journal(path: state.path + "/journal.jsonl")
        try journal.append([JournalRecord(time: Date(), run: "killed", type: .intent, netns: ns.name, ifname: name, ifindex: device.index,
                                          prior: PriorState(device, routes: snapshot.routes.filter { $0.nextHops.contains { $0.interfaceIndex == device.index } }),
                                          fenceGroup: 0x1234_5678, fenceName: fenceName)])
        return (device.index, journal)
    }

    /// A run killed after it took a multi-queue device down died with what it had kept of its
    /// addresses and routes: the repair gives back name, group and up, and names what the device
    /// still lacks, as a failure.
    @Test func aRepairNamesWhatAKilledRunsFenceCostTheDevice() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "kdmq", "mode", "tun", "multi_queue")
        try ns.ip("link", "set", "kdmq", "up")
        try ns.ip("addr", "add", "10.9.0.1/24", "dev", "kdmq")
        try ns.ip("addr", "add", "fd09::1/64", "dev", "kdmq", "nodad")
        try ns.ip("route", "add", "10.99.0.0/16", "dev", "kdmq", "table", "100")
        let (index, journal) = try killedIntent(ns, state, "kdmq", fenceName: "tw0000000000004")
        try ns.ip("link", "set", "kdmq", "down")
        try ns.ip("link", "set", "kdmq", "name", "tw0000000000004")
        try ns.ip("link", "set", "tw0000000000004", "group", "\(0x1234_5678)")
        let lines = try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal)
        let line = try #require(lines.first)
        #expect(line.failed && line.line.contains("renamed back, set up again, but it lacks what it had before the fence: address fd09::1/64, route 10.99.0.0/16 table 100"), "\(line)")
        #expect(try links(ns)[index]?.name == Array("kdmq".utf8))
        #expect(try journal.read().filter { $0.type == .result && $0.run == "killed" }.map(\.result) == [.failed])
    }

    /// A device the repair gives back damaged is not deleted by the same run: its intent records
    /// would then hold only what was left of it, and only the killed run's hold all it had. The
    /// reap leaves it out of its plan, says why in the JSON, and exits 1; a real run with nothing
    /// left to do is no dry run.
    @Test func aDeviceGivenBackDamagedIsLeftOutOfTheSameRunsPlan() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "kfmq", "mode", "tun", "multi_queue")
        try ns.ip("link", "set", "kfmq", "up")
        try ns.ip("addr", "add", "fd09::1/64", "dev", "kfmq", "nodad")
        let (index, _) = try killedIntent(ns, state, "kfmq", fenceName: "tw0000000000006")
        try ns.ip("link", "set", "kfmq", "down")
        try ns.ip("link", "set", "kfmq", "name", "tw0000000000006")
        try ns.ip("link", "set", "tw0000000000006", "group", "\(0x1234_5678)")
        // A dry run repairs nothing, and says what the real run will repair first.
        let dry = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--dry-run",
                                     "--format", "json"])
        let pending = (try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])?["pending_repairs"] as? [[String: Any]]
        #expect(pending?.map { $0["ifname"] as? String } == ["kfmq"] && pending?.first?["ifindex"] as? Int == index, "\(dry.stdout)")
        #expect(dry.stderr.contains("intents without results (run killed"), "\(dry.stderr)")
        #expect(try links(ns)[index]?.name == Array("tw0000000000006".utf8), "a dry run changes nothing")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes",
                                        "--format", "json"])
        #expect(result.status == 1, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try links(ns)[index]?.name == Array("kfmq".utf8), "the device is still there, under its own name")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((report?["repairs"] as? [[String: Any]])?.map { $0["result"] as? String } == ["failed"], "\(result.stdout)")
        #expect((report?["plan"] as? [[String: Any]])?.isEmpty == true, "\(result.stdout)")
        #expect((report?["excluded"] as? [[String: Any]])?.contains { $0["ifname"] as? String == "kfmq" && $0["reason"] as? String == "repair-failed" } == true,
                "\(result.stdout)")
        #expect(report?["dry_run"] as? Bool == false && (report?["results"] as? [Any])?.isEmpty == true, "\(result.stdout)")
        // In words too.
        let text = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--dry-run"])
        #expect(text.stdout.contains("Would delete tun kfmq"), "the next run, with nothing to repair, plans it as any orphan: \(text.stdout)")
    }

    /// A run killed after it took a multi-queue device down but before it renamed it: the device
    /// has its own name and group, and is down; the repair sets it up and names what it lacks.
    @Test func aRepairSetsUpADeviceAKilledRunTookDownBeforeItsRename() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "kemq", "mode", "tun", "multi_queue")
        try ns.ip("link", "set", "kemq", "up")
        try ns.ip("addr", "add", "fd09::1/64", "dev", "kemq", "nodad")
        try ns.ip("route", "add", "10.99.0.0/16", "dev", "kemq")
        let (index, journal) = try killedIntent(ns, state, "kemq", fenceName: "tw0000000000005")
        try ns.ip("link", "set", "kemq", "down")
        let lines = try LinuxReaper(namespaceName: ns.name).repairInterrupted(journal: journal)
        let line = try #require(lines.first)
        #expect(line.failed && line.line.contains("set up again, but it lacks what it had before: address fd09::1/64, route 10.99.0.0/16"), "\(line)")
        #expect((try links(ns)[index]?.flags ?? 0) & 1 == 1)
    }

    /// A killed run's fenced device whose name a new device took meanwhile cannot be given back:
    /// it stays fenced (name and group), so no audit takes it for an orphan and no reap deletes it
    /// under its private name; the repair says so, journals a failure, and the reap exits 1.
    @Test func aFencedDeviceWhoseNameWasTakenStaysFencedAndTheReapSaysSo() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "ktmq", "mode", "tun", "multi_queue")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let ktmq = try #require(snapshot.interfaces.first { $0.name == "ktmq" })
        let journal = Journal(path: state.path + "/journal.jsonl")
        try journal.append([JournalRecord(time: Date(), run: "killed", type: .intent, netns: ns.name, ifname: "ktmq", ifindex: ktmq.index,
                                          prior: PriorState(ktmq, routes: []), fenceGroup: 0x1234_5678, fenceName: "tw0000000000003")])
        try ns.ip("link", "set", "ktmq", "name", "tw0000000000003")
        try ns.ip("link", "set", "tw0000000000003", "group", "\(0x1234_5678)")
        try ns.ip("tuntap", "add", "dev", "ktmq", "mode", "tun")
        let result = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path, "--min-age", "0", "--yes",
                                        "--format", "json"])
        #expect(result.status == 1, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stderr.contains("Could not repair ktmq"), "\(result.stderr)")
        // The JSON report says it too: a program reading it learns why the run exits 1.
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let repairs = report?["repairs"] as? [[String: Any]] ?? []
        #expect(repairs.count == 1 && repairs.first?["ifname"] as? String == "ktmq" && repairs.first?["result"] as? String == "failed"
                && repairs.first?["ifindex"] as? Int == ktmq.index && repairs.first?["run"] as? String == "killed", "\(result.stdout)")
        #expect((repairs.first?["detail"] as? String)?.contains("could not be renamed back from tw0000000000003") == true, "\(result.stdout)")
        let now = try links(ns)
        #expect(now[ktmq.index]?.name == Array("tw0000000000003".utf8) && now[ktmq.index]?.group == 0x1234_5678, "left fenced")
        let repaired = try journal.read().filter { $0.type == .result && $0.run == "killed" }
        #expect(repaired.map(\.result) == [.failed])
        // The newcomer is an orphan like any other; the fenced device is nobody's to take.
        #expect(!((report?["plan"] as? [[String: Any]]) ?? []).contains { $0["ifname"] as? String == "tw0000000000003" }, "\(result.stdout)")
        #expect(((report?["results"] as? [[String: Any]]) ?? []).map { $0["ifname"] as? String } == ["ktmq"], "\(result.stdout)")
        let entries = try ns.auditedInterfaces()
        #expect(entries.first { $0["ifname"] as? String == "tw0000000000003" }?["state"] as? String == "unknown")
    }

    @Test func auditShowsNamesEscapedAndKeepsThemLosslessInJSON() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        let names: [[UInt8]] = [[0x7a, 0x7a, 0xff], [0x61, 0x1b, 0x5b, 0x32, 0x4a, 0x07], Array(#"b\x"#.utf8)]
        for name in names { try makePersistent(ns, name) }
        let table = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state"])
        #expect(!table.stdout.utf8.contains(0x1b) && !table.stdout.utf8.contains(0x07), "no raw control byte reaches a terminal")
        for text in [#"zz\xff"#, #"a\x1b[2J\x07"#, #"b\\x"#] { #expect(table.stdout.contains(text), "table shows \(text)") }
        let json = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state", "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let shown = (report["interfaces"] as? [[String: Any]] ?? []).compactMap { $0["ifname"] as? String }
        #expect(Set(shown.map(InterfaceName.kernelBytes)) == Set(names), "JSON names give back the kernel's bytes")
    }

    @Test func aHoldersNameIsEscapedToo() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        // A process may name itself anything (PR_SET_NAME): here ESC [ 2 J, which clears a terminal.
        let script = """
        import ctypes, fcntl, os, struct, sys, time
        ctypes.CDLL(None).prctl(15, b"ev\\x1b[2J", 0, 0, 0)
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", b"named0", 0x1001))
        print("ready", flush=True)
        time.sleep(60)
        """
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: Shell.which("ip") ?? "/usr/sbin/ip")
        holder.arguments = ["netns", "exec", ns.name, "python3", "-c", script]
        let output = Pipe()
        holder.standardOutput = output
        try holder.run()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        #expect(String(decoding: output.fileHandleForReading.readData(ofLength: 6), as: UTF8.self) == "ready\n")
        let table = try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "audit", "--no-state"])
        #expect(!table.stdout.utf8.contains(0x1b), "no raw ESC from a process name")
        #expect(table.stdout.contains(#"ev\x1b[2J["#), "\(table.stdout)")
    }

    /// The stress test of bench/reap-stress.py, at a size CI can afford: attackers attach to
    /// random targets and a renamer renames them while a real `tunwarden reap` runs.
    @Test func stressedReapKeepsEveryPromise() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("bench/reap-stress.py").path
        let result = try Shell.capture(["python3", script, "--binary", Shell.tunwardenBinary, "--devices", "600", "--runs", "2", "--attackers", "3"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("2 of 2 runs kept every promise"))
    }
}

/// A value shared with a step hook, which the reaper calls on its own thread.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func mutate(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
#endif

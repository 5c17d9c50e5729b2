#if os(Linux)
import Foundation
import Glibc
import Inventory
import Netlink
import Testing
import TestSupport
@testable import Reaper
import Storage
import TunwardenCore

/// `tunwarden reap` against the real kernel, as root, each test in its own throwaway namespace
/// with its own state directory.
@Suite(.enabled(if: TestNamespace.available, "needs root, /dev/net/tun, ip and python3"))
struct ReaperKernelTests {
    func reap(_ ns: TestNamespace, _ state: TemporaryDirectory, _ extra: String...) throws -> Shell.Result {
        try Shell.capture([Shell.tunwardenBinary, "--netns", ns.name, "reap", "--state-dir", state.path] + extra)
    }

    /// Everything `ip` can say about the namespace's links and routes.
    func fullState(_ ns: TestNamespace) throws -> String {
        try ns.ip("-d", "link", "show") + ns.ip("addr", "show") + ns.ip("route", "show", "table", "all") + ns.ip("-6", "route", "show", "table", "all")
    }

    func linkNames(_ ns: TestNamespace) throws -> Set<String> {
        let json = try ns.ip("-j", "link", "show")
        let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return Set(links.compactMap { $0["ifname"] as? String })
    }

    /// Makes three orphans, `rtN` (up, with split routes), `rtapN` and `rmqN` (multi-queue), for
    /// N `unit`: each test that calls this passes its own, so that one test's reap, fencing its
    /// devices, never makes another's unknown.
    func makeOrphans(_ ns: TestNamespace, unit: Int) throws {
        try ns.ip("tuntap", "add", "dev", "rt\(unit)", "mode", "tun")
        try ns.ip("link", "set", "rt\(unit)", "up")
        try ns.ip("route", "add", "0.0.0.0/1", "dev", "rt\(unit)")
        try ns.ip("route", "add", "128.0.0.0/1", "dev", "rt\(unit)")
        try ns.ip("tuntap", "add", "dev", "rtap\(unit)", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "rmq\(unit)", "mode", "tun", "multi_queue")
    }

    @Test func dryRunChangesNothing() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try makeOrphans(ns, unit: 1)
        let before = try fullState(ns)
        let result = try reap(ns, state, "--dry-run", "--min-age", "0")
        #expect(result.status == 0)
        #expect(result.stdout.contains("Would delete tun rt1 (ifindex "))
        #expect(result.stdout.contains("its routes 0.0.0.0/1, 128.0.0.0/1 go with it"))
        #expect(result.stdout.contains("3 interfaces to delete."))
        #expect(try fullState(ns) == before)
        // A dry run journals nothing.
        #expect(!FileManager.default.fileExists(atPath: state.path + "/journal.jsonl"))
    }

    @Test func realRunRemovesExactlyTheOrphans() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try makeOrphans(ns, unit: 0)
        try ns.ip("tuntap", "add", "dev", "rheld0", "mode", "tun")
        try ns.hold("rheld0")
        try ns.ip("tuntap", "add", "dev", "keep0", "mode", "tun")
        try ns.ip("link", "add", "br0", "type", "bridge")
        try ns.ip("link", "add", "rva", "type", "veth", "peer", "name", "rvb")
        let result = try reap(ns, state, "--min-age", "0", "--protect", "keep*", "--yes")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(try linkNames(ns) == ["lo", "rheld0", "keep0", "br0", "rva", "rvb"])
        for line in ["Deleted tun rt0 (ifindex", "Deleted tap rtap0 (ifindex", "Deleted tun rmq0 (ifindex", "Reaped 3 of 3."] {
            #expect(result.stdout.contains(line), "missing: \(line)")
        }
        #expect(result.stdout.contains("Protected keep0 (matches the protect pattern 'keep*')."))
        // The routes went with the device.
        #expect(!(try ns.ip("route", "show", "table", "all")).contains("rt0"))
    }

    /// `--protect` given a device's own bytes that are not UTF-8 (a shell's `$'pv\xff*'`), or the
    /// name as tunwarden shows it, protects it; the unprotected orphan beside it is deleted.
    @Test func aProtectPatternInTheNamesOwnBytesProtectsIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try Shell.run(["sh", "-c", "ip -n \"$0\" tuntap add dev \"$(printf 'pv\\3770')\" mode tap && ip -n \"$0\" tuntap add dev \"$(printf 'pw\\3770')\" mode tap "
                       + "&& ip -n \"$0\" tuntap add dev pvfree mode tap", ns.name])
        // Through a shell, so that the argument reaches tunwarden as the bytes themselves.
        let result = try Shell.capture(["sh", "-c", "exec \"$0\" --netns \"$1\" reap --state-dir \"$2\" --min-age 0 --yes --protect \"$(printf 'pv\\377*')\" "
                                        + "--protect 'pw\\xff0'", Shell.tunwardenBinary, ns.name, state.path])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains(#"Protected pv\xff0 (matches the protect pattern 'pv\xff*')."#), "\(result.stdout)")
        #expect(result.stdout.contains(#"Protected pw\xff0 (matches the protect pattern 'pw\xff0')."#), "\(result.stdout)")
        let left = try ns.auditedInterfaces().compactMap { $0["ifname"] as? String }
        #expect(Set(left) == [#"pv\xff0"#, #"pw\xff0"#], "\(left)\n\(result.stdout)")
    }

    /// A byte that is not UTF-8 in any other argument (a path, a command, a namespace name) is
    /// refused as bad usage before anything is done, never read as another path: the state
    /// directory, journal and configuration file named are not some other file.
    @Test func anArgumentThatIsNotUTF8IsRefusedUnlessItIsAPattern() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "pxkeep0", "mode", "tap")
        for option in ["--state-dir", "--journal", "--config", "--alert-exec"] {
            for form in ["\(option) \"$2/$(printf 'x\\377')\"", "\(option)=\"$2/$(printf 'x\\377')\""] {
                let command = option == "--alert-exec" ? "reap --min-age 0 --yes --state-dir \"$2\"" : "reap --min-age 0 --yes"
                let result = try Shell.capture(["sh", "-c", "exec \"$0\" --netns \"$1\" \(command) \(form)", Shell.tunwardenBinary, ns.name, state.path])
                #expect(result.status == 64, "\(form): \(result.status) \(result.stdout) \(result.stderr)")
                #expect(result.stderr.contains(#"x\xff' is not UTF-8"#), "\(form): \(result.stderr)")
            }
        }
        #expect(try ns.auditedInterfaces().contains { $0["ifname"] as? String == "pxkeep0" })
        #expect((try FileManager.default.contentsOfDirectory(atPath: state.path)).isEmpty)
    }

    /// A macvlan, a macvtap, a vxlan and a vlan made on orphaned taps and moved into another
    /// namespace (a container's, a qemu's) go with their lower device, though the lower's
    /// namespace shows nothing of them: the reap finds them from the other namespace and deletes
    /// none of those taps; a tap beside them with nothing stacked on it is deleted. (Kinds whose
    /// driver this kernel lacks are left out.)
    @Test func aDeviceStackedOnAnOrphanFromAnotherNamespaceKeepsIt() throws {
        let ns = try TestNamespace(), other = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); other.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "free0", "mode", "tap")
        let stacks: [(lower: String, upper: String, add: [String])] = [
            ("fmv0", "upmv", ["link", "add", "link", "fmv0", "name", "upmv", "type", "macvlan"]),
            ("fmt0", "upmt", ["link", "add", "link", "fmt0", "name", "upmt", "type", "macvtap"]),
            ("fvx0", "upvx", ["link", "add", "upvx", "type", "vxlan", "id", "42", "dev", "fvx0", "dstport", "4789"]),
            ("fvl0", "upvl", ["link", "add", "link", "fvl0", "name", "upvl", "type", "vlan", "id", "7"]),
        ]
        var made: [(lower: String, upper: String)] = []
        for stack in stacks {
            try ns.ip("tuntap", "add", "dev", stack.lower, "mode", "tap")
            guard (try? Shell.capture(["ip", "-n", ns.name] + stack.add))?.status == 0 else {
                try ns.ip("link", "del", stack.lower)
                continue
            }
            try ns.ip("link", "set", stack.upper, "netns", other.name)
            made.append((stack.lower, stack.upper))
        }
        try #require(!made.isEmpty, "this kernel makes none of macvlan, macvtap, vxlan, vlan")
        // The audit says so too: each of those taps is suspect, not orphaned.
        let entries = try ns.auditedInterfaces()
        for (lower, upper) in made {
            let entry = entries.first { $0["ifname"] as? String == lower }
            #expect(entry?["state"] as? String == "suspect", "\(lower): \(entry ?? [:])")
            #expect((entry?["state_reason"] as? String)?.contains("\(upper) (namespace \(other.name)) sits on it") == true, "\(entry ?? [:])")
        }
        #expect(entries.first { $0["ifname"] as? String == "free0" }?["state"] as? String == "orphaned")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns) == Set(["lo"] + made.map(\.lower)), "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(other) == Set(["lo"] + made.map(\.upper)))
        #expect(result.stdout.contains("Deleted tap free0 (ifindex"), "\(result.stdout)")
        #expect(result.stdout.contains("Reaped 1 of 1."), "\(result.stdout)")
    }

    /// Makes a tap `lower` in `ns` and a macvlan `upper` on it, made straight into `other`;
    /// false when this kernel has no macvlan driver.
    func macvlan(_ upper: String, on lower: String, in ns: TestNamespace, madeIn other: TestNamespace) throws -> Bool {
        try ns.ip("tuntap", "add", "dev", lower, "mode", "tap")
        return (try? Shell.capture(["ip", "-n", ns.name, "link", "add", "link", lower, "name", upper, "netns", other.name, "type", "macvlan"]))?.status == 0
    }

    /// A macvlan made straight into another namespace whose ifindex there equals its lower's
    /// here: the kernel then leaves IFLA_LINK out (it equals the link's own index), and the
    /// link's index is its lower's. The tap is kept all the same.
    @Test func aStackedDeviceWhoseIndexEqualsItsLowersKeepsIt() throws {
        let ns = try TestNamespace(), other = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); other.remove(); state.remove() }
        guard try macvlan("colmv", on: "col0", in: ns, madeIn: other) else { return }  // no macvlan driver in this kernel
        let index = { (namespace: TestNamespace, name: String) -> Int? in
            let links = (try? JSONSerialization.jsonObject(with: Data(((try? namespace.ip("-j", "link", "show", name)) ?? "[]").utf8))) as? [[String: Any]]
            return links?.first?["ifindex"] as? Int
        }
        try #require(index(ns, "col0") != nil && index(ns, "col0") == index(other, "colmv"), "the indexes do not collide here; nothing to test")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns) == ["lo", "col0"], "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(other) == ["lo", "colmv"])
    }

    /// A macvlan in a namespace that only one thread of a process is in (its name removed, its
    /// process's other threads elsewhere) keeps its tap: namespaces are found through every thread.
    @Test func aStackedDeviceInANamespaceOnlyAThreadIsInKeepsIt() throws {
        let ns = try TestNamespace(), other = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); other.remove(); state.remove() }
        guard try macvlan("thrmv", on: "thr0", in: ns, madeIn: other) else { return }  // no macvlan driver in this kernel
        // A process of this (the host's) namespace, one of whose threads enters the other one.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.which("python3") ?? "/usr/bin/python3")
        process.arguments = ["-c", """
        import ctypes, os, sys, threading, time
        libc = ctypes.CDLL(None, use_errno=True)
        def enter():
            fd = os.open(sys.argv[1], os.O_RDONLY)
            if libc.setns(fd, 0x40000000) != 0: os._exit(3)
            print("ready", flush=True)
            time.sleep(60)
        threading.Thread(target=enter, daemon=True).start()
        time.sleep(60)
        """, "/run/netns/\(other.name)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        #expect(String(decoding: output.fileHandleForReading.readData(ofLength: 6), as: UTF8.self) == "ready\n")
        // Only the thread keeps the namespace now.
        _ = try Shell.capture(["ip", "netns", "del", other.name])
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns) == ["lo", "thr0"], "stdout: \(result.stdout)\nstderr: \(result.stderr)")
    }

    /// A device left fenced by a reap that was killed (its private name and link group) is
    /// unknown to an audit, never an orphan to record or alert under that name. One that only
    /// looks so by name, in group 0 (a multi-queue one renamed by a reap killed before it set the
    /// group, or any device named so), is judged as any, so that the audit is not unknown for
    /// good, but never reaped: the reap leaves both.
    @Test func aDeviceAReapFencedIsNoOrphanToAnAudit() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "tw0123456789abc", "mode", "tap")
        try ns.ip("link", "set", "tw0123456789abc", "group", "16777300")
        try ns.ip("tuntap", "add", "dev", "twfedcba9876543", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "tw00000000000aa", "mode", "tap", "multi_queue")
        let entries = try ns.auditedInterfaces()
        let fenced = entries.first { $0["ifname"] as? String == "tw0123456789abc" }
        #expect(fenced?["state"] as? String == "unknown", "\(fenced ?? [:])")
        #expect((fenced?["state_reason"] as? String)?.contains("fenced by a reap") == true)
        #expect(entries.first { $0["ifname"] as? String == "twfedcba9876543" }?["state"] as? String == "orphaned")
        #expect(entries.first { $0["ifname"] as? String == "tw00000000000aa" }?["state"] as? String == "orphaned")
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns) == ["lo", "tw0123456789abc", "twfedcba9876543", "tw00000000000aa"], "stdout: \(result.stdout)\nstderr: \(result.stderr)")
    }

    /// A tap nobody holds through a tun descriptor, but with a packet socket bound to it (what
    /// `tcpdump -i` or a DHCP client holds): the audit calls it suspect and the reap leaves it; a
    /// packet socket bound to every device ties it to none.
    @Test func aPacketSocketBoundToATapKeepsIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "pk0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "pk1", "mode", "tap")
        try ns.python("""
        import socket, sys, time
        bound = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        bound.bind(("pk0", 0))
        everywhere = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        print("ready", flush=True)
        time.sleep(60)
        """)
        let entries = try ns.auditedInterfaces()
        let pk0 = entries.first { $0["ifname"] as? String == "pk0" }
        #expect(pk0?["state"] as? String == "suspect", "\(pk0 ?? [:])")
        #expect((pk0?["state_reason"] as? String)?.contains("1 packet socket is bound to it") == true, "\(pk0 ?? [:])")
        #expect(entries.first { $0["ifname"] as? String == "pk1" }?["state"] as? String == "orphaned")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns) == ["lo", "pk0"], "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("Deleted tap pk1 (ifindex"))
    }

    /// Taps nobody holds through a tun descriptor, but with sockets bound to them with
    /// SO_BINDTODEVICE (a DHCP server for a VM's tap, a listener on it alone): suspect, and left
    /// by the reap. A socket bound to no device ties none.
    @Test func aSocketBoundToATapWithBindToDeviceKeepsIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["bd0", "bd1", "bd2", "bd3"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tap") }
        try ns.python("""
        import socket, time
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"bd0")
        server.bind(("0.0.0.0", 67))
        listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"bd1")
        listener.bind(("::", 8080))
        listener.listen()
        lite = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, 136)
        lite.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"bd3")
        lite.bind(("::", 5000))
        unbound = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        unbound.bind(("0.0.0.0", 68))
        print("ready", flush=True)
        time.sleep(60)
        """)
        let entries = try ns.auditedInterfaces()
        let entry = { (name: String) in entries.first { $0["ifname"] as? String == name } }
        for name in ["bd0", "bd1", "bd3"] {
            #expect(entry(name)?["state"] as? String == "suspect", "\(entry(name) ?? [:])")
            #expect((entry(name)?["state_reason"] as? String)?.contains("1 socket is bound to it (SO_BINDTODEVICE") == true, "\(entry(name) ?? [:])")
        }
        #expect(entry("bd2")?["state"] as? String == "orphaned")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns) == ["bd0", "bd1", "bd3", "lo"], "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("Deleted tap bd2 (ifindex"))
    }

    /// Taps nobody holds, on which a live process's sockets hold multicast groups (IPv4 and IPv6
    /// joins by ifindex, as an mDNS responder makes; on a tap that is down too), or on which an
    /// unbound packet socket holds a
    /// promiscuous membership: suspect, naming what holds them, and left by the reap. A control
    /// tap that is up, forwards and has addresses (one a multicast address with autojoin) carries
    /// only the kernel's own groups and goes.
    @Test func multicastAndPacketMembershipsOnATapKeepIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["mc0", "mc1", "mc2", "mc3", "pm0", "ctl0"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tap") }
        for name in ["mc0", "mc1", "mc3", "pm0", "ctl0"] { try ns.ip("link", "set", name, "up") }
        try ns.ip("addr", "add", "10.9.1.1/24", "dev", "ctl0")
        try ns.ip("addr", "add", "fd00:91::1/64", "dev", "ctl0", "nodad")
        // A multicast address configured with autojoin: the kernel's own socket joins its group.
        try ns.ip("addr", "add", "239.1.2.3/32", "dev", "ctl0", "autojoin")
        _ = try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"])
        try ns.python("""
        import socket, struct, time
        def index(name): return socket.if_nametoindex(name)
        four = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        four.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        four.bind(("0.0.0.0", 5353))
        for name in ["mc0", "mc2"]:
            four.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack("4s4si", socket.inet_aton("224.0.0.251"), bytes(4), index(name)))
        six = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        six.bind(("::", 5354))
        six.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, "ff02::fb") + struct.pack("I", index("mc1")))
        sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        sniffer.setsockopt(263, 1, struct.pack("iHH8s", index("pm0"), 1, 0, bytes(8)))  # PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC
        print("ready", flush=True)
        time.sleep(60)
        """)
        let entries = try ns.auditedInterfaces()
        let entry = { (name: String) in entries.first { $0["ifname"] as? String == name } ?? [:] }
        for (name, reason) in [("mc0", "holds multicast group 224.0.0.251 on it"), ("mc1", "holds multicast group ff02::fb on it"),
                               ("mc2", "holds multicast group 224.0.0.251 on it"),
                               ("pm0", "1 packet socket has a membership on it (PACKET_ADD_MEMBERSHIP")] {
            #expect(entry(name)["state"] as? String == "suspect", "\(entry(name))")
            #expect((entry(name)["state_reason"] as? String)?.contains(reason) == true, "\(entry(name))")
        }
        #expect(entry("ctl0")["state"] as? String == "orphaned", "\(entry("ctl0"))")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns) == ["lo", "mc0", "mc1", "mc2", "pm0"], "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("Deleted tap ctl0 (ifindex"))
    }

    /// Taps nobody holds, whose address (IPv4, IPv6, IPv4 through an IPv6 socket) a live server is
    /// bound to without SO_BINDTODEVICE, as `dnsmasq --bind-interfaces` binds: deleting the tap
    /// deletes the address under it, so it is suspect and left. A tap whose address a device that
    /// stays has too, or whose address no socket is bound to, goes.
    @Test func aServerBoundToAnAddressOnlyATapHasKeepsIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["ab0", "ab1", "ab2", "ab3", "ab4"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tap") }
        // A device that stays: a tap a process holds.
        try ns.hold("abkeep0", mode: "tap")
        for (address, device) in [("10.9.0.1/24", "ab0"), ("10.9.3.1/24", "ab3"), ("10.9.2.1/24", "ab2"), ("10.9.2.1/24", "abkeep0"), ("10.9.4.1/24", "ab4")] {
            try ns.ip("addr", "add", address, "dev", device)
        }
        try ns.ip("addr", "add", "fd00:9::1/64", "dev", "ab1", "nodad")
        try ns.python("""
        import socket, time
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("10.9.0.1", 53))
        tcp.listen()
        udp6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        udp6.bind(("fd00:9::1", 53))
        shared = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        shared.bind(("10.9.2.1", 53))
        mapped = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        mapped.bind(("::ffff:10.9.3.1", 53))
        mapped.listen()
        print("ready", flush=True)
        time.sleep(60)
        """)
        let entries = try ns.auditedInterfaces()
        let entry = { (name: String) in entries.first { $0["ifname"] as? String == name } ?? [:] }
        for (name, address) in [("ab0", "10.9.0.1"), ("ab1", "fd00:9::1"), ("ab3", "10.9.3.1")] {
            #expect(entry(name)["state"] as? String == "suspect", "\(entry(name))")
            #expect((entry(name)["state_reason"] as? String)?.contains("1 socket is bound to its address \(address), which no other device has") == true, "\(entry(name))")
        }
        for name in ["ab2", "ab4"] { #expect(entry(name)["state"] as? String == "orphaned", "\(entry(name))") }
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns) == ["lo", "ab0", "ab1", "ab3", "abkeep0"], "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("Deleted tap ab2 (ifindex") && result.stdout.contains("Deleted tap ab4 (ifindex"))
    }

    /// Taps nobody holds that raw and ping sockets use, none of which a holder scan or the
    /// kernel's socket lists show here (no `raw_diag`): a raw IPv4 socket for VRRP bound with
    /// SO_BINDTODEVICE (keepalived's), a raw ICMPv6 socket bound with SO_BINDTOIFINDEX
    /// (systemd-networkd's), a ping socket bound to one (`ping -I`), and a raw socket bound to the
    /// only address of one. Each is suspect, naming the socket and its process, and the reap
    /// leaves it. A raw socket bound to no device and no address uses none: the plain tap beside
    /// them goes.
    @Test func rawAndPingSocketsOnATapKeepIt() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for name in ["rskdev0", "rsk6if0", "rskping0", "rskaddr0", "rskplain0"] { try ns.ip("tuntap", "add", "dev", name, "mode", "tap") }
        try ns.ip("addr", "add", "10.9.5.1/24", "dev", "rskaddr0")
        try ns.ip("addr", "add", "10.9.6.1/24", "dev", "rskplain0")
        // Ping sockets are open to the groups this namespace's sysctl names: every one, here.
        _ = try Shell.run(["ip", "netns", "exec", ns.name, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647"])
        let holder = try ns.python("""
        import socket, struct, time
        vrrp = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
        vrrp.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"rskdev0")
        icmp6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        icmp6.setsockopt(socket.SOL_SOCKET, 62, struct.pack("i", socket.if_nametoindex("rsk6if0")))  # SO_BINDTOIFINDEX
        ping = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
        ping.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"rskping0")
        ping.bind(("0.0.0.0", 0))  # as its first echo request would: the kernel lists it from then on
        probe = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        probe.bind(("10.9.5.1", 0))
        anywhere = socket.socket(socket.AF_INET, socket.SOCK_RAW, 89)
        print("ready", flush=True)
        time.sleep(60)
        """)
        let pid = holder.processIdentifier
        let verdicts = try ns.auditedVerdicts()
        for (name, reason) in [("rskdev0", "a raw IPv4 socket (protocol 112, VRRP) of python3[\(pid)] is bound to it (SO_BINDTODEVICE"),
                               ("rsk6if0", "a raw IPv6 socket (protocol 58, ICMPv6) of python3[\(pid)] is bound to it (SO_BINDTODEVICE"),
                               ("rskping0", "an ICMP echo (ping) socket of python3[\(pid)] is bound to it (SO_BINDTODEVICE"),
                               ("rskaddr0", "a raw IPv4 socket (protocol 1, ICMP) of python3[\(pid)] is bound to its address 10.9.5.1, which no other device has")] {
            #expect(verdicts[name]?.state == "suspect", "\(name): \(verdicts[name] ?? ("-", "-"))")
            #expect(verdicts[name]?.reason.hasPrefix(reason) == true, "\(name): \(verdicts[name] ?? ("-", "-"))")
        }
        #expect(verdicts["rskplain0"]?.state == "orphaned", "\(verdicts["rskplain0"] ?? ("-", "-"))")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns) == ["lo", "rskdev0", "rsk6if0", "rskping0", "rskaddr0"], "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("Deleted tap rskplain0 (ifindex"), "\(result.stdout)")
    }

    /// A tap nobody holds, one of whose routes also leaves through a live veth: the kernel deletes
    /// a multipath route whole with any of its devices, so deleting the tap would cut the veth's
    /// path. It is suspect and left; a tap whose multipath route leaves only through itself is not.
    @Test func aTapSharingAMultipathRouteWithALiveDeviceIsKept() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "mp0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "mp1", "mode", "tap")
        try ns.ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
        for device in ["mp0", "mp1", "va", "vb"] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "10.9.0.1/24", "dev", "mp0")
        try ns.ip("addr", "add", "10.8.0.1/24", "dev", "mp1")
        try ns.ip("addr", "add", "10.7.0.1/24", "dev", "va")
        try ns.ip("route", "add", "10.70.0.0/16", "nexthop", "via", "10.9.0.2", "dev", "mp0", "nexthop", "via", "10.7.0.2", "dev", "va")
        try ns.ip("route", "add", "10.71.0.0/16", "nexthop", "via", "10.8.0.2", "dev", "mp1", "nexthop", "via", "10.8.0.3", "dev", "mp1")
        let entries = try ns.auditedInterfaces()
        let mp0 = entries.first { $0["ifname"] as? String == "mp0" }
        #expect(mp0?["state"] as? String == "suspect", "\(mp0 ?? [:])")
        #expect((mp0?["state_reason"] as? String)?.contains("its route 10.70.0.0/16 also leaves through va") == true, "\(mp0 ?? [:])")
        #expect(entries.first { $0["ifname"] as? String == "mp1" }?["state"] as? String == "orphaned")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns) == ["lo", "mp0", "va", "vb"], "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try ns.ip("route", "show", "10.70.0.0/16").contains("nexthop via 10.7.0.2 dev va"))
    }

    /// A tap nobody holds whose address a route of the main table takes as source, whatever the
    /// route's device or type: deleting the tap deletes the address, and the kernel then deletes
    /// those routes too (`fib_sync_down_addr`). The audit calls it suspect and says why, no plan
    /// holds it, and the reap leaves it. A route of another table is not deleted, but is left with
    /// a source no device has: that keeps its tap too. A tap whose address no route takes is deleted.
    @Test(.serialized, arguments: ["dev", "blackhole", "prohibit", "nexthop object"])
    func aTapWhoseAddressARouteTakesAsSourceIsKept(_ route: String) throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        // Names of this case's own: the cases run at once, and a reaper attached to a tap of the
        // same name in another namespace makes a tap "held elsewhere" (unknown), never planned.
        let tag = ["dev": "d", "blackhole": "b", "prohibit": "p"][route] ?? "n"
        let (sr0, sr1, sr2, va, vb) = ("s\(tag)0", "s\(tag)1", "s\(tag)2", "v\(tag)a", "v\(tag)b")
        try ns.ip("tuntap", "add", "dev", sr0, "mode", "tap")
        try ns.ip("tuntap", "add", "dev", sr1, "mode", "tap")
        try ns.ip("tuntap", "add", "dev", sr2, "mode", "tap")
        try ns.ip("link", "add", va, "type", "veth", "peer", "name", vb)
        for device in [sr0, sr1, sr2, va, vb] { try ns.ip("link", "set", device, "up") }
        try ns.ip("addr", "add", "10.1.0.1/24", "dev", sr0)
        try ns.ip("addr", "add", "10.2.0.1/24", "dev", sr1)
        try ns.ip("addr", "add", "10.3.0.1/24", "dev", sr2)
        switch route {
        case "dev": try ns.ip("route", "add", "10.61.0.0/24", "dev", va, "src", "10.1.0.1")
        case "nexthop object":
            // Without compatibility mode a route through a nexthop object names no device at all.
            _ = try Shell.capture(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.ipv4.nexthop_compat_mode=0"])
            try ns.ip("nexthop", "add", "id", "2", "dev", va)
            try ns.ip("route", "add", "10.61.0.0/24", "nhid", "2", "src", "10.1.0.1")
        default: try ns.ip("route", "add", route, "10.61.0.0/24", "src", "10.1.0.1")
        }
        // Another table's route is not deleted with the address, but cannot be used without it.
        try ns.ip("route", "add", "10.62.0.0/24", "dev", va, "src", "10.2.0.1", "table", "100")
        let entries = try ns.auditedInterfaces()
        let found = entries.first { $0["ifname"] as? String == sr0 }
        #expect(found?["state"] as? String == "suspect", "\(entries)")
        #expect((found?["state_reason"] as? String)?.contains("10.61.0.0/24") == true
                && (found?["state_reason"] as? String)?.contains("its address 10.1.0.1 as source") == true, "\(found ?? [:])")
        let other = entries.first { $0["ifname"] as? String == sr1 }
        #expect(other?["state"] as? String == "suspect", "\(entries)")
        #expect((other?["state_reason"] as? String)?.contains("(10.62.0.0/24 table 100) takes its address 10.2.0.1 as source") == true, "\(other ?? [:])")
        #expect(entries.first { $0["ifname"] as? String == sr2 }?["state"] as? String == "orphaned", "\(entries)")
        let dry = try reap(ns, state, "--min-age", "0", "--dry-run", "--format", "json")
        let planned = ((try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])?["plan"] as? [[String: Any]] ?? []).map { $0["ifname"] as? String }
        #expect(planned == [sr2], "\(dry.stdout)")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(ns) == ["lo", sr0, sr1, va, vb], "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try ns.ip("route", "show", "10.61.0.0/24").contains("src 10.1.0.1"))
    }

    /// A tap a tc filter on a live device redirects packets to is configured into something:
    /// suspect, not planned; the tap beside it is deleted.
    @Test func aTapATcActionRedirectsPacketsToIsKept() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "tcr0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "tcr1", "mode", "tap")
        try ns.ip("link", "add", "tcva", "type", "veth", "peer", "name", "tcvb")
        let filter = ["tc", "filter", "add", "dev", "tcva", "parent", "ffff:", "protocol", "all", "u32", "match", "u32", "0", "0",
                      "action", "mirred", "egress", "redirect", "dev", "tcr0"]
        guard (try? Shell.capture(["ip", "netns", "exec", ns.name, "tc", "qdisc", "add", "dev", "tcva", "ingress"]).status) == 0,
              (try? Shell.capture(["ip", "netns", "exec", ns.name] + filter).status) == 0 else {
            FileHandle.standardError.write(Data("aTapATcActionRedirectsPacketsToIsKept: no tc u32 filter or mirred action here; untested\n".utf8))
            return
        }
        let entries = try ns.auditedInterfaces()
        let tcr0 = entries.first { $0["ifname"] as? String == "tcr0" }
        #expect(tcr0?["state"] as? String == "suspect" && (tcr0?["state_reason"] as? String)?.contains("a tc action (mirred) sends") == true, "\(tcr0 ?? [:])")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(ns) == ["lo", "tcr0", "tcva", "tcvb"], "stdout: \(result.stdout)")
        #expect(try Shell.capture(["ip", "netns", "exec", ns.name, "tc", "actions", "ls", "action", "mirred"]).stdout.contains("device tcr0"))
    }

    /// A tap a vxlan's forwarding entry sends packets out through (`bridge fdb add … via`), the
    /// vxlan in this namespace or made here and moved to another, is configured into an overlay:
    /// suspect, not planned, and kept with the entry; the tap beside them is deleted.
    @Test func aTapAVxlanForwardingEntrySendsThroughIsKept() throws {
        let ns = try TestNamespace(), other = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); other.remove(); state.remove() }
        for tap in ["fdv0", "fdv1", "fdv2"] { try ns.ip("tuntap", "add", "dev", tap, "mode", "tap") }
        guard (try? Shell.capture(["ip", "-n", ns.name, "link", "add", "fdvx", "type", "vxlan", "id", "51", "dstport", "4789"]))?.status == 0 else {
            FileHandle.standardError.write(Data("aTapAVxlanForwardingEntrySendsThroughIsKept: no vxlan driver here; untested\n".utf8))
            return
        }
        try ns.ip("link", "add", "fdvy", "type", "vxlan", "id", "52", "dstport", "4790")
        func fdb(_ arguments: String...) throws {
            let result = try Shell.capture(["bridge", "-n", ns.name, "fdb"] + arguments)
            try #require(result.status == 0, "bridge fdb \(arguments): \(result.stderr)")
        }
        try fdb("add", "00:00:00:00:00:00", "dev", "fdvx", "dst", "192.0.2.1", "via", "fdv0")
        try fdb("append", "00:00:00:00:00:00", "dev", "fdvx", "dst", "192.0.2.2")
        try fdb("add", "00:00:00:00:00:00", "dev", "fdvy", "dst", "192.0.2.3", "via", "fdv1")
        // Moved away, fdvy still sends through this namespace's fdv1.
        try ns.ip("link", "set", "fdvy", "netns", other.name)
        let entries = try ns.auditedInterfaces()
        func reason(_ name: String) -> String? { entries.first { $0["ifname"] as? String == name }?["state_reason"] as? String }
        func verdict(_ name: String) -> String? { entries.first { $0["ifname"] as? String == name }?["state"] as? String }
        #expect(verdict("fdv0") == "suspect" && reason("fdv0")?.contains("forwarding entries of fdvx send packets out through it") == true, "\(entries)")
        #expect(verdict("fdv1") == "suspect" && reason("fdv1")?.contains("forwarding entries of fdvy (namespace \(other.name)) send") == true, "\(entries)")
        #expect(verdict("fdv2") == "orphaned", "\(entries)")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(ns) == ["lo", "fdv0", "fdv1", "fdvx"], "stdout: \(result.stdout)")
        #expect(try Shell.capture(["bridge", "-n", ns.name, "fdb", "show", "dev", "fdvx"]).stdout.contains("via fdv0"))
        // Without the entry, the tap is an orphan like any other.
        try fdb("del", "00:00:00:00:00:00", "dev", "fdvx", "dst", "192.0.2.1", "via", "fdv0")
        #expect(try ns.auditedInterfaces().first { $0["ifname"] as? String == "fdv0" }?["state"] as? String == "orphaned")
    }

    /// A tap bound to a shared tc block that a `mirred … blockid` action on a live device mirrors
    /// to (Linux 6.8+) receives that device's packets as if named: suspect, not planned; the tap
    /// beside it is deleted.
    @Test func aTapOfASharedBlockATcActionMirrorsToIsKept() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "tcb0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "tcb1", "mode", "tap")
        try ns.ip("link", "add", "tcbva", "type", "veth", "peer", "name", "tcbvb")
        func tc(_ arguments: String...) -> Bool { (try? Shell.capture(["ip", "netns", "exec", ns.name, "tc"] + arguments).status) == 0 }
        // iproute2 may not write TCA_MIRRED_BLOCKID (4) yet: the action (index 41, egress mirror to
        // block 22) is made by hand, with RTM_NEWACTION.
        let makeAction = """
            import socket, struct, sys
            def attr(t, d):
                return struct.pack("=HH", 4 + len(d), t) + d + b"\\0" * ((4 - len(d) % 4) % 4)
            options = attr(2, struct.pack("=IIiiiiI", 41, 0, 3, 0, 0, 2, 0)) + attr(4, struct.pack("=I", 22))
            action = attr(1, b"mirred\\0") + attr(0x8002, options)
            payload = b"\\0\\0\\0\\0" + attr(0x8001, attr(0x8001, action))
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
            s.send(struct.pack("=IHHII", 16 + len(payload), 48, 0x605, 1, 0) + payload)
            sys.exit(struct.unpack_from("=i", s.recv(4096), 16)[0] != 0)
            """
        guard tc("qdisc", "add", "dev", "tcb0", "ingress_block", "22", "clsact"), tc("qdisc", "add", "dev", "tcbva", "clsact"),
              (try? Shell.capture(["ip", "netns", "exec", ns.name, "python3", "-c", makeAction]).status) == 0 else {
            FileHandle.standardError.write(Data("aTapOfASharedBlockATcActionMirrorsToIsKept: no shared tc blocks or mirred to a block (Linux 6.8+) here; untested\n".utf8))
            return
        }
        try #require(tc("filter", "add", "dev", "tcbva", "ingress", "protocol", "all", "u32", "match", "u32", "0", "0", "action", "mirred", "index", "41"))
        let judged = try ns.auditedVerdicts()
        #expect(judged["tcb0"]?.0 == "suspect" && judged["tcb0"]?.1.contains("a tc action (mirred) sends") == true, "\(judged)")
        #expect(judged["tcb1"]?.0 == "orphaned", "\(judged)")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(ns) == ["lo", "tcb0", "tcbva", "tcbvb"], "stdout: \(result.stdout)")
    }

    /// A tap an iptables TEE target duplicates another device's packets to (`--oif`), through
    /// iptables-nft or iptables-legacy (x_tables, IPv4 and IPv6), is configured into something:
    /// suspect, not planned; the tap beside it is deleted. A TEE without `--oif` names no device.
    @Test(.serialized, arguments: ["iptables-nft", "iptables-legacy", "ip6tables-legacy"])
    func aTapAnIptablesTeeTargetDuplicatesPacketsToIsKept(_ tool: String) throws {
        guard Shell.which(tool) != nil else {
            FileHandle.standardError.write(Data("aTapAnIptablesTeeTargetDuplicatesPacketsToIsKept: no \(tool) here; untested\n".utf8))
            return
        }
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "tee0", "mode", "tap")
        try ns.ip("tuntap", "add", "dev", "tee1", "mode", "tap")
        try ns.ip("link", "add", "teeva", "type", "veth", "peer", "name", "teevb")
        let gateway = tool.hasPrefix("ip6") ? "fd00::2" : "10.9.7.2"
        let rules = [["-i", "teeva", "-j", "TEE", "--gateway", gateway, "--oif", "tee0"], ["-i", "teevb", "-j", "TEE", "--gateway", gateway]]
        for rule in rules {
            let added = try Shell.capture(["ip", "netns", "exec", ns.name, tool, "-t", "mangle", "-A", "PREROUTING"] + rule)
            guard added.status == 0 else {
                FileHandle.standardError.write(Data("aTapAnIptablesTeeTargetDuplicatesPacketsToIsKept: \(tool) cannot add a TEE rule here (\(added.stderr)); untested\n".utf8))
                return
            }
        }
        let judged = try ns.auditedVerdicts()
        #expect(judged["tee0"]?.0 == "suspect" && judged["tee0"]?.1.contains("duplicates another device's packets to it by its name (TEE --oif)") == true, "\(judged)")
        #expect(judged["tee1"]?.0 == "orphaned", "\(judged)")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(ns) == ["lo", "tee0", "teeva", "teevb"], "stdout: \(result.stdout)")
    }

    /// A tap an nftables rule sends packets to (fwd or dup, by name or through a map) is configured
    /// into something: suspect, not planned; the tap beside it is deleted. A rule whose device is
    /// known only as packets come makes every other tap unknown, and nothing is planned.
    @Test func aTapAnNftablesRuleSendsPacketsToIsKept() throws {
        guard Shell.which("nft") != nil else {
            FileHandle.standardError.write(Data("aTapAnNftablesRuleSendsPacketsToIsKept: no nft here; untested\n".utf8))
            return
        }
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        for tap in ["nf0", "nf1", "nf2", "nf3"] { try ns.ip("tuntap", "add", "dev", tap, "mode", "tap") }
        try ns.ip("link", "add", "nfva", "type", "veth", "peer", "name", "nfvb")
        func nft(_ arguments: String...) throws {
            let result = try Shell.capture(["ip", "netns", "exec", ns.name, "nft"] + arguments)
            try #require(result.status == 0, "nft \(arguments): \(result.stderr)")
        }
        try nft("add", "table", "netdev", "t")
        try nft("add", "chain", "netdev", "t", "c", "{ type filter hook ingress device nfva priority 0; }")
        try nft("add", "rule", "netdev", "t", "c", "fwd", "to", "\"nf0\"")
        try nft("add", "map", "netdev", "t", "m", "{ type mark : iface_index; }")
        try nft("add", "element", "netdev", "t", "m", "{ 7 : \"nf1\" }")
        try nft("add", "rule", "netdev", "t", "c", "fwd", "to", "meta", "mark", "map", "@m")
        try nft("add", "table", "ip", "f")
        try nft("add", "chain", "ip", "f", "p", "{ type filter hook prerouting priority 0; }")
        try nft("add", "rule", "ip", "f", "p", "dup", "to", "10.0.0.2", "device", "\"nf2\"")
        // A forward to a live device whose address comes from the packet decides nothing about the taps.
        try nft("add", "rule", "netdev", "t", "c", "fwd", "ip", "to", "ip", "daddr", "device", "\"nfvb\"")
        // A map filled as packets come: empty now, it will name nf5 with the next packet.
        try ns.ip("tuntap", "add", "dev", "nf5", "mode", "tap")
        try nft("add", "map", "netdev", "t", "d", "{ type ipv4_addr : iface_index; flags dynamic; }")
        try nft("add", "rule", "netdev", "t", "c", "update", "@d", "{", "ip", "saddr", ":", "\"nf5\"", "}")
        try nft("add", "rule", "netdev", "t", "c", "fwd", "to", "ip", "saddr", "map", "@d")
        // A chain hooked on a tap: a firewall set up for it.
        try ns.ip("tuntap", "add", "dev", "nf6", "mode", "tap")
        try nft("add", "chain", "netdev", "t", "h6", "{ type filter hook ingress device nf6 priority 0; }")
        func states() throws -> [String: (state: String, reason: String)] {
            let entries = try ns.auditedInterfaces()
            return Dictionary(uniqueKeysWithValues: entries.map { ($0["ifname"] as? String ?? "", ($0["state"] as? String ?? "", $0["state_reason"] as? String ?? "")) })
        }
        let judged = try states()
        for tap in ["nf0", "nf1", "nf2", "nf5"] {
            #expect(judged[tap]?.state == "suspect" && judged[tap]?.reason.contains("an nftables rule sends packets to it (fwd or dup)") == true, "\(tap): \(judged)")
        }
        #expect(judged["nf6"]?.state == "suspect" && judged["nf6"]?.reason.contains("nftables chain netdev t h6 is hooked on it") == true, "\(judged)")
        #expect(judged["nf3"]?.state == "orphaned", "\(judged)")
        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try linkNames(ns) == ["lo", "nf0", "nf1", "nf2", "nf5", "nf6", "nfva", "nfvb"], "stdout: \(result.stdout)")

        try ns.ip("tuntap", "add", "dev", "nf4", "mode", "tap")
        try nft("add", "rule", "netdev", "t", "c", "fwd", "to", "iif")
        let unsure = try states()
        #expect(unsure["nf4"]?.state == "unknown" && unsure["nf4"]?.reason.contains("(table netdev t, chain c) sends packets to a device it picks as packets come") == true,
                "\(unsure)")
        let nothing = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(try linkNames(ns).contains("nf4"), "stdout: \(nothing.stdout)\nstderr: \(nothing.stderr)")
    }

    /// A multi-queue orphan with an alternative name is never planned (the rename fence would not
    /// stop an attach by it), and the audit says how to let reap delete it; the one beside it is.
    @Test func aMultiQueueOrphanWithAnAlternativeNameIsNotPlanned() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "amq0", "mode", "tap", "multi_queue")
        try ns.ip("tuntap", "add", "dev", "amq1", "mode", "tap", "multi_queue")
        try ns.ip("link", "property", "add", "dev", "amq0", "altname", "enp-amq0")
        let findings = try ns.auditReport()["findings"] as? [[String: Any]] ?? []
        let amq0 = findings.first { $0["ifname"] as? String == "amq0" && $0["id"] as? String == "orphaned-tun" }
        #expect(amq0?["reapable"] as? Bool == false && (amq0?["evidence"] as? String)?.contains("alternative names (enp-amq0)") == true, "\(findings)")
        let dry = try reap(ns, state, "--min-age", "0", "--dry-run", "--format", "json")
        let planned = ((try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])?["plan"] as? [[String: Any]] ?? []).map { $0["ifname"] as? String }
        #expect(planned == ["amq1"], "\(dry.stdout)")
    }

    @Test func deviceAttachedAfterThePlanIsSkipped() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "tardy0", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "tardymq0", "mode", "tun", "multi_queue")
        try ns.ip("tuntap", "add", "dev", "gone0", "mode", "tun")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: snapshot.namespaceIdentity,
                                 policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(plan.items.map(\.ifname).sorted() == ["gone0", "tardy0", "tardymq0"])
        // Between plan and execution: two devices get a holder; gone0 is still an orphan.
        try ns.hold("tardy0")
        try ns.hold("tardymq0", multiQueue: true)
        let journal = Journal(path: state.path + "/journal.jsonl")
        let results = try LinuxReaper(namespaceName: ns.name).execute(plan, journal: journal, runID: "test")
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.ifname, $0) })
        #expect(byName["tardy0"]?.outcome == .skipped)
        #expect(byName["tardy0"]?.detail?.contains("became attached") == true)
        #expect(byName["tardymq0"]?.outcome == .skipped)
        #expect(byName["gone0"]?.outcome == .deleted)
        #expect(try linkNames(ns) == ["lo", "tardy0", "tardymq0"])
        let records = try journal.read()
        #expect(records.filter { $0.type == .intent }.map(\.ifname) == ["gone0"])
        #expect(records.filter { $0.type == .result }.count == 3)
    }

    @Test func attachingToAHeldDeviceIsRefusedByTheKernel() throws {
        let ns = try TestNamespace()
        defer { ns.remove() }
        try ns.ip("tuntap", "add", "dev", "busy0", "mode", "tun")
        try ns.ip("tuntap", "add", "dev", "excl0", "mode", "tun")
        try ns.hold("busy0")
        let snapshot = try LinuxInventory(namespaceName: ns.name).snapshot()
        let busy = try #require(snapshot.interfaces.first { $0.name == "busy0" })
        let free = try #require(snapshot.interfaces.first { $0.name == "excl0" })
        let namespaceFD = open("/run/netns/\(ns.name)", O_RDONLY | O_CLOEXEC)
        defer { close(namespaceFD) }
        let fds = try NamespaceThread.run(in: namespaceFD) { try LinuxReaper.openTunDescriptors(count: 2) }
        defer { fds.forEach { close($0) } }
        #expect(LinuxReaper.attach(fd: fds[0], name: Array("busy0".utf8), to: busy) == EBUSY)
        #expect(LinuxReaper.attach(fd: fds[1], name: Array("excl0".utf8), to: free) == 0)
        // While tunwarden holds excl0, nobody else can attach to it.
        #expect(throws: (any Error).self) { try ns.hold("excl0") }
    }

    @Test func minimumAgeIsHonouredAcrossRuns() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "aged0", "mode", "tun")
        let first = try reap(ns, state, "--min-age", "2s", "--yes")
        #expect(first.status == 0)
        #expect(first.stdout.contains("1 reapable orphaned interface is waiting out the grace period"))
        #expect(first.stdout.contains("aged0 is due at"))
        #expect(try linkNames(ns).contains("aged0"))
        usleep(2_200_000)
        let second = try reap(ns, state, "--min-age", "2s", "--yes")
        #expect(second.status == 0)
        #expect(second.stdout.contains("Deleted tun aged0"))
        #expect(!(try linkNames(ns).contains("aged0")))
    }

    @Test func unattendedRunWithoutYesRefusesAndChangesNothing() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try makeOrphans(ns, unit: 2)
        let before = try fullState(ns)
        let result = try reap(ns, state, "--min-age", "0")
        #expect(result.status == 64)
        #expect(result.stderr.contains("refusing to delete without --yes"))
        #expect(result.stderr.contains("reap --dry-run"))
        #expect(try fullState(ns) == before)
    }

    /// On a terminal (a pseudo-terminal from `script`), a real run shows the plan and asks.
    @Test(.enabled(if: Shell.which("script") != nil, "needs script(1) from util-linux"))
    func onATerminalTheRunAsksFirst() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "ask0", "mode", "tun")
        func run(answer: String) throws -> Shell.Result {
            let command = "\(Shell.tunwardenBinary) --netns \(ns.name) reap --min-age 0 --state-dir \(state.path)"
            return try Shell.capture(["sh", "-c", "(sleep 0.5; echo \(answer)) | script -qec '\(command)' /dev/null"])
        }
        let declined = try run(answer: "n")
        #expect(declined.status == 0)
        #expect(declined.stdout.contains("Delete 1 interface listed above? [y/N]"))
        #expect(declined.stdout.contains("nothing was changed"))
        #expect(try linkNames(ns).contains("ask0"))
        let accepted = try run(answer: "y")
        #expect(accepted.status == 0)
        #expect(accepted.stdout.contains("Deleted tun ask0"))
        #expect(!(try linkNames(ns)).contains("ask0"))
    }

    @Test func journalCommandsRecreateAnEquivalentDevice() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        // No owner or group: a device provisioned for a user is never reaped (provisioned-tun).
        try ns.ip("tuntap", "add", "dev", "rec0", "mode", "tun", "multi_queue")
        try ns.ip("link", "set", "rec0", "mtu", "1400")
        try ns.ip("link", "set", "rec0", "up")
        try ns.ip("addr", "add", "10.77.0.1/24", "dev", "rec0")
        try ns.ip("addr", "add", "10.78.0.1", "peer", "10.78.0.2/32", "dev", "rec0")
        try ns.ip("route", "add", "0.0.0.0/1", "dev", "rec0")
        try ns.ip("route", "add", "192.0.2.0/24", "via", "10.77.0.9", "dev", "rec0", "table", "100", "metric", "7")
        try ns.ip("tuntap", "add", "dev", "rec1", "mode", "tap", "pi", "vnet_hdr")
        let before = try describe(ns, ["rec0", "rec1"])

        let result = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(!(try linkNames(ns)).contains("rec0"))

        let records = try Journal(path: state.path + "/journal.jsonl").read()
        let intents = records.filter { $0.type == .intent }
        #expect(intents.map(\.ifname).sorted() == ["rec0", "rec1"])
        let prior = try #require(intents.first { $0.ifname == "rec0" }?.prior)
        #expect(prior.mtu == 1400 && prior.tun?.owner == nil && prior.tun?.group == nil && prior.tun?.multiQueue == true)
        #expect(prior.addresses.count == 2 && prior.routes.contains { $0.table == .other(100) })
        #expect(records.filter { $0.type == .result }.allSatisfy { $0.result == .deleted })

        try TestNamespace.replayFromElsewhere(intents.flatMap { $0.recreate ?? [] })
        #expect(try describe(ns, ["rec0", "rec1"]) == before)

        let shown = try Shell.capture([Shell.tunwardenBinary, "journal", "--state-dir", state.path])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("deleted  tun rec0"))
        #expect(shown.stdout.contains("tuntap add dev rec0 mode tun multi_queue"))
    }

    /// What makes two devices equivalent: kind and tun settings, MTU, flags, addresses, routes.
    func describe(_ ns: TestNamespace, _ names: [String]) throws -> [String] {
        var lines: [String] = []
        for name in names {
            let link = try #require(try JSONSerialization.jsonObject(with: Data(try ns.ip("-j", "-d", "link", "show", "dev", name).utf8)) as? [[String: Any]]).first ?? [:]
            let info = (link["linkinfo"] as? [String: Any])?["info_data"] as? [String: Any] ?? [:]
            lines.append("\(name) mtu \(link["mtu"] ?? "?") flags \((link["flags"] as? [String] ?? []).sorted()) " +
                         info.keys.sorted().map { "\($0)=\(info[$0] ?? "")" }.joined(separator: " "))
            lines += try ns.ip("addr", "show", "dev", name).split(separator: "\n").filter { $0.contains("inet") && !$0.contains("fe80") }
                .map { $0.trimmingCharacters(in: .whitespaces).components(separatedBy: " scope").first ?? "" }
            lines += try ns.ip("route", "show", "table", "all", "dev", name).split(separator: "\n").map(String.init)
        }
        return lines
    }

    @Test func damagedOrUnwritableFilesStopTheReapBeforeAnything() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "safe0", "mode", "tun")

        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: state.path + "/state.json"))
        let corruptState = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(corruptState.status == 3)
        #expect(corruptState.stderr.contains("state.json: is not a valid tunwarden state file"))
        #expect(corruptState.stderr.lowercased().contains("nothing was changed"))
        try FileManager.default.removeItem(atPath: state.path + "/state.json")
        try? FileManager.default.removeItem(atPath: state.path + "/state.db")
        try Data(String(repeating: "not a database ", count: 300).utf8).write(to: URL(fileURLWithPath: state.path + "/state.db"))
        let corruptDatabase = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(corruptDatabase.status == 3)
        #expect(corruptDatabase.stderr.contains("state.db: is not a valid tunwarden state database"), "\(corruptDatabase.stderr)")
        #expect(corruptDatabase.stderr.lowercased().contains("nothing was changed"))
        try FileManager.default.removeItem(atPath: state.path + "/state.db")

        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: state.path + "/journal.jsonl"))
        let corruptJournal = try reap(ns, state, "--min-age", "0", "--yes")
        #expect(corruptJournal.status == 3)
        #expect(corruptJournal.stderr.contains("journal.jsonl: line 1 is not a journal record"))

        try Data().write(to: URL(fileURLWithPath: state.path + "/file"))
        // A journal under a file is a path that cannot be one: bad usage, refused before anything.
        let unwritable = try reap(ns, state, "--min-age", "0", "--yes", "--journal", state.path + "/file/journal.jsonl")
        #expect(unwritable.status == 64)
        #expect(unwritable.stderr.contains("\(state.path)/file is not a directory"), "\(unwritable.stderr)")

        #expect(try linkNames(ns).contains("safe0"))
    }

    @Test func notRootChangesNothing() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        chmod(state.path, 0o777)
        try ns.ip("tuntap", "add", "dev", "root0", "mode", "tun")
        let before = try fullState(ns)
        let result = try Shell.capture(["ip", "netns", "exec", ns.name, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                        Shell.tunwardenBinary, "reap", "--min-age", "0", "--yes", "--state-dir", state.path])
        #expect(result.status == 3)
        #expect(result.stderr.contains("reaping needs root"))
        #expect(result.stderr.contains("nothing was changed"))
        #expect(try fullState(ns) == before)
    }

    @Test func jsonPlanAndResults() throws {
        let ns = try TestNamespace(), state = try TemporaryDirectory()
        defer { ns.remove(); state.remove() }
        try ns.ip("tuntap", "add", "dev", "js0", "mode", "tap")
        let dry = try reap(ns, state, "--min-age", "0", "--dry-run", "--format", "json")
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])
        #expect(plan["dry_run"] as? Bool == true)
        let item = try #require((plan["plan"] as? [[String: Any]])?.first)
        #expect(item["ifname"] as? String == "js0")
        #expect(item["kind"] as? String == "tap")
        #expect((item["recreate"] as? [String])?.first == "ip -n \(ns.name) tuntap add dev js0 mode tap")
        #expect(plan["results"] == nil)
        let real = try reap(ns, state, "--min-age", "0", "--yes", "--format", "json")
        let done = try #require(try JSONSerialization.jsonObject(with: Data(real.stdout.utf8)) as? [String: Any])
        #expect((done["results"] as? [[String: Any]])?.first?["result"] as? String == "deleted")
        #expect((done["summary"] as? [String: Any])?["deleted"] as? Int == 1)
    }
}
#endif

import Foundation
import Testing
import TunwardenCore

/// The journal's recreate commands, checked word by word and, for quoting, against real shells.
@Suite struct RecreateCommandsTests {
    /// The POSIX shells on this machine that a person might paste a journal's commands into.
    static let shells = ["/bin/sh", "/bin/dash", "/bin/bash"].filter { FileManager.default.isExecutableFile(atPath: $0) }

    /// What `shell` prints for `printf %s WORD`: the bytes the word expands to.
    static func expansion(of word: String, in shell: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shell)
        process.arguments = ["-c", "printf %s " + word]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        return bytes
    }

    @Test(.enabled(if: !shells.isEmpty, "needs a POSIX shell"))
    func everyByteRoundTripsThroughTheShell() throws {
        var words: [[UInt8]] = (1...255).map { [UInt8($0)] }
        words += [
            Array(1...255),
            Array("zz".utf8) + [0xff],
            Array("-".utf8) + [0xff],
            Array("-n".utf8) + [0xff, 0x0a],
            Array("a%sb\\c'd\"e$f`g".utf8) + [0x80],
            Array("it's".utf8), Array("my alias".utf8), Array("--".utf8), Array("%".utf8),
            [0x0a, 0x0a], Array("line\n\n".utf8), [0xe2, 0x80, 0xae, 0x61, 0x0a, 0x62],
        ]
        for _ in 0..<40 { words.append((0..<Int.random(in: 1...20)).map { _ in UInt8.random(in: 1...255) }) }
        for shell in Self.shells {
            for bytes in words {
                let word = ShellWord.quote(bytes)
                #expect(try Self.expansion(of: word, in: shell) == bytes, "\(shell): \(bytes) quoted as \(word)")
            }
        }
    }

    @Test func wordsHoldOnlyPrintableASCIIExceptTrailingNewlines() {
        for byte in UInt8(1)...255 where byte != 0x0a {
            let word = ShellWord.quote([0x61, byte, 0x62])
            #expect(word.utf8.allSatisfy { (0x20..<0x7f).contains($0) }, "\(byte): \(word)")
        }
        #expect(ShellWord.quote(Array("zz".utf8) + [0xff]) == #""$(printf 'zz\377')""#)
        #expect(ShellWord.quote(Array("tun0".utf8)) == "tun0")
        #expect(ShellWord.quote(Array("it's".utf8)) == #"'it'\''s'"#)
        #expect(ShellWord.quote([0xff, 0x25, 0x5c, 0x27]) == #""$(printf '\377%%\\\047')""#)
    }

    @Test func aNameThatIsNotUTF8IsWrittenAsItsKernelBytes() {
        let name = InterfaceName.text(Array("zz".utf8) + [0xff])
        let commands = RecreateCommands.commands(for: NetworkInterface(index: 4, name: name, kind: .tun, flags: ["POINTOPOINT", "NOARP", "MULTICAST"]),
                                                 routes: [], namespace: nil)
        #expect(commands == [#"ip tuntap add dev "$(printf 'zz\377')" mode tun"#])
    }

    /// Review iproute2 13, F6: an address's protocol (IFA_PROTO), which only iproute2 6.3 and
    /// later set, is named in a comment line before the address's command; one without a
    /// protocol gets none.
    @Test func anAddressProtocolIsNamedInACommentLine() {
        var device = NetworkInterface(index: 4, name: "tun9", kind: .tun, flags: ["POINTOPOINT", "NOARP", "MULTICAST"])
        var made = InterfaceAddress(local: IPAddress("10.64.0.2")!, prefixLength: 24, scope: "global")
        made.addressProtocol = 99
        var routerAdvertised = InterfaceAddress(local: IPAddress("2001:db8:9::2")!, prefixLength: 64, scope: "global")
        routerAdvertised.addressProtocol = 2
        device.addresses = [made, InterfaceAddress(local: IPAddress("10.65.0.2")!, prefixLength: 24, scope: "global"), routerAdvertised]
        #expect(RecreateCommands.commands(for: device, routes: [], namespace: "blue").filter { $0.hasPrefix("#") || $0.contains(" addr add ") } == [
            "# 10.64.0.2/24 had address protocol 99, which is not recreated (the address below comes back without one): "
                + "only iproute2 6.3 and later set it, with `proto 99` at the end of the command",
            "ip -n blue addr add 10.64.0.2/24 dev tun9",
            "ip -n blue addr add 10.65.0.2/24 dev tun9",
            "# 2001:db8:9::2/64 had address protocol kernel_ra, which is not recreated (the address below comes back without one): "
                + "only iproute2 6.3 and later set it, with `proto kernel_ra` at the end of the command",
            "ip -n blue addr add 2001:db8:9::2/64 dev tun9 nodad",
        ])
    }

    @Test func everythingIpCanSetIsRecreated() {
        var device = NetworkInterface(index: 7, name: "tap9", kind: .tap, infoKind: "tun",
                                      flags: ["BROADCAST", "MULTICAST", "NOARP", "ALLMULTI", "PROMISC", "UP"], mtu: 1400, master: 3,
                                      hardwareAddress: "02:00:00:00:00:42", tun: TunDetails(persistent: true), txQueueLength: 1234,
                                      alias: "my alias", masterName: "br0")
        device.addresses = [
            InterfaceAddress(local: IPAddress("10.66.0.1")!, prefixLength: 24, scope: "global", broadcast: IPAddress("10.66.0.255"),
                             label: "tap9:a", flags: ["permanent", "noprefixroute"]),
            InterfaceAddress(local: IPAddress("10.66.1.1")!, prefixLength: 24, scope: "link", label: "tap9", validLifetime: 3000,
                             preferredLifetime: 2000, metric: 9),
            InterfaceAddress(local: IPAddress("239.1.2.3")!, prefixLength: 32, scope: "global", label: "tap9", flags: ["permanent", "autojoin"]),
            InterfaceAddress(local: IPAddress("2001:db8:6::1")!, prefixLength: 64, scope: "global",
                             flags: ["nodad", "home", "tentative", "mngtmpaddr"], validLifetime: 3000, preferredLifetime: 0),
        ]
        #expect(RecreateCommands.commands(for: device, routes: [], namespace: "blue") == [
            "ip -n blue tuntap add dev tap9 mode tap",
            "ip -n blue link set dev tap9 mtu 1400",
            "ip -n blue link set dev tap9 txqueuelen 1234",
            "ip -n blue link set dev tap9 address 02:00:00:00:00:42",
            "ip -n blue link set dev tap9 arp off allmulticast on promisc on",
            "ip -n blue link set dev tap9 alias 'my alias'",
            "ip -n blue link set dev tap9 master br0",
            "ip -n blue link set dev tap9 up",
            "ip -n blue addr add 10.66.0.1/24 broadcast 10.66.0.255 label tap9:a dev tap9 noprefixroute",
            "ip -n blue addr add 10.66.1.1/24 scope link metric 9 dev tap9 valid_lft 3000 preferred_lft 2000",
            "ip -n blue addr add 239.1.2.3/32 dev tap9 autojoin",
            "ip -n blue addr add 2001:db8:6::1/64 dev tap9 valid_lft 3000 preferred_lft 0 nodad home mngtmpaddr",
        ])
    }

    /// An IPv6 route that expires comes back with the time it had left when it was read, not for
    /// good; two reads of it differ in that time alone, which is no change of the route.
    @Test func anIPv6RouteThatExpiresComesBackExpiring() {
        let device = NetworkInterface(index: 7, name: "tun9", kind: .tun, infoKind: "tun", flags: ["UP"], tun: TunDetails(persistent: true))
        var expiring = Route(destination: IPPrefix("2001:db8:70::/48")!, metric: 1024, routeProtocol: .boot,
                             nextHops: [NextHop(gateway: nil, interfaceIndex: 7)])
        expiring.expiry = RouteExpiry(seconds: 599)
        // (An IPv4 route is not told to expire: `ip` refuses `expires` for one.)
        var ipv4 = Route(destination: IPPrefix("10.70.0.0/16")!, routeProtocol: .boot, nextHops: [NextHop(gateway: nil, interfaceIndex: 7)])
        ipv4.expiry = RouteExpiry(seconds: 30)
        let commands = RecreateCommands.commands(for: device, routes: [expiring, ipv4], namespace: "blue")
        #expect(commands.contains("ip -n blue route add 2001:db8:70::/48 dev tun9 metric 1024 expires 599"), "\(commands)")
        #expect(commands.contains("ip -n blue route add 10.70.0.0/16 dev tun9"), "\(commands)")

        var later = expiring
        later.expiry = RouteExpiry(seconds: 12)
        var permanent = expiring
        permanent.expiry = nil
        #expect(later == expiring && permanent != expiring)
    }

    /// Neighbour entries made by hand come back after the addresses (an entry needs none, but a
    /// person reads them in that order), each as `ip neigh add` makes it.
    @Test func neighbourEntriesMadeByHandComeBackAfterTheAddresses() {
        var device = NetworkInterface(index: 9, name: "tap9", kind: .tap, flags: ["BROADCAST", "MULTICAST", "UP"])
        device.addresses = [InterfaceAddress(local: IPAddress("10.66.0.1")!, prefixLength: 24, scope: "global")]
        let neighbours = [
            RecreateCommands.Neighbour(address: IPAddress("10.66.0.5")!, linkLayerAddress: "02:00:00:00:00:05", kind: .permanent),
            RecreateCommands.Neighbour(address: IPAddress("2001:db8::5")!, linkLayerAddress: "02:00:00:00:00:06", kind: .permanent, router: true),
            RecreateCommands.Neighbour(address: IPAddress("10.66.0.6")!, linkLayerAddress: nil, kind: .noarp),
            RecreateCommands.Neighbour(address: IPAddress("2001:db8::7")!, linkLayerAddress: nil, kind: .proxy, router: true),
            RecreateCommands.Neighbour(address: IPAddress("10.66.0.8")!, linkLayerAddress: "02:00:00:00:00:08", kind: .permanent, externLearned: true, protocolID: 99),
        ]
        #expect(RecreateCommands.commands(for: device, routes: RecreateRoutesTests.kernelRoutes("10.66.0.1", index: 9), namespace: "blue",
                                          unnamedNamespace: nil, neighbours: neighbours) == [
            "ip -n blue tuntap add dev tap9 mode tap",
            "ip -n blue link set dev tap9 up",
            "ip -n blue addr add 10.66.0.1/24 dev tap9",
            "ip -n blue neigh add 10.66.0.5 lladdr 02:00:00:00:00:05 nud permanent dev tap9",
            "ip -n blue neigh add 2001:db8::5 lladdr 02:00:00:00:00:06 nud permanent router dev tap9",
            "ip -n blue neigh add 10.66.0.6 nud noarp dev tap9",
            "ip -n blue neigh add proxy 2001:db8::7 router dev tap9",
            "ip -n blue neigh add 10.66.0.8 lladdr 02:00:00:00:00:08 nud permanent extern_learn protocol 99 dev tap9",
        ])
    }

    @Test func flagsAreSetOnlyWhereTheyDifferFromANewDevice() {
        let plain = NetworkInterface(index: 2, name: "t0", kind: .tun, flags: ["POINTOPOINT", "NOARP", "MULTICAST"])
        #expect(RecreateCommands.commands(for: plain, routes: [], namespace: nil) == ["ip tuntap add dev t0 mode tun"])
        let changed = NetworkInterface(index: 2, name: "t0", kind: .tun, flags: ["POINTOPOINT", "DYNAMIC", "NOTRAILERS"])
        #expect(RecreateCommands.commands(for: changed, routes: [], namespace: nil) ==
            ["ip tuntap add dev t0 mode tun", "ip link set dev t0 arp on multicast off dynamic on trailers off"])
    }

    @Test func aPortWhoseMasterWasNotSeenSaysSo() {
        let port = NetworkInterface(index: 2, name: "p0", kind: .tap, flags: ["BROADCAST", "MULTICAST"], master: 12)
        #expect(RecreateCommands.commands(for: port, routes: [], namespace: nil).last ==
            "# it was a port of ifindex 12, whose name was not seen: ip link set dev p0 master NAME")
    }

    @Test func aNamespaceWithoutANameIsNamedByItsIdentityFirst() {
        let device = NetworkInterface(index: 2, name: "t0", kind: .tun, flags: ["POINTOPOINT", "NOARP", "MULTICAST"])
        #expect(RecreateCommands.commands(for: device, routes: [], namespace: nil, unnamedNamespace: "net:[4026532999]") == [
            "# namespace net:[4026532999] has no name under /run/netns; run these inside it, e.g. with nsenter --net=/proc/PID/ns/net "
                + "for a process PID in it (lsns -t net lists them)",
            "ip tuntap add dev t0 mode tun",
        ])
    }

    /// An IPv6 link-local address added by hand comes back; the kernel's own does not, whether
    /// the kernel marks it (IFA_PROTO 3) or, where it marks none, it is the MAC's EUI-64 one. A
    /// temporary address does not either: the kernel derives a new one from the `mngtmpaddr` one.
    @Test func onlyTheKernelsOwnIPv6AddressesAreLeftOut() {
        var device = NetworkInterface(index: 9, name: "tap9", kind: .tap, flags: ["BROADCAST", "MULTICAST"], hardwareAddress: "02:aa:bb:cc:dd:ee")
        var marked = InterfaceAddress(local: IPAddress("fe80::1234")!, prefixLength: 64, scope: "link", flags: ["permanent"])
        marked.addressProtocol = 3
        device.addresses = [
            InterfaceAddress(local: IPAddress("2001:db8:77:0:2505:482e:1df1:5c20")!, prefixLength: 64, scope: "global", flags: ["temporary", "dynamic"],
                             validLifetime: 5997, preferredLifetime: 4997),
            InterfaceAddress(local: IPAddress("2001:db8:77::1")!, prefixLength: 64, scope: "global", flags: ["nodad", "mngtmpaddr"]),
            InterfaceAddress(local: IPAddress("fe80::1")!, prefixLength: 64, scope: "link", flags: ["nodad"]),
            marked,
            InterfaceAddress(local: IPAddress("fe80::aa:bbff:fecc:ddee")!, prefixLength: 64, scope: "link"),
        ]
        #expect(RecreateCommands.commands(for: device, routes: [], namespace: nil).filter { $0.contains("addr add") } == [
            "ip addr add fe80::1/64 dev tap9 nodad",
            "ip addr add 2001:db8:77::1/64 dev tap9 nodad mngtmpaddr",
        ])
    }

    /// Link settings come back where they differ from a new device's, before the device is set up.
    @Test func linkSettingsComeBackBeforeTheDeviceIsUp() {
        var device = NetworkInterface(index: 9, name: "tap9", kind: .tap, flags: ["BROADCAST", "MULTICAST", "UP"])
        device.linkSettings.broadcast = "02:ff:ff:ff:ff:fe"
        device.linkSettings.linkMode = 1
        device.linkSettings.ipv6AddressGeneration = 1
        device.linkSettings.gsoMaxSize = 30000
        device.linkSettings.gsoMaxSegments = 100
        device.linkSettings.groMaxSize = 40000
        // What the kernel gives the IPv4 limits when gso_max_size and gro_max_size are set so.
        device.linkSettings.gsoIPv4MaxSize = 30000
        device.linkSettings.groIPv4MaxSize = 40000
        #expect(RecreateCommands.commands(for: device, routes: [], namespace: nil) == [
            "ip tuntap add dev tap9 mode tap",
            "ip link set dev tap9 broadcast 02:ff:ff:ff:ff:fe",
            "ip link set dev tap9 mode dormant",
            "ip link set dev tap9 addrgenmode none",
            "ip link set dev tap9 gso_max_size 30000",
            "ip link set dev tap9 gso_max_segs 100",
            "ip link set dev tap9 gro_max_size 40000",
            "ip link set dev tap9 up",
        ])
        var defaults = device
        defaults.linkSettings = LinkSettings()
        defaults.linkSettings.broadcast = "ff:ff:ff:ff:ff:ff"
        defaults.linkSettings.linkMode = 0
        defaults.linkSettings.ipv6AddressGeneration = 0
        defaults.linkSettings.gsoMaxSize = 65536
        defaults.linkSettings.gsoMaxSegments = 65535
        defaults.linkSettings.groMaxSize = 65536
        defaults.linkSettings.gsoIPv4MaxSize = 65536
        defaults.linkSettings.groIPv4MaxSize = 65536
        #expect(defaults.linkSettings.isNewDeviceDefault)
        #expect(RecreateCommands.commands(for: defaults, routes: [], namespace: nil) == ["ip tuntap add dev tap9 mode tap", "ip link set dev tap9 up"])
    }

    /// `gso_ipv4_max_size` and `gro_ipv4_max_size` that differ from what the device comes back
    /// with (a new device's 64 KiB, or its `gso_max_size` / `gro_max_size` of 64 KiB or less,
    /// which the kernel gives them too) are named in a comment line with the command that sets
    /// them, which only iproute2 6.3 and later take (review ip48 F2); never dropped without a word.
    @Test func ipv4SizeLimitsAreNamedWhereTheyDoNotComeBack() {
        func lines(gso: UInt32?, gro: UInt32?, gsoIPv4: UInt32?, groIPv4: UInt32?) -> [String] {
            var device = NetworkInterface(index: 9, name: "tap9", kind: .tap, flags: ["BROADCAST", "MULTICAST"])
            device.linkSettings.gsoMaxSize = gso
            device.linkSettings.groMaxSize = gro
            device.linkSettings.gsoIPv4MaxSize = gsoIPv4
            device.linkSettings.groIPv4MaxSize = groIPv4
            #expect(!device.linkSettings.isNewDeviceDefault || (gsoIPv4 ?? 65536) == 65536 && (groIPv4 ?? 65536) == 65536)
            return RecreateCommands.commands(for: device, routes: [], namespace: "n").filter { $0.contains("ipv4_max_size") }
        }
        #expect(lines(gso: 65536, gro: 65536, gsoIPv4: 30000, groIPv4: 20000) == [
            "# its gso_ipv4_max_size 30000 and gro_ipv4_max_size 20000 are not recreated (it comes back with gso_ipv4_max_size 65536 and "
                + "gro_ipv4_max_size 65536): only iproute2 6.3 and later set them, with `ip -n n link set dev tap9 gso_ipv4_max_size 30000 gro_ipv4_max_size 20000`",
        ])
        #expect(lines(gso: 40000, gro: nil, gsoIPv4: 30000, groIPv4: nil) == [
            "# its gso_ipv4_max_size 30000 is not recreated (it comes back with gso_ipv4_max_size 40000): "
                + "only iproute2 6.3 and later set it, with `ip -n n link set dev tap9 gso_ipv4_max_size 30000`",
        ])
        // Above 64 KiB (BIG TCP) gso_max_size leaves the IPv4 limit at 64 KiB.
        #expect(lines(gso: 100000, gro: 100000, gsoIPv4: 65536, groIPv4: 65536).isEmpty)
        #expect(lines(gso: 100000, gro: 50000, gsoIPv4: 30000, groIPv4: 50000).count == 1)
        // Where gso_max_size gives it back, and on a kernel before 6.3 (not reported), nothing.
        #expect(lines(gso: 30000, gro: 20000, gsoIPv4: 30000, groIPv4: 20000).isEmpty)
        #expect(lines(gso: 30000, gro: nil, gsoIPv4: nil, groIPv4: nil).isEmpty)
    }

    /// A link-local address added by hand that equals the MAC's EUI-64 one comes back where the
    /// kernel marks its own (review ip48 F5), and where its address generation mode makes no
    /// EUI-64 address (`none`, `random`, `stable_secret`); where the kernel marks none and the
    /// mode is `eui64` (or not reported), it is taken for the kernel's, as on a kernel before 6.3.
    @Test func aHandMadeLinkLocalEqualToTheEUI64OneComesBackWhereTheKernelWouldNotMakeIt() {
        func added(mode: UInt8?, marks: Bool, flags: [String] = []) -> [String] {
            var device = NetworkInterface(index: 9, name: "tap9", kind: .tap, flags: ["BROADCAST", "MULTICAST"], hardwareAddress: "02:aa:bb:cc:dd:ee")
            device.linkSettings.ipv6AddressGeneration = mode
            device.addresses = [InterfaceAddress(local: IPAddress("fe80::aa:bbff:fecc:ddee")!, prefixLength: 64, scope: "link", flags: ["nodad"] + flags)]
            var place = RecreatePlace(namespace: nil)
            place.kernelMarksAddresses = marks
            return RecreateCommands.commands(forRun: [RecreateCommands.RunDevice(device, routes: [])], place: place)[0].filter { $0.contains("addr add") }
        }
        let back = ["ip addr add fe80::aa:bbff:fecc:ddee/64 dev tap9 nodad"]
        #expect(added(mode: nil, marks: true) == back)
        #expect(added(mode: 0, marks: true) == back)
        #expect(added(mode: 1, marks: false) == back)
        #expect(added(mode: 3, marks: false) == back)
        #expect(added(mode: 2, marks: false) == back)
        #expect(added(mode: 0, marks: false).isEmpty)
        #expect(added(mode: nil, marks: false).isEmpty)
        // A stable-privacy address is the kernel's where the mode makes one, and marked where it marks.
        #expect(added(mode: 3, marks: false, flags: ["stable-privacy"]).isEmpty)
        #expect(added(mode: 1, marks: false, flags: ["stable-privacy"]).count == 1)
    }

    /// Whether the kernel marks its addresses is read from any address of the namespace that
    /// carries a kernel's mark (`::1`'s `kernel_lo` on a namespace whose loopback is up), and
    /// the plan gives it to the recreate commands.
    @Test func theKernelsMarkIsSeenOnAnyAddress() {
        var loopback = NetworkInterface(index: 1, name: "lo", kind: .other, flags: ["LOOPBACK", "UP"])
        var one = InterfaceAddress(local: IPAddress("::1")!, prefixLength: 128, scope: "host", flags: ["permanent"])
        let tap = NetworkInterface(index: 9, name: "tap9", kind: .tap, flags: ["BROADCAST", "MULTICAST"])
        loopback.addresses = [one]
        var snapshot = Build.snapshot([loopback, tap])
        #expect(!snapshot.kernelMarksAddresses)
        one.addressProtocol = 1
        snapshot.interfaces[0].addresses = [one]
        #expect(snapshot.kernelMarksAddresses)
        let plan = ReapPlan.make(Heuristics.assess(snapshot), observations: Observations(), namespaceKey: "ns", policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(plan.recreatePlace.kernelMarksAddresses)
    }
}

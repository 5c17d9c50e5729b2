import Foundation
import Testing
@testable import TunwardenCore

/// The table for people fits a terminal's width, wraps findings at word boundaries, groups many
/// findings of one kind, and leaves output for pipes unfitted.
@Suite struct ReportLayoutTests {
    /// `count` orphaned persistent tuns with 15-character names, several addresses and routes each.
    static func orphans(_ count: Int, processes: Int = 69) -> Assessment {
        var interfaces: [NetworkInterface] = []
        var routes: [Route] = []
        for n in 0..<count {
            let index = 10 + n
            interfaces.append(NetworkInterface(
                index: index, name: String(format: "kure_tun_%06d", n), kind: .tun, infoKind: "tun", operstate: "DOWN", carrier: false,
                tun: TunDetails(persistent: true, multiQueue: false),
                addresses: [InterfaceAddress(local: IPAddress("10.\(n % 250).0.1")!, prefixLength: 24, scope: "global"),
                            InterfaceAddress(local: IPAddress("fd00:\(n):beef::1")!, prefixLength: 64, scope: "global"),
                            InterfaceAddress(local: IPAddress("fe80::\(n + 1)")!, prefixLength: 64, scope: "link")]))
            for third in 0..<6 {
                routes.append(Route(destination: IPPrefix(address: IPAddress("172.\(16 + third).\(n % 250).0")!, length: 24)!,
                                    nextHops: [NextHop(interfaceIndex: index, interfaceName: interfaces[n].name)]))
            }
        }
        let scan = HolderScan(complete: true, attachments: [], processesScanned: processes, opaquePIDs: [1])
        return Heuristics.assess(Snapshot(platform: .linux, interfaces: interfaces, routes: routes, holders: scan))
    }

    // Below about 90 columns these rows' first addresses (fd00:…) leave no room: see NarrowTableTests.
    @Test(arguments: [90, 100, 132])
    func everyLineFitsTheTerminal(width: Int) {
        let text = AuditTable.render(Self.orphans(3), width: width)
        for line in text.split(separator: "\n") {
            #expect(line.count <= width, "\(line.count) > \(width): \(line)")
        }
        // Shortened cells say how much they left out.
        #expect(text.contains("(+"))
        // Words are never broken: every word of the first finding's evidence is whole somewhere.
        let evidence = Self.orphans(3).findings.first { $0.id == FindingID.orphanedTun }!.evidence
        let words = Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        for word in evidence.split(separator: " ") { #expect(words.contains(String(word)), "\(word) was broken") }
    }

    @Test func outputForAPipeIsNeitherFittedNorWrapped() {
        let text = AuditTable.render(Self.orphans(3))
        let table = text.split(separator: "\n").prefix(4)
        #expect(table.allSatisfy { !$0.contains("(+1)") || $0.contains("172.") })
        #expect(text.contains("10.0.0.1/24,fd00:0:beef::1/64,fe80::1/64"))
        let findingLines = text.split(separator: "\n").filter { $0.hasPrefix("  WARNING orphaned-tun") }
        #expect(findingLines.count == 3)
        #expect(findingLines.allSatisfy { $0.count > 100 })
    }

    @Test func manyFindingsOfOneKindAreGroupedAndSayTheirContextOnce() {
        let assessment = Self.orphans(120)
        let text = AuditTable.render(assessment, width: 80)
        #expect(!text.contains("  WARNING orphaned-tun kure_tun_"))
        #expect(text.contains("WARNING orphaned-tun (120 interfaces, reapable): kure_tun_000000,"))
        #expect(text.contains("more (--verbose lists every finding)"))
        #expect(text.components(separatedBy: "69 processes scanned").count - 1 == 1)
        // The table's 121 lines, and a few for each group.
        #expect(text.split(separator: "\n").count < 121 + 30)
        // --verbose lists each one.
        let verbose = AuditTable.render(assessment, width: 80, verbose: true)
        #expect(verbose.components(separatedBy: "  WARNING orphaned-tun kure_tun_").count - 1 == 120)
        // A few stay one per line.
        #expect(AuditTable.render(Self.orphans(3), width: 80).components(separatedBy: "  WARNING orphaned-tun kure_tun_").count - 1 == 3)
    }

    @Test func fitShortensListsAndWrapHangsItsIndent() {
        #expect(TextLayout.fit(["10.0.0.1/24", "fd00::1/64", "fe80::1/64"], width: 20) == "10.0.0.1/24 (+2)")
        #expect(TextLayout.fit(["10.0.0.1/24", "fd00::1/64"], width: 100) == "10.0.0.1/24,fd00::1/64")
        #expect(TextLayout.fit(["fd00:1234:5678:9abc::1/64", "x"], width: 14) == "fd00:123… (+1)")
        let lines = TextLayout.wrap("one two three four five six", width: 14, prefix: "  A: ", indent: 4)
        #expect(lines == ["  A: one two", "    three four", "    five six"])
        #expect(TextLayout.wrap("unbreakable-word-longer-than-the-line tail", width: 10) == ["unbreakable-word-longer-than-the-line", "tail"])
        #expect(TextLayout.wrap("a b", width: nil, prefix: "> ") == ["> a b"])
    }

    /// Holders, names and finding text with wide characters are fitted and wrapped by the
    /// terminal columns they take, not by characters: a line is never wider than the terminal.
    @Test func fitAndWrapCountTerminalColumns() {
        // Two holders of 9 columns each (7 characters): 9 + 1 + 9 = 19 > 16.
        #expect(TextLayout.fit(["隧道[42]", "隧道[43]"], width: 16) == "隧道[42] (+1)")
        #expect(TextLayout.fit(["隧道[42]", "隧道[43]"], width: 19) == "隧道[42],隧道[43]")
        // Cut short within a wide character's two columns: the character goes whole or not at all.
        let cut = TextLayout.fit(["隧道隧道隧道隧道[1]", "x"], width: 11)
        #expect(cut == "隧道… (+1)" && TextLayout.columns(cut) <= 11, "\(cut)")
        for line in TextLayout.wrap("隧道隧道 隧道隧道 隧道隧道", width: 18, prefix: "  A: ", indent: 4) {
            #expect(TextLayout.columns(line) <= 18, "\(line)")
        }
        #expect(TextLayout.wrap("隧道隧道 隧道隧道 隧道隧道", width: 18, prefix: "  A: ", indent: 4).count == 3)
    }

    @Test func theCountFindingSaysItsThresholdsOnce() {
        let critical = Heuristics.countFinding(95, policy: AuditPolicy())!
        #expect(critical.evidence.hasPrefix("95 tunnel-style interfaces exist; the limit is 95. "))
        let warning = Heuristics.countFinding(80, policy: AuditPolicy())!
        #expect(warning.evidence.hasPrefix("80 tunnel-style interfaces exist; warning from 76, critical at 95. "))
    }

    @Test func contextInterfacesHaveNoAge() {
        let lo = NetworkInterface(index: 1, name: "lo", kind: .other, flags: ["UP", "LOOPBACK"])
        let tap = NetworkInterface(index: 2, name: "tap0", kind: .tap, infoKind: "tun", carrier: true, tun: TunDetails(persistent: false))
        let assessment = Heuristics.assess(Snapshot(platform: .linux, interfaces: [lo, tap], routes: [],
                                                    holders: HolderScan(complete: true, attachments: [], processesScanned: 1)))
        let text = AuditTable.render(assessment, includeContext: true, observations: Observations())
        let loLine = text.split(separator: "\n").first { $0.hasPrefix("lo ") }!
        #expect(loLine.hasSuffix(" -"))
        #expect(text.split(separator: "\n").first { $0.hasPrefix("tap0 ") }!.hasSuffix("(new)"))
    }

    /// Three interfaces whose cells differ in width, in bytes as well as in characters: a
    /// persistent orphan, a held tun named in characters beyond ASCII, and a context interface.
    static func mixed() -> Assessment {
        let lo = NetworkInterface(index: 1, name: "lo", kind: .other, infoKind: nil, flags: ["UP", "LOOPBACK"],
                                  addresses: [InterfaceAddress(local: IPAddress("127.0.0.1")!, prefixLength: 8, scope: "host")])
        let orphan = NetworkInterface(index: 7, name: "w0", kind: .tun, infoKind: "tun", operstate: "DOWN", carrier: false,
                                      tun: TunDetails(persistent: true, multiQueue: false))
        let held = NetworkInterface(index: 9, name: "tün-é0", kind: .tun, infoKind: "tun", flags: ["UP"], operstate: "UP", carrier: true,
                                    tun: TunDetails(persistent: false, multiQueue: false),
                                    addresses: [InterfaceAddress(local: IPAddress("10.9.0.1")!, prefixLength: 24, scope: "global")])
        let scan = HolderScan(complete: true, attachments: [HolderAttachment(holder: Holder(pid: 42, comm: "openvpn"), ifname: "tün-é0", inInspectedNamespace: true)],
                              processesScanned: 5)
        return Heuristics.assess(Snapshot(platform: .linux, interfaces: [lo, orphan, held], routes: [
            Route(destination: IPPrefix(address: IPAddress("10.9.0.0")!, length: 24)!, nextHops: [NextHop(interfaceIndex: 9, interfaceName: "tün-é0")]),
        ], holders: scan))
    }

    /// Columns are as wide as their widest cell in characters (not bytes), padded with spaces,
    /// with no space ending a line; colour wraps the header and the padded state cell.
    @Test func theTableIsAlignedByCharacters() {
        let table = AuditTable.render(Self.mixed(), includeContext: true).split(separator: "\n", omittingEmptySubsequences: false).prefix(5)
        #expect(Array(table) == [
            "IFNAME  KIND  STATE     HOLDERS      ADDRESSES    ROUTES",
            "lo      -     -         (none)       127.0.0.1/8  (none)",
            "w0      tun   orphaned  (none)       (none)       (none)",
            "tün-é0  tun   live      openvpn[42]  10.9.0.1/24  10.9.0.0/24",
            "",
        ])
        let colored = AuditTable.render(Self.mixed(), includeContext: true, color: true).split(separator: "\n", omittingEmptySubsequences: false).prefix(4)
        #expect(Array(colored) == [
            "\u{1B}[1mIFNAME  KIND  STATE     HOLDERS      ADDRESSES    ROUTES\u{1B}[0m",
            "lo      -     -         (none)       127.0.0.1/8  (none)",
            "w0      tun   \u{1B}[33morphaned  \u{1B}[0m(none)       (none)       (none)",
            "tün-é0  tun   \u{1B}[32mlive      \u{1B}[0mopenvpn[42]  10.9.0.1/24  10.9.0.0/24",
        ])
        #expect(TextLayout.columns("tün-é0") == 6 && TextLayout.columns("w0") == 2 && TextLayout.columns("a\r\nb") == 3)
    }

    /// A wide character takes two terminal columns and a combining mark none, as a terminal shows
    /// them: an emoji, CJK, fullwidth forms, and an emoji made a picture by VS16.
    @Test func wideCharactersTakeTwoColumns() {
        #expect(TextLayout.columns("e😀") == 3 && TextLayout.columns("隧道0") == 5 && TextLayout.columns("ｗｇ") == 4)
        #expect(TextLayout.columns("e\u{0301}x") == 2 && TextLayout.columns("☺\u{FE0F}") == 2 && TextLayout.columns("☺") == 1)
        let wide = NetworkInterface(index: 9, name: "e😀", kind: .tun, infoKind: "tun", tun: TunDetails(persistent: true, multiQueue: false))
        let plain = NetworkInterface(index: 10, name: "w0", kind: .tun, infoKind: "tun", tun: TunDetails(persistent: true, multiQueue: false))
        let snapshot = Snapshot(platform: .linux, interfaces: [wide, plain], routes: [], holders: HolderScan(complete: true, attachments: [], processesScanned: 1))
        let lines = AuditTable.render(Heuristics.assess(snapshot)).split(separator: "\n").prefix(3)
        // The KIND column starts at the same terminal column on every line.
        func kindColumn(_ line: Substring) -> Int {
            let name = line.prefix { $0 != " " }
            let gap = line.dropFirst(name.count).prefix { $0 == " " }
            return name.reduce(0) { $0 + TextLayout.columns(of: $1) } + gap.count
        }
        let starts = lines.map(kindColumn)
        #expect(Set(starts).count == 1, "\(lines)")
    }

    /// AGE, the last column, is added to rows made without it (the audit makes them while the
    /// recording that gives the ages runs): aligned as any column, a context interface's age
    /// "-", the same table fitted or not when it fits, and rows made before the history's
    /// findings were added give the table the finished assessment gives.
    @Test func ageIsAddedToRowsMadeWithoutIt() {
        let assessment = Self.mixed()
        let now = assessment.snapshot.takenAt
        var observations = Observations()
        observations.namespaces[assessment.snapshot.namespaceIdentity] = [
            Observations.key(7, "w0"): InterfaceObservation(ifindex: 7, ifname: "w0", kind: .tun, firstSeen: now.addingTimeInterval(-(3 * 86400 + 7200)),
                                                            lastSeen: now, orphanedSince: nil),
        ]
        let expected = [
            "IFNAME  KIND  STATE     HOLDERS      ADDRESSES    ROUTES       AGE",
            "lo      -     -         (none)       127.0.0.1/8  (none)       -",
            "w0      tun   orphaned  (none)       (none)       (none)       3d 2h",
            "tün-é0  tun   live      openvpn[42]  10.9.0.1/24  10.9.0.0/24  (new)",
            "",
        ]
        for width in [nil, 200] {
            let text = AuditTable.render(assessment, includeContext: true, observations: observations, width: width)
            #expect(Array(text.split(separator: "\n", omittingEmptySubsequences: false).prefix(5)).map(String.init) == expected, "width \(width ?? 0)")
        }
        let growth = Finding(id: FindingID.leakGrowth, severity: .warning, ifname: nil, reapable: false, evidence: "grew")
        let finished = assessment.adding([growth])
        for width in [nil, 200] {
            let early = AuditTable.rows(assessment, includeContext: true, width: width)
            #expect(AuditTable.render(finished, rows: early, observations: observations)
                == AuditTable.render(finished, includeContext: true, observations: observations, width: width))
        }
        #expect(AuditTable.render(finished, rows: AuditTable.rows(assessment), observations: observations).contains("WARNING leak-growth: grew"))
    }
}

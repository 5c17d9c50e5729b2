import Foundation
import Testing
@testable import TunwardenCore

/// On a narrow terminal no value is cut in the middle: a cell keeps whole items and counts the
/// rest, a holder keeps its pid, and below the width whole items need the table becomes one block
/// per interface; the summary wraps with everything else.
@Suite struct NarrowTableTests {
    /// t1, orphaned with two addresses and three routes; t2, held by a python3 with a long pid.
    static func assessment() -> Assessment {
        let interfaces = [
            NetworkInterface(index: 5, name: "t1", kind: .tun, infoKind: "tun", operstate: "DOWN", carrier: false,
                             tun: TunDetails(persistent: true, multiQueue: false),
                             addresses: [InterfaceAddress(local: IPAddress("10.99.0.1")!, prefixLength: 24, scope: "global"),
                                         InterfaceAddress(local: IPAddress("fd00:99::1")!, prefixLength: 64, scope: "global")]),
            NetworkInterface(index: 6, name: "t2", kind: .tun, infoKind: "tun", operstate: "UP", carrier: true,
                             tun: TunDetails(persistent: false, multiQueue: false),
                             addresses: [InterfaceAddress(local: IPAddress("10.98.0.1")!, prefixLength: 24, scope: "global")]),
        ]
        let routes = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map { prefix in
            Route(destination: IPPrefix(prefix)!, nextHops: [NextHop(interfaceIndex: 5, interfaceName: "t1")])
        }
        let holder = HolderAttachment(holder: Holder(pid: 2_034_567, comm: "python3-tunnel-helper"), ifname: "t2", inInspectedNamespace: true)
        let scan = HolderScan(complete: true, attachments: [holder], processesScanned: 80, opaquePIDs: [])
        return Heuristics.assess(Snapshot(platform: .linux, interfaces: interfaces, routes: routes, holders: scan))
    }

    @Test(arguments: [40, 50, 60, 70, 80, 100])
    func noValueIsCutAndNoLineOverflows(width: Int) {
        let text = AuditTable.render(Self.assessment(), width: width)
        for line in text.split(separator: "\n") where !line.contains("python3-tunnel-helper[2034567]") {
            #expect(TextLayout.columns(String(line)) <= width, "\(width): \(line)")
        }
        // The first address and route of each are whole; a holder never loses its pid.
        for value in ["10.99.0.1/24", "10.98.0.1/24", "192.0.2.0/24"] { #expect(text.contains(value), "\(width): \(value) cut in\n\(text)") }
        #expect(text.contains("[2034567]"), "\(text)")
        #expect(!text.contains(".…") && !text.contains(":…"), "\(text)")
        // Blocks show every value.
        if width <= 70 { #expect(text.contains("fd00:99::1/64") && text.contains("203.0.113.0/24"), "\(text)") }
    }

    /// A finding's heading (severity, id, a 15-byte name, the reapable mark) is wrapped with its
    /// text on a terminal too narrow for it, alone or as a group's; a command line stays whole.
    @Test(arguments: [1, 30])
    func aFindingsHeadingWrapsOnANarrowTerminal(count: Int) {
        let interfaces = (0..<count).map { position in
            NetworkInterface(index: 10 + position, name: count == 1 ? "tap-fifteen-xyz" : "tap-fifteen-\(100 + position)", kind: .tun, infoKind: "tun",
                             operstate: "DOWN", carrier: false, tun: TunDetails(persistent: true, multiQueue: false))
        }
        let scan = HolderScan(complete: true, attachments: [], processesScanned: 80, opaquePIDs: [])
        let text = AuditTable.render(Heuristics.assess(Snapshot(platform: .linux, interfaces: interfaces, routes: [], holders: scan)), width: 40)
        let heading = text.split(separator: "\n").first { $0.hasPrefix("  WARNING orphaned-tun") }
        #expect(heading != nil, "\(text)")
        for line in text.split(separator: "\n") where !line.hasPrefix("        ") {
            #expect(TextLayout.columns(String(line)) <= 40, "\(line)\n\(text)")
        }
        #expect(AuditTable.render(Heuristics.assess(Snapshot(platform: .linux, interfaces: interfaces, routes: [], holders: scan)), width: nil)
            .contains(count == 1 ? "  WARNING orphaned-tun tap-fifteen-xyz [reapable]: " : "  WARNING orphaned-tun (30 interfaces, reapable): "), "a pipe's line is whole")
    }

    @Test func aNarrowTerminalGetsOneBlockPerInterface() {
        let text = AuditTable.render(Self.assessment(), width: 40)
        #expect(!text.contains("IFNAME"))
        #expect(text.hasPrefix("""
            t1  tun  orphaned
              HOLDERS    (none)
              ADDRESSES  10.99.0.1/24, fd00:99::1/64
              ROUTES     192.0.2.0/24,
                         198.51.100.0/24,
                         203.0.113.0/24
            t2  tun  live
              HOLDERS    python3-tunnel-helper[2034567]
              ADDRESSES  10.98.0.1/24
              ROUTES     (none)

            """), "\(text)")
    }

    @Test func aMiddleWidthKeepsTheTableWithWholeItemsAndCounts() {
        let text = AuditTable.render(Self.assessment(), width: 80)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("IFNAME"), "\(text)")
        #expect(lines[1].contains("10.99.0.1/24 (+1)") && lines[1].contains("192.0.2.0/24 (+2)"), "\(text)")
        #expect(lines[2].contains(" python3…[2034567] "), "\(text)")
    }

    @Test func theSummaryAndTheEmptyTableWrap() {
        let summary = AuditTable.summaryLine(Self.assessment())
        #expect(summary.count > 40)
        let text = AuditTable.render(Self.assessment(), width: 40)
        #expect(!text.contains(summary) && text.contains("2 tunnel interfaces, 1 orphaned"), "\(text)")
        let empty = AuditTable.render(Heuristics.assess(Snapshot(platform: .linux, interfaces: [], routes: [], holders: HolderScan(complete: true, attachments: [], processesScanned: 1))), width: 40)
        for line in empty.split(separator: "\n") { #expect(line.count <= 40, "\(line)") }
    }

    @Test func aHolderIsShortenedToItsPidAndNoFurther() {
        #expect(AuditTable.shortHolder("python3-tunnel-helper[2034567]", columns: 17) == "python3…[2034567]")
        #expect(AuditTable.shortHolder("python3-tunnel-helper[2034567]", columns: 15) == nil)
        #expect(AuditTable.shortHolder("python3[1]", columns: 9) == nil)
        #expect(AuditTable.cell(["a-long-holder-name[7]", "b[8]"], list: 0, width: 16) == "a-long-…[7] (+1)")
        #expect(AuditTable.cell(["192.0.2.0/24", "198.51.100.0/24"], list: 2, width: 12) == "(2 routes)")
    }
}

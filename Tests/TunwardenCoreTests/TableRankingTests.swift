import Foundation
import Testing
import TestSupport
@testable import TunwardenCore

/// A device's own ranking read from its table's nesting (`Heuristics.TableRankings`) answers what
/// ranking its dead routes afresh against every other route of the table answers (`rankDead`), to
/// the last bit: on random tables of both families where prefixes nest, repeat and sit beside one
/// another, with metrics and IPv6 preferences that tie, routes of one `tos` or source, routes the
/// kernel passes by, routes that end a lookup without a device, multipath routes through several
/// devices, and destinations the policy rules keep elsewhere.
@Suite struct TableRankingTests {
    /// A prefix from a small pool, so that routes share prefixes and nest often.
    static func prefix(_ family: AddressFamily, using random: inout SplitMix64) -> IPPrefix {
        if family == .inet {
            let pool = ["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "0.0.0.0/2", "64.0.0.0/2", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24",
                        "10.1.3.0/24", "10.1.2.128/25", "128.0.0.0/2", "192.168.0.0/16", "192.168.1.0/24", "10.1.2.7/32"]
            return IPPrefix(pool.randomElement(using: &random)!)!
        }
        let pool = ["::/0", "::/1", "8000::/1", "2000::/3", "2000::/4", "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1:2::/64",
                    "3000::/4", "fc00::/7", "fd00::/8", "2001:db8:1:2::5/128"]
        return IPPrefix(pool.randomElement(using: &random)!)!
    }

    static func route(_ family: AddressFamily, devices: ClosedRange<Int>, using random: inout SplitMix64) -> Route {
        let hops = Int.random(in: 0..<8, using: &random) == 0 ? 2 : 1
        var route = Route(destination: prefix(family, using: &random), metric: [0, 5, 10, 10, 1024].randomElement(using: &random)!,
                          nextHops: (0..<hops).map { _ in NextHop(interfaceIndex: Int.random(in: devices, using: &random)) })
        if family == .inet6 { route.preference = [nil, 0, 1, 3].randomElement(using: &random)! }
        switch Int.random(in: 0..<20, using: &random) {
        case 0: route.tos = 0x10
        case 1 where family == .inet6: route.source = IPPrefix("2001:db8:9::/48")
        case 2: route.nextHops = route.nextHops.map { var hop = $0; hop.skippedByKernel = true; return hop }
        case 3: route.bsdFlags = "UGScI"
        default: break
        }
        return route
    }

    @Test func aDevicesRankingFromTheTableIsRankDeadsOwn() {
        var random = SplitMix64(state: 17)
        var compared = 0, withWinners = 0, withOutranked = 0
        for _ in 0..<4000 {
            let family: AddressFamily = Bool.random(using: &random) ? .inet : .inet6
            let dead = (0..<Int.random(in: 1...14, using: &random)).map { _ in Self.route(family, devices: 1...4, using: &random) }
            var live = (0..<Int.random(in: 0...10, using: &random)).map { _ in Self.route(family, devices: 8...9, using: &random) }
            for position in live.indices where Int.random(in: 0..<6, using: &random) == 0 {
                live[position].type = [.blackhole, .unreachable, .prohibit, .throw].randomElement(using: &random)!
                live[position].nextHops = []
            }
            let elsewhere = (0..<(Int.random(in: 0..<4, using: &random) == 0 ? 2 : 0)).map { _ in Self.prefix(family, using: &random) }
            let table = Heuristics.TableRankings(dead: dead, live: live, elsewhere: elsewhere)
            for device in 1...4 {
                let isOwn = { (route: Route) in route.nextHops.contains { $0.interfaceIndex == device } }
                let positions = table.positions(of: device)
                #expect(positions == dead.indices.filter { isOwn(dead[$0]) })
                let expected = Heuristics.rankDead(dead.filter(isOwn), live: live + dead.filter { !isOwn($0) }, elsewhere: elsewhere)
                let got = table.ranking(own: positions)
                #expect(got == expected, "device \(device) of dead \(dead.map(\.display)) against live \(live.map(\.display)), elsewhere \(elsewhere)")
                if got != expected { return }
                compared += 1
                if !expected.winners.isEmpty { withWinners += 1 }
                if !expected.outranked.isEmpty { withOutranked += 1 }
            }
        }
        // The tables are varied enough to reach every part of the ranking.
        #expect(compared > 10_000 && withWinners > 1000 && withOutranked > 1000, "\(compared) compared, \(withWinners) with winners, \(withOutranked) outranked")
    }

    /// The shape it is for: a thousand leaked tunnels, each with a split default at its own
    /// metric and its own subnet. Each device's ranking is the same as ranking it afresh.
    @Test func leakedSplitDefaultsAreRankedAsAlone() {
        let count = 300
        var dead: [Route] = []
        for device in 1...count {
            for prefix in ["0.0.0.0/1", "128.0.0.0/1", "10.\(device / 250).\(device % 250).0/24"] {
                dead.append(Route(destination: IPPrefix(prefix)!, metric: UInt32(device), nextHops: [NextHop(interfaceIndex: device)]))
            }
        }
        let live = [Route(destination: IPPrefix("0.0.0.0/0")!, metric: 100, nextHops: [NextHop(interfaceIndex: 5000)])]
        let table = Heuristics.TableRankings(dead: dead, live: live, elsewhere: [])
        for device in [1, 2, 150, count] {
            let isOwn = { (route: Route) in route.nextHops.contains { $0.interfaceIndex == device } }
            let expected = Heuristics.rankDead(dead.filter(isOwn), live: live + dead.filter { !isOwn($0) }, elsewhere: [])
            #expect(table.ranking(own: table.positions(of: device)) == expected)
            // The first device's split default wins; every later one's is outranked by it.
            #expect((expected.taken >= 0.5) == (device == 1))
        }
    }
}

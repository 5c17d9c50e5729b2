import Foundation
import Testing
import TunwardenCore

/// The plan's and the audit's view of what a single-queue fence would wake (`CarrierFence`).
@Suite struct CarrierFenceTests {
    static func dead(_ prefix: String, _ index: Int, table: RouteTable = .main) -> Route {
        var route = Build.route(prefix, index, table: table)
        route.nextHops[0].skippedByKernel = true
        return route
    }

    @Test func onlyAnUpSingleQueueDeviceWithADeadHopThroughItIsLeftOut() {
        var down = Build.tun(5, "down5")
        down.flags = ["POINTOPOINT"]
        let devices = [Build.tun(2, "dead2"), Build.tun(3, "live3"), Build.tun(4, "mq4", multiQueue: true), down, Build.tun(6, "tap6", kind: .tap)]
        let routes = [Self.dead("10.81.0.0/16", 2), Self.dead("0.0.0.0/0", 2, table: .number(44)), Build.route("10.82.0.0/16", 3),
                      Self.dead("10.83.0.0/16", 4), Self.dead("10.84.0.0/16", 5), Self.dead("2001:db8:6::/64", 6)]
        let assessment = Heuristics.assess(Build.snapshot(devices, routes: routes))
        let evidence = assessment.findings.first { $0.ifname == "dead2" && $0.id == FindingID.orphanedTun }?.evidence ?? ""
        #expect(evidence.contains("A reap leaves it alone: the kernel passes by its routes 10.81.0.0/16, default (table 44) only because"), "\(evidence)")
        let plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: "ns", policy: ReapPolicy(minimumAge: 0), now: Date())
        #expect(Set(plan.items.map(\.ifname)) == ["live3", "mq4", "down5"], "\(plan.items.map(\.ifname))")
        let woken = plan.excluded.compactMap { exclusion -> String? in
            if case let .carrierWouldWakeRoutes(woken) = exclusion.reason { return "\(exclusion.ifname): \(woken.all.joined(separator: ", "))" }
            return nil
        }
        #expect(woken.sorted() == ["dead2: 10.81.0.0/16, default (table 44)", "tap6: 2001:db8:6::/64"], "\(woken)")
        // The audit's tag agrees (review ip48 F4): a device a reap leaves alone is not reapable,
        // and the plan names it, not as an orphan waiting out the grace period, whatever its age.
        let tagged = Dictionary(assessment.findings.filter { $0.id == FindingID.orphanedTun }.map { ($0.ifname!, $0.reapable) }, uniquingKeysWith: { a, _ in a })
        #expect(tagged == ["dead2": false, "live3": true, "mq4": true, "down5": true, "tap6": false], "\(tagged)")
        let young = ReapPlan.make(assessment, observations: Observations(), namespaceKey: "ns", policy: ReapPolicy(minimumAge: 3600), now: Date())
        let reasons = young.excluded.map { exclusion -> String in
            if case .carrierWouldWakeRoutes = exclusion.reason { return "\(exclusion.ifname): carrier" }
            if case .tooYoung = exclusion.reason { return "\(exclusion.ifname): young" }
            return "\(exclusion.ifname): other"
        }
        #expect(reasons.sorted() == ["dead2: carrier", "down5: young", "live3: young", "mq4: young", "tap6: carrier"], "\(reasons)")
        let text = CarrierFence.reason(["10.81.0.0/16"], quotedDevice: "dead2")
        #expect(text.hasPrefix("the kernel passes by its route 10.81.0.0/16 only because it has no carrier") && text.contains("`ip link set dev dead2 down`"))
    }

    /// A linkdown hop of a multipath route: its `dead` flag follows the current setting, not the
    /// shares lookups go by. The fence would wake it unless lookups were seen to choose it
    /// (review lx47: unflagged, yet passed by, it would come alive under the fence).
    @Test func aMultipathLinkdownHopIsWokenUnlessLookupsChoseIt() {
        let tun = Build.tun(2, "mp2")
        func route(flagged: Bool, seen: HopFlows?) -> Route {
            var route = Build.route("0.0.0.0/0", 3)
            var hop = NextHop(interfaceIndex: 2, weight: 1)
            hop.linkDown = true
            hop.skippedByKernel = flagged
            hop.takesFlows = seen
            route.nextHops = [NextHop(interfaceIndex: 3, weight: 1), hop]
            return route
        }
        #expect(CarrierFence.wokenRoutes(of: tun, routes: [route(flagged: false, seen: .no)]).count == 1)
        #expect(CarrierFence.wokenRoutes(of: tun, routes: [route(flagged: false, seen: .unknown)]).count == 1)
        #expect(CarrierFence.wokenRoutes(of: tun, routes: [route(flagged: false, seen: nil)]).count == 1)
        #expect(CarrierFence.wokenRoutes(of: tun, routes: [route(flagged: true, seen: .yes)]).isEmpty)
        #expect(CarrierFence.wokenRoutes(of: tun, routes: [route(flagged: false, seen: .yes)]).isEmpty)

        // What the reason says of each is what is known of it (review ip12 F3): only a flagged
        // hop is said to be passed by for the setting.
        let woken = CarrierFence.woken(of: tun, routes: [route(flagged: true, seen: .no), route(flagged: false, seen: .no), route(flagged: false, seen: .unknown)])
        #expect(woken == CarrierFence.Woken(passedBy: ["default"], notShared: ["default"], unknown: ["default"]))
        let unsure = CarrierFence.reason(CarrierFence.Woken(unknown: ["10.97.0.0/16 (table 100)"]), quotedDevice: "mp2")
        #expect(unsure.hasPrefix("whether the kernel shares out flows to its hop in the multipath route 10.97.0.0/16 (table 100) could not be told"), "\(unsure)")
        #expect(!unsure.contains("is set for it or for all") && unsure.contains("may make it live"), "\(unsure)")
        let never = CarrierFence.reason(CarrierFence.Woken(notShared: ["default"]), quotedDevice: "mp2")
        #expect(never.hasPrefix("route lookups (as `ip route get` makes them) never chose its hop") && never.contains("would make it live"), "\(never)")

        // A table no policy rule looks up takes no traffic: its unsettled hops wake nothing; one
        // a rule looks up does, and so does any where the rules are not known.
        var other = route(flagged: false, seen: .unknown)
        other.table = RouteTable(kernel: 100)
        let rules = PolicyRule.kernelDefaults(.inet)
        #expect(CarrierFence.wokenRoutes(of: tun, routes: [other], policyRules: rules).isEmpty)
        #expect(CarrierFence.wokenRoutes(of: tun, routes: [other]).count == 1)
        var marked = PolicyRule(family: .inet, priority: 100, action: .lookup(RouteTable(kernel: 100)))
        (marked.mark, marked.markMask) = (5, 0xffff_ffff)
        #expect(CarrierFence.wokenRoutes(of: tun, routes: [other], policyRules: rules + [marked]).count == 1)
    }
}

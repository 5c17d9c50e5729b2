import Foundation
import Testing
import TunwardenCore

/// How a plan, its JSON and its recreate commands name the namespace they act in (`RecreatePlace`).
@Suite struct RecreatePlaceTests {
    @Test func aPlaceNamesItsNamespaceByItsBytes() {
        let plain = RecreatePlace(namespace: "blue")
        #expect(plain.netns == "blue" && plain.ipWord == "ip -n blue" && plain.note == nil)
        let odd = RecreatePlace(name: Array("ns".utf8) + [0xff], identity: "net:[42]")
        #expect(odd.netns == "ns\\xff")
        #expect(odd.ipWord == "ip -n \"$(printf 'ns\\377')\"")
        #expect(odd.note?.hasPrefix("# namespace net:[42] is named ns\\xff under /run/netns, bytes that are not UTF-8") == true)
        let unnamed = RecreatePlace(unnamedIdentity: "net:[7]")
        #expect(unnamed.netns == nil && unnamed.ipWord == "ip" && unnamed.note == RecreateCommands.unnamedNamespaceNote("net:[7]"))
        let commands = RecreateCommands.commands(forRun: [.init(Build.tun(9, "t9", kind: .tap), routes: [])], place: odd)[0]
        #expect(commands.first == odd.note && commands.dropFirst().first == "ip -n \"$(printf 'ns\\377')\" tuntap add dev t9 mode tap", "\(commands)")
    }

    @Test func aPlansJSONNamesThePlaceTheJournalWill() throws {
        let assessment = Heuristics.assess(Build.snapshot([Build.tun(9, "t9", kind: .tap)]))
        var plan = ReapPlan.make(assessment, observations: Observations(), namespaceKey: "ns", policy: ReapPolicy(minimumAge: 0), now: Date())
        plan.place = RecreatePlace(namespace: "green")
        let json = String(decoding: ReapReport(plan: plan, results: nil).json(pretty: false), as: UTF8.self)
        #expect(json.contains("\"netns\":\"green\"") && json.contains("ip -n green tuntap add dev t9 mode tap"), "\(json)")
    }
}

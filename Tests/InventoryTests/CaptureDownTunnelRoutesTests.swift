import Foundation
import Testing
@testable import Inventory
@testable import TunwardenCore

/// Routes into a tunnel that is listed but down, beyond a split default (a corporate VPN's
/// `10/8` after `sudo ifconfig utun4 down`, or its app taking the tunnel down and leaving its
/// routes): what they send is not sent at all, as into a gone tunnel, so each is a
/// `dead-tunnel-route` warning with its own commands; never reapable, since reconnecting the VPN
/// brings the tunnel back. Host routes to the tunnel's own addresses go with them and are not
/// advised. Built from the round-48 paste (`Fixtures/darwin-pastes/round48`).
@Suite struct CaptureDownTunnelRoutesTests {
    static let split0 = "0/1                10.64.12.7         UGSc                utun4       \n"
    static let split1 = "128.0/1            10.64.12.7         UGSc                utun4       \n"
    static let corporate = "10                 10.64.12.7         UGSc                utun4       \n172.16/12          10.64.12.7         UGSc                utun4       \n"

    /// The paste with the split default's rows replaced by `replacement`.
    static func paste(replacingSplitWith replacement: String) throws -> String {
        try CaptureDownSplitTests.fixture("split-down-utun4.txt").swapping(split0 + split1, replacement)
    }

    static func deadRoutes(_ assessment: Assessment) -> [Finding] {
        assessment.findings.filter { $0.id == FindingID.deadTunnelRoute && $0.ifname == "utun4" }
    }

    @Test func aCorporateRouteIntoADownUtunIsADeadRoute() throws {
        let assessment = CapturePasteTests.assess(try Self.paste(replacingSplitWith: Self.corporate))
        let dead = try #require(Self.deadRoutes(assessment).first, "\(assessment.findings.map(\.evidence))")
        #expect(dead.severity == .warning && !dead.reapable, "\(dead.evidence)")
        #expect(dead.routes?.map(\.destination.description) == ["10.0.0.0/8", "172.16.0.0/12"], "\(dead.routes ?? [])")
        #expect(dead.evidence.contains("into utun4, which is down (its flags lack UP: nothing is sent out of it)"), "\(dead.evidence)")
        #expect(dead.evidence.contains("Reconnect the VPN that owns utun4"), "\(dead.evidence)")
        // The host route to the tunnel's own address (`10.64.12.7 … UH utun4`) is not advised.
        #expect(dead.commands == ["sudo route -n delete -net 10.0.0.0/8 10.64.12.7", "sudo route -n delete -net 172.16.0.0/12 10.64.12.7"],
                "\(dead.commands)")
        #expect(assessment.status == .warning)
    }

    /// Beside a split default into the down utun, the split's pieces (a /8 of the space default
    /// traffic goes to among them) stay the split finding's, and the private ranges are the dead
    /// route's alone: no route is named by both.
    @Test func theSplitAndTheOtherRoutesAreNamedOnceEach() throws {
        let assessment = CapturePasteTests.assess(try Self.paste(replacingSplitWith: Self.split0 + Self.split1 + Self.corporate
            + "192.168.50         10.64.12.7         UGSc                utun4       \n"))
        let split = try CaptureDownSplitTests.split(assessment)
        #expect(split.severity == .critical && Set(split.routes?.map(\.destination.description) ?? []) == ["0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8"],
                "\(split.routes ?? [])")
        let dead = try #require(Self.deadRoutes(assessment).first, "\(assessment.findings.map(\.evidence))")
        #expect(dead.routes?.map(\.destination.description) == ["172.16.0.0/12", "192.168.50.0/24"], "\(dead.routes ?? [])")
    }

    /// Controls: the same routes into utun4 up, or brought up between the listing and the table,
    /// lead somewhere; a down tunnel with only its own host route has nothing to advise.
    @Test func anUpTunnelOrOnlyItsOwnHostRouteIsNoDeadRoute() throws {
        let corporate = try Self.paste(replacingSplitWith: Self.corporate)
        for text in [corporate.swapping(CaptureDownSplitTests.down, CaptureDownSplitTests.up),
                     corporate.swapping("jane@MacBook-Pro ~ % netstat", "jane@MacBook-Pro ~ % sudo ifconfig utun4 up\njane@MacBook-Pro ~ % netstat"),
                     try Self.paste(replacingSplitWith: "")] {
            let assessment = CapturePasteTests.assess(text)
            #expect(Self.deadRoutes(assessment).isEmpty, "\(assessment.findings.map(\.evidence))")
            #expect(assessment.status == .ok, "\(assessment.findings.map(\.evidence))")
        }
    }
}

import Foundation
import Testing
import TestSupport

/// What `audit --from` prints and exits with for the round 48 pastes, as a person runs it: the
/// 0/1 half `route get` answers as `destination: default` with `mask: 128.0.0.0` beside en0's
/// default is critical and removed by its mask, never by `route -n delete default`; a split
/// default into a utun that is down is critical, as the general default into it is.
@Suite struct MacRouteAdviceTests {
    static let pastes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InventoryTests/Fixtures/darwin-pastes/round48").path

    func audit(_ file: String) throws -> Shell.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["TUNWARDEN_CONFIG"] = "/dev/null"
        return try Shell.capture([Shell.tunwardenBinary, "audit", "--no-state", "--from", Self.pastes + "/" + file], environment: environment)
    }

    @Test func aRouteGetHalfBesideTheDefaultIsCriticalAndRemovedByItsMask() throws {
        let result = try audit("routeget-half-then-default.txt")
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("sudo route -n delete -net 0.0.0.0/1 10.64.12.7"), "\(result.stdout)")
        #expect(!result.stdout.contains("route -n delete default"), "\(result.stdout)")
    }

    @Test func aSplitDefaultIntoADownUtunIsCritical() throws {
        for file in ["split-down-utun4.txt", "split6-down-utun4.txt"] {
            let result = try audit(file)
            #expect(result.status == 2, "\(file): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("CRITICAL split-default utun4") && result.stdout.contains("which is down"), "\(file): \(result.stdout)")
        }
    }

    @Test func noDeleteCommandIsPrintedTwice() throws {
        let result = try audit("anyconnect-gone-utun2.txt")
        let commands = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("sudo route") }
        #expect(!commands.isEmpty && Set(commands).count == commands.count, "\(result.stdout)")
        #expect(commands.contains("sudo route -n delete -net 10.0.0.1/32 172.20.12.27"), "\(result.stdout)")
    }
}

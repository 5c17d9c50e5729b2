import Testing
@testable import TunwardenCore

/// The kernel's numbers for a route's type, table, protocol and scope, read through the lookup
/// table, mean exactly what the named list says: every named number its value, every other
/// number itself, below 256 and above.
struct RouteKindNumberTests {
    static func expected<Kind: KernelName>(_ number: UInt32, as kind: Kind.Type) -> Kind {
        Kind.named.first { $0.number == number }?.value ?? Kind.number(number)
    }

    static func check<Kind: KernelName>(_ kind: Kind.Type) {
        for number in UInt32(0)..<600 {
            let value = Kind(kernel: number)
            #expect(value == expected(number, as: kind), "\(kind) \(number)")
            #expect(Kind(name: value.name) == value, "\(kind) \(number) as \(value.name)")
        }
        for number in [UInt32(65_535), 1 << 20, UInt32.max] {
            #expect(Kind(kernel: number) == Kind.number(number), "\(kind) \(number)")
        }
    }

    @Test func everyNumberMeansWhatTheNamedListSays() {
        Self.check(RouteType.self)
        Self.check(RouteTable.self)
        Self.check(RouteProtocol.self)
        Self.check(RouteScope.self)
        #expect(RouteTable(kernel: 254) == .main && RouteTable(kernel: 100) == .other(100))
        #expect(RouteProtocol(kernel: 186) == .bgp && RouteScope(kernel: 253) == .link)
    }
}

import Foundation
import Testing
@testable import TunwardenConfig

/// Anchors and aliases are refused, naming their line, before anything is composed: an alias of
/// an alias of … used as a mapping key took time exponential in the file's length (390 bytes,
/// 33 s), which stalled every command and a watcher's reload.
@Suite struct ConfigurationAliasTests {
    /// The reviewer's file: `x0: &a0 [l × 10]`, `xi: &ai [*a(i-1) × 10]`, then `? *aL : 1`.
    static func bomb(levels: Int) -> String {
        var text = "limit: 10\nx0: &a0 [" + Array(repeating: "l", count: 10).joined(separator: ",") + "]\n"
        for level in 1...levels {
            text += "x\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]\n"
        }
        return text + "? *a\(levels)\n: 1\n"
    }

    @Test(arguments: [4, 8, 12])
    func anAliasBombIsRefusedAtOnceNamingTheLine(levels: Int) {
        let start = Date()
        let error = #expect(throws: ConfigError.self) { try Configuration.parse(Self.bomb(levels: levels), path: "t.conf") }
        #expect(Date().timeIntervalSince(start) < 1)
        #expect(error?.line == 2, "\(String(describing: error))")
        #expect(error?.description == "t.conf:2: an anchor (&) is not allowed in tunwarden's configuration: no setting needs one; write the value out in full")
    }

    /// Every place an anchor or an alias can stand is refused with its own line: on a scalar, a
    /// sequence, a mapping, in a section, as a key, in flow style, and an alias of nothing.
    @Test(arguments: [
        ("limit: &n 10\n", 1, "an anchor"), ("protect: &p [\"wg*\"]\n", 1, "an anchor"), ("reap: &r\n  min-age: 1h\n", 1, "an anchor"),
        ("limit: 10\nwarn: *n\n", 2, "an alias"), ("reap:\n  min-age: 1h\n  protect: [*p]\n", 3, "an alias"),
        ("limit: 10\n? *k\n: 1\n", 2, "an alias"), ("{limit: &a 10, warn: *a}\n", 1, "an anchor"),
        ("watch:\n  reap: true\n  stats-interval: &s 30s\n", 3, "an anchor"),
    ])
    func anchorsAndAliasesAreRefusedWherever(text: String, line: Int, kind: String) {
        let error = #expect(throws: ConfigError.self) { try Configuration.parse(text, path: "t.conf") }
        #expect(error?.line == line, "\(text): \(String(describing: error))")
        #expect(error?.problem.hasPrefix(kind) == true, "\(text): \(String(describing: error))")
    }

    /// `&` and `*` inside quoted or plain values, and in comments, are text, not anchors.
    @Test func ampersandsAndAsterisksInValuesAreText() throws {
        let config = try Configuration.parse("protect: [\"*\", 'a&b', wg*]  # &not *an anchor\nalert-exec: logger -t a&b *x\n", path: "t.conf")
        #expect(config.texts("protect", for: .reap) == ["*", "a&b", "wg*"])
        #expect(config.text("alert-exec", for: .watch) == "logger -t a&b *x")
    }

    /// A file too broken to scan is still described by the composer, with its line.
    @Test func aSyntaxErrorIsStillNamedByTheComposer() {
        let error = #expect(throws: ConfigError.self) { try Configuration.parse("limit: 10\nprotect: [\"wg*\"\n", path: "t.conf") }
        #expect(error?.problem.hasPrefix("not valid YAML") == true, "\(String(describing: error))")
    }
}

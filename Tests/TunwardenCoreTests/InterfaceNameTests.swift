import XCTest
@testable import TunwardenCore

final class InterfaceNameTests: XCTestCase {
    func testPlainNamesAreThemselves() {
        for name in ["tun0", "kure_tun", "wg-home", "veth1a2b", "vpn-ü"] {
            XCTAssertEqual(InterfaceName.text(Array(name.utf8)), name)
            XCTAssertEqual(InterfaceName.kernelBytes(name), Array(name.utf8))
        }
    }

    func testInvalidAndControlBytesAreEscaped() {
        XCTAssertEqual(InterfaceName.text([0x7a, 0x7a, 0xff]), #"zz\xff"#)
        XCTAssertEqual(InterfaceName.text([0x61, 0x1b, 0x5b, 0x32, 0x4a]), #"a\x1b[2J"#)
        XCTAssertEqual(InterfaceName.text([0x07]), #"\x07"#)
        // A C1 control (U+009B, CSI) and a right-to-left override (U+202E) are valid UTF-8 but
        // would act on a terminal.
        XCTAssertEqual(InterfaceName.text([0x61, 0xc2, 0x9b]), #"a\xc2\x9b"#)
        XCTAssertEqual(InterfaceName.text([0xe2, 0x80, 0xae, 0x61]), #"\xe2\x80\xae"# + "a")
        // An overlong encoding and a lone surrogate are not UTF-8.
        XCTAssertEqual(InterfaceName.text([0xc0, 0xaf]), #"\xc0\xaf"#)
        XCTAssertEqual(InterfaceName.text([0xed, 0xa0, 0x80]), #"\xed\xa0\x80"#)
    }

    func testBackslashIsEscapedSoTextsNeverCollide() {
        let literal = Array(#"zz\xff"#.utf8)
        XCTAssertEqual(InterfaceName.text(literal), #"zz\\xff"#)
        XCTAssertNotEqual(InterfaceName.text(literal), InterfaceName.text([0x7a, 0x7a, 0xff]))
        XCTAssertEqual(InterfaceName.kernelBytes(#"zz\\xff"#), literal)
    }

    func testEveryByteStringRoundTripsAndPrintsNoControlCharacter() {
        var generator = SystemRandomNumberGenerator()
        var seen: [String: [UInt8]] = [:]
        for _ in 0..<20000 {
            let length = Int.random(in: 1...15, using: &generator)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = InterfaceName.text(bytes)
            XCTAssertEqual(InterfaceName.kernelBytes(text), bytes, "\(bytes) → \(text)")
            XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) }, text)
            if let other = seen[text] { XCTAssertEqual(other, bytes, "two byte strings share the text \(text)") }
            seen[text] = bytes
        }
        // Every single byte and every pair.
        for a in 0...255 {
            XCTAssertEqual(InterfaceName.kernelBytes(InterfaceName.text([UInt8(a)])), [UInt8(a)])
            for b in stride(from: 0, through: 255, by: 7) {
                let bytes = [UInt8(a), UInt8(b)]
                XCTAssertEqual(InterfaceName.kernelBytes(InterfaceName.text(bytes)), bytes)
            }
        }
    }

    /// Names whose characters Swift takes as canonically equal (a singleton decomposition, a
    /// precomposed letter and its decomposed form, Hangul syllables and their jamo) have texts
    /// that are not equal, and each text gives back its own bytes.
    func testCanonicallyEquivalentNamesHaveTextsThatDiffer() {
        let pairs: [([UInt8], [UInt8])] = [
            ([0x3b], [0xcd, 0xbe]),                                          // ; and U+037E
            (Array("caf\u{e9}".utf8), Array("cafe\u{301}".utf8)),         // é and e + U+0301
            (Array("\u{212b}".utf8), Array("\u{c5}".utf8)),                // ANGSTROM SIGN and Å
            (Array("\u{ac00}".utf8), Array("\u{1100}\u{1161}".utf8)),      // 가 and its jamo
            (Array("a\u{323}\u{307}".utf8), Array("a\u{307}\u{323}".utf8)), // marks in either order
        ]
        for (a, b) in pairs {
            let (x, y) = (InterfaceName.text(a), InterfaceName.text(b))
            XCTAssertNotEqual(x, y, "\(a) and \(b) share the text \(x)")
            XCTAssertEqual(Set([x, y]).count, 2)
            XCTAssertEqual(InterfaceName.kernelBytes(x), a)
            XCTAssertEqual(InterfaceName.kernelBytes(y), b)
            XCTAssertTrue(InterfaceName.isText(x, of: a[...]) && !InterfaceName.isText(x, of: b[...]))
        }
        // A name already in composed form stays itself.
        XCTAssertEqual(InterfaceName.text(Array("caf\u{e9}".utf8)), "caf\u{e9}")
        XCTAssertEqual(InterfaceName.text(Array("cafe\u{301}".utf8)), #"cafe\xcc\x81"#)
        // Random names made of characters that decompose or combine: no two texts are equal
        // unless their bytes are.
        let pieces = ["e", "a", "\u{301}", "\u{323}", "\u{307}", "\u{e9}", "\u{1e0d}", "\u{37e}", ";", "\u{212b}", "\u{c5}", "\u{1100}", "\u{1161}", "\u{ac00}"]
        var seen: [String: [UInt8]] = [:]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20000 {
            var bytes: [UInt8] = []
            while bytes.count < 12 { bytes += Array(pieces.randomElement(using: &generator)!.utf8) }
            bytes = Array(bytes.prefix(15))
            let text = InterfaceName.text(bytes)
            XCTAssertEqual(InterfaceName.kernelBytes(text), bytes)
            if let other = seen[text] { XCTAssertEqual(other, bytes, "two byte strings share the text \(text)") }
            seen[text] = bytes
        }
    }

    func testTextPeopleTypeIsTakenLiterallyWhenItCannotBeAnEscape() {
        XCTAssertEqual(InterfaceName.kernelBytes(#"a\b"#), Array(#"a\b"#.utf8))
        XCTAssertEqual(InterfaceName.kernelBytes(#"a\x4"#), Array(#"a\x4"#.utf8))
        XCTAssertEqual(InterfaceName.kernelBytes(#"a\xFF"#), [0x61, 0xff])
    }
}

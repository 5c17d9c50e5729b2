import Foundation
import Testing
@testable import TunwardenCore

/// The writer every record's JSON goes through: exact bytes, compact and pretty, escaping, numbers.
@Suite struct JSONWriterTests {
    struct Inner: JSONRecord {
        var address: IPAddress
        var seen: Date

        func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("address", address.description)
                json.field("seen", seen)
            }
        }
    }

    struct Sample: JSONRecord {
        var name: String
        var count: Int
        var negative: Int32
        var big: UInt64
        var flag: Bool
        var missing: String?
        var list: [String]
        var empty: [Inner]
        var nested: [Inner]
        var none: Inner?

        func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("name", name)
                json.field("count", count)
                json.field("negative", negative)
                json.field("big", big)
                json.field("flag", flag)
                json.field("missing", missing)
                json.field("list", list)
                json.field("empty", empty)
                json.object("map") { json in
                    json.object(named: "tun\"0") { _ in }
                    json.field(named: "zz\\xff", Inner(address: IPAddress("10.0.0.1")!, seen: Date(timeIntervalSince1970: 0)))
                }
                json.object("nothing") { _ in }
                json.field("nested", nested)
                json.field("none", none)
            }
        }
    }

    let sample = Sample(name: "tab\there \"quoted\" back\\slash\u{01}\u{7f} ünïcode zz\\xff", count: 0, negative: -42, big: UInt64.max,
                        flag: true, missing: nil, list: ["a", "b"], empty: [],
                        nested: [Inner(address: IPAddress("fe80::1%utun3")!, seen: Date(timeIntervalSince1970: 1_764_720_000.75))])

    @Test func compactOutputIsExactAndInWrittenOrder() {
        let text = String(decoding: sample.json(), as: UTF8.self)
        #expect(text == #"{"name":"tab\there \"quoted\" back\\slash\u0001\#u{7f} ünïcode zz\\xff","count":0,"negative":-42,"big":18446744073709551615,"flag":true,"list":["a","b"],"empty":[],"map":{"tun\"0":{},"zz\\xff":{"address":"10.0.0.1","seen":"1970-01-01T00:00:00Z"}},"nothing":{},"nested":[{"address":"fe80::1%utun3","seen":"2025-12-03T00:00:00Z"}]}"#)
    }

    @Test func prettyOutputIndentsEachMemberTwoSpacesALevel() {
        let text = String(decoding: sample.json(pretty: true), as: UTF8.self)
        #expect(text == """
            {
              "name": "tab\\there \\"quoted\\" back\\\\slash\\u0001\u{7f} ünïcode zz\\\\xff",
              "count": 0,
              "negative": -42,
              "big": 18446744073709551615,
              "flag": true,
              "list": [
                "a",
                "b"
              ],
              "empty": [],
              "map": {
                "tun\\"0": {},
                "zz\\\\xff": {
                  "address": "10.0.0.1",
                  "seen": "1970-01-01T00:00:00Z"
                }
              },
              "nothing": {},
              "nested": [
                {
                  "address": "fe80::1%utun3",
                  "seen": "2025-12-03T00:00:00Z"
                }
              ]
            }
            """)
    }

    @Test func prettyAndCompactParseToTheSameValue() throws {
        let compact = try JSONSerialization.jsonObject(with: Data(sample.json())) as? NSDictionary
        let pretty = try JSONSerialization.jsonObject(with: Data(sample.json(pretty: true))) as? NSDictionary
        #expect(compact != nil)
        #expect(compact == pretty)
        #expect(compact?["name"] as? String == sample.name)
    }

    /// Strings decode back to themselves whatever they hold: every control character, quotes,
    /// backslashes, multi-byte UTF-8, short (stored inline) or long.
    @Test func stringsRoundTripThroughTheWriter() throws {
        var pieces = ["a", "bt9999", "é", "日本", "🙂", "\"", "\\", " ", "\u{7f}", "\u{85}", "orphaned-tun (ifindex 2)"]
        pieces += (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...30, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let written = JSONWriter.string(text)
            let decoded = try JSONSerialization.jsonObject(with: Data("[\(written)]".utf8)) as? [String]
            #expect(decoded == [text], "\(written)")
            // Only what JSON requires is escaped: no control byte is left raw, nothing else changes.
            #expect(!written.utf8.contains { $0 < 0x20 })
            if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                #expect(written == "\"\(text)\"")
            }
        }
        #expect(JSONWriter.string("a\"b\n\r\t\u{08}\u{1f}") == #""a\"b\n\r\t\u0008\u001f""#)
    }

    /// At every length from none to 80 bytes, a string is copied as it is, or escaped where a
    /// byte at its start, middle or end must be, and nowhere else.
    @Test func everyLengthIsCopiedOrEscapedAlike() throws {
        for length in 0...80 {
            let plain = String(repeating: "a", count: length)
            #expect(JSONWriter.string(plain) == "\"\(plain)\"")
            for position in [0, length / 2, max(0, length - 1)] where length > 0 {
                for special in ["\"", "\\", "\n", "\u{01}"] {
                    var characters = Array(plain)
                    characters[position] = Character(special)
                    let text = String(characters)
                    let written = JSONWriter.string(text)
                    let decoded = try JSONSerialization.jsonObject(with: Data("[\(written)]".utf8)) as? [String]
                    #expect(decoded == [text], "length \(length), escape at \(position): \(written)")
                    #expect(written.utf8.count == length + 2 + (special == "\u{01}" ? 5 : 1))
                }
            }
        }
    }

    struct Numbers: JSONRecord {
        var signed: Int64
        var unsigned: UInt64
        var small: UInt8

        func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("signed", signed)
                json.field("unsigned", unsigned)
                json.field("small", small)
            }
        }
    }

    @Test func integersAreTheirDecimalDigits() {
        var generator = SystemRandomNumberGenerator()
        let edges: [(Int64, UInt64, UInt8)] = [(0, 0, 0), (-1, 1, 9), (9, 10, 10), (Int64.min, UInt64.max, UInt8.max), (Int64.max, 9_999_999_999_999_999_999, 100)]
        let random = (0..<5_000).map { _ in
            (Int64.random(in: .min ... .max, using: &generator) >> Int64.random(in: 0...63, using: &generator),
             UInt64.random(in: 0 ... .max, using: &generator) >> UInt64.random(in: 0...63, using: &generator),
             UInt8.random(in: 0...255, using: &generator))
        }
        for (signed, unsigned, small) in edges + random {
            #expect(String(decoding: Numbers(signed: signed, unsigned: unsigned, small: small).json(), as: UTF8.self)
                == #"{"signed":\#(signed),"unsigned":\#(unsigned),"small":\#(small)}"#)
        }
    }

    /// Fragments written apart and spliced in (an empty one, one holding pieces of its own) give
    /// the bytes of writing the elements in place, and the pieces are those bytes in order.
    @Test(arguments: [false, true])
    func splicedFragmentsAreTheElementsWrittenInPlace(pretty: Bool) {
        let names = (0..<7).map { "tun\($0)\"q" }
        var whole = JSONWriter(pretty: pretty)
        whole.object { json in
            json.array("names") { json in for name in names { json.element(name) } }
            json.field("after", true)
        }
        var first = JSONWriter.fragment(pretty: pretty, depth: 2)
        for name in names[0..<3] { first.element(name) }
        let empty = JSONWriter.fragment(pretty: pretty, depth: 2)
        var inner = JSONWriter.fragment(pretty: pretty, depth: 2)
        inner.element(names[4])
        var middle = JSONWriter.fragment(pretty: pretty, depth: 2)
        middle.element(names[3])
        middle.splice(inner)
        var last = JSONWriter.fragment(pretty: pretty, depth: 2)
        for name in names[5...] { last.element(name) }
        var spliced = JSONWriter(pretty: pretty)
        spliced.object { json in
            json.array("names") { json in
                json.splice(first)
                json.splice(empty)
                json.splice(middle)
                json.splice(last)
            }
            json.field("after", true)
        }
        #expect(spliced.bytes == whole.bytes)
        #expect(Array(spliced.pieces.joined()) == whole.bytes)
        #expect(spliced.pieces.count > 3)
    }
}
